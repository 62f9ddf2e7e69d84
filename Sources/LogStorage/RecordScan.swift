import RunnelCore

/// Just enough record parsing for ListOffsets by timestamp: walks the records of an uncompressed
/// batch reading each record's length, timestamp delta and offset delta (zigzag varints,
/// PROTOCOL.md §4) to find the first record at or after a timestamp. Compressed batches need
/// the codecs of KafkaWire, which this module does not depend on: the caller passes a
/// `CompressedBatchScanner` that opens them (Kafka answers with the exact record there too).
/// Without one, a compressed batch answers with its first offset.
enum RecordScan {
    static func firstRecord(in batch: UnsafeRawBufferPointer, header: RecordBatchHeader,
                            atOrAfter timestamp: TimestampMs,
                            compressed: CompressedBatchScanner? = nil) -> (offset: Offset, timestamp: TimestampMs) {
        let whole = (Offset(header.baseOffset), TimestampMs(header.maxTimestamp))
        if header.isLogAppendTime { return whole }
        if header.compression != 0 {
            return compressed?(batch, timestamp) ?? whole
        }
        var position = RecordBatchHeader.size
        for _ in 0..<max(0, Int(header.recordsCount)) {
            guard let length = readZigzag(batch, &position), length >= 0 else { return whole }
            let recordEnd = position + Int(length)
            guard recordEnd <= batch.count, position < recordEnd else { return whole }
            var field = position + 1  // skip the record attributes byte
            guard let timestampDelta = readZigzag(batch, &field), let offsetDelta = readZigzag(batch, &field),
                  field <= recordEnd
            else { return whole }
            let recordTimestamp = header.baseTimestamp &+ timestampDelta
            if recordTimestamp >= timestamp.rawValue {
                return (Offset(header.baseOffset + offsetDelta), TimestampMs(recordTimestamp))
            }
            position = recordEnd
        }
        return whole
    }

    /// Reads a zigzag varint (at most 10 bytes) at `position`; nil when it runs off the end.
    static func readZigzag(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) -> Int64? {
        var raw: UInt64 = 0
        var shift: UInt64 = 0
        while position < bytes.count && shift < 70 {
            let byte = bytes[position]
            position += 1
            raw |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1) }
            shift += 7
        }
        return nil
    }
}

/// Finds the first record with timestamp ≥ the target inside one compressed batch (its whole
/// bytes); nil when it cannot tell (the caller then answers with the batch's first offset).
public typealias CompressedBatchScanner = (_ batch: UnsafeRawBufferPointer, _ atOrAfter: TimestampMs) -> (offset: Offset, timestamp: TimestampMs)?
