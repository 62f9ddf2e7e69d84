import RunnelCore

/// Just enough record parsing for ListOffsets by timestamp: walks the records of an uncompressed
/// batch reading each record's length, timestamp delta and offset delta (zigzag varints,
/// PROTOCOL.md §4) to find the first record at or after a timestamp. Compressed batches are not
/// opened (that needs the codecs of KafkaWire): their first offset is the answer, which is where
/// Kafka's own answer lies within the batch or before it.
enum RecordScan {
    static func firstRecord(in batch: UnsafeRawBufferPointer, header: RecordBatchHeader,
                            atOrAfter timestamp: TimestampMs) -> (offset: Offset, timestamp: TimestampMs) {
        let whole = (Offset(header.baseOffset), TimestampMs(header.maxTimestamp))
        guard header.compression == 0, !header.isLogAppendTime else { return whole }
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
