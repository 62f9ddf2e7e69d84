/// A read-only view of a RecordBatch v2 header (magic 2), the unit Runnel stores and serves.
///
/// Layout (61 bytes, big-endian; PROTOCOL.md §4):
///
///     0  baseOffset            int64   assigned by the broker
///     8  batchLength           int32   bytes after this field (total size − 12)
///     12 partitionLeaderEpoch  int32   stamped by the broker
///     16 magic                 int8    = 2
///     17 crc                   uint32  CRC-32C over bytes 21..<end
///     21 attributes            int16   codec bits 0-2, timestampType bit 3, txn bit 4, control bit 5
///     23 lastOffsetDelta       int32
///     27 baseTimestamp         int64
///     35 maxTimestamp          int64
///     43 producerId            int64
///     51 producerEpoch         int16
///     53 baseSequence          int32
///     57 recordsCount          int32
///
/// baseOffset, batchLength, partitionLeaderEpoch and magic are outside the CRC, so the broker can
/// stamp offsets and epochs without re-checksumming.
public struct RecordBatchHeader: Equatable, Sendable {
    public var baseOffset: Int64
    public var batchLength: Int32
    public var partitionLeaderEpoch: Int32
    public var magic: Int8
    public var crc: UInt32
    public var attributes: Int16
    public var lastOffsetDelta: Int32
    public var baseTimestamp: Int64
    public var maxTimestamp: Int64
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var recordsCount: Int32

    public static let size = 61
    /// Bytes before the region the CRC covers.
    public static let crcCoverageStart = 21
    /// Bytes of baseOffset + batchLength: a batch's total size is batchLength + this.
    public static let logOverhead = 12

    public enum Field {
        public static let baseOffset = 0
        public static let batchLength = 8
        public static let partitionLeaderEpoch = 12
        public static let magic = 16
        public static let crc = 17
        public static let attributes = 21
        public static let lastOffsetDelta = 23
        public static let baseTimestamp = 27
        public static let maxTimestamp = 35
        public static let producerId = 43
        public static let producerEpoch = 51
        public static let baseSequence = 53
        public static let recordsCount = 57
    }

    /// Compression codec in attribute bits 0-2.
    public var compression: Int { Int(attributes & 0x7) }
    /// true when timestamps are LogAppendTime (attribute bit 3).
    public var isLogAppendTime: Bool { attributes & 0x8 != 0 }
    public var isTransactional: Bool { attributes & 0x10 != 0 }
    public var isControl: Bool { attributes & 0x20 != 0 }
    /// The whole batch's size in bytes.
    public var totalSize: Int { Int(batchLength) + Self.logOverhead }
    public var lastOffset: Int64 { baseOffset + Int64(lastOffsetDelta) }

    /// Reads a header from the first 61 bytes of `bytes`; nil when fewer are available.
    /// Performs no validation: see `validate`.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= Self.size else { return nil }
        baseOffset = bytes.loadBigEndian(Int64.self, at: Field.baseOffset)
        batchLength = bytes.loadBigEndian(Int32.self, at: Field.batchLength)
        partitionLeaderEpoch = bytes.loadBigEndian(Int32.self, at: Field.partitionLeaderEpoch)
        magic = Int8(bitPattern: bytes[Field.magic])
        crc = bytes.loadBigEndian(UInt32.self, at: Field.crc)
        attributes = bytes.loadBigEndian(Int16.self, at: Field.attributes)
        lastOffsetDelta = bytes.loadBigEndian(Int32.self, at: Field.lastOffsetDelta)
        baseTimestamp = bytes.loadBigEndian(Int64.self, at: Field.baseTimestamp)
        maxTimestamp = bytes.loadBigEndian(Int64.self, at: Field.maxTimestamp)
        producerId = bytes.loadBigEndian(Int64.self, at: Field.producerId)
        producerEpoch = bytes.loadBigEndian(Int16.self, at: Field.producerEpoch)
        baseSequence = bytes.loadBigEndian(Int32.self, at: Field.baseSequence)
        recordsCount = bytes.loadBigEndian(Int32.self, at: Field.recordsCount)
    }

    /// Why a batch was refused. Each case names what was wrong so that logs and tests can say it.
    public enum Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        case truncatedHeader(available: Int)
        case badLength(batchLength: Int32, available: Int)
        case badMagic(Int8)
        case badCRC(stored: UInt32, computed: UInt32)
        case badCounts(recordsCount: Int32, lastOffsetDelta: Int32)

        public var description: String {
            switch self {
            case .truncatedHeader(let n): return "batch header truncated: \(n) of 61 bytes"
            case .badLength(let l, let n): return "batchLength \(l) does not fit the \(n) bytes available"
            case .badMagic(let m): return "magic \(m) is not 2 (only RecordBatch v2 is supported)"
            case .badCRC(let s, let c): return "CRC-32C mismatch: stored \(s), computed \(c)"
            case .badCounts(let r, let d): return "recordsCount \(r) inconsistent with lastOffsetDelta \(d)"
            }
        }
    }

    /// Validates the batch at the start of `bytes`: header complete, length within `bytes`, magic
    /// 2, CRC-32C over bytes 21..<end, and (for non-control batches) recordsCount ==
    /// lastOffsetDelta + 1 with at least one record. Returns the header; the batch occupies
    /// `header.totalSize` bytes.
    public static func validate(_ bytes: UnsafeRawBufferPointer) -> Result<RecordBatchHeader, Invalid> {
        guard let header = RecordBatchHeader(bytes) else { return .failure(.truncatedHeader(available: bytes.count)) }
        let total = Int(header.batchLength) + logOverhead
        guard header.batchLength >= Int32(size - logOverhead), total <= bytes.count else {
            return .failure(.badLength(batchLength: header.batchLength, available: bytes.count))
        }
        guard header.magic == 2 else { return .failure(.badMagic(header.magic)) }
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[crcCoverageStart..<total]))
        guard computed == header.crc else { return .failure(.badCRC(stored: header.crc, computed: computed)) }
        guard header.recordsCount >= 1, header.lastOffsetDelta >= 0,
              header.isControl || Int64(header.recordsCount) == Int64(header.lastOffsetDelta) + 1 else {
            return .failure(.badCounts(recordsCount: header.recordsCount, lastOffsetDelta: header.lastOffsetDelta))
        }
        return .success(header)
    }

    /// Writes baseOffset and partitionLeaderEpoch into a batch in place (outside the CRC).
    public static func stamp(_ bytes: UnsafeMutableRawBufferPointer, baseOffset: Int64, leaderEpoch: Int32) {
        bytes.storeBigEndian(baseOffset, at: Field.baseOffset)
        bytes.storeBigEndian(leaderEpoch, at: Field.partitionLeaderEpoch)
    }

    /// `stampLogAppendTime` for a batch whose header (61 bytes) and body are in separate
    /// buffers: the header is rewritten, the CRC recomputed over header[21...] then the body.
    public static func stampLogAppendTime(header: UnsafeMutableRawBufferPointer, body: UnsafeRawBufferPointer, timestamp: Int64) {
        precondition(header.count == size, "header must be exactly \(size) bytes")
        let attributes = UnsafeRawBufferPointer(header).loadBigEndian(Int16.self, at: Field.attributes) | 0x8
        header.storeBigEndian(attributes, at: Field.attributes)
        header.storeBigEndian(timestamp, at: Field.maxTimestamp)
        let headPart = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(header)[crcCoverageStart...]))
        header.storeBigEndian(CRC32C.checksum(body, continuing: headPart), at: Field.crc)
    }

    /// Rewrites maxTimestamp and sets the LogAppendTime attribute, then recomputes the CRC (both
    /// fields are inside its coverage).
    public static func stampLogAppendTime(_ bytes: UnsafeMutableRawBufferPointer, timestamp: Int64) {
        let attributes = UnsafeRawBufferPointer(bytes).loadBigEndian(Int16.self, at: Field.attributes) | 0x8
        bytes.storeBigEndian(attributes, at: Field.attributes)
        bytes.storeBigEndian(timestamp, at: Field.maxTimestamp)
        let total = Int(UnsafeRawBufferPointer(bytes).loadBigEndian(Int32.self, at: Field.batchLength)) + logOverhead
        let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[crcCoverageStart..<total]))
        bytes.storeBigEndian(crc, at: Field.crc)
    }
}

extension UnsafeRawBufferPointer {
    /// Loads a big-endian integer at `offset` (unaligned). The caller guarantees the bounds.
    @inlinable
    public func loadBigEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= count, "read past buffer end")
        return T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    /// Stores a big-endian integer at `offset` (unaligned). The caller guarantees the bounds.
    @inlinable
    public func storeBigEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= count, "write past buffer end")
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
    }
}
