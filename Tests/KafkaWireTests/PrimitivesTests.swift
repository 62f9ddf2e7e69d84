import KafkaWire
import NIOCore
import RunnelCore
import Testing

@Suite struct PrimitivesTests {
    static let unsignedCases: [(UInt32, [UInt8])] = [
        (0, [0x00]), (127, [0x7F]), (128, [0x80, 0x01]), (300, [0xAC, 0x02]), (UInt32.max, [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
    ]

    @Test(arguments: unsignedCases)
    func unsignedVarint(_ value: UInt32, _ bytes: [UInt8]) throws {
        var buffer = ByteBuffer()
        buffer.writeKafkaUnsignedVarint(value)
        #expect(Array(buffer.readableBytesView) == bytes)
        #expect(KafkaVarint.unsignedSize(value) == bytes.count)
        #expect(try buffer.readKafkaUnsignedVarint() == value)
        #expect(buffer.readableBytes == 0)
    }

    @Test func zigzagVarintsMatchProtobufSint() throws {
        let cases: [(Int32, [UInt8])] = [(0, [0]), (-1, [1]), (1, [2]), (-2, [3]), (63, [0x7E]), (-64, [0x7F]),
                                         (64, [0x80, 0x01]), (Int32.max, [0xFE, 0xFF, 0xFF, 0xFF, 0x0F]),
                                         (Int32.min, [0xFF, 0xFF, 0xFF, 0xFF, 0x0F])]
        for (value, bytes) in cases {
            var buffer = ByteBuffer()
            buffer.writeKafkaVarint(value)
            #expect(Array(buffer.readableBytesView) == bytes, "\(value)")
            #expect(KafkaVarint.zigzagSize(value) == bytes.count)
            #expect(try buffer.readKafkaVarint() == value)
        }
        for value: Int64 in [0, -1, 1, Int64.max, Int64.min, 1_700_000_000_000, -1_700_000_000_000] {
            var buffer = ByteBuffer()
            buffer.writeKafkaVarlong(value)
            #expect(buffer.readableBytes == KafkaVarint.zigzagSize(value))
            #expect(try buffer.readKafkaVarlong() == value)
        }
    }

    @Test func overlongAndTruncatedVarintsThrow() {
        var tooLong = ByteBuffer(bytes: [0x80, 0x80, 0x80, 0x80, 0x80, 0x01])
        #expect(throws: KafkaWireError.self) { try tooLong.readKafkaUnsignedVarint(field: "x") }
        var overflow = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0x1F])   // 33 bits
        #expect(throws: KafkaWireError.self) { try overflow.readKafkaUnsignedVarint() }
        var longOverflow = ByteBuffer(bytes: Array(repeating: 0xFF, count: 9) + [0x02])
        #expect(throws: KafkaWireError.self) { try longOverflow.readKafkaVarlong() }
        var truncated = ByteBuffer(bytes: [0x80, 0x80])
        let error = try? #require(throws: KafkaWireError.self) { try truncated.readKafkaUnsignedVarint(field: "count") }
        #expect(error?.field == "count")
        #expect(truncated.readableBytes == 2, "a failed read leaves the reader index alone")
    }

    @Test func fixedWidthReadsNameTheShortField() throws {
        var buffer = ByteBuffer(bytes: [0, 1])
        let error = try #require(throws: KafkaWireError.self) { try buffer.readKafkaInt32(field: "timeoutMs") }
        #expect(error.description == "timeoutMs: needs 4 bytes, 2 remaining")
        #expect(try buffer.readKafkaInt16() == 1)
    }

    @Test func boolFloatUUID() throws {
        var buffer = ByteBuffer()
        buffer.writeKafkaBool(true)
        buffer.writeInteger(UInt8(7))                 // any non-zero byte reads as true
        buffer.writeKafkaFloat64(-2.5)
        let id = TopicID(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
        buffer.writeKafkaUUID(id)
        #expect(buffer.readableBytes == 1 + 1 + 8 + 16)
        #expect(try buffer.readKafkaBool())
        #expect(try buffer.readKafkaBool())
        #expect(try buffer.readKafkaFloat64() == -2.5)
        #expect(try buffer.readKafkaUUID() == id)
        var short = ByteBuffer(bytes: Array(repeating: 0, count: 15))
        #expect(throws: KafkaWireError.self) { try short.readKafkaUUID() }
    }

    @Test func stringsClassicAndCompact() throws {
        for compact in [false, true] {
            var buffer = ByteBuffer()
            buffer.writeKafkaString("héllo", compact: compact)
            buffer.writeKafkaNullableString(nil, compact: compact)
            buffer.writeKafkaNullableString(nil, compact: compact, nullable: false)
            buffer.writeKafkaString("", compact: compact)
            #expect(try buffer.readKafkaString(compact: compact) == "héllo")
            #expect(try buffer.readKafkaNullableString(compact: compact) == nil)
            #expect(try buffer.readKafkaString(compact: compact) == "")
            #expect(try buffer.readKafkaNullableString(compact: compact) == "")
            #expect(buffer.readableBytes == 0)
        }
        var classic = ByteBuffer()
        classic.writeKafkaNullableString(nil, compact: false)
        #expect(Array(classic.readableBytesView) == [0xFF, 0xFF])
        var compact = ByteBuffer()
        compact.writeKafkaString("ab", compact: true)
        #expect(Array(compact.readableBytesView) == [3, 0x61, 0x62])
    }

    @Test func stringErrors() throws {
        var null = ByteBuffer(bytes: [0xFF, 0xFF])
        let nullError = try #require(throws: KafkaWireError.self) { try null.readKafkaString(compact: false, field: "name") }
        #expect(nullError.reason.contains("null"))
        var long = ByteBuffer()
        long.writeInteger(Int16(1000))
        long.writeBytes([1, 2, 3])
        let longError = try #require(throws: KafkaWireError.self) { try long.readKafkaString(compact: false, field: "name") }
        #expect(longError.description == "name: string length 1000 exceeds 3 remaining bytes")
        #expect(long.readableBytes == 5, "reader index restored")
        var invalid = ByteBuffer(bytes: [0, 3, 0x61, 0xFF, 0x62])
        #expect(throws: KafkaWireError.self) { try invalid.readKafkaString(compact: false) }
        var overlong = ByteBuffer(bytes: [0, 2, 0xC0, 0x80])   // overlong encoding of NUL
        #expect(throws: KafkaWireError.self) { try overlong.readKafkaString(compact: false) }
        var huge = ByteBuffer()
        huge.writeKafkaUnsignedVarint(UInt32.max)
        #expect(throws: KafkaWireError.self) { try huge.readKafkaString(compact: true) }
    }

    @Test func bytesAndRecords() throws {
        for compact in [false, true] {
            var buffer = ByteBuffer()
            buffer.writeKafkaBytes([1, 2, 3], compact: compact)
            buffer.writeKafkaNullableBytes(nil, compact: compact)
            buffer.writeKafkaNullableRecords(ByteBuffer(bytes: [9, 8]), compact: compact)
            buffer.writeKafkaNullableRecords(nil, compact: compact)
            #expect(try buffer.readKafkaBytes(compact: compact) == [1, 2, 3])
            #expect(try buffer.readKafkaNullableBytes(compact: compact) == nil)
            #expect(try buffer.readKafkaNullableRecords(compact: compact) == ByteBuffer(bytes: [9, 8]))
            #expect(try buffer.readKafkaNullableRecords(compact: compact) == nil)
        }
        var absurd = ByteBuffer()
        absurd.writeInteger(Int32.max)
        let error = try #require(throws: KafkaWireError.self) { try absurd.readKafkaBytes(compact: false, field: "metadata") }
        #expect(error.description == "metadata: bytes length 2147483647 exceeds 0 remaining bytes")
    }

    @Test func arrays() throws {
        for compact in [false, true] {
            var buffer = ByteBuffer()
            buffer.writeKafkaArray([Int32(5), 6, 7], compact: compact) { $0.writeInteger($1) }
            buffer.writeKafkaNullableArray(nil as [Int32]?, compact: compact) { $0.writeInteger($1) }
            #expect(try buffer.readKafkaArray(compact: compact) { try $0.readKafkaInt32() } == [5, 6, 7])
            #expect(try buffer.readKafkaNullableArray(compact: compact) { try $0.readKafkaInt32() } == nil)
        }
        // A count far beyond the remaining bytes fails before allocating.
        var absurd = ByteBuffer()
        absurd.writeInteger(Int32(2_000_000_000))
        absurd.writeBytes([0, 0, 0, 1])
        let error = try #require(throws: KafkaWireError.self) {
            try absurd.readKafkaArray(compact: false, field: "replicas") { try $0.readKafkaInt32() }
        }
        #expect(error.description == "replicas: array count 2000000000 exceeds 4 remaining bytes")
        // An element error names its index.
        var short = ByteBuffer()
        short.writeInteger(Int32(2))
        short.writeInteger(Int32(1))
        short.writeInteger(Int16(0))
        let elementError = try #require(throws: KafkaWireError.self) {
            try short.readKafkaArray(compact: false, field: "replicas") { try $0.readKafkaInt32() }
        }
        #expect(elementError.field == "replicas[1]")
    }

    @Test func taggedFieldsSortByTagAndRoundTrip() throws {
        var writer = KafkaTaggedFieldsWriter(unknown: [KafkaTaggedField(tag: 5, data: [0xAA])])
        writer.add(tag: 1) { $0.writeInteger(Int16(7)) }
        var buffer = ByteBuffer()
        writer.write(into: &buffer)
        #expect(Array(buffer.readableBytesView) == [2, 1, 2, 0, 7, 5, 1, 0xAA])
        #expect(try buffer.readKafkaTaggedFieldCount() == 2)
        let first = try buffer.readKafkaTaggedField()
        #expect(first.tag == 1 && first.data == ByteBuffer(bytes: [0, 7]))
        let second = try buffer.readKafkaTaggedField()
        #expect(second.tag == 5 && second.data == ByteBuffer(bytes: [0xAA]))
        var empty = ByteBuffer()
        empty.writeKafkaTaggedFields([])
        #expect(Array(empty.readableBytesView) == [0])
        var bad = ByteBuffer(bytes: [1, 0, 9, 1])
        _ = try bad.readKafkaTaggedFieldCount()
        #expect(throws: KafkaWireError.self) { try bad.readKafkaTaggedField() }
    }
}
