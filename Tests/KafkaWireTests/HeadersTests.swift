import KafkaWire
import NIOCore
import Testing

@Suite struct HeadersTests {
    @Test func requestHeaderV1AndV2() throws {
        let header = RequestHeader(apiKey: 3, apiVersion: 12, correlationId: 42, clientId: "rdkafka")
        var v1 = ByteBuffer()
        header.encode(into: &v1, headerVersion: 1)
        #expect(Array(v1.readableBytesView) == [0, 3, 0, 12, 0, 0, 0, 42, 0, 7] + Array("rdkafka".utf8))
        var v2 = ByteBuffer()
        header.encode(into: &v2, headerVersion: 2)
        #expect(Array(v2.readableBytesView) == Array(v1.readableBytesView) + [0], "client id stays non-compact in v2")
        #expect(try RequestHeader(from: &v1, headerVersion: 1) == header)
        #expect(try RequestHeader(from: &v2, headerVersion: 2) == header)
        #expect(v1.readableBytes == 0 && v2.readableBytes == 0)
    }

    @Test func nullClientIdAndUnknownTags() throws {
        let header = RequestHeader(apiKey: 18, apiVersion: 3, correlationId: 1, clientId: nil,
                                   unknownTaggedFields: [KafkaTaggedField(tag: 3, data: [1])])
        var buffer = ByteBuffer()
        header.encode(into: &buffer, headerVersion: 2)
        #expect(try RequestHeader(from: &buffer, headerVersion: 2) == header)
    }

    @Test func truncatedHeaderNamesTheField() throws {
        var buffer = ByteBuffer(bytes: [0, 3, 0, 12, 0, 0, 0, 42, 0, 9, 0x61])
        let error = try #require(throws: KafkaWireError.self) { try RequestHeader(from: &buffer, headerVersion: 1) }
        #expect(error.description == "RequestHeader.clientId: string length 9 exceeds 1 remaining bytes")
    }

    @Test func responseHeaders() throws {
        var v0 = ByteBuffer()
        ResponseHeader(correlationId: 7).encode(into: &v0, headerVersion: 0)
        #expect(Array(v0.readableBytesView) == [0, 0, 0, 7])
        var v1 = ByteBuffer()
        ResponseHeader(correlationId: 7).encode(into: &v1, headerVersion: 1)
        #expect(Array(v1.readableBytesView) == [0, 0, 0, 7, 0])
        #expect(try ResponseHeader(from: &v1, headerVersion: 1).correlationId == 7)
        #expect(v1.readableBytes == 0)
    }

    @Test func peekDoesNotConsume() throws {
        let frame = ByteBuffer(bytes: [0, 18, 0, 9, 0x7F, 0, 0, 1, 0xFF, 0xFF])
        let prefix = try RequestHeader.Prefix.peek(frame)
        #expect(prefix == RequestHeader.Prefix(apiKey: 18, apiVersion: 9, correlationId: 0x7F00_0001))
        #expect(frame.readableBytes == 10)
        #expect(throws: KafkaWireError.self) { try RequestHeader.Prefix.peek(ByteBuffer(bytes: [0, 18, 0])) }
    }
}
