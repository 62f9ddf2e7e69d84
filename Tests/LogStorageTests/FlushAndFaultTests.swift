import Foundation
@testable import LogStorage
import RunnelCore
import RunnelTesting
import Testing

@Suite struct FlushTests {
    @Test func flushRequestRunsOffTheOwnerThreadWhileAppendsContinue() async throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = try openLog(dir.path, config: smallConfig(segmentBytes: 64 * 1024))
        for _ in 0..<5 { try log.append(TestBatch.make(records: 2)) }
        #expect(log.recoveryPoint == Offset(0))
        #expect(log.unflushedOffsets == 10)
        let request = try #require(log.makeFlushRequest())
        #expect(request.endOffset == Offset(10))
        let work = Task.detached { () throws(StorageError) -> Offset in try request.perform() }
        // The owner keeps appending while the flush runs.
        for _ in 0..<5 { try log.append(TestBatch.make(records: 2)) }
        let durable = try await work.value
        #expect(durable == Offset(10))
        log.flushCompleted(request, now: TimestampMs(5))
        #expect(log.recoveryPoint == Offset(10))
        try log.flush(now: TimestampMs(6))
        #expect(log.recoveryPoint == Offset(20))
        #expect(log.makeFlushRequest() == nil)
    }

    @Test func aFlushFromBeforeATruncationDoesNotAdvanceTheRecoveryPoint() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = try openLog(dir.path, config: smallConfig(segmentBytes: 64 * 1024))
        for _ in 0..<5 { try log.append(TestBatch.make(records: 2)) }
        let request = try #require(log.makeFlushRequest())
        _ = try request.perform()
        try log.truncate(to: Offset(4))
        for _ in 0..<5 { try log.append(TestBatch.make(records: 2)) }
        log.flushCompleted(request, now: TimestampMs(0))
        #expect(log.recoveryPoint == Offset(0))
    }

    /// A roll does not fsync on the owner thread: the sealed segment makes `flushIsDue` true,
    /// and the flush (which the broker runs off-thread) advances the recovery point past it.
    @Test func rollLeavesTheFsyncToAFlushThatAdvancesTheRecoveryPoint() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = try openLog(dir.path)
        var flushDueAfterRoll = false
        for _ in 0..<20 {
            let result = try log.append(TestBatch.make(records: 2))
            if log.segmentCount > 1 && result.flushDue { flushDueAfterRoll = true }
        }
        #expect(log.segmentCount > 1)
        #expect(flushDueAfterRoll)
        #expect(log.recoveryPoint < log.activeSegment.baseOffset)
        let request = try #require(log.makeFlushRequest())
        _ = try request.perform()
        log.flushCompleted(request, now: TimestampMs(0))
        #expect(log.recoveryPoint == log.logEndOffset)
    }

    @Test func flushPolicyHooks() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        var config = smallConfig(segmentBytes: 64 * 1024)
        config.flushIntervalMessages = 5
        let log = try openLog(dir.path, config: config)
        #expect(try log.append(TestBatch.make(records: 2)).flushDue == false)
        #expect(try log.append(TestBatch.make(records: 2)).flushDue == false)
        #expect(try log.append(TestBatch.make(records: 2)).flushDue == true)
        try log.flush(now: TimestampMs(100))
        log.config.flushIntervalMessages = Int64.max
        log.config.flushIntervalMs = 1_000
        try log.append(TestBatch.make(records: 1))
        #expect(!log.flushIsDue(now: TimestampMs(1_099)))
        #expect(log.flushIsDue(now: TimestampMs(1_100)))
        // Default config: never.
        log.config = smallConfig(segmentBytes: 64 * 1024)
        #expect(!log.flushIsDue(now: TimestampMs(1 << 50)))
    }
}

@Suite struct FaultTests {
    @Test func failedFsyncNamesTheFileAndTakesTheLogOffline() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let fs = FaultyFileSystem()
        let log = try openLog(dir.path, config: smallConfig(segmentBytes: 64 * 1024), fileSystem: fs)
        try log.append(TestBatch.make(records: 1))
        fs.fail(.sync, pathSuffix: ".log")
        let path = dir.path + "/00000000000000000000.log"
        #expect(throws: StorageError.io(operation: "fdatasync", path: path, errno: EIO)) { try log.flush(now: TimestampMs(0)) }
        #expect(log.isOffline)
        #expect(log.recoveryPoint == Offset(0))
        fs.heal()
        do {
            try log.append(TestBatch.make(records: 1))
            Issue.record("append on an offline log succeeded")
        } catch {
            guard case .logFailed(let where_, let cause) = error else { Issue.record("\(error)"); return }
            #expect(where_ == dir.path && cause.contains("fdatasync"))
        }
        // Reads still work.
        #expect(log.allBatches().count == 1)
    }

    /// A full disk shows up as ENOSPC from the write of an append (never as SIGBUS from a store
    /// into a sparse hole of the mapping); what was appended before stays readable.
    @Test func aFullDiskIsAnErrorNotACrash() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let fs = FaultyFileSystem()
        let log = try openLog(dir.path, config: smallConfig(segmentBytes: 64 << 20), fileSystem: fs)
        try log.append(TestBatch.make(records: 1))
        fs.fail(.pwrite, pathSuffix: ".log")
        var thrown: StorageError? = nil
        for _ in 0..<100_000 {
            do { try log.append(TestBatch.make(records: 1)) } catch { thrown = error; break }
        }
        guard case .io(let operation, _, let code) = try #require(thrown) else { Issue.record("\(String(describing: thrown))"); return }
        #expect(operation == "pwrite" && code == ENOSPC)
        #expect(log.isOffline)
        #expect(log.allBatches().count == 1 && log.logEndOffset == Offset(1))
    }

    @Test func failedPreallocationOnRollLosesNothing() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let fs = FaultyFileSystem()
        var log = try openLog(dir.path, fileSystem: fs)
        var appended = 0
        // Fail the ftruncate that preallocates the next segment.
        fs.fail(.truncate, pathSuffix: ".log")
        var thrown: StorageError? = nil
        for _ in 0..<40 {
            do {
                try log.append(TestBatch.make(records: 1))
                appended += 1
            } catch {
                thrown = error
                break
            }
        }
        let error = try #require(thrown)
        guard case .io(let operation, let path, _) = error else { Issue.record("\(error)"); return }
        #expect(operation == "ftruncate" && path.hasSuffix(".log"))
        #expect(log.isOffline)
        log.abandon()
        fs.heal()
        log = try openLog(dir.path, needsRecovery: true, fileSystem: fs)
        #expect(log.logEndOffset == Offset(Int64(appended)))
        #expect(log.allBatches().count == appended)
        #expect(try log.append(TestBatch.make(records: 1)).baseOffset == Offset(Int64(appended)))
    }

    @Test func openFailureAtStartIsATypedError() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        var log = try openLog(dir.path)
        try log.append(TestBatch.make(records: 1))
        try log.close()
        let fs = FaultyFileSystem()
        fs.fail(.open, pathSuffix: ".timeindex")
        #expect(throws: StorageError.self) { log = try openLog(dir.path, fileSystem: fs) }
        do {
            _ = try openLog(dir.path, fileSystem: fs)
        } catch {
            #expect(error.description.contains(".timeindex") && error.description.contains("open"))
        }
    }
}
