// RecordBatchRewriter: a stored batch re-encoded with some of its records, as compaction writes
// it (docs/decisions.md D148). Every codec; offsets, producer fields and the leader epoch kept;
// KIP-534's delete horizon; the empty batch of a producer's last sequence.
import NIOCore
import RunnelCore
import Testing
@testable import KafkaWire

@Suite struct RecordBatchRewriterTests {
    /// The reference records of `RecordBatchBuilderTests` in a batch stored at offset 100 in
    /// leader epoch 5, from idempotent producer 42.
    static func stored(_ codec: Compression, logAppendTime: Int64? = nil) throws -> DecodedBatch {
        var builder = RecordBatchBuilder(compression: codec, producerId: ProducerID(42), producerEpoch: 3, baseSequence: 17)
        RecordBatchBuilderTests.appendReferenceRecords(&builder)
        var bytes = builder.finish()
        bytes.withUnsafeMutableReadableBytes { raw in
            RecordBatchHeader.stamp(raw, baseOffset: 100, leaderEpoch: 5)
            if let logAppendTime {
                let header = UnsafeMutableRawBufferPointer(rebasing: raw[0..<RecordBatchHeader.size])
                let body = UnsafeRawBufferPointer(rebasing: raw[RecordBatchHeader.size...])
                RecordBatchHeader.stampLogAppendTime(header: header, body: body, timestamp: logAppendTime)
            }
        }
        return try #require(try RecordBatchDecoder.decodeAll(bytes, decompressedBytesMax: Limits.batchDecompressedBytesMax).first)
    }

    static func decode(_ bytes: ByteBuffer) throws -> DecodedBatch {
        // Whole and checksummed; a thinned batch fails only produce's count rule.
        let valid = bytes.withUnsafeReadableBytes { RecordBatchHeader.validate($0) }
        if case .failure(.badCounts) = valid {} else { _ = try valid.get() }
        let batches = try RecordBatchDecoder.decodeAll(bytes, decompressedBytesMax: Limits.batchDecompressedBytesMax)
        #expect(batches.count == 1)
        return try #require(batches.first)
    }

    @Test(arguments: Compression.supported)
    func keptRecordsKeepTheirOffsetsAndEverythingElse(codec: Compression) throws {
        let original = try Self.stored(codec)
        let kept = [original.records[1], original.records[3]]
        let rewritten = RecordBatchRewriter.rewrite(original, keeping: kept, deleteHorizonMs: nil)
        let decoded = try Self.decode(rewritten)
        #expect(decoded.records == kept)
        #expect(decoded.records.map(\.offset.rawValue) == [101, 103])
        var expected = original.header
        (expected.batchLength, expected.crc, expected.recordsCount) =
            (decoded.header.batchLength, decoded.header.crc, 2)
        expected.baseTimestamp = kept[0].timestamp.rawValue
        expected.maxTimestamp = kept.map(\.timestamp.rawValue).max()!
        #expect(decoded.header == expected)
        #expect(decoded.header.compression == Int(codec.rawValue))
    }

    @Test func theFirstRecordMayGoAndTheLastOffsetStays() throws {
        let original = try Self.stored(.none)
        let rewritten = RecordBatchRewriter.rewrite(original, keeping: [original.records[2]], deleteHorizonMs: nil)
        let decoded = try Self.decode(rewritten)
        #expect(decoded.records.map(\.offset.rawValue) == [102])
        #expect(decoded.lastOffset.rawValue == 103)
        #expect(decoded.records[0].timestamp == original.records[2].timestamp)
        #expect(decoded.records[0].key == original.records[2].key)
    }

    @Test(arguments: [Compression.none, .zstd])
    func aDeleteHorizonIsStampedAndRecordTimestampsStay(codec: Compression) throws {
        let original = try Self.stored(codec)
        let horizon = RecordBatchBuilderTests.t0 + 86_400_000
        let rewritten = RecordBatchRewriter.rewrite(original, keeping: original.records, deleteHorizonMs: horizon)
        let decoded = try Self.decode(rewritten)
        #expect(decoded.header.attributes & RecordBatchRewriter.deleteHorizonFlag != 0)
        #expect(decoded.header.baseTimestamp == horizon)
        #expect(decoded.records == original.records)
        // Rewriting again without a horizon clears the flag.
        let cleared = try Self.decode(RecordBatchRewriter.rewrite(decoded, keeping: decoded.records, deleteHorizonMs: nil))
        #expect(cleared.header.attributes & RecordBatchRewriter.deleteHorizonFlag == 0)
        #expect(cleared.header.attributes & 0x7 == codec.rawValue)
    }

    @Test func logAppendTimeBatchesKeepTheirTimestamp() throws {
        let original = try Self.stored(.gzip, logAppendTime: 1_800_000_000_000)
        let decoded = try Self.decode(RecordBatchRewriter.rewrite(original, keeping: [original.records[0]], deleteHorizonMs: nil))
        #expect(decoded.header.isLogAppendTime)
        #expect(decoded.header.maxTimestamp == 1_800_000_000_000)
        #expect(decoded.records[0].timestamp.rawValue == 1_800_000_000_000)
    }

    @Test func aProducersLastBatchIsKeptEmpty() throws {
        let original = try Self.stored(.lz4)
        let rewritten = RecordBatchRewriter.rewrite(original, keeping: [], deleteHorizonMs: nil)
        #expect(rewritten.readableBytes == RecordBatchHeader.size)
        // Not a valid produce (no records), but whole: CRC right, counts 0 of 4 offsets.
        let result = rewritten.withUnsafeReadableBytes { RecordBatchHeader.validate($0) }
        #expect(result == .failure(.badCounts(recordsCount: 0, lastOffsetDelta: 3)))
        let header = try #require(rewritten.withUnsafeReadableBytes { RecordBatchHeader($0) })
        #expect((header.baseOffset, header.lastOffset) == (100, 103))
        #expect((header.producerId, header.producerEpoch, header.baseSequence) == (42, 3, 17))
        #expect(header.partitionLeaderEpoch == 5)
        #expect(header.compression == 0)
        #expect(try RecordBatchDecoder.decodeAll(rewritten, decompressedBytesMax: 1 << 20).first?.records == [])
    }
}
