// The crash-safe swap of cleaned segments (PartitionLog+Compaction.swift): the sequence is cut at
// every step (a file system that stops writing after N changes, as a crashed process does), the
// log is opened again as after an unclean stop, and it must read either every old batch of the
// replaced segments or exactly the cleaned ones — so no kept (latest) batch is ever lost — with
// the rest of the log untouched and no temporary file left behind.
import Foundation
@testable import LogStorage
import RunnelCore
import Testing

/// The real file system, until `budget` changes (creates, writes, truncates, syncs, renames,
/// removals) have been made; every later change fails and does nothing. nil: no limit.
final class CrashingFileSystem: FileSystem, @unchecked Sendable {
    // @unchecked: used from one test thread only.
    private let real = PosixFileSystem()
    var budget: Int?
    private(set) var changes = 0

    private func change(_ operation: String, _ path: String) throws(StorageError) {
        if let budget, changes >= budget { throw .io(operation: operation, path: path, errno: EIO) }
        changes += 1
    }

    func open(_ path: String, create: Bool, truncate: Bool) throws(StorageError) -> Int32 {
        if create || truncate { try change("open", path) }
        return try real.open(path, create: create, truncate: truncate)
    }
    func close(_ fd: Int32) { real.close(fd) }
    func size(_ fd: Int32, path: String) throws(StorageError) -> Int { try real.size(fd, path: path) }
    func truncate(_ fd: Int32, path: String, size: Int) throws(StorageError) {
        try change("ftruncate", path)
        try real.truncate(fd, path: path, size: size)
    }
    func sync(_ fd: Int32, path: String) throws(StorageError) {
        try change("fdatasync", path)
        try real.sync(fd, path: path)
    }
    func pread(_ fd: Int32, path: String, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(StorageError) -> Int {
        try real.pread(fd, path: path, into: buffer, at: offset)
    }
    func pwrite(_ fd: Int32, path: String, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError) {
        try change("pwrite", path)
        try real.pwrite(fd, path: path, bytes, at: offset)
    }
    func map(_ fd: Int32, path: String, length: Int) throws(StorageError) -> UnsafeMutableRawPointer {
        try real.map(fd, path: path, length: length)
    }
    func unmap(_ address: UnsafeMutableRawPointer, length: Int) { real.unmap(address, length: length) }
    func rename(_ from: String, to: String) throws(StorageError) {
        try change("rename", from)
        try real.rename(from, to: to)
    }
    func remove(_ path: String) throws(StorageError) {
        try change("unlink", path)
        try real.remove(path)
    }
    func makeDirectory(_ path: String) throws(StorageError) { try real.makeDirectory(path) }
    func removeDirectory(_ path: String) throws(StorageError) { try real.removeDirectory(path) }
    func contents(ofDirectory path: String) throws(StorageError) -> [String] { try real.contents(ofDirectory: path) }
    func isDirectory(_ path: String) -> Bool? { real.isDirectory(path) }
    func syncDirectory(_ path: String) throws(StorageError) {
        try change("fsync(dir)", path)
        try real.syncDirectory(path)
    }
}

/// One stored batch: its offsets and its bytes as the log returns them.
struct StoredBatch: Equatable {
    var base: Int64
    var last: Int64
    var bytes: [UInt8]
}

extension PartitionLog {
    /// Every batch from the log start, with its bytes.
    func storedBatches() -> [StoredBatch] {
        var result: [StoredBatch] = []
        var next = logStartOffset
        while next < logEndOffset, case .records(let slice) = read(from: next, maxBytes: Int.max), slice.batchCount > 0 {
            slice.withUnsafeBytes { bytes in
                var position = 0
                while position < bytes.count, let header = RecordBatchHeader(UnsafeRawBufferPointer(rebasing: bytes[position...])) {
                    result.append(StoredBatch(base: header.baseOffset, last: header.lastOffset,
                                              bytes: Array(bytes[position ..< position + header.totalSize])))
                    position += header.totalSize
                }
            }
            next = Offset(result.last!.last + 1)
        }
        return result
    }
}

@Suite struct CompactionSwapTests {
    static let config = smallConfig(segmentBytes: 1024, indexIntervalBytes: 0)

    /// A log of 14 batches of 2 records over several 1 KiB segments (the last one active).
    func makeLog(_ dir: TempDirectory, fileSystem: any FileSystem) throws -> PartitionLog {
        let log = try openLog(dir.path, config: Self.config, fileSystem: fileSystem)
        for i in 0..<14 { try log.append(TestBatch.make(records: 2, timestamp: 1_000 + Int64(i), valueBytes: 100)) }
        return log
    }

    /// The batches of the first `count` segments, and which of them a clean keeps (every other
    /// one, the last always: it holds the newest values).
    func plan(_ log: PartitionLog, count: Int) -> (group: [StoredBatch], kept: [StoredBatch], end: Int64) {
        let end = log.segments[count].baseOffset.rawValue
        let group = log.storedBatches().filter { $0.base < end }
        let kept = group.enumerated().filter { $0.offset % 2 == 1 || $0.offset == group.count - 1 }.map(\.element)
        return (group, kept, end)
    }

    func leftovers(_ dir: TempDirectory) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { [".cleaned", ".swap", ".deleted"].contains(where: $0.hasSuffix) }.sorted()
    }

    /// One run: a fresh log whose first `groupSegments` segments are replaced by `replacement`
    /// (chosen from the kept batches), the file system cut after `cut` changes, then the log
    /// opened again (after a clean close when the swap finished, as after a crash otherwise).
    struct CutRun {
        var finished: Bool
        var group: [StoredBatch]
        var replacement: [StoredBatch]
        /// The batches after the group, which no cut may change.
        var rest: [StoredBatch]
        var firstSegmentEnd: Int64
        var reopened: PartitionLog
    }

    func cutRun(_ dir: TempDirectory, cut: Int, groupSegments: Int,
                replacement choose: ([StoredBatch]) -> [StoredBatch]) throws -> CutRun {
        let fs = CrashingFileSystem()
        let log = try makeLog(dir, fileSystem: fs)
        #expect(log.segments.count > groupSegments)
        let before = log.storedBatches()
        let (group, kept, end) = plan(log, count: groupSegments)
        let replacement = choose(kept)
        let rest = before.filter { $0.base >= end }
        let firstSegmentEnd = log.segments[1].baseOffset.rawValue
        fs.budget = fs.changes + cut
        var finished = true
        do {
            try log.replaceSegments(from: log.segments[0].baseOffset, count: groupSegments, with: replacement.map(\.bytes))
        } catch {
            finished = false
        }
        fs.budget = nil
        if finished {
            // Without a crash the log is right at once, and after a clean close and open too.
            #expect(log.storedBatches() == replacement + rest)
            try log.close()
        } else {
            log.abandon()
        }
        let reopened = try openLog(dir.path, config: Self.config, needsRecovery: !finished)
        return CutRun(finished: finished, group: group, replacement: replacement, rest: rest,
                      firstSegmentEnd: firstSegmentEnd, reopened: reopened)
    }

    /// Cuts the swap after every possible number of changes. Each time, the reopened log holds
    /// either the old group or the cleaned one, reads everything after the group unchanged,
    /// leaves no temporary file and accepts appends; the cleaned batches are byte for byte the
    /// kept ones.
    @Test(arguments: [1, 2, 3])
    func aSwapCutAtEveryStepLeavesTheOldOrTheCleanedSegments(groupSegments: Int) throws {
        var outcomes: [String] = []
        var cut = 0
        while cut < 100 {
            let dir = TempDirectory()
            defer { dir.remove() }
            let run = try cutRun(dir, cut: cut, groupSegments: groupSegments) { $0 }
            let after = run.reopened.storedBatches()
            if after == run.group + run.rest {
                outcomes.append("old")
            } else if after == run.replacement + run.rest {
                outcomes.append("cleaned")
            } else {
                Issue.record("cut after \(cut) changes: the log reads \(after.map { "\($0.base)-\($0.last)" })")
            }
            #expect(leftovers(dir) == [], "cut after \(cut) changes")
            let appended = try run.reopened.append(TestBatch.make(records: 1))
            #expect(appended.baseOffset.rawValue == run.rest.last!.last + 1)
            try run.reopened.close()
            if run.finished { break }
            cut += 1
        }
        // The sequence has several steps, and both sides of the commit point were reached.
        #expect(cut >= 8)
        #expect(outcomes.first == "old")
        #expect(outcomes.last == "cleaned")
        // Once the swap is committed it stays committed at every later cut.
        let firstCleaned = outcomes.firstIndex(of: "cleaned") ?? outcomes.count
        #expect(outcomes[firstCleaned...].allSatisfy { $0 == "cleaned" })
    }

    /// A group whose batches all go is removed without a replacement; cut at every step, each
    /// old segment is either whole or gone, and the rest of the log reads as before.
    @Test func anEmptiedGroupIsRemovedSafelyAtEveryCut() throws {
        var cut = 0
        while cut < 100 {
            let dir = TempDirectory()
            defer { dir.remove() }
            let run = try cutRun(dir, cut: cut, groupSegments: 2) { _ in [] }
            let after = run.reopened.storedBatches()
            let firstSegment = run.group.filter { $0.base < run.firstSegmentEnd }
            let secondSegment = run.group.filter { $0.base >= run.firstSegmentEnd }
            let allowed = [run.group + run.rest, secondSegment + run.rest, firstSegment + run.rest, run.rest]
            #expect(allowed.contains(after), "cut after \(cut) changes: \(after.map { "\($0.base)-\($0.last)" })")
            #expect(leftovers(dir) == [])
            try run.reopened.close()
            if run.finished {
                #expect(after == run.rest)
                break
            }
            cut += 1
        }
        #expect(cut >= 4)
    }

    /// A batch outside the replaced segments, or a damaged one, is refused before anything is
    /// written.
    @Test func badCleanedBatchesAreRefusedBeforeAnyWrite() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let fs = CrashingFileSystem()
        let log = try makeLog(dir, fileSystem: fs)
        let before = log.storedBatches()
        let (_, kept, end) = plan(log, count: 1)
        let outside = before.first { $0.base >= end }!
        let changes = fs.changes
        #expect(throws: StorageError.self) {
            try log.replaceSegments(from: log.segments[0].baseOffset, count: 1, with: kept.map(\.bytes) + [outside.bytes])
        }
        var damaged = kept[0].bytes
        damaged[damaged.count - 1] ^= 0xFF
        #expect(throws: StorageError.self) {
            try log.replaceSegments(from: log.segments[0].baseOffset, count: 1, with: [damaged])
        }
        // The active segment is never replaced.
        #expect(throws: StorageError.self) {
            try log.replaceSegments(from: log.segments.last!.baseOffset, count: 1, with: [])
        }
        #expect(fs.changes == changes)
        #expect(log.storedBatches() == before)
    }

    /// Recovery finishes a swap whose old segments were all still in place (a crash right after
    /// the commit point), and takes the swap's stale index files away so they are rebuilt.
    @Test func openCompletesASwapLeftBeforeAnyOldSegmentWasRenamed() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = try makeLog(dir, fileSystem: PosixFileSystem())
        let before = log.storedBatches()
        let (_, kept, end) = plan(log, count: 2)
        let base = log.segments[0].baseOffset
        try log.close()
        let swap = dir.path + "/" + LogSegment.fileName(baseOffset: base, suffix: ".log.swap")
        #expect(FileManager.default.createFile(atPath: swap, contents: Data(kept.flatMap(\.bytes))))
        let reopened = try openLog(dir.path, config: Self.config, needsRecovery: true)
        #expect(reopened.storedBatches() == kept + before.filter { $0.base >= end })
        #expect(leftovers(dir) == [])
        // The rebuilt offset index finds every kept batch.
        for batch in kept { #expect(reopened.readBatches(from: batch.base)?.first?.0 == batch.base) }
    }
}

/// A batch as compaction leaves it: `records` records (none for a producer's kept-empty batch) at
/// `base`, still spanning `lastOffsetDelta + 1` offsets; CRC recomputed.
func compactedBatch(base: Int64, lastOffsetDelta: Int32, records: Int, producerId: Int64 = -1) -> [UInt8] {
    var batch = TestBatch.make(records: max(records, 1), valueBytes: 100)
    if records == 0 { batch.removeSubrange(RecordBatchHeader.size...) }
    batch.withUnsafeMutableBytes { raw in
        typealias F = RecordBatchHeader.Field
        raw.storeBigEndian(base, at: F.baseOffset)
        raw.storeBigEndian(Int32(raw.count - RecordBatchHeader.logOverhead), at: F.batchLength)
        raw.storeBigEndian(lastOffsetDelta, at: F.lastOffsetDelta)
        raw.storeBigEndian(producerId, at: F.producerId)
        raw.storeBigEndian(Int32(records), at: F.recordsCount)
        let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[RecordBatchHeader.crcCoverageStart...]))
        raw.storeBigEndian(crc, at: F.crc)
    }
    return batch
}

@Suite struct StoredBatchValidationTests {
    @Test func compactedAndEmptiedBatchesAreValidStoredBatchesButNotValidProduce() {
        let thinned = compactedBatch(base: 0, lastOffsetDelta: 3, records: 2)
        let empty = compactedBatch(base: 4, lastOffsetDelta: 1, records: 0, producerId: 7)
        for batch in [thinned, empty] {
            batch.withUnsafeBytes { bytes in
                guard case .success = RecordBatchHeader.validateStored(bytes) else { Issue.record("refused"); return }
                guard case .failure(.badCounts) = RecordBatchHeader.validate(bytes) else { Issue.record("produce accepts it"); return }
            }
        }
        // More records than offsets, or a damaged CRC, stay invalid.
        let tooMany = compactedBatch(base: 0, lastOffsetDelta: 0, records: 2)
        var damaged = thinned
        damaged[damaged.count - 1] ^= 0x01
        tooMany.withUnsafeBytes { bytes in
            guard case .failure(.badCounts) = RecordBatchHeader.validateStored(bytes) else { Issue.record("accepted"); return }
        }
        damaged.withUnsafeBytes { bytes in
            guard case .failure(.badCRC) = RecordBatchHeader.validateStored(bytes) else { Issue.record("accepted"); return }
        }
    }

    /// A cleaned segment of thinned and emptied batches survives a crash and the recovery that
    /// walks every batch (before D147 recovery cut the log at the first of them).
    @Test func recoveryKeepsCompactedBatches() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = try CompactionSwapTests().makeLog(dir, fileSystem: PosixFileSystem())
        let before = log.storedBatches()
        let end = log.segments[1].baseOffset.rawValue
        let group = before.filter { $0.base < end }
        #expect(group.count >= 2)
        // Every batch thinned to one record, the last kept empty (a producer's last batch).
        var cleaned = group.dropLast().map { compactedBatch(base: $0.base, lastOffsetDelta: Int32($0.last - $0.base), records: 1) }
        cleaned.append(compactedBatch(base: group.last!.base, lastOffsetDelta: Int32(group.last!.last - group.last!.base),
                                      records: 0, producerId: 7))
        try log.replaceSegments(from: log.segments[0].baseOffset, count: 1, with: cleaned)
        let expected = log.storedBatches()
        #expect(expected.map(\.bytes) == cleaned + before.filter { $0.base >= end }.map(\.bytes))
        log.abandon()
        let capture = LogCapture()
        let reopened = try openLog(dir.path, config: CompactionSwapTests.config, needsRecovery: true, logger: capture.logger)
        #expect(reopened.storedBatches() == expected)
        #expect(capture.warnings == [])
        #expect(try reopened.append(TestBatch.make(records: 1)).baseOffset.rawValue == before.last!.last + 1)
    }
}
