import KafkaMessages
import KafkaWire
import NIOCore
import Testing

/// Hostile or damaged input must throw a `KafkaWireError`, never trap, hang or allocate
/// according to a length it has not checked.
@Suite struct MalformedInputTests {
    /// Every strict prefix of a valid frame is invalid: decoding is deterministic, so a prefix
    /// that decoded would mean the full frame had trailing bytes (which the golden test rules out).
    @Test(arguments: goldenRequests)
    func everyTruncationThrows(_ golden: GoldenFrame) {
        let frame = bufferFromHex(golden.hex)
        for length in 0..<frame.readableBytes {
            let prefix = frame.getSlice(at: frame.readerIndex, length: length)!
            #expect(throws: KafkaWireError.self, "prefix of \(length) bytes of \(golden)") {
                _ = try decodeRequestFrame(prefix)
            }
        }
    }

    @Test func absurdArrayCountFailsBeforeAllocating() throws {
        // ProduceRequest v3: transactionalId null, acks, timeoutMs, then topicData count 2e9.
        var buffer = ByteBuffer()
        buffer.writeInteger(Int16(-1))
        buffer.writeInteger(Int16(1))
        buffer.writeInteger(Int32(1000))
        buffer.writeInteger(Int32(2_000_000_000))
        buffer.writeBytes([0, 0, 0, 0])
        let error = try #require(throws: KafkaWireError.self) { try ProduceRequest(from: &buffer, version: 3) }
        #expect(error.field == "ProduceRequest.topicData")
        #expect(error.reason == "array count 2000000000 exceeds 4 remaining bytes")
    }

    @Test func absurdStringLengthNamesTheFieldPath() throws {
        // ProduceRequest v9 (flexible): topicData[0].name claims 70000 bytes with 4 left.
        var buffer = ByteBuffer()
        buffer.writeKafkaUnsignedVarint(0)          // transactionalId null
        buffer.writeInteger(Int16(-1))              // acks
        buffer.writeInteger(Int32(1000))            // timeoutMs
        buffer.writeKafkaUnsignedVarint(2)          // one topic
        buffer.writeKafkaUnsignedVarint(70_001)     // name length 70000
        buffer.writeBytes([0x61, 0x62, 0x63, 0x64])
        let error = try #require(throws: KafkaWireError.self) { try ProduceRequest(from: &buffer, version: 9) }
        #expect(error.description == "ProduceRequest.topicData[0].name: string length 70000 exceeds 4 remaining bytes")
    }

    @Test func absurdRecordsLengthThrows() throws {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int16(-1))
        buffer.writeInteger(Int16(1))
        buffer.writeInteger(Int32(1000))
        buffer.writeInteger(Int32(1))               // one topic
        buffer.writeKafkaString("t", compact: false)
        buffer.writeInteger(Int32(1))               // one partition
        buffer.writeInteger(Int32(0))               // index
        buffer.writeInteger(Int32.max)              // records length
        let error = try #require(throws: KafkaWireError.self) { try ProduceRequest(from: &buffer, version: 3) }
        #expect(error.field == "ProduceRequest.topicData[0].partitionData[0].records")
    }

    @Test func nullWhereTheVersionForbidsItThrows() throws {
        // MetadataResponse v1: topics[0].name is not nullable before v12.
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(0))               // brokers: empty
        buffer.writeInteger(Int32(-1))              // controllerId
        buffer.writeInteger(Int32(1))               // one topic
        buffer.writeInteger(Int16(0))               // errorCode
        buffer.writeInteger(Int16(-1))              // name: null
        let error = try #require(throws: KafkaWireError.self) { try MetadataResponse(from: &buffer, version: 1) }
        #expect(error.field == "MetadataResponse.topics[0].name")
    }

    @Test func invalidUTF8Throws() throws {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int16(2))
        buffer.writeBytes([0xC3, 0x28])             // invalid 2-byte sequence
        let error = try #require(throws: KafkaWireError.self) { try SaslHandshakeRequest(from: &buffer, version: 1) }
        #expect(error.field == "SaslHandshakeRequest.mechanism")
    }

    @Test func unsupportedVersionThrows() throws {
        var buffer = ByteBuffer(bytes: [0, 0])
        let error = try #require(throws: KafkaWireError.self) { try HeartbeatResponse(from: &buffer, version: 99) }
        #expect(error.field == "HeartbeatResponse")
    }

    @Test func absurdTaggedFieldCountThrows() throws {
        // HeartbeatResponse v4 (flexible): throttle, errorCode, then a tagged count of 1e9.
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(0))
        buffer.writeInteger(Int16(0))
        buffer.writeKafkaUnsignedVarint(1_000_000_000)
        #expect(throws: KafkaWireError.self) { try HeartbeatResponse(from: &buffer, version: 4) }
    }

    /// Flipping bytes of real frames must never trap: each mutation either decodes or throws.
    @Test(arguments: goldenRequests)
    func corruptedBytesNeverTrap(_ golden: GoldenFrame) {
        let frame = bufferFromHex(golden.hex)
        // Deterministic: each byte position gets the same few hostile values.
        for position in 0..<frame.readableBytes {
            for value: UInt8 in [0x00, 0x7F, 0x80, 0xFF] {
                var mutated = frame
                mutated.setInteger(value, at: frame.readerIndex + position)
                _ = try? decodeRequestFrame(mutated)
            }
        }
    }
}
