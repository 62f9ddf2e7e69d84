import RunnelCore

/// Why a RecordBatch (in a Produce request, a Fetch response or a replica fetch) was refused:
/// where it starts in the input and what is wrong. `kafkaErrorCode` is the partition error a
/// broker returns for it.
public struct RecordBatchError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Byte position of the offending batch within the records the caller passed.
    public var batchPosition: Int
    public var kind: Kind

    public init(batchPosition: Int, kind: Kind) {
        self.batchPosition = batchPosition
        self.kind = kind
    }

    public enum Kind: Equatable, Sendable {
        /// The partition's records hold no batch at all.
        case noBatches
        /// Fewer than 61 bytes are left for a header.
        case truncatedHeader(available: Int)
        /// batchLength is below the header's size or beyond the bytes available.
        case badLength(batchLength: Int32, available: Int)
        /// magic 0 or 1: a pre-0.11 message set, which Runnel does not store or convert.
        case oldMessageFormat(magic: Int8)
        /// magic other than 0, 1 or 2: not a record batch at all.
        case badMagic(Int8)
        case badCRC(stored: UInt32, computed: UInt32)
        /// recordsCount is not lastOffsetDelta + 1, or there are no records.
        case badCounts(recordsCount: Int32, lastOffsetDelta: Int32)
        /// An unassigned codec (5-7); the broker also uses it for zstd in Produce before v7.
        case unsupportedCompression(codec: Int16)
        /// A control batch (transaction marker) from a client; only the broker writes those.
        case controlBatchFromClient
        /// An idempotent batch (producerId ≥ 0) without a sequence number.
        case missingSequence(producerId: Int64, baseSequence: Int32)
        /// The compressed record section could not be decompressed.
        case decompression(DecompressionError)
        /// A record's structure is wrong; `index` counts from 0 within the batch.
        case badRecord(index: Int, RecordFault)
        /// The record section holds a different number of records than recordsCount, or bytes
        /// follow the last record.
        case recordCountMismatch(declared: Int32, found: Int)
        case trailingBytes(count: Int)
    }

    /// The Kafka error code for the partition in a Produce response. Follows Apache Kafka: a
    /// damaged batch (CRC, lengths) is CORRUPT_MESSAGE, which clients retry; a batch that is
    /// intact but wrong inside (counts, record structure, offsets, a magic other than 2) is
    /// INVALID_RECORD, which they do not, since resending the same bytes cannot help.
    public var kafkaErrorCode: Int16 {
        switch kind {
        case .decompression(let failure):
            if case .outputTooLarge = failure.kind {
                return 10  // MESSAGE_TOO_LARGE: Java producers split the batch and retry
            }
            return 2  // CORRUPT_MESSAGE: the compressed data is damaged (a resend may be intact)
        case .truncatedHeader, .badLength, .badCRC:
            return 2  // CORRUPT_MESSAGE
        case .unsupportedCompression:
            return 76  // UNSUPPORTED_COMPRESSION_TYPE
        case .oldMessageFormat, .badMagic:
            // Kafka's ProduceRequest.validateRecords: "Produce requests with version N are only
            // allowed to contain record batches with magic version 2" is an InvalidRecordException.
            return 87  // INVALID_RECORD
        case .noBatches, .badCounts, .controlBatchFromClient, .missingSequence, .badRecord, .recordCountMismatch,
             .trailingBytes:
            return 87  // INVALID_RECORD
        }
    }

    public var description: String {
        "record batch at byte \(batchPosition): " + kindDescription
    }

    private var kindDescription: String {
        switch kind {
        case .noBatches: return "no record batch in the partition's records"
        case .truncatedHeader(let n): return "header truncated: \(n) of \(RecordBatchHeader.size) bytes"
        case .badLength(let length, let n): return "batchLength \(length) does not fit the \(n) bytes available"
        case .oldMessageFormat(let magic): return "magic \(magic) (message format v\(magic)) is not supported; only v2 batches"
        case .badMagic(let magic): return "magic \(magic) is not 2"
        case .badCRC(let stored, let computed): return "CRC-32C mismatch: stored \(stored), computed \(computed)"
        case .badCounts(let count, let delta): return "recordsCount \(count) inconsistent with lastOffsetDelta \(delta)"
        case .unsupportedCompression(let codec):
            let name = Compression(rawValue: codec).map { "\($0)" } ?? "unknown codec \(codec)"
            return "compression \(name) is not supported (codecs are none, gzip, snappy, lz4 and zstd)"
        case .controlBatchFromClient: return "control batches cannot be produced by clients"
        case .missingSequence(let id, let sequence): return "producerId \(id) with baseSequence \(sequence)"
        case .decompression(let failure): return failure.description
        case .badRecord(let index, let fault): return "record \(index): \(fault)"
        case .recordCountMismatch(let declared, let found): return "recordsCount \(declared) but \(found) records found"
        case .trailingBytes(let count): return "\(count) bytes follow the last record"
        }
    }
}
