import Foundation
@testable import LogStorage
import RunnelCore
import Testing

@Suite struct RetentionAndTruncationTests {
    /// 40 batches of 2 records; batch i has timestamp 1_000 + 100 i.
    func filledLog(_ dir: TempDirectory, config: LogConfig = smallConfig()) throws -> PartitionLog {
        let log = try openLog(dir.path, config: config)
        for i in 0..<40 { try log.append(TestBatch.make(records: 2, timestamp: 1_000 + Int64(i) * 100)) }
        return log
    }

    @Test func retentionByTimeDeletesExpiredSealedSegmentsAndAdvancesTheLogStart() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        var config = smallConfig()
        config.retentionMs = 1_000
        let log = try filledLog(dir, config: config)
        let bases = log.segmentBaseOffsets
        let maxTimestamps = log.segments.map(\.maxTimestampSoFar.rawValue)
        // now such that exactly the first two segments are older than retention.ms.
        let now = maxTimestamps[1] + 1_001
        #expect(maxTimestamps[2] + 1_000 >= now)
        let result = try log.applyRetention(now: TimestampMs(now))
        #expect(result.deletedSegments == 2)
        #expect(log.segmentBaseOffsets == Array(bases.dropFirst(2)))
        #expect(log.logStartOffset == bases[2])
        #expect(!dir.files(in: "").contains(LogSegment.fileName(baseOffset: bases[0], suffix: ".log")))
        #expect(!dir.files(in: "").contains(LogSegment.fileName(baseOffset: bases[1], suffix: ".index")))
        #expect(log.readBatches(from: bases[2].rawValue - 1) == nil)
        #expect(log.readBatches(from: bases[2].rawValue)?.first?.0 == bases[2].rawValue)
        #expect(log.offset(forTimestamp: TimestampMs(0))?.offset == bases[2])
        // Far in the future: every sealed segment goes, never the active one.
        try log.applyRetention(now: TimestampMs(1 << 40))
        #expect(log.segmentCount == 1)
        #expect(log.logStartOffset == bases.last!)
        #expect(log.logEndOffset == Offset(80))
        #expect(try log.append(TestBatch.make(records: 1)).baseOffset == Offset(80))
    }

    /// With `removeLater` (the broker's setting): retention renames the dropped segments'
    /// files to `.deleted` at once and hands them over; the log no longer serves them; the
    /// removal deletes exactly those files; a reopen drops `.deleted` files a crash left.
    @Test func retentionCanLeaveTheRemovalToSomeoneElse() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        var config = smallConfig()
        config.retentionMs = 1_000
        let log = try filledLog(dir, config: config)
        let bases = log.segmentBaseOffsets
        var removals: [LogRemoval] = []
        log.removeLater = { removals.append($0) }
        let now = log.segments.map(\.maxTimestampSoFar.rawValue)[1] + 1_001
        #expect(try log.applyRetention(now: TimestampMs(now)).deletedSegments == 2)
        #expect(log.segmentBaseOffsets == Array(bases.dropFirst(2)))
        #expect(log.readBatches(from: bases[2].rawValue - 1) == nil)
        #expect(removals.count == 1)
        let names = dir.files(in: "")
        for base in bases.prefix(2) {
            for suffix in [".log", ".index", ".timeindex"] {
                let name = LogSegment.fileName(baseOffset: base, suffix: suffix)
                #expect(!names.contains(name))
                #expect(names.contains(name + ".deleted"))
            }
        }
        var steps = 0
        while try !removals[0].step(chunkBytes: 512) {
            steps += 1
            try #require(steps < 100_000)
        }
        #expect(!dir.files(in: "").contains { $0.hasSuffix(".deleted") })
        #expect(dir.files(in: "").contains(LogSegment.fileName(baseOffset: bases[2], suffix: ".log")))

        // A crash between the rename and the removal: the next open drops the `.deleted` files.
        try log.applyRetention(now: TimestampMs(1 << 40))
        #expect(removals.count == 2)
        #expect(dir.files(in: "").contains { $0.hasSuffix(".deleted") })
        try log.close()
        let reopened = try openLog(dir.path, config: config)
        #expect(!dir.files(in: "").contains { $0.hasSuffix(".deleted") })
        #expect(reopened.logEndOffset == Offset(80))
        #expect(reopened.segmentCount == 1)
    }

    @Test func retentionBySizeKeepsAtLeastRetentionBytes() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        var config = smallConfig()
        config.retentionBytes = 2048
        let log = try filledLog(dir, config: config)
        let before = log.segmentCount
        let result = try log.applyRetention(now: TimestampMs(0))
        #expect(result.deletedSegments > 0)
        #expect(log.segmentCount == before - result.deletedSegments)
        #expect(log.sizeBytes >= 2048)
        // Deleting one more would go below retention.bytes.
        #expect(log.sizeBytes - log.segments[0].sizeBytes < 2048)
        #expect(log.logStartOffset == log.segments[0].baseOffset)
        #expect(try log.applyRetention(now: TimestampMs(0)).deletedSegments == 0)
    }

    @Test func deleteRecordsMovesTheLogStartInsideASegment() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = try filledLog(dir)
        let bases = log.segmentBaseOffsets
        let target = bases[1] + 3
        #expect(try log.deleteRecords(before: target) == target)
        #expect(log.segmentBaseOffsets.first == bases[1])
        #expect(log.readBatches(from: target.rawValue - 1) == nil)
        #expect(log.readBatches(from: target.rawValue) != nil)
        #expect(log.earliestOffset == target)
    }

    @Test func truncateWithinTheActiveSegmentThenAppendContinues() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = try openLog(dir.path, config: smallConfig(segmentBytes: 64 * 1024))
        for _ in 0..<10 { try log.append(TestBatch.make(records: 2)) }
        try log.truncate(to: Offset(12))
        #expect(log.logEndOffset == Offset(12))
        #expect(log.allBatches().map(\.0) == [0, 2, 4, 6, 8, 10])
        // Inside a batch: the whole batch goes.
        try log.truncate(to: Offset(9))
        #expect(log.logEndOffset == Offset(8))
        #expect(try log.append(TestBatch.make(records: 3)).baseOffset == Offset(8))
        #expect(log.allBatches().map(\.0) == [0, 2, 4, 6, 8])
        #expect(log.allBatches().last?.1 == 10)
    }

    @Test func truncateAcrossSegmentsDeletesLaterSegmentsAndReactivates() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = try filledLog(dir)
        let bases = log.segmentBaseOffsets
        let target = bases[1] + 2
        try log.truncate(to: target)
        #expect(log.segmentBaseOffsets == [bases[0], bases[1]])
        #expect(log.logEndOffset == target)
        #expect(log.activeSegment.isActive)
        #expect(dir.files(in: "").filter { $0.hasSuffix(".log") }.count == 2)
        #expect(try log.append(TestBatch.make(records: 2)).baseOffset == target)
        #expect(log.allBatches().count == Int(target.rawValue / 2) + 1)
        // Appending keeps working across the next roll.
        for _ in 0..<20 { try log.append(TestBatch.make(records: 2)) }
        #expect(log.logEndOffset == target + 42)
        #expect(log.allBatches().count == Int(target.rawValue / 2) + 21)
    }

    /// After truncation and a crash, recovery must not bring the truncated batches back.
    @Test func truncatedBatchesStayGoneAfterACrash() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        var log = try openLog(dir.path, config: smallConfig(segmentBytes: 64 * 1024))
        for _ in 0..<10 { try log.append(TestBatch.make(records: 2)) }
        try log.truncate(to: Offset(6))
        // Same size as the batch it replaces, so the old batch after it would line up and pass
        // every check (offset 8 follows 6..7) if its bytes were still in the file.
        try log.append(TestBatch.make(records: 2))
        log.abandon()
        log = try openLog(dir.path, config: smallConfig(segmentBytes: 64 * 1024), needsRecovery: true)
        #expect(log.logEndOffset == Offset(8))
        #expect(log.allBatches().map(\.0) == [0, 2, 4, 6])
    }

    @Test func truncateBelowTheFirstSegmentRestartsTheLog() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = try filledLog(dir)
        try log.truncate(to: Offset(0))
        #expect(log.logEndOffset == Offset(0))
        #expect(log.segmentCount == 1)
        try log.truncateFully(startingAt: Offset(500))
        #expect(log.logStartOffset == Offset(500) && log.logEndOffset == Offset(500))
        #expect(dir.files(in: "").filter { $0.hasSuffix(".log") } == [LogSegment.fileName(baseOffset: Offset(500), suffix: ".log")])
        #expect(try log.append(TestBatch.make(records: 1)).baseOffset == Offset(500))
    }
}
