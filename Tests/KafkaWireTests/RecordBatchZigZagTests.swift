import Testing
@testable import KafkaWire

@Suite struct RecordBatchZigZagTests {
    // Known encodings (protobuf sint32/sint64 and Kafka's ByteUtils tests).
    static let varints: [(Int32, [UInt8])] = [
        (0, [0x00]), (-1, [0x01]), (1, [0x02]), (-2, [0x03]), (63, [0x7E]), (-64, [0x7F]), (64, [0x80, 0x01]),
        (300, [0xD8, 0x04]), (Int32.max, [0xFE, 0xFF, 0xFF, 0xFF, 0x0F]), (Int32.min, [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
    ]

    @Test func varintKnownAnswers() {
        for (value, bytes) in Self.varints {
            var out = [UInt8](repeating: 0, count: 5)
            let written = out.withUnsafeMutableBytes { ZigZag.write(value, to: $0, at: 0) }
            #expect(Array(out.prefix(written)) == bytes, "\(value)")
            #expect(ZigZag.size(value) == bytes.count)
            var index = 0
            #expect(bytes.withUnsafeBytes { ZigZag.readVarint($0, at: &index) } == value)
            #expect(index == bytes.count)
        }
    }

    @Test func varlongExtremesAndBoundaries() {
        var values: [Int64] = [0, -1, 1, .max, .min, 1_700_000_000_000, -1_700_000_000_000]
        for shift in stride(from: 6, to: 63, by: 7) { values += [1 << shift, -(1 << shift), (1 << shift) - 1] }
        for value in values {
            var out = [UInt8](repeating: 0, count: 10)
            let written = out.withUnsafeMutableBytes { ZigZag.write(value, to: $0, at: 0) }
            #expect(written == ZigZag.size(value))
            var index = 0
            #expect(out.withUnsafeBytes { ZigZag.readVarlong($0, at: &index) } == value)
            #expect(index == written)
        }
        #expect(ZigZag.size(Int64.min) == 10)
    }

    @Test func truncatedAndOverlongVarintsAreRejected() {
        var index = 0
        #expect([UInt8]().withUnsafeBytes { ZigZag.readVarint($0, at: &index) } == nil)
        #expect([UInt8]([0x80, 0x80]).withUnsafeBytes { ZigZag.readVarint($0, at: &index) } == nil)
        #expect([UInt8]([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]).withUnsafeBytes { ZigZag.readVarint($0, at: &index) } == nil)
        #expect(index == 0)  // a failed read does not move the index
        #expect([UInt8](repeating: 0x80, count: 10).withUnsafeBytes { ZigZag.readVarlong($0, at: &index) } == nil)
    }
}
