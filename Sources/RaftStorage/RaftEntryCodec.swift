import KafkaWire
import NIOCore
import RaftCore
import RunnelCore

/// Raft entries as Kafka records, so that the Raft log lives in ordinary `LogStorage` segments and
/// inherits their crash story unchanged: every batch carries a CRC-32C, recovery cuts the log at
/// the first invalid byte, and the offset index finds an entry without a scan.
///
/// Layout (RecordBatch v2, uncompressed, PROTOCOL.md §4):
/// - One batch per entry (see `encode`); `partitionLeaderEpoch` is the entry's term clamped to
///   Int32 (informational only: Kafka tools show it, nothing here reads it).
/// - A record's offset (batch base offset + offset delta) IS the Raft index; the log starts at
///   offset `snapshot.index + 1`, so offset 0 is never used.
/// - Record key: 9 bytes, the term (UInt64 big-endian) then the kind (`Entry.Kind` raw value).
///   The term is repeated per record so that decoding one record needs nothing else.
/// - Record value: the entry's data (possibly empty, never null). Timestamps are -1 (no time:
///   the Raft log is never retained by age). No headers.
enum RaftEntryCodec {
    static let keyBytes = 9

    /// Encodes one entry as one batch (base offset 0: `PartitionLog.append` stamps it).
    ///
    /// One entry per batch, because `PartitionLog.truncate` cuts whole batches: a follower
    /// replacing a conflicting suffix must be able to cut exactly at the first replaced index.
    /// With several entries per batch it would have to cut earlier and write the kept entries
    /// again, and a crash in between would lose entries it had already acknowledged (even
    /// committed ones). The price is the 61-byte batch header per entry, which a metadata log
    /// affords.
    static func encode(_ entry: Entry) -> ByteBuffer {
        var builder = RecordBatchBuilder(compression: .none,
                                         capacityBytes: RecordBatchHeader.size + 32 + entry.data.count)
        append(entry, to: &builder)
        return builder.finish()
    }

    private static func append(_ entry: Entry, to builder: inout RecordBatchBuilder) {
        var key = [UInt8](repeating: 0, count: keyBytes)
        key.withUnsafeMutableBytes { raw in
            raw.storeBigEndian(entry.term.rawValue, at: 0)
            raw[8] = entry.kind.rawValue
        }
        key.withUnsafeBytes { keyBytes in
            entry.data.withUnsafeBytes { value in
                // Non-nil even when empty: an empty entry is stored as a zero-length value.
                builder.appendUnsafe(timestamp: TimestampMs(-1), key: keyBytes, value: value)
            }
        }
    }

    /// Decodes every record of one stored batch (`batch` is exactly the batch's bytes, already
    /// CRC-checked by recovery or written by us), calling `body` for each entry in order.
    /// Throws a reason when the batch is not one this codec wrote.
    static func decode(_ batch: UnsafeRawBufferPointer, _ body: (Entry) -> Void) throws(RaftRecordError) {
        guard let header = RecordBatchHeader(batch), header.totalSize == batch.count else {
            throw RaftRecordError(offset: -1, reason: "not one whole record batch")
        }
        guard header.compression == 0, !header.isControl else {
            throw RaftRecordError(offset: header.baseOffset, reason: "compressed or control batch")
        }
        var position = RecordBatchHeader.size
        for _ in 0..<Int(max(0, header.recordsCount)) {
            body(try decodeRecord(batch, at: &position, header: header))
        }
        guard position == batch.count else {
            throw RaftRecordError(offset: header.baseOffset, reason: "\(batch.count - position) bytes after the last record")
        }
    }

    private static func decodeRecord(_ batch: UnsafeRawBufferPointer, at position: inout Int,
                                     header: RecordBatchHeader) throws(RaftRecordError) -> Entry {
        func fail(_ reason: String) -> RaftRecordError { RaftRecordError(offset: header.baseOffset, reason: reason) }
        guard let length = ZigZag.readVarint(batch, at: &position), length > 0,
              Int(length) <= batch.count - position else { throw fail("bad record length") }
        let end = position + Int(length)
        let record = UnsafeRawBufferPointer(rebasing: batch[0..<end])
        var index = position + 1  // attributes
        guard index <= end, ZigZag.readVarlong(record, at: &index) != nil,
              let offsetDelta = ZigZag.readVarint(record, at: &index), offsetDelta >= 0,
              let keyLength = ZigZag.readVarint(record, at: &index), Int(keyLength) == keyBytes,
              end - index >= keyBytes else { throw fail("bad record key") }
        let term = record.loadBigEndian(UInt64.self, at: index)
        guard let kind = Entry.Kind(rawValue: record[index + 8]) else { throw fail("unknown entry kind \(record[index + 8])") }
        index += keyBytes
        guard let valueLength = ZigZag.readVarint(record, at: &index), valueLength >= 0,
              Int(valueLength) <= end - index else { throw fail("bad record value") }
        let data = [UInt8](UnsafeRawBufferPointer(rebasing: record[index..<(index + Int(valueLength))]))
        index += Int(valueLength)
        guard ZigZag.readVarint(record, at: &index) == 0, index == end else { throw fail("record headers or trailing bytes") }
        position = end
        let offset = header.baseOffset + Int64(offsetDelta)
        guard offset > 0 else { throw fail("record at offset \(offset): Raft indexes start at 1") }
        return Entry(term: Term(term), index: LogIndex(UInt64(offset)), kind: kind, data: data)
    }
}

/// A stored batch that this codec did not write (or that was damaged although its CRC matched).
struct RaftRecordError: Error, CustomStringConvertible {
    var offset: Int64
    var reason: String
    var description: String { "batch at offset \(offset): \(reason)" }
}
