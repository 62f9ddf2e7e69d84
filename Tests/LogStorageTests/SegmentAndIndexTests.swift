import Foundation
@testable import LogStorage
import RunnelCore
import Testing

@Suite struct SegmentAndIndexTests {
    @Test func fileNamesAreTwentyDigitBaseOffsets() {
        #expect(LogSegment.fileName(baseOffset: Offset(0), suffix: ".log") == "00000000000000000000.log")
        #expect(LogSegment.fileName(baseOffset: Offset(1234), suffix: ".index") == "00000000000000001234.index")
    }

    /// Appends 40 batches of 3 records (offsets 0..<120) to a segment whose offset index gets an
    /// entry per batch after the first, and checks the index and the lookups.
    @Test func offsetIndexMapsLastOffsetToBatchStartAndLookupsFindTheBatch() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let config = LogConfig(segmentBytes: 64 * 1024, indexIntervalBytes: 0, indexSizeMaxBytes: 4096)
        let segment = try LogSegment.create(directory: dir.path, baseOffset: Offset(0), config: config, fileSystem: PosixFileSystem())
        var starts: [Int] = []
        for i in 0..<40 {
            var batch = TestBatch.make(records: 3, timestamp: 1_000 + Int64(i) * 10)
            batch.withUnsafeMutableBytes { RecordBatchHeader.stamp($0, baseOffset: Int64(i * 3), leaderEpoch: 1) }
            starts.append(segment.sizeBytes)
            try batch.withUnsafeBytes { raw in
                try segment.append(raw, header: RecordBatchHeader(raw)!, indexIntervalBytes: 0, now: TimestampMs(0))
            }
        }
        #expect(segment.nextOffset == Offset(120))
        // The first batch has no entry (nothing appended before it); each later one has.
        #expect(segment.offsetIndex.entryCount == 39)
        for k in 0..<39 {
            let entry = segment.offsetIndex.entry(k)
            #expect(entry.offset == Offset(Int64(k + 1) * 3 + 2))
            #expect(entry.position == starts[k + 1])
        }
        for target in 0..<120 {
            let found = try #require(segment.findBatch(atOrAfter: Offset(Int64(target))))
            #expect(found.position == starts[target / 3])
            #expect(found.header.baseOffset == Int64(target / 3 * 3))
            // The index never points after the batch holding the target.
            #expect(segment.offsetIndex.lookup(Offset(Int64(target))).position <= starts[target / 3])
        }
        #expect(segment.findBatch(atOrAfter: Offset(120)) == nil)
        // Time index: strictly increasing max timestamps, lookups strictly below a time.
        #expect(segment.timeIndex.entryCount == 39)
        #expect(segment.maxTimestampSoFar == TimestampMs(1_390))
        let before = try #require(segment.timeIndex.lastEntry(before: TimestampMs(1_205)))
        #expect(before.timestamp == TimestampMs(1_200))
        #expect(before.offset == Offset(62))
        #expect(segment.timeIndex.lastEntry(before: TimestampMs(1_000)) == nil)
    }

    @Test func sparseIndexAddsAnEntryOnlyAfterIndexIntervalBytes() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let config = LogConfig(segmentBytes: 64 * 1024, indexIntervalBytes: 1000, indexSizeMaxBytes: 4096)
        let segment = try LogSegment.create(directory: dir.path, baseOffset: Offset(100), config: config, fileSystem: PosixFileSystem())
        let batchBytes = TestBatch.make(records: 1).count
        for i in 0..<100 {
            var batch = TestBatch.make(records: 1)
            batch.withUnsafeMutableBytes { RecordBatchHeader.stamp($0, baseOffset: 100 + Int64(i), leaderEpoch: 0) }
            try batch.withUnsafeBytes { try segment.append($0, header: RecordBatchHeader($0)!, indexIntervalBytes: 1000, now: TimestampMs(0)) }
        }
        // One entry each time more than 1000 bytes accumulated.
        let perEntry = 1000 / batchBytes + 1
        #expect(segment.offsetIndex.entryCount == 99 / perEntry)
        for target in Int64(100)..<200 {
            #expect(segment.findBatch(atOrAfter: Offset(target))?.header.baseOffset == target)
        }
    }

    @Test func timeIndexKeepsOnlyIncreasingTimestamps() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let config = LogConfig(segmentBytes: 64 * 1024, indexIntervalBytes: 0, indexSizeMaxBytes: 4096)
        let segment = try LogSegment.create(directory: dir.path, baseOffset: Offset(0), config: config, fileSystem: PosixFileSystem())
        let timestamps: [Int64] = [500, 100, 700, 700, 300, 900, 800]
        for (i, ts) in timestamps.enumerated() {
            var batch = TestBatch.make(records: 1, timestamp: ts)
            batch.withUnsafeMutableBytes { RecordBatchHeader.stamp($0, baseOffset: Int64(i), leaderEpoch: 0) }
            try batch.withUnsafeBytes { try segment.append($0, header: RecordBatchHeader($0)!, indexIntervalBytes: 0, now: TimestampMs(0)) }
        }
        let entries = (0..<segment.timeIndex.entryCount).map { segment.timeIndex.entry($0) }
        // Entries are written from the second batch on, with the max so far.
        #expect(entries.map(\.timestamp.rawValue) == [500, 700, 900])
        #expect(entries.map(\.offset.rawValue) == [0, 2, 5])
        #expect(segment.firstRecord(atOrAfter: TimestampMs(600))?.offset == Offset(2))
        #expect(segment.firstRecord(atOrAfter: TimestampMs(850))?.offset == Offset(5))
        #expect(segment.firstRecord(atOrAfter: TimestampMs(901)) == nil)
    }

    @Test func recordScanFindsTheFirstRecordAtOrAfterATimestamp() {
        let batch = TestBatch.make(records: 5, timestamp: 1_000, timestampStep: 10)
        batch.withUnsafeBytes { raw in
            let header = RecordBatchHeader(raw)!
            #expect(RecordScan.firstRecord(in: raw, header: header, atOrAfter: TimestampMs(1_015)) == (Offset(2), TimestampMs(1_020)))
            #expect(RecordScan.firstRecord(in: raw, header: header, atOrAfter: TimestampMs(0)) == (Offset(0), TimestampMs(1_000)))
            #expect(RecordScan.firstRecord(in: raw, header: header, atOrAfter: TimestampMs(1_040)) == (Offset(4), TimestampMs(1_040)))
        }
    }

    @Test func zigzagVarintsDecode() {
        for value: Int64 in [0, -1, 1, 63, -64, 64, 300, -300, Int64.max, Int64.min] {
            var bytes: [UInt8] = []
            TestBatch.zigzag(value, into: &bytes)
            var position = 0
            let decoded = bytes.withUnsafeBytes { RecordScan.readZigzag($0, &position) }
            #expect(decoded == value)
            #expect(position == bytes.count)
        }
    }

    @Test func activeSegmentIsSparseAndTrimmedOnSeal() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let config = LogConfig(segmentBytes: 1 << 30, indexIntervalBytes: 0, indexSizeMaxBytes: 10 * 1024 * 1024)
        let segment = try LogSegment.create(directory: dir.path, baseOffset: Offset(0), config: config, fileSystem: PosixFileSystem())
        let logPath = dir.path + "/00000000000000000000.log"
        #expect(fileSize(logPath) == 1 << 30)
        var info = stat()
        #expect(stat(logPath, &info) == 0)
        // A 1 GiB preallocation must not consume disk: far fewer than 1 GiB of 512-byte blocks.
        #expect(Int(info.st_blocks) * 512 < 1 << 20)
        #expect(fileSize(dir.path + "/00000000000000000000.index") == 10 * 1024 * 1024)
        #expect(fileSize(dir.path + "/00000000000000000000.timeindex") == 10 * 1024 * 1024 / 12 * 12)
        for i in 0..<3 {
            var batch = TestBatch.make(records: 1)
            batch.withUnsafeMutableBytes { RecordBatchHeader.stamp($0, baseOffset: Int64(i), leaderEpoch: 0) }
            try batch.withUnsafeBytes { try segment.append($0, header: RecordBatchHeader($0)!, indexIntervalBytes: 0, now: TimestampMs(0)) }
        }
        try segment.seal()
        #expect(fileSize(logPath) == segment.sizeBytes)
        #expect(fileSize(dir.path + "/00000000000000000000.index") == 2 * 8)
        // Two entries (batches 2 and 3) — the timestamp never grew, so only the first time entry.
        #expect(fileSize(dir.path + "/00000000000000000000.timeindex") == 1 * 12)
    }
}
