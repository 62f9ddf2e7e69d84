public import NIOCore
public import RunnelCore

/// Re-encodes a stored batch with only some of its records: what log compaction writes for a batch
/// it keeps in part (docs/decisions.md D144, D148).
///
/// Everything that identifies the batch stays: base offset, last offset delta (so the offsets it
/// spans do not change, and a consumer reads across the gaps), partition leader epoch, producer
/// id, epoch and base sequence, the transactional and control flags, the timestamp type and the
/// codec. Each kept record keeps its offset delta, key, value and headers. With a delete horizon
/// (KIP-534) attribute bit 6 is set and the base timestamp holds the horizon; record timestamps
/// stay what they were, their deltas counted from the new base (possibly negative). The record
/// section is compressed again with the batch's codec (at its default level) and the CRC
/// recomputed. With no record kept the batch is written with an empty, uncompressed record
/// section: an idempotent producer's last batch, kept so that its sequence survives.
public enum RecordBatchRewriter {
    /// Attribute bit 6: the base timestamp is the batch's delete horizon (KIP-534).
    public static let deleteHorizonFlag: Int16 = 0x40

    /// `stored` re-encoded with `kept` (records of `stored`, in offset order).
    public static func rewrite(_ stored: DecodedBatch, keeping kept: [DecodedRecord], deleteHorizonMs: Int64?,
                               allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        let header = stored.header
        let base = header.baseOffset
        let logAppendTime = header.isLogAppendTime
        // CreateTime: the base is the first kept record's timestamp (or the horizon); record
        // timestamps are deltas from it. LogAppendTime: readers take the batch's max timestamp
        // for every record, so the deltas carry nothing and are written as 0 from the old base.
        let baseTimestamp = deleteHorizonMs ?? (logAppendTime ? header.baseTimestamp : kept.first?.timestamp.rawValue
            ?? header.baseTimestamp)
        let maxTimestamp = logAppendTime || kept.isEmpty ? header.maxTimestamp
            : kept.map(\.timestamp.rawValue).max()!

        var section = allocator.buffer(capacity: 256)
        for record in kept {
            precondition(record.offset.rawValue >= base && record.offset.rawValue <= header.lastOffset,
                         "record \(record.offset) is outside batch \(base)-\(header.lastOffset)")
            let offsetDelta = Int32(record.offset.rawValue - base)
            let timestampDelta = logAppendTime ? 0 : record.timestamp.rawValue &- baseTimestamp
            let body = RecordWire.bodySize(timestampDelta: timestampDelta, offsetDelta: offsetDelta,
                                           keyLength: record.key?.readableBytes, valueLength: record.value?.readableBytes,
                                           headers: record.headers)
            let total = ZigZag.size(Int32(body)) + body
            _ = withOptionalBytes(record.key) { key in
                withOptionalBytes(record.value) { value in
                    section.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { out in
                        RecordWire.write(bodySize: body, timestampDelta: timestampDelta, offsetDelta: offsetDelta,
                                         key: key, value: value, headers: record.headers, to: out, at: 0)
                    }
                }
            }
        }

        let codec = kept.isEmpty ? .none : (Compression(rawValue: Int16(header.compression)) ?? .none)
        var batch = allocator.buffer(capacity: RecordBatchHeader.size + section.readableBytes + 64)
        batch.writeRepeatingByte(0, count: RecordBatchHeader.size)
        section.withUnsafeReadableBytes { bytes in
            CompressionContext.forCurrentThread.compress(bytes, codec: codec, into: &batch)
        }
        precondition(batch.readableBytes - RecordBatchHeader.logOverhead <= Int(Int32.max), "batch larger than 2 GiB")
        var attributes = (header.attributes & ~0x7 & ~deleteHorizonFlag) | codec.rawValue
        if deleteHorizonMs != nil { attributes |= deleteHorizonFlag }
        batch.withUnsafeMutableReadableBytes { bytes in
            typealias F = RecordBatchHeader.Field
            bytes.storeBigEndian(base, at: F.baseOffset)
            bytes.storeBigEndian(Int32(bytes.count - RecordBatchHeader.logOverhead), at: F.batchLength)
            bytes.storeBigEndian(header.partitionLeaderEpoch, at: F.partitionLeaderEpoch)
            bytes[F.magic] = 2
            bytes.storeBigEndian(attributes, at: F.attributes)
            bytes.storeBigEndian(header.lastOffsetDelta, at: F.lastOffsetDelta)
            bytes.storeBigEndian(baseTimestamp, at: F.baseTimestamp)
            bytes.storeBigEndian(maxTimestamp, at: F.maxTimestamp)
            bytes.storeBigEndian(header.producerId, at: F.producerId)
            bytes.storeBigEndian(header.producerEpoch, at: F.producerEpoch)
            bytes.storeBigEndian(header.baseSequence, at: F.baseSequence)
            bytes.storeBigEndian(Int32(kept.count), at: F.recordsCount)
            RecordBatchBuilder.storeCRC(bytes)
        }
        return batch
    }
}
