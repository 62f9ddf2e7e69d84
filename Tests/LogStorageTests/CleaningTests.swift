// One clean of a compacted log through storage (PartitionLog+Cleaning.swift): keyed records
// overwritten across many segments, tombstones, compressed batches; the newest value of every key
// survives the clean, a crash right after it, and a crash at every step inside it.
import Compaction
import Foundation
import KafkaWire
@testable import LogStorage
import NIOCore
import RunnelCore
import Testing

@Suite struct CleaningTests {
    static let config = smallConfig(segmentBytes: 1024, indexIntervalBytes: 0)
    static let compaction = CompactionConfig(deleteRetentionMs: 500)

    /// A batch of keyed records (nil value: a tombstone).
    static func keyed(_ records: [(String, String?)], codec: Compression = .none) -> [UInt8] {
        var builder = RecordBatchBuilder(compression: codec)
        for (key, value) in records {
            builder.append(timestamp: TimestampMs(1_000), key: ByteBuffer(string: key), value: value.map { ByteBuffer(string: $0) })
        }
        return Array(builder.finish().readableBytesView)
    }

    /// 60 batches over keys k0…k6, every fifth batch gzip, every seventh a tombstone of one key;
    /// returns the log and the newest value of each key (nil: deleted) as written.
    static func overwrittenLog(_ dir: TempDirectory, fileSystem: any FileSystem) throws -> (PartitionLog, [String: String?]) {
        let log = try openLog(dir.path, config: config, fileSystem: fileSystem)
        var newest: [String: String?] = [:]
        for i in 0..<60 {
            var records: [(String, String?)] = []
            if i % 7 == 3 {
                records = [("k\(i % 4)", nil)]
            } else {
                records = [("k\((i * 3) % 7)", "v\(i)-a"), ("k\((i * 5 + 1) % 7)", "v\(i)-b")]
            }
            for (key, value) in records { newest[key] = value }
            try log.append(keyed(records, codec: i % 5 == 0 ? .gzip : .none))
        }
        return (log, newest)
    }

    /// Every record the log holds, in offset order, as (offset, key, value).
    static func records(_ log: PartitionLog) throws -> [(Int64, String, String?)] {
        var result: [(Int64, String, String?)] = []
        for batch in log.storedBatches() {
            for decoded in try RecordBatchDecoder.decodeAll(ByteBuffer(bytes: batch.bytes), decompressedBytesMax: 1 << 20) {
                for record in decoded.records {
                    result.append((record.offset.rawValue, record.key.map { String(buffer: $0) } ?? "-",
                                   record.value.map { String(buffer: $0) }))
                }
            }
        }
        return result
    }

    /// What a consumer reading the whole log ends with: the newest value of each key (nil: a
    /// tombstone is the newest). Keys whose tombstone is gone are absent.
    static func view(_ log: PartitionLog) throws -> [String: String?] {
        var view: [String: String?] = [:]
        for (_, key, value) in try records(log) { view[key] = value }
        return view
    }

    static func cleanNow(_ log: PartitionLog, checkpoint: Offset?, nowMs: Int64) throws -> PartitionLog.CleanResult {
        let input = log.cleanerInput(name: "t-0", highWatermark: log.logEndOffset, checkpoint: checkpoint, config: compaction)
        let range = CleanerSelection.cleanableRange(input, nowMs: nowMs)
        return try log.clean(range, nowMs: nowMs, deleteRetentionMs: compaction.deleteRetentionMs, producerLastOffsets: [:])
    }

    @Test func theNewestValueOfEveryKeySurvivesAndTombstonesGoAfterTheirHorizon() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let (log, newest) = try Self.overwrittenLog(dir, fileSystem: PosixFileSystem())
        let before = try Self.records(log)
        let activeBase = log.activeSegment.baseOffset.rawValue
        #expect(log.segments.count >= 6)
        #expect(try Self.view(log) == newest)

        let first = try Self.cleanNow(log, checkpoint: nil, nowMs: 1_000)
        let after = try Self.records(log)
        #expect(try Self.view(log) == newest)
        #expect(first.checkpoint.rawValue == activeBase)
        #expect(first.groupsRewritten >= 1)
        #expect(first.bytesAfter < first.bytesBefore)
        #expect(after.count < before.count)
        // Below the active segment each key appears once; the active segment is as it was.
        let cleanedKeys = after.filter { $0.0 < activeBase }.map(\.1)
        #expect(Set(cleanedKeys).count == cleanedKeys.count)
        #expect(after.filter { $0.0 >= activeBase }.map(\.0) == before.filter { $0.0 >= activeBase }.map(\.0))
        // Offsets only increase and every kept record keeps its offset, key and value.
        #expect(after.map(\.0) == after.map(\.0).sorted())
        for record in after { #expect(before.contains { $0 == record }) }

        // A crash now: recovery reads the cleaned segments (thinned batches, horizons) as they are.
        log.abandon()
        let reopened = try openLog(dir.path, config: Self.config, needsRecovery: true)
        #expect(try Self.records(reopened).map(\.0) == after.map(\.0))

        // Past the horizon (1000 + 500) the tombstones the first clean stamped go, with the keys
        // they deleted; one that was in the active segment then gets its horizon now (2000 + 500).
        try reopened.roll()
        let live = newest.compactMapValues { $0 }
        let second = try Self.cleanNow(reopened, checkpoint: first.checkpoint, nowMs: 2_000)
        #expect(second.checkpoint == reopened.activeSegment.baseOffset)
        #expect(try Self.view(reopened).compactMapValues { $0 } == live)
        let third = try Self.cleanNow(reopened, checkpoint: second.checkpoint, nowMs: 2_500)
        #expect(third.batchesDropped >= 1)
        let final = try Self.view(reopened)
        #expect(final.compactMapValues { $0 } == live)
        #expect(!final.values.contains(nil))
        try reopened.close()
    }

    /// The whole clean cut after every file change: after each cut and an unclean open, a
    /// consumer still ends with the newest value of every key, and the log takes appends.
    @Test func aCleanCutAtEveryStepLosesNoNewestValue() throws {
        var cut = 0
        var finishedRuns = 0
        while cut < 400 {
            let dir = TempDirectory()
            defer { dir.remove() }
            let fs = CrashingFileSystem()
            let (log, newest) = try Self.overwrittenLog(dir, fileSystem: fs)
            let end = log.logEndOffset
            fs.budget = fs.changes + cut
            var finished = true
            do { _ = try Self.cleanNow(log, checkpoint: nil, nowMs: 1_000) } catch { finished = false }
            fs.budget = nil
            if finished { try log.close() } else { log.abandon() }
            let reopened = try openLog(dir.path, config: Self.config, needsRecovery: !finished)
            #expect(try Self.view(reopened) == newest, "cut after \(cut) changes")
            #expect(reopened.logEndOffset == end)
            #expect(try reopened.append(Self.keyed([("k0", "after")])).baseOffset == end)
            try reopened.close()
            if finished {
                finishedRuns += 1
                break
            }
            cut += 1
        }
        #expect(finishedRuns == 1)
        #expect(cut >= 20)
    }
    /// Each sealed segment's batches as the cleaner summarizes them (for the pure model).
    static func summaries(_ log: PartitionLog) throws -> [[BatchSummary]] {
        try log.segments.dropLast().map { segment in
            var batches: [BatchSummary] = []
            var position = 0
            while let header = segment.header(at: position) {
                let bytes = Array(segment.bytes(position ..< position + header.totalSize))
                batches.append(try CleanerJob.summarize(bytes, header: header, path: segment.logPath, position: position).summary)
                position += header.totalSize
            }
            return batches
        }
    }

    /// D150: with a map of 3 keys a clean covers only the segments whose keys fit, exactly where
    /// the pure model stops; every clean keeps the consumer's view, and cleans from each new
    /// checkpoint reach the active segment in a bounded number of steps.
    @Test func aBoundedMapCleansOnlyTheSegmentsItHolds() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let (log, newest) = try Self.overwrittenLog(dir, fileSystem: PosixFileSystem())
        let activeBase = log.activeSegment.baseOffset
        let pure = OffsetMap.build(segments: try Self.summaries(log), from: 0, to: activeBase.rawValue, maxKeys: 3)
        var checkpoint: Offset? = nil
        var checkpoints: [Offset] = []
        for _ in 0..<40 where checkpoint != activeBase {
            let input = log.cleanerInput(name: "t-0", highWatermark: log.logEndOffset, checkpoint: checkpoint, config: Self.compaction)
            let range = CleanerSelection.cleanableRange(input, nowMs: 1_000)
            let result = try log.clean(range, nowMs: 1_000, deleteRetentionMs: 500, producerLastOffsets: [:], maxKeys: 3)
            #expect(try Self.view(log) == newest)
            #expect(result.bytesRead > 0)
            checkpoints.append(result.checkpoint)
            checkpoint = result.checkpoint
        }
        #expect(checkpoints.first?.rawValue == pure.latestOffset + 1)
        #expect(checkpoints.first! < activeBase)
        #expect(checkpoints.count >= 2)
        #expect(checkpoints == checkpoints.sorted() && Set(checkpoints).count == checkpoints.count)
        #expect(checkpoint == activeBase)
        try log.close()
    }

    /// A job asked to stop between batches leaves no cleaned file and the log as it was; a group
    /// whose segments the log no longer has (DeleteRecords meanwhile) is not swapped in.
    @Test func anAbortedOrOvertakenCleanChangesNothing() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let (log, _) = try Self.overwrittenLog(dir, fileSystem: PosixFileSystem())
        let before = try Self.records(log)
        let input = log.cleanerInput(name: "t-0", highWatermark: log.logEndOffset, checkpoint: nil, config: Self.compaction)
        let range = CleanerSelection.cleanableRange(input, nowMs: 1_000)
        let leftovers = { try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".cleaned") || $0.hasSuffix(".swap") } }

        // How many batches the job reads before it hands over its first group.
        var asked = 0
        var firstApply = 0
        let counting = try log.prepareClean(range, nowMs: 1_000, deleteRetentionMs: 500, producerLastOffsets: [:])
        _ = try counting.run(isAborted: { asked += 1; return false }) { group in
            firstApply = asked
            if let path = group.cleanedPath { try? FileManager.default.removeItem(atPath: path) }
            return false
        }
        #expect(firstApply > 20)
        // Stopped at one batch after another, in the map pass and in the first group's passes.
        for stopAt in stride(from: 1, through: firstApply, by: 3) {
            let job = try log.prepareClean(range, nowMs: 1_000, deleteRetentionMs: 500, producerLastOffsets: [:])
            asked = 0
            let result = try job.run(isAborted: { asked += 1; return asked >= stopAt }) { _ in
                Issue.record("an aborted job applied a group (stop at \(stopAt))")
                return false
            }
            #expect(result == nil)
            #expect(try leftovers().isEmpty)
            #expect(try Self.records(log).map(\.0) == before.map(\.0))
        }

        // Overtaken: the first segments go (DeleteRecords) after the job was prepared.
        let job = try log.prepareClean(range, nowMs: 1_000, deleteRetentionMs: 500, producerLastOffsets: [:])
        try log.deleteRecords(before: log.segmentBaseOffsets[2])
        var applied: [Bool] = []
        let result = try job.run { (group) throws(StorageError) -> Bool in
            let done = try log.applyCleanedGroup(group)
            applied.append(done)
            return done
        }
        #expect(result == nil)
        #expect(applied == [false])
        #expect(try leftovers().isEmpty)
        #expect(try Self.records(log).map(\.0) == before.map(\.0).filter { $0 >= log.logStartOffset.rawValue })
        try log.close()
    }
    /// D152: a follower copies its leader's cleaned log (thinned batches with gaps) with
    /// `appendAssigned`, which used to refuse a batch with fewer records than offsets.
    @Test func aFollowerTakesTheLeadersCompactedBatches() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let (leader, newest) = try Self.overwrittenLog(dir, fileSystem: PosixFileSystem())
        _ = try Self.cleanNow(leader, checkpoint: nil, nowMs: 1_000)
        let batches = leader.storedBatches()
        let strictFailures = batches.filter { batch in
            if case .failure = batch.bytes.withUnsafeBytes({ RecordBatchHeader.validate($0) }) { return true }
            return false
        }
        #expect(!strictFailures.isEmpty, "the clean left no thinned batch to copy")
        let followerDir = TempDirectory()
        defer { followerDir.remove() }
        let follower = try openLog(followerDir.path, config: Self.config)
        for batch in batches {
            _ = try batch.bytes.withUnsafeBytes { raw in
                Result { () throws(StorageError) -> Offset in try follower.appendAssigned(raw, now: TimestampMs(0)) }
            }.get()
        }
        #expect(try Self.records(follower).map(\.0) == Self.records(leader).map(\.0))
        #expect(try Self.view(follower) == newest)
        try follower.close()
        try leader.close()
    }
    /// D154: when every record of the first segments is superseded, the clean keeps the group's
    /// last batch, emptied, so the log still starts at 0 after a reopen and a consumer at offset
    /// 0 reads on from the first kept record (it would get an out-of-range answer otherwise).
    @Test func theLogStartStaysWhenTheFirstSegmentsEmpty() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = try openLog(dir.path, config: Self.config)
        for i in 0..<60 { try log.append(Self.keyed([("k\(i % 3)", "v\(i)")])) }
        let firstSegmentEnd = log.segmentBaseOffsets[1].rawValue
        #expect(firstSegmentEnd > 3 && firstSegmentEnd < 57, "the first segment holds the keys' newest records")
        let result = try Self.cleanNow(log, checkpoint: nil, nowMs: 1_000)
        #expect(result.groupsRewritten >= 1)
        let records = try Self.records(log)
        try log.close()
        let reopened = try openLog(dir.path, config: Self.config)
        #expect(reopened.logStartOffset == .zero)
        #expect(reopened.segmentBaseOffsets.first == .zero)
        #expect(try Self.records(reopened).map(\.0) == records.map(\.0))
        guard case .records(let slice) = reopened.read(from: .zero, maxBytes: 1 << 20) else {
            Issue.record("a read at offset 0 is out of range after the clean")
            return
        }
        // The first segment now holds one batch with no records.
        let first = try #require(reopened.storedBatches().first)
        #expect(first.base < firstSegmentEnd && first.last < firstSegmentEnd)
        #expect(try RecordBatchDecoder.decodeAll(ByteBuffer(bytes: first.bytes), decompressedBytesMax: 1 << 20).first?.records.isEmpty == true)
        #expect(slice.batchCount >= 1)
        try reopened.close()
    }
}



