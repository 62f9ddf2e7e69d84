import NIOCore
import RunnelCore
import Testing
@testable import KafkaWire

@Suite struct RecordBatchBuilderTests {
    static let t0: Int64 = 1_700_000_000_000

    /// The same four records as the kafka-python reference below.
    static func appendReferenceRecords(_ builder: inout RecordBatchBuilder) {
        builder.append(timestamp: TimestampMs(t0), key: recordBuffer("key-0"), value: recordBuffer("value-0"))
        builder.append(timestamp: TimestampMs(t0 + 5), key: nil, value: recordBuffer("value-1"),
                       headers: [RecordHeader(key: "h1", bytes: Array("v1".utf8)), RecordHeader(key: "h2", value: nil)])
        builder.append(timestamp: TimestampMs(t0 - 10), key: recordBuffer([]), value: nil)
        builder.append(timestamp: TimestampMs(t0 + 300), key: recordBuffer([UInt8](repeating: 0x6B, count: 200)),
                       value: recordBuffer([UInt8](repeating: 0x76, count: 300)),
                       headers: [RecordHeader(key: "été", bytes: Array("x".utf8))])
    }

    @Test func matchesHandBuiltBatchFieldByField() {
        var builder = RecordBatchBuilder()
        Self.appendReferenceRecords(&builder)
        let built = builder.finish().batchBytes

        var section: [UInt8] = []
        section += HandBatch.record(.init(timestampDelta: 0, offsetDelta: 0, key: Array("key-0".utf8), value: Array("value-0".utf8)))
        section += HandBatch.record(.init(timestampDelta: 5, offsetDelta: 1, key: nil, value: Array("value-1".utf8),
                                          headers: [("h1", Array("v1".utf8)), ("h2", nil)]))
        section += HandBatch.record(.init(timestampDelta: -10, offsetDelta: 2, key: [], value: nil))
        section += HandBatch.record(.init(timestampDelta: 300, offsetDelta: 3, key: [UInt8](repeating: 0x6B, count: 200),
                                          value: [UInt8](repeating: 0x76, count: 300), headers: [("été", Array("x".utf8))]))
        let expected = HandBatch.batch(section: section, lastOffsetDelta: 3, recordsCount: 4,
                                       baseTimestamp: Self.t0, maxTimestamp: Self.t0 + 300)
        #expect(built == expected)
    }

    // Reference bytes produced by kafka-python 3.0.12's pure-Python DefaultRecordBatchBuilder
    // (magic 2, no compression, producer_id -1) for the records of `appendReferenceRecords`, in a
    // throwaway script. kafka-python writes partitionLeaderEpoch 0 where Java and Runnel write -1;
    // that field is outside the CRC, so the test sets it to 0 before comparing.
    static let kafkaPythonUncompressed = [UInt8](batchHex:
        "00000000000000000000026a0000000002c08d3a5f0000000000030000018bcfe568000000018bcfe5692cffffffffffffffffffffffffffff00000004240000000a6b65792d300e76616c75652d30002e000a02010e76616c75652d3104046831047631046832010c0013040001008a0800d8040690036b"
        + String(repeating: "6b", count: 199) + "d80476" + String(repeating: "76", count: 299) + "020ac3a974c3a90278")

    @Test func matchesKafkaPythonBytes() {
        var builder = RecordBatchBuilder()
        Self.appendReferenceRecords(&builder)
        var built = builder.finish().batchBytes
        #expect(Array(built[12..<16]) == [0xFF, 0xFF, 0xFF, 0xFF])
        built.replaceSubrange(12..<16, with: [0, 0, 0, 0])
        #expect(built == Self.kafkaPythonUncompressed)
    }

    // kafka-python 3.0.12, producer_id 4242, producer_epoch 3, base_sequence 17, two records.
    static let kafkaPythonIdempotent = [UInt8](batchHex:
        "0000000000000000000000430000000002541a19160000000000010000018bcfe568000000018bcfe5680100000000000010920003000000110000000210000000026b02760010000202026b027700")

    @Test func idempotentProducerFieldsMatchKafkaPython() {
        var builder = RecordBatchBuilder(producerId: ProducerID(4242), producerEpoch: 3, baseSequence: 17)
        builder.append(timestamp: TimestampMs(Self.t0), key: recordBuffer("k"), value: recordBuffer("v"))
        builder.append(timestamp: TimestampMs(Self.t0 + 1), key: recordBuffer("k"), value: recordBuffer("w"))
        var built = builder.finish().batchBytes
        built.replaceSubrange(12..<16, with: [0, 0, 0, 0])
        #expect(built == Self.kafkaPythonIdempotent)
    }

    @Test func setProducerStateRestampsAndRechecksums() throws {
        var builder = RecordBatchBuilder()
        builder.append(timestamp: TimestampMs(Self.t0), key: recordBuffer("k"), value: recordBuffer("v"))
        builder.append(timestamp: TimestampMs(Self.t0 + 1), key: recordBuffer("k"), value: recordBuffer("w"))
        var batch = builder.finish()
        RecordBatchBuilder.setProducerState(in: &batch, producerId: ProducerID(4242), producerEpoch: 3, baseSequence: 17)
        var bytes = batch.batchBytes
        bytes.replaceSubrange(12..<16, with: [0, 0, 0, 0])
        #expect(bytes == Self.kafkaPythonIdempotent)
        #expect(try RecordBatchValidator.validateProduce(batch, decompressedBytesMax: 1 << 20).count == 1)
    }

    // kafka-python 3.0.12 with compression_type=1 (gzip, its level 9, Python's gzip module):
    // records i = 0..<5 with key "key-i", value "value-i" × 10, header ("n", "i"), timestamps t0 + i.
    static let kafkaPythonGzip = [UInt8](batchHex:
        "00000000000000000000009c0000000002b30d65c10001000000040000018bcfe568000000018bcfe56804ffffffffffffffffffffffffffff000000051f8b0800301d016b02ffa5ccc109c0200c00c01844a4bb0826ba501fbe5afa6ba13b741487ac096482bcee773300c0768cb7d42f3cfb798f529d205e586700447dc95e72222fad37467dd95e76222faf37257d9bbdcd89bc6dbd39ebdbeded4ee4ed3faaa0a612b8010000")

    @Test func decodesKafkaPythonGzipBatch() throws {
        _ = try RecordBatchValidator.validateProduce(recordBuffer(Self.kafkaPythonGzip), decompressedBytesMax: 1 << 20)
        let batches = try RecordBatchDecoder.decodeAll(recordBuffer(Self.kafkaPythonGzip), decompressedBytesMax: 1 << 20)
        #expect(batches.count == 1)
        let records = try #require(batches.first).records
        #expect(records.count == 5)
        for (i, record) in records.enumerated() {
            #expect(record.offset == Offset(Int64(i)))
            #expect(record.timestamp == TimestampMs(Self.t0 + Int64(i)))
            #expect(record.key == recordBuffer("key-\(i)"))
            #expect(record.value == recordBuffer(String(repeating: "value-\(i)", count: 10)))
            #expect(record.headers == [RecordHeader(key: "n", value: recordBuffer("\(i)"))])
        }
    }

    @Test func gzipBatchHasGzipAttributeAndCompressedSection() throws {
        var builder = RecordBatchBuilder(compression: .gzip)
        for i in 0..<100 {
            builder.append(timestamp: TimestampMs(Self.t0 + Int64(i)), key: nil,
                           value: recordBuffer(String(repeating: "abc", count: 50)))
        }
        let uncompressedBytes = builder.sizeBytes
        let batch = builder.finish()
        let header = try #require(batch.withUnsafeReadableBytes { RecordBatchHeader($0) })
        #expect(header.compression == 1)
        #expect(batch.readableBytes < uncompressedBytes / 10)
        #expect(batch.getBytes(at: 61, length: 2) == [0x1F, 0x8B])
        #expect(header.totalSize == batch.readableBytes)
        #expect(batch.withUnsafeReadableBytes { RecordBatchHeader.validate($0) } == .success(header))
    }

    @Test func headerFieldsOfBuiltBatch() throws {
        var builder = RecordBatchBuilder(isTransactional: true)
        builder.append(timestamp: TimestampMs(50), key: nil, value: nil)
        builder.append(timestamp: TimestampMs(90), key: nil, value: nil)
        builder.append(timestamp: TimestampMs(70), key: nil, value: nil)
        #expect(builder.count == 3)
        let batch = builder.finish()
        let header = try #require(batch.withUnsafeReadableBytes { RecordBatchHeader($0) })
        #expect(header.baseOffset == 0)
        #expect(header.partitionLeaderEpoch == -1)
        #expect(header.magic == 2)
        #expect(header.isTransactional)
        #expect(!header.isLogAppendTime && !header.isControl)
        #expect(header.lastOffsetDelta == 2 && header.recordsCount == 3)
        #expect(header.baseTimestamp == 50 && header.maxTimestamp == 90)
        #expect(header.producerId == -1 && header.producerEpoch == -1 && header.baseSequence == -1)
    }

    @Test func recordSizeBoundCoversActualSize() {
        let headers = [RecordHeader(key: "trace", bytes: [1, 2, 3])]
        var builder = RecordBatchBuilder()
        builder.append(timestamp: TimestampMs(0), key: nil, value: nil)
        let before = builder.sizeBytes
        builder.append(timestamp: TimestampMs(Int64.max / 2), key: recordBuffer([UInt8](repeating: 1, count: 300)),
                       value: recordBuffer([UInt8](repeating: 2, count: 70_000)), headers: headers)
        let added = builder.sizeBytes - before
        #expect(added <= RecordBatchBuilder.recordSizeBytesMax(keyBytes: 300, valueBytes: 70_000, headers: headers))
        #expect(added >= 70_300)
    }

    @Test func appendUnsafeMatchesByteBufferAppend() {
        var a = RecordBatchBuilder()
        var b = RecordBatchBuilder()
        let key: [UInt8] = [1, 2, 3]
        let value: [UInt8] = Array("payload".utf8)
        a.append(timestamp: TimestampMs(7), key: recordBuffer(key), value: recordBuffer(value))
        key.withUnsafeBytes { k in
            value.withUnsafeBytes { v in b.appendUnsafe(timestamp: TimestampMs(7), key: k, value: v) }
        }
        #expect(a.finish() == b.finish())
    }
}
