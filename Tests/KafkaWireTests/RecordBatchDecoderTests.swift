import NIOCore
import RunnelCore
import Testing
@testable import KafkaWire

@Suite struct RecordBatchDecoderTests {
    struct Input: Equatable {
        var timestamp: Int64
        var key: [UInt8]?
        var value: [UInt8]?
        var headers: [RecordHeader] = []
    }

    static func build(_ inputs: [Input], compression: Compression = .none) -> ByteBuffer {
        var builder = RecordBatchBuilder(compression: compression)
        for input in inputs {
            builder.append(timestamp: TimestampMs(input.timestamp), key: input.key.map(recordBuffer), value: input.value.map(recordBuffer),
                           headers: input.headers)
        }
        return builder.finish()
    }

    static func check(_ inputs: [Input], compression: Compression) throws {
        var batch = Self.build(inputs, compression: compression)
        // The broker assigns offsets outside the CRC; decoding must report absolute ones.
        batch.withUnsafeMutableReadableBytes { RecordBatchHeader.stamp($0, baseOffset: 1000, leaderEpoch: 4) }
        let validated = try RecordBatchValidator.validateProduce(batch, decompressedBytesMax: 64 << 20)
        #expect(validated.count == 1)
        #expect(validated.first?.range == 0..<batch.readableBytes)
        #expect(validated.first?.maxRecordTimestamp == TimestampMs(inputs.map(\.timestamp).max()!))
        let decoded = try RecordBatchDecoder.decodeAll(batch, decompressedBytesMax: 64 << 20)
        #expect(decoded.count == 1)
        let records = try #require(decoded.first).records
        #expect(records.count == inputs.count)
        for (i, (record, input)) in zip(records, inputs).enumerated() {
            #expect(record.offset == Offset(1000 + Int64(i)))
            #expect(record.timestamp == TimestampMs(input.timestamp))
            #expect(record.key.map(\.batchBytes) == input.key)
            #expect(record.value.map(\.batchBytes) == input.value)
            #expect(record.headers == input.headers)
        }
        #expect(decoded.first?.baseOffset == Offset(1000))
        #expect(decoded.first?.nextOffset == Offset(1000 + Int64(inputs.count)))
    }

    static let mixed: [Input] = [
        Input(timestamp: 10, key: Array("a".utf8), value: Array("1".utf8)),
        Input(timestamp: 5, key: nil, value: Array("no key".utf8)),
        Input(timestamp: 20, key: Array("null value".utf8), value: nil),
        Input(timestamp: 20, key: [], value: []),
        Input(timestamp: -1, key: nil, value: nil),
        Input(timestamp: 30, key: [0, 255], value: [1], headers: [
            RecordHeader(key: "trace-id", bytes: [9, 9]), RecordHeader(key: "", bytes: nil),
            RecordHeader(key: "ünïcode", bytes: []),
        ]),
    ]

    @Test(arguments: [Compression.none, .gzip])
    func roundTripMixedRecords(compression: Compression) throws {
        try Self.check(Self.mixed, compression: compression)
    }

    @Test(arguments: [Compression.none, .gzip])
    func roundTripSingleRecord(compression: Compression) throws {
        try Self.check([Input(timestamp: 1, key: nil, value: Array("x".utf8))], compression: compression)
    }

    @Test(arguments: [Compression.none, .gzip])
    func roundTripManyRecords(compression: Compression) throws {
        var rng = SeededRandom(seed: 42)
        let inputs = (0..<5000).map { i -> Input in
            let valueLength = Int.random(in: 0...300, using: &rng)
            return Input(timestamp: 1_700_000_000_000 + Int64.random(in: -100_000...100_000, using: &rng),
                         key: i % 3 == 0 ? nil : Array("key-\(i)".utf8),
                         value: (0..<valueLength).map { _ in UInt8.random(in: 0...3, using: &rng) },
                         headers: i % 7 == 0 ? [RecordHeader(key: "i", bytes: Array("\(i)".utf8))] : [])
        }
        try Self.check(inputs, compression: compression)
    }

    @Test func largeValueAcrossVarintWidths() throws {
        for length in [0, 63, 64, 127, 128, 8191, 8192, 16_383, 16_384, 1 << 21] {
            try Self.check([Input(timestamp: 0, key: nil, value: [UInt8](repeating: 7, count: length))], compression: .none)
        }
    }

    @Test func logAppendTimeGivesEveryRecordTheMaxTimestamp() throws {
        var batch = Self.build([Input(timestamp: 1, key: nil, value: nil), Input(timestamp: 2, key: nil, value: nil)])
        batch.withUnsafeMutableReadableBytes { RecordBatchHeader.stampLogAppendTime($0, timestamp: 999) }
        let records = try #require(RecordBatchDecoder.decodeAll(batch, decompressedBytesMax: 1 << 20).first).records
        #expect(records.map(\.timestamp) == [TimestampMs(999), TimestampMs(999)])
    }

    @Test func iteratesConcatenatedBatchesAndStopsAtPartialTrailingBatch() throws {
        var first = Self.build([Input(timestamp: 1, key: nil, value: Array("a".utf8))])
        first.withUnsafeMutableReadableBytes { RecordBatchHeader.stamp($0, baseOffset: 0, leaderEpoch: 0) }
        var second = Self.build([Input(timestamp: 2, key: nil, value: Array("b".utf8)),
                                 Input(timestamp: 3, key: nil, value: Array("c".utf8))], compression: .gzip)
        second.withUnsafeMutableReadableBytes { RecordBatchHeader.stamp($0, baseOffset: 1, leaderEpoch: 0) }
        var third = Self.build([Input(timestamp: 4, key: nil, value: Array("d".utf8))])
        third.withUnsafeMutableReadableBytes { RecordBatchHeader.stamp($0, baseOffset: 3, leaderEpoch: 0) }
        let whole = first.batchBytes + second.batchBytes
        // Every cut inside the third batch yields exactly the first two.
        for cut in 0..<third.readableBytes {
            var decoder = RecordBatchDecoder(recordBuffer(whole + third.batchBytes.prefix(cut)), decompressedBytesMax: 1 << 20)
            var offsets: [Int64] = []
            while let batch = try decoder.next() { offsets += batch.records.map(\.offset.rawValue) }
            #expect(offsets == [0, 1, 2])
            #expect(decoder.position == whole.count)
            #expect(decoder.endsWithPartialBatch == (cut > 0))
        }
        let all = try RecordBatchDecoder.decodeAll(recordBuffer(whole + third.batchBytes), decompressedBytesMax: 1 << 20)
        #expect(all.flatMap(\.records).map(\.value) == ["a", "b", "c", "d"].map { recordBuffer($0) })
    }

    @Test func decodesAtNonZeroReaderIndex() throws {
        var bytes = ByteBuffer(bytes: [1, 2, 3])
        bytes.writeImmutableBuffer(Self.build(Self.mixed))
        bytes.moveReaderIndex(forwardBy: 3)
        let records = try #require(RecordBatchDecoder.decodeAll(bytes, decompressedBytesMax: 1 << 20).first).records
        #expect(records.map { $0.value.map(\.batchBytes) } == Self.mixed.map(\.value))
    }

    @Test func compactedBatchWithOffsetGapsDecodes() throws {
        // After compaction a batch keeps lastOffsetDelta but loses records: deltas 0, 3, 5 of 0...5.
        let section = HandBatch.record(.init(timestampDelta: 0, offsetDelta: 0, key: [1], value: [1]))
            + HandBatch.record(.init(timestampDelta: 1, offsetDelta: 3, key: [2], value: [2]))
            + HandBatch.record(.init(timestampDelta: 2, offsetDelta: 5, key: [3], value: [3]))
        let batch = HandBatch.batch(section: section, lastOffsetDelta: 5, recordsCount: 3, baseTimestamp: 100,
                                    maxTimestamp: 102, baseOffset: 40)
        let decoded = try RecordBatchDecoder.decodeAll(recordBuffer(batch), decompressedBytesMax: 1 << 20)
        #expect(decoded.first?.records.map(\.offset) == [Offset(40), Offset(43), Offset(45)])
        #expect(decoded.first?.nextOffset == Offset(46))
        // …but a producer may not send such a batch.
        #expect(throws: RecordBatchError.self) {
            try RecordBatchValidator.validateProduce(recordBuffer(batch), decompressedBytesMax: 1 << 20)
        }
    }

    @Test func emptyCompactedBatchDecodesToNoRecords() throws {
        let batch = HandBatch.batch(section: [], lastOffsetDelta: 4, recordsCount: 0, baseTimestamp: 1,
                                    maxTimestamp: 1, baseOffset: 10)
        let decoded = try RecordBatchDecoder.decodeAll(recordBuffer(batch), decompressedBytesMax: 1 << 20)
        #expect(decoded.count == 1)
        #expect(decoded.first?.records.isEmpty == true)
        #expect(decoded.first?.nextOffset == Offset(15))
    }

    @Test func controlBatchReportsMarkerType() throws {
        for (type, expected) in [(Int16(0), ControlRecordType.abort), (1, .commit)] {
            let key = HandBatch.bigEndian(Int16(0)) + HandBatch.bigEndian(type)
            let value = HandBatch.bigEndian(Int16(0)) + HandBatch.bigEndian(Int32(7))
            let section = HandBatch.record(.init(timestampDelta: 0, offsetDelta: 0, key: key, value: value))
            let batch = HandBatch.batch(section: section, attributes: 0x30, lastOffsetDelta: 0, recordsCount: 1,
                                        baseTimestamp: 5, maxTimestamp: 5, producerId: 9, producerEpoch: 0)
            let decoded = try #require(RecordBatchDecoder.decodeAll(recordBuffer(batch), decompressedBytesMax: 1 << 20).first)
            #expect(decoded.isControl && decoded.isTransactional)
            #expect(decoded.controlType == expected)
            #expect(decoded.producerId == ProducerID(9))
            #expect(throws: RecordBatchError(batchPosition: 0, kind: .controlBatchFromClient)) {
                try RecordBatchValidator.validateProduce(recordBuffer(batch), decompressedBytesMax: 1 << 20)
            }
            #expect(try RecordBatchValidator.validateProduce(recordBuffer(batch), decompressedBytesMax: 1 << 20,
                                                             allowControlBatches: true).count == 1)
        }
    }

    @Test func decoderChecksCRCUnlessDisabled() throws {
        var bytes = Self.build(Self.mixed).batchBytes
        bytes[bytes.count - 1] ^= 0x01  // last byte: inside a header value, still structurally valid
        #expect(throws: RecordBatchError.self) {
            try RecordBatchDecoder.decodeAll(recordBuffer(bytes), decompressedBytesMax: 1 << 20)
        }
        #expect(try RecordBatchDecoder.decodeAll(recordBuffer(bytes), decompressedBytesMax: 1 << 20, verifyCRC: false).count == 1)
    }

    @Test func decoderRefusesUnsupportedCodecAndOldFormats() {
        var bytes = Self.build(Self.mixed).batchBytes
        bytes[22] = (bytes[22] & ~0x07) | 6  // unassigned
        HandBatch.fixCRC(&bytes)
        #expect(throws: RecordBatchError(batchPosition: 0, kind: .unsupportedCompression(codec: 6))) {
            try RecordBatchDecoder.decodeAll(recordBuffer(bytes), decompressedBytesMax: 1 << 20)
        }
        var old = Self.build(Self.mixed).batchBytes
        old[16] = 1
        #expect(throws: RecordBatchError(batchPosition: 0, kind: .oldMessageFormat(magic: 1))) {
            try RecordBatchDecoder.decodeAll(recordBuffer(old), decompressedBytesMax: 1 << 20)
        }
    }

    @Test func recordEncodeDecodeRoundTrip() throws {
        let record = Record(offsetDelta: 12, timestampDelta: -300, key: recordBuffer("k"), value: nil,
                            headers: [RecordHeader(key: "h", bytes: [1, 2])])
        var out = ByteBuffer()
        record.encode(into: &out)
        #expect(out.readableBytes == record.encodedSizeBytes)
        out.writeBytes([0xEE])  // a following byte must not be consumed
        let decoded = try Record.decode(from: &out)
        #expect(decoded == record)
        #expect(out.readableBytes == 1)
    }
}
