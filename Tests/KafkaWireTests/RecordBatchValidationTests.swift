import NIOCore
import RunnelCore
import Testing
@testable import KafkaWire

@Suite struct RecordBatchValidationTests {
    static let limit = 1 << 20

    static func sample(count: Int = 3, compression: Compression = .none) -> [UInt8] {
        var builder = RecordBatchBuilder(compression: compression)
        for i in 0..<count {
            builder.append(timestamp: TimestampMs(100 + Int64(i)), key: recordBuffer("key-\(i)"), value: recordBuffer("value-\(i)"),
                           headers: [RecordHeader(key: "h", bytes: [UInt8(i)])])
        }
        return builder.finish().batchBytes
    }

    static func validate(_ bytes: [UInt8]) throws(RecordBatchError) -> [ValidatedBatch] {
        try RecordBatchValidator.validateProduce(recordBuffer(bytes), decompressedBytesMax: limit)
    }

    static func error(_ bytes: [UInt8]) -> RecordBatchError? {
        do {
            _ = try validate(bytes)
            return nil
        } catch {
            return error
        }
    }

    /// A hand-built batch with the given records and declared counts.
    static func hand(_ records: [HandBatch.R], lastOffsetDelta: Int32, recordsCount: Int32) -> [UInt8] {
        HandBatch.batch(section: records.flatMap(HandBatch.record), lastOffsetDelta: lastOffsetDelta,
                        recordsCount: recordsCount, baseTimestamp: 0, maxTimestamp: 0)
    }

    static func r(_ offsetDelta: Int64) -> HandBatch.R {
        HandBatch.R(timestampDelta: 0, offsetDelta: offsetDelta, key: nil, value: [1])
    }

    @Test func acceptsConcatenatedBatchesAndReportsRanges() throws {
        let a = Self.sample(count: 3)
        let b = Self.sample(count: 5, compression: .gzip)
        let batches = try Self.validate(a + b)
        #expect(batches.map(\.range) == [0..<a.count, a.count..<(a.count + b.count)])
        #expect(batches.map(\.header.recordsCount) == [3, 5])
        #expect(batches.map(\.maxRecordTimestamp) == [TimestampMs(102), TimestampMs(104)])
    }

    @Test func emptyRecordsAreRefused() {
        let error = Self.error([])
        #expect(error?.kind == .noBatches)
        #expect(error?.kafkaErrorCode == 87)
    }

    @Test func everyFlippedByteUnderTheCRCIsCaught() {
        let batch = Self.sample()
        for position in RecordBatchHeader.Field.crc..<batch.count {
            var bytes = batch
            bytes[position] ^= 0x20
            let error = Self.error(bytes)
            guard case .badCRC = error?.kind else {
                Issue.record("flip at \(position): \(String(describing: error))")
                continue
            }
            #expect(error?.kafkaErrorCode == 2)
        }
    }

    @Test(arguments: [Compression.none, .gzip])
    func truncationAtEveryByteIsCorruptMessage(compression: Compression) {
        let first = Self.sample(count: 2)
        let batch = Self.sample(count: 4, compression: compression)
        for cut in 1..<batch.count {
            let error = Self.error(first + batch.prefix(cut))
            #expect(error?.batchPosition == first.count, "cut \(cut)")
            #expect(error?.kafkaErrorCode == 2, "cut \(cut): \(String(describing: error))")
        }
    }

    @Test func recordsCountMustMatchLastOffsetDelta() {
        let error = Self.error(Self.hand([Self.r(0), Self.r(1)], lastOffsetDelta: 1, recordsCount: 3))
        #expect(error?.kind == .badCounts(recordsCount: 3, lastOffsetDelta: 1))
        #expect(error?.kafkaErrorCode == 87)
        let zero = Self.error(Self.hand([], lastOffsetDelta: -1, recordsCount: 0))
        #expect(zero?.kind == .badCounts(recordsCount: 0, lastOffsetDelta: -1))
    }

    @Test func fewerRecordsThanDeclaredIsRefused() {
        let error = Self.error(Self.hand([Self.r(0), Self.r(1)], lastOffsetDelta: 2, recordsCount: 3))
        #expect(error?.kind == .recordCountMismatch(declared: 3, found: 2))
        #expect(error?.kafkaErrorCode == 87)
    }

    @Test func moreRecordsThanDeclaredIsRefused() {
        let bytes = Self.hand([Self.r(0), Self.r(1), Self.r(2)], lastOffsetDelta: 1, recordsCount: 2)
        let error = Self.error(bytes)
        #expect(error?.kind == .trailingBytes(count: HandBatch.record(Self.r(2)).count))
        #expect(error?.kafkaErrorCode == 87)
    }

    @Test func offsetDeltasMustBeContiguousFromZero() {
        let gap = Self.error(Self.hand([Self.r(0), Self.r(2)], lastOffsetDelta: 1, recordsCount: 2))
        #expect(gap?.kind == .badRecord(index: 1, .offsetDelta(expected: 1, found: 2)))
        #expect(gap?.kafkaErrorCode == 87)
        let notFromZero = Self.error(Self.hand([Self.r(1), Self.r(2)], lastOffsetDelta: 1, recordsCount: 2))
        #expect(notFromZero?.kind == .badRecord(index: 0, .offsetDelta(expected: 0, found: 1)))
        let repeated = Self.error(Self.hand([Self.r(0), Self.r(0)], lastOffsetDelta: 1, recordsCount: 2))
        #expect(repeated?.kind == .badRecord(index: 1, .offsetDelta(expected: 1, found: 0)))
    }

    @Test(arguments: [Int16(5), 6, 7])
    func unassignedCodecsAreRefusedWith76(codec: Int16) {
        var bytes = Self.sample()
        bytes[22] = (bytes[22] & ~0x07) | UInt8(codec)
        HandBatch.fixCRC(&bytes)
        let error = Self.error(bytes)
        #expect(error?.kind == .unsupportedCompression(codec: codec))
        #expect(error?.kafkaErrorCode == 76)
    }

    @Test func oldMessageFormatsGetTheirOwnError() {
        for magic: UInt8 in [0, 1] {
            var bytes = Self.sample()
            bytes[16] = magic
            #expect(Self.error(bytes)?.kind == .oldMessageFormat(magic: Int8(magic)))
            #expect(Self.error(bytes)?.kafkaErrorCode == 87)  // as Kafka's ProduceRequest.validateRecords
            // Old message sets are shorter than a v2 header; still recognised by their magic.
            #expect(Self.error(Array(bytes.prefix(30)))?.kind == .oldMessageFormat(magic: Int8(magic)))
        }
        var bytes = Self.sample()
        bytes[16] = 3
        #expect(Self.error(bytes)?.kind == .badMagic(3))
        #expect(Self.error(bytes)?.kafkaErrorCode == 87)
    }

    @Test func idempotentBatchNeedsASequence() {
        var builder = RecordBatchBuilder(producerId: ProducerID(5), producerEpoch: 0, baseSequence: -1)
        builder.append(timestamp: TimestampMs(0), key: nil, value: nil)
        let error = Self.error(builder.finish().batchBytes)
        #expect(error?.kind == .missingSequence(producerId: 5, baseSequence: -1))
        #expect(error?.kafkaErrorCode == 87)
    }

    /// Builds a one-record batch whose record section is `section` verbatim.
    static func raw(_ section: [UInt8]) -> [UInt8] {
        HandBatch.batch(section: section, lastOffsetDelta: 0, recordsCount: 1, baseTimestamp: 0, maxTimestamp: 0)
    }

    @Test func recordStructureFaultsAreNamed() {
        // length varint, attributes, timestampDelta, offsetDelta, keyLength, key, valueLength, headerCount
        let cases: [([UInt8], RecordFault)] = [
            ([0x80], .truncated(.length)),                                  // varint never ends
            ([0x14, 0, 0, 0, 1, 1, 0], .badLength(10)),                     // declares 10, section has 6
            ([0x00], .badLength(0)),
            ([0x01, 0, 0, 0], .badLength(-1)),
            ([0x0C, 0, 0, 0, 0x06, 1, 2, 1, 0], .truncated(.key)),           // key of 3, 2 present
            ([0x0A, 0, 0, 0, 0x03, 1, 0], .negative(.keyLength, -2)),
            ([0x0A, 0, 0, 0, 1, 0x03, 0], .negative(.valueLength, -2)),
            ([0x0C, 0, 0, 0, 1, 1, 0x01], .negative(.headerCount, -1)),
            ([0x0E, 0, 0, 0, 1, 1, 0x02, 0x01], .negative(.headerKeyLength, -1)),
            ([0x0E, 0, 0, 0, 1, 1, 0x02, 0x02], .truncated(.headerKey)),
            ([0x0E, 0, 0, 0, 1, 1, 0, 0xFF, 0xFF], .lengthMismatch(declared: 7, used: 6)),
            ([0x10, 0, 0, 0, 1, 1, 0x02, 0x00, 0x03, 0], .negative(.headerValueLength, -2)),
        ]
        for (section, fault) in cases {
            let error = Self.error(Self.raw(section))
            #expect(error?.kind == .badRecord(index: 0, fault), "\(section)")
            #expect(error?.kafkaErrorCode == 87)
        }
        // A well-formed one-record section passes, so the cases above fail for their own reason.
        #expect(Self.error(Self.raw([0x10, 0, 0, 0, 1, 1, 0x02, 0x00, 0x01])) == nil)
    }

    @Test func corruptGzipSectionIsCorruptMessage() {
        let gz = Self.sample(count: 4, compression: .gzip)
        var truncated = Array(gz.prefix(gz.count - 5))
        let length = Int32(truncated.count - 12)
        truncated.replaceSubrange(8..<12, with: HandBatch.bigEndian(length))
        HandBatch.fixCRC(&truncated)
        #expect(Self.error(truncated)?.kind == .decompression(DecompressionError(.gzip, .truncated)))
        #expect(Self.error(truncated)?.kafkaErrorCode == 2)

        var garbled = gz
        garbled[61 + 12] ^= 0xFF  // inside the deflate data
        HandBatch.fixCRC(&garbled)
        let error = Self.error(garbled)
        #expect(error?.kafkaErrorCode == 2 || error?.kafkaErrorCode == 87, "\(String(describing: error))")
    }

    @Test func gzipBombIsBoundedNotInflated() throws {
        // 32 MiB of zeros in one record compress to ~32 KiB; the limit is 1 MiB.
        var builder = RecordBatchBuilder(compression: .gzip)
        builder.append(timestamp: TimestampMs(0), key: nil, value: recordBuffer([UInt8](repeating: 0, count: 32 << 20)))
        let bomb = builder.finish()
        #expect(bomb.readableBytes < 64 << 10)
        #expect(throws: RecordBatchError(batchPosition: 0, kind: .decompression(DecompressionError(.gzip, .outputTooLarge(limitBytes: 1 << 20))))) {
            try RecordBatchValidator.validateProduce(bomb, decompressedBytesMax: 1 << 20)
        }
        #expect(throws: RecordBatchError.self) {
            try RecordBatchDecoder.decodeAll(bomb, decompressedBytesMax: 1 << 20)
        }
        #expect(RecordBatchError(batchPosition: 0, kind: .decompression(DecompressionError(.gzip, .outputTooLarge(limitBytes: 1)))).kafkaErrorCode == 10)
        // With a large enough bound the same batch is fine.
        #expect(try RecordBatchValidator.validateProduce(bomb, decompressedBytesMax: 33 << 20).count == 1)
    }

    @Test func randomMutationsNeverCrash() {
        // Mutations with a repaired CRC reach the record walk; each must throw or pass, never trap.
        var rng = SeededRandom(seed: 2024)
        let originals = [Self.sample(count: 6), Self.sample(count: 6, compression: .gzip)]
        var refused = 0
        for original in originals {
            for _ in 0..<2000 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    let position = Int.random(in: RecordBatchHeader.Field.attributes..<bytes.count, using: &rng)
                    bytes[position] = UInt8.random(in: 0...255, using: &rng)
                }
                HandBatch.fixCRC(&bytes)
                if Self.error(bytes) != nil { refused += 1 }
                _ = try? RecordBatchDecoder.decodeAll(recordBuffer(bytes), decompressedBytesMax: Self.limit)
            }
        }
        #expect(refused > 1000)
    }

    @Test func errorDescriptionsNamePositionAndProblem() {
        let error = RecordBatchError(batchPosition: 128, kind: .badRecord(index: 3, .truncated(.key)))
        #expect(error.description == "record batch at byte 128: record 3: key runs past the record's end")
        #expect(RecordBatchError(batchPosition: 0, kind: .unsupportedCompression(codec: 4)).description.contains("zstd"))
    }
}
