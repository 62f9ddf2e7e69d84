import KafkaMessages
import KafkaWire
import NIOCore
import RunnelCore
import Testing

func decodeResponseFrame(_ frame: ByteBuffer, apiKey: ApiKey, version: Int16) throws -> (ResponseHeader, any KafkaResponse) {
    var buffer = frame
    let headerVersion = apiKey.responseHeaderVersion(apiVersion: version)
    let header = try ResponseHeader(from: &buffer, headerVersion: headerVersion)
    let body = try apiKey.responseType.init(from: &buffer, version: version)
    guard buffer.readableBytes == 0 else {
        throw KafkaWireError(field: apiKey.name, reason: "\(buffer.readableBytes) bytes left after the body")
    }
    return (header, body)
}

@Suite struct ResponseTests {
    /// kafka-python's encoder output decodes completely and our encoder reproduces it.
    @Test(arguments: goldenResponses)
    func decodesAnotherEncodersOutputAndReencodesIt(_ golden: GoldenFrame) throws {
        let frame = bufferFromHex(golden.hex)
        let apiKey = try #require(ApiKey(rawValue: golden.apiKey))
        let (header, body) = try decodeResponseFrame(frame, apiKey: apiKey, version: golden.apiVersion)
        var out = ByteBuffer()
        header.encode(into: &out, headerVersion: apiKey.responseHeaderVersion(apiVersion: golden.apiVersion))
        body.encode(into: &out, version: golden.apiVersion)
        #expect(hexString(out) == hexString(frame))
        if let metadata = body as? MetadataResponse {
            #expect(metadata.topics.first?.name == "golden")
            #expect(metadata.brokers.first?.host == "127.0.0.1")
            if golden.apiVersion >= 10 {
                #expect(metadata.topics.first?.topicId.description == TopicID(high: 0x5f3c3a2e9d4b4f0e, low: 0x8a1b2c3d4e5f6071).description)
            }
        }
        if let versions = body as? ApiVersionsResponse {
            #expect(versions.apiKeys.contains { $0.apiKey == 18 && $0.maxVersion == 4 })
        }
    }

    @Test(arguments: goldenResponses)
    func everyTruncationThrows(_ golden: GoldenFrame) throws {
        let frame = bufferFromHex(golden.hex)
        let apiKey = try #require(ApiKey(rawValue: golden.apiKey))
        for length in 0..<frame.readableBytes {
            let prefix = frame.getSlice(at: frame.readerIndex, length: length)!
            #expect(throws: KafkaWireError.self) { _ = try decodeResponseFrame(prefix, apiKey: apiKey, version: golden.apiVersion) }
        }
    }

    /// Every message type at every version: the default value encodes, decodes back equal,
    /// and re-encodes to the same bytes.
    @Test func defaultsRoundTripAtEveryVersion() throws {
        for apiKey in ApiKey.allCases {
            for type in [apiKey.requestType as any KafkaMessage.Type, apiKey.responseType as any KafkaMessage.Type] {
                for version in type.validVersions {
                    try roundTrip(type.init(), version: version)
                }
            }
        }
    }

    @Test func produceResponseRoundTripsAtClientVersions() throws {
        var response = ProduceResponse()
        var partition = ProduceResponse.PartitionProduceResponse(index: 2, errorCode: 6, baseOffset: 41)
        partition.logAppendTimeMs = 1_700_000_000_000
        response.responses = [.init(name: "orders", partitionResponses: [partition])]
        response.throttleTimeMs = 5
        try roundTrip(response, version: 3)
        // logStartOffset exists from v5; it is ignorable, so v3 silently drops it.
        response.responses[0].partitionResponses[0].logStartOffset = 3
        var v3 = ByteBuffer()
        response.encode(into: &v3, version: 3)
        #expect(try ProduceResponse(from: &v3, version: 3).responses[0].partitionResponses[0].logStartOffset == -1)
        for version: Int16 in [7, 8, 9] {
            try roundTrip(response, version: version)
        }
        // v10+ carries the leader hint as a tagged field only when it is set.
        var withLeader = response
        withLeader.responses[0].partitionResponses[0].currentLeader = .init(leaderId: 3, leaderEpoch: 7)
        withLeader.nodeEndpoints = [.init(nodeId: 3, host: "b3", port: 9092, rack: nil)]
        try roundTrip(withLeader, version: 10)
        var plain = ByteBuffer(), tagged = ByteBuffer()
        response.encode(into: &plain, version: 10)
        withLeader.encode(into: &tagged, version: 10)
        #expect(tagged.readableBytes > plain.readableBytes)
    }

    @Test func fetchResponseRecordsAreASliceOfTheFrame() throws {
        let batch = ByteBuffer(bytes: Array(repeating: 0xAB, count: 100))
        var response = FetchResponse()
        response.responses = [.init(topic: "t", partitions: [.init(partitionIndex: 0, highWatermark: 10, records: ResponseRecords(batch))])]
        for version: Int16 in [4, 10, 11, 12] {
            var buffer = ByteBuffer()
            response.encode(into: &buffer, version: version)
            let start = buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
            let decoded = try FetchResponse(from: &buffer, version: version)
            #expect(decoded == response)
            let records = try #require(decoded.responses.first?.partitions.first?.records)
            let recordsStart = records.buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
            #expect(recordsStart > start, "records must point into the frame (zero copy)")
        }
    }

    /// Counts its writes: a broker's stored batches, written straight into the response.
    final class CountingSource: RecordsSource, @unchecked Sendable {
        let bytes: [UInt8]
        var writes = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        var byteCount: Int { bytes.count }
        func write(to buffer: inout ByteBuffer) {
            writes += 1
            buffer.writeBytes(bytes)
        }
    }

    @Test func recordsFromASourceEncodeLikeTheSameBytesInABuffer() throws {
        let bytes = (0..<300).map { UInt8($0 & 0xFF) }
        for version: Int16 in [4, 11, 12] {
            let source = CountingSource(bytes)
            var fromSource = FetchResponse()
            fromSource.responses = [.init(topic: "t", partitions: [.init(partitionIndex: 0, records: ResponseRecords(source: source))])]
            var fromBuffer = FetchResponse()
            fromBuffer.responses = [.init(topic: "t", partitions: [.init(partitionIndex: 0, records: ResponseRecords(ByteBuffer(bytes: bytes)))])]
            var a = ByteBuffer(), b = ByteBuffer()
            fromSource.encode(into: &a, version: version)
            fromBuffer.encode(into: &b, version: version)
            #expect(a == b, "v\(version)")
            #expect(source.writes == 1, "the source is written once, straight into the response")
            let decoded = try FetchResponse(from: &a, version: version)
            #expect(decoded.responses.first?.partitions.first?.records?.buffer == ByteBuffer(bytes: bytes))
        }
    }

    @Test func nullableStructUsesAPresenceByte() throws {
        var response = ConsumerGroupHeartbeatResponse()
        var encodedNull = ByteBuffer()
        response.encode(into: &encodedNull, version: 1)
        response.assignment = .init(topicPartitions: [.init(topicId: TopicID(high: 1, low: 2), partitions: [0, 1])])
        try roundTrip(response, version: 1)
        var encoded = ByteBuffer()
        response.encode(into: &encoded, version: 1)
        // Null is the single byte -1 before the tagged section; present is 1 then the struct.
        #expect(encodedNull.getInteger(at: encodedNull.writerIndex - 2, as: Int8.self) == -1)
        #expect(encoded.readableBytes > encodedNull.readableBytes + 16)
    }

    @Test func unknownTaggedFieldsSurviveARoundTrip() throws {
        var request = FetchRequest()
        request.unknownTaggedFields = [KafkaTaggedField(tag: 9, data: [1, 2, 3])]
        request.clusterId = "cluster"
        var buffer = ByteBuffer()
        request.encode(into: &buffer, version: 12)
        let decoded = try FetchRequest(from: &buffer, version: 12)
        #expect(decoded.clusterId == "cluster")
        #expect(decoded.unknownTaggedFields == [KafkaTaggedField(tag: 9, data: [1, 2, 3])])
    }

    @Test func headerVersionRules() {
        #expect(ApiKey.produce.requestHeaderVersion(apiVersion: 8) == 1)
        #expect(ApiKey.produce.requestHeaderVersion(apiVersion: 9) == 2)
        #expect(ApiKey.produce.responseHeaderVersion(apiVersion: 8) == 0)
        #expect(ApiKey.produce.responseHeaderVersion(apiVersion: 9) == 1)
        #expect(ApiKey.apiVersions.requestHeaderVersion(apiVersion: 3) == 2)
        #expect(ApiKey.apiVersions.responseHeaderVersion(apiVersion: 3) == 0, "KIP-511: always v0")
        #expect(ApiKey.saslHandshake.requestHeaderVersion(apiVersion: 1) == 1)
        #expect(ApiKey.consumerGroupHeartbeat.responseHeaderVersion(apiVersion: 0) == 1)
        #expect(ApiKey.metadata.name == "Metadata")
        #expect(ApiKey(rawValue: 3) == .metadata)
        #expect(ApiKey(rawValue: 9999) == nil)
    }
}

/// Encodes `message`, decodes it back (all bytes consumed) and checks equality and identical
/// re-encoding.
func roundTrip<M: KafkaMessage>(_ message: M, version: Int16, sourceLocation: SourceLocation = #_sourceLocation) throws {
    var buffer = ByteBuffer()
    message.encode(into: &buffer, version: version)
    let bytes = buffer
    let decoded = try M(from: &buffer, version: version)
    #expect(buffer.readableBytes == 0, "\(M.self) v\(version) left bytes", sourceLocation: sourceLocation)
    var again = ByteBuffer()
    decoded.encode(into: &again, version: version)
    #expect(again == bytes, "\(M.self) v\(version) re-encodes differently", sourceLocation: sourceLocation)
    #expect(decoded == message, "\(M.self) v\(version) decodes differently", sourceLocation: sourceLocation)
}
