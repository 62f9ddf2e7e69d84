import Foundation
import Logging
@testable import LogStorage
import RunnelCore
import RunnelTesting

/// Builds valid RecordBatch v2 bytes (magic 2, CRC-32C) with `records` minimal records:
/// zigzag-varint record fields, null key, a small value, no headers. Record i has timestamp
/// `timestamp + i * timestampStep`. KafkaWire is not used on purpose (written concurrently).
enum TestBatch {
    static func make(records: Int, timestamp: Int64 = 1_000, timestampStep: Int64 = 0, valueBytes: Int = 8,
                     fill: UInt8 = 0x61) -> [UInt8] {
        precondition(records >= 1)
        var body: [UInt8] = []
        for i in 0..<records {
            var record: [UInt8] = [0]                       // attributes
            zigzag(Int64(i) * timestampStep, into: &record) // timestampDelta
            zigzag(Int64(i), into: &record)                 // offsetDelta
            zigzag(-1, into: &record)                       // key: null
            zigzag(Int64(valueBytes), into: &record)
            record += [UInt8](repeating: fill &+ UInt8(truncatingIfNeeded: i), count: valueBytes)
            zigzag(0, into: &record)                        // headers
            zigzag(Int64(record.count), into: &body)
            body += record
        }
        var batch = [UInt8](repeating: 0, count: RecordBatchHeader.size)
        batch += body
        let maxTimestamp = timestamp + Int64(records - 1) * max(0, timestampStep)
        batch.withUnsafeMutableBytes { raw in
            raw.storeBigEndian(Int64(0), at: RecordBatchHeader.Field.baseOffset)
            raw.storeBigEndian(Int32(raw.count - RecordBatchHeader.logOverhead), at: RecordBatchHeader.Field.batchLength)
            raw.storeBigEndian(Int32(-1), at: RecordBatchHeader.Field.partitionLeaderEpoch)
            raw[RecordBatchHeader.Field.magic] = 2
            raw.storeBigEndian(Int16(0), at: RecordBatchHeader.Field.attributes)
            raw.storeBigEndian(Int32(records - 1), at: RecordBatchHeader.Field.lastOffsetDelta)
            raw.storeBigEndian(timestamp, at: RecordBatchHeader.Field.baseTimestamp)
            raw.storeBigEndian(maxTimestamp, at: RecordBatchHeader.Field.maxTimestamp)
            raw.storeBigEndian(Int64(-1), at: RecordBatchHeader.Field.producerId)
            raw.storeBigEndian(Int16(-1), at: RecordBatchHeader.Field.producerEpoch)
            raw.storeBigEndian(Int32(-1), at: RecordBatchHeader.Field.baseSequence)
            raw.storeBigEndian(Int32(records), at: RecordBatchHeader.Field.recordsCount)
            let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[RecordBatchHeader.crcCoverageStart...]))
            raw.storeBigEndian(crc, at: RecordBatchHeader.Field.crc)
        }
        return batch
    }

    static func zigzag(_ value: Int64, into out: inout [UInt8]) {
        var raw = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while raw >= 0x80 {
            out.append(UInt8(raw & 0x7F) | 0x80)
            raw >>= 7
        }
        out.append(UInt8(raw))
    }
}

/// A fresh directory under the system temp dir, removed by `remove()`.
struct TempDirectory {
    let path: String

    init() {
        var template = Array((NSTemporaryDirectory() as NSString).appendingPathComponent("runnel-logstorage-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    func files(in sub: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path + "/" + sub)) ?? []).sorted()
    }
}

/// Collects log lines so tests can check what recovery said (and so that a passing run prints
/// none: every `openLog` without a logger of its own logs into a fresh capture).
typealias LogCapture = RunnelTesting.LogCapture

extension PartitionLog {
    /// Appends a copy of `batch`.
    @discardableResult
    func append(_ batch: [UInt8], epoch: Int32 = 0, now: Int64 = 1_000) throws(StorageError) -> AppendResult {
        var copy = batch
        return try copy.withUnsafeMutableBytes { raw in
            Result { () throws(StorageError) -> AppendResult in
                try append(raw, leaderEpoch: LeaderEpoch(epoch), now: TimestampMs(now))
            }
        }.get()
    }

    /// The batches a read returns, as (baseOffset, lastOffset) pairs; nil when out of range or
    /// unreadable.
    func readBatches(from offset: Int64, maxBytes: Int = Int.max, upperBound: Int64? = nil) -> [(Int64, Int64)]? {
        switch read(from: Offset(offset), maxBytes: maxBytes, upperBound: upperBound.map(Offset.init(_:))) {
        case .offsetOutOfRange, .unreadable:
            return nil
        case .records(let slice):
            return slice.withUnsafeBytes { bytes in batchRanges(bytes) }
        }
    }

    /// Every batch in the log, read from the log start.
    func allBatches() -> [(Int64, Int64)] {
        var result: [(Int64, Int64)] = []
        var next = logStartOffset.rawValue
        while next < logEndOffset.rawValue, let batches = readBatches(from: next), let last = batches.last {
            result += batches
            next = last.1 + 1
        }
        return result
    }
}

/// Validates and lists the batches in `bytes` (every one must be valid).
func batchRanges(_ bytes: UnsafeRawBufferPointer) -> [(Int64, Int64)] {
    var result: [(Int64, Int64)] = []
    var position = 0
    while position < bytes.count {
        guard case .success(let header) = RecordBatchHeader.validate(UnsafeRawBufferPointer(rebasing: bytes[position...])) else {
            return result + [(-1, -1)]
        }
        result.append((header.baseOffset, header.lastOffset))
        position += header.totalSize
    }
    return result
}

/// A small config: 1 KiB segments (Limits.segmentBytesMin), an index entry per batch.
func smallConfig(segmentBytes: Int = 1024, indexIntervalBytes: Int = 0) -> LogConfig {
    LogConfig(segmentBytes: segmentBytes, indexIntervalBytes: indexIntervalBytes, indexSizeMaxBytes: 4096)
}

func openLog(_ directory: String, config: LogConfig = smallConfig(), needsRecovery: Bool = false,
             recoveryPoint: Int64 = 0, logStartOffset: Int64? = nil, fileSystem: any FileSystem = PosixFileSystem(),
             logger: Logger = LogCapture().logger) throws(StorageError) -> PartitionLog {
    try PartitionLog.open(directory: directory, topic: TopicName("t"), partition: PartitionID(0), config: config,
                          recoveryPoint: Offset(recoveryPoint), logStartOffset: logStartOffset.map(Offset.init(_:)),
                          needsRecovery: needsRecovery, now: TimestampMs(0), fileSystem: fileSystem, logger: logger)
}

/// Overwrites bytes of a file in place.
func overwrite(_ path: String, at offset: Int, with bytes: [UInt8]) {
    let fd = open(path, O_RDWR)
    precondition(fd >= 0, "open \(path)")
    defer { close(fd) }
    let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
    precondition(written == bytes.count)
}

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? -1
}

func setFileSize(_ path: String, _ size: Int) {
    precondition(truncate(path, off_t(size)) == 0)
}
