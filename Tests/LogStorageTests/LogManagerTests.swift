import Foundation
@testable import LogStorage
import RunnelCore
import Testing

@Suite struct LogManagerTests {
    let now = TimestampMs(1_000)

    func manager(_ dir: TempDirectory, capture: LogCapture = LogCapture()) throws -> LogManager {
        try LogManager(dataDirectory: dir.path, defaultConfig: smallConfig(), now: now, logger: capture.logger)
    }

    @Test func cleanCloseWritesCheckpointsAndTheMarkerAndReopenKeepsEverything() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        var logs = try manager(dir)
        #expect(!logs.hadCleanShutdown)
        let a = try logs.createLog(topic: TopicName("orders"), partition: PartitionID(0), now: now)
        let b = try logs.createLog(topic: TopicName("my-topic"), partition: PartitionID(3), now: now)
        #expect(throws: StorageError.self) { try logs.createLog(topic: TopicName("orders"), partition: PartitionID(0), now: now) }
        for _ in 0..<30 { try a.append(TestBatch.make(records: 2)) }
        for _ in 0..<5 { try b.append(TestBatch.make(records: 1)) }
        try a.deleteRecords(before: Offset(4))
        try logs.close()
        #expect(dir.files(in: "").contains(LogManager.cleanShutdownFileName))
        let recovery = try String(contentsOfFile: dir.path + "/recovery-point-offset-checkpoint", encoding: .utf8)
        #expect(recovery == "0\n2\nmy-topic 3 5\norders 0 60\n")
        let starts = try String(contentsOfFile: dir.path + "/log-start-offset-checkpoint", encoding: .utf8)
        #expect(starts == "0\n2\nmy-topic 3 0\norders 0 4\n")

        let capture = LogCapture()
        logs = try manager(dir, capture: capture)
        #expect(logs.hadCleanShutdown)
        #expect(!dir.files(in: "").contains(LogManager.cleanShutdownFileName))
        let reopened = try #require(logs.log(TopicName("orders"), PartitionID(0)))
        #expect(reopened.logEndOffset == Offset(60))
        #expect(reopened.logStartOffset == Offset(4))
        #expect(reopened.readBatches(from: 3) == nil)
        #expect(reopened.readBatches(from: 4)?.first?.0 == 4)
        #expect(logs.log(TopicName("my-topic"), PartitionID(3))?.logEndOffset == Offset(5))
        #expect(capture.warnings.isEmpty)
    }

    /// With the marker the scan is skipped (a corrupt record stays unnoticed); without it the
    /// same corruption is found and cut.
    @Test func cleanShutdownMarkerSkipsTheRecoveryScan() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        var logs = try manager(dir)
        let log = try logs.createLog(topic: TopicName("t"), partition: PartitionID(0),
                                     config: smallConfig(segmentBytes: 64 * 1024, indexIntervalBytes: 4096), now: now)
        for _ in 0..<10 { try log.append(TestBatch.make(records: 2)) }
        try logs.close()
        let path = dir.path + "/t-0/00000000000000000000.log"
        overwrite(path, at: 70, with: [0xFF])   // inside the first batch's records
        logs = try manager(dir)
        #expect(logs.log(TopicName("t"), PartitionID(0))?.logEndOffset == Offset(20))
        // Crash (no close): the next start has no marker and scans.
        logs = try manager(dir)
        #expect(!logs.hadCleanShutdown)
        #expect(logs.log(TopicName("t"), PartitionID(0))?.logEndOffset == Offset(0))
    }

    @Test func uncleanStopRecoversFromTheCheckpointedRecoveryPoint() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        var logs = try manager(dir)
        let log = try logs.createLog(topic: TopicName("t"), partition: PartitionID(0), now: now)
        for _ in 0..<30 { try log.append(TestBatch.make(records: 2)) }
        try logs.writeCheckpoints()
        // No close: simulated crash. Unflushed data is still in the page cache, so it survives.
        let capture = LogCapture()
        logs = try manager(dir, capture: capture)
        #expect(!logs.hadCleanShutdown)
        let reopened = try #require(logs.log(TopicName("t"), PartitionID(0)))
        #expect(reopened.logEndOffset == Offset(60))
        #expect(reopened.recoveryPoint == Offset(60))
        #expect(reopened.allBatches().count == 30)
        #expect(capture.warnings.isEmpty)
    }

    /// The two steps of a deletion off the owner thread: detached at once (gone from the manager,
    /// its directory renamed so a restart removes it and never opens it), files removed by the
    /// removal, which runs on another thread here.
    @Test func aDetachedLogIsGoneAtOnceAndItsFilesGoWithItsRemoval() async throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        var logs = try manager(dir)
        let log = try logs.createLog(topic: TopicName("gone"), partition: PartitionID(1), now: now)
        try log.append(TestBatch.make(records: 3))
        let removal = try #require(try logs.detachLog(topic: TopicName("gone"), partition: PartitionID(1)))
        #expect(logs.log(TopicName("gone"), PartitionID(1)) == nil)
        #expect(try logs.detachLog(topic: TopicName("gone"), partition: PartitionID(1)) == nil)
        #expect(!dir.files(in: "").contains("gone-1"))
        #expect(dir.files(in: "").contains(removal.path.split(separator: "/").last.map(String.init) ?? "?"))
        #expect(!dir.files(in: removal.path.split(separator: "/").last.map(String.init)!).isEmpty)
        // A restart before the removal ran: the renamed directory is removed, not opened.
        try logs.close()
        logs = try manager(dir)
        #expect(logs.logs.isEmpty)
        #expect(!dir.files(in: "").contains { $0.hasSuffix("-delete") })
        // The removal of a directory already gone fails (the broker logs it) without harm.
        let late = Task.detached { () -> Bool in (try? removal.perform()) != nil }
        #expect(await late.value == false)

        let second = try logs.createLog(topic: TopicName("gone"), partition: PartitionID(2), now: now)
        try second.append(TestBatch.make(records: 2))
        let removal2 = try #require(try logs.detachLog(topic: TopicName("gone"), partition: PartitionID(2)))
        let done = Task.detached { () -> Bool in (try? removal2.perform()) != nil }
        #expect(await done.value)
        #expect(!dir.files(in: "").contains { $0.hasPrefix("gone-") })

        // In bounded steps: the files shrink a chunk at a time, then go, then the directory.
        let third = try logs.createLog(topic: TopicName("gone"), partition: PartitionID(3), now: now)
        try third.append(TestBatch.make(records: 2))
        let removal3 = try #require(try logs.detachLog(topic: TopicName("gone"), partition: PartitionID(3)))
        let name = String(removal3.path.split(separator: "/").last!)
        let files = dir.files(in: name).count
        var steps = 0
        while try !removal3.step(chunkBytes: 1024) {
            steps += 1
            try #require(steps < 100_000)
        }
        #expect(steps > files)   // the preallocated segment and indexes shrank before they went
        #expect(!dir.files(in: "").contains(name))
    }

    @Test func deleteLogRemovesItsData() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        var logs = try manager(dir)
        let log = try logs.createLog(topic: TopicName("gone"), partition: PartitionID(1), now: now)
        try log.append(TestBatch.make(records: 1))
        try logs.createLog(topic: TopicName("kept"), partition: PartitionID(0), now: now)
        try logs.deleteLog(topic: TopicName("gone"), partition: PartitionID(1))
        #expect(logs.log(TopicName("gone"), PartitionID(1)) == nil)
        #expect(!dir.files(in: "").contains { $0.hasPrefix("gone-1") })
        try logs.close()
        logs = try manager(dir)
        #expect(logs.logs.keys.map(\.description) == ["kept-0"])
        // A leftover "-delete" directory from a crash is removed at start.
        try FileManager.default.createDirectory(atPath: dir.path + "/x-0.7-delete", withIntermediateDirectories: false)
        _ = FileManager.default.createFile(atPath: dir.path + "/x-0.7-delete/00000000000000000000.log", contents: Data([1]))
        logs = try manager(dir)
        #expect(!dir.files(in: "").contains("x-0.7-delete"))
    }

    @Test func managerRetentionPersistsTheLogStart() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        var logs = try manager(dir)
        var config = smallConfig()
        config.retentionMs = 10
        let log = try logs.createLog(topic: TopicName("t"), partition: PartitionID(0), config: config, now: now)
        for _ in 0..<30 { try log.append(TestBatch.make(records: 2, timestamp: 1_000)) }
        let segmentsBefore = log.segmentCount
        #expect(segmentsBefore > 2)
        #expect(try logs.applyRetention(now: TimestampMs(5_000)) == segmentsBefore - 1)
        let start = log.logStartOffset
        #expect(start > Offset(0))
        #expect(log.segmentCount == 1)
        // Crash: the persisted log start is used.
        logs = try manager(dir)
        #expect(logs.log(TopicName("t"), PartitionID(0))?.logStartOffset == start)
    }

    @Test func checkpointFilesRoundTripAndRejectGarbage() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let path = dir.path + "/cp"
        let entries = [TopicPartition(TopicName("a.b_c-d"), PartitionID(12)): Offset(1 << 40),
                       TopicPartition(TopicName("z"), PartitionID(0)): Offset(0)]
        try OffsetCheckpoint.write(entries, to: path, fileSystem: PosixFileSystem())
        #expect(try OffsetCheckpoint.read(from: path, fileSystem: PosixFileSystem()) == entries)
        #expect(try OffsetCheckpoint.read(from: dir.path + "/missing", fileSystem: PosixFileSystem()).isEmpty)
        try "0\n2\na 0 1\n".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: StorageError.self) { try OffsetCheckpoint.read(from: path, fileSystem: PosixFileSystem()) }
        try "1\n0\n".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: StorageError.self) { try OffsetCheckpoint.read(from: path, fileSystem: PosixFileSystem()) }
        // The manager treats a corrupt checkpoint as unknown offsets (and says so).
        try "garbage".write(toFile: dir.path + "/recovery-point-offset-checkpoint", atomically: false, encoding: .utf8)
        let capture = LogCapture()
        _ = try manager(dir, capture: capture)
        #expect(capture.warnings.contains { $0.contains("recovery-point-offset-checkpoint") })
    }

    @Test func directoryNamesParseLikeKafka() {
        #expect(LogManager.parseDirectoryName("my-topic-12") == TopicPartition(TopicName("my-topic"), PartitionID(12)))
        #expect(LogManager.parseDirectoryName("topic") == nil)
        #expect(LogManager.parseDirectoryName("topic-x") == nil)
        #expect(LogManager.parseDirectoryName("-1") == nil)
    }
}
