public import Compaction
import KafkaWire
import NIOCore
public import RunnelCore

// One clean of a compacted log (docs/decisions.md D145, D149, D150), in three parts so that the
// long one can run off the owner thread:
//   - `prepareClean` (owner): a `CleanerJob` with the sealed segments below the first uncleanable
//     offset, each opened for reading by the job (its own descriptors: a segment that retention
//     removes meanwhile stays readable, and the owner's mappings are never touched);
//   - `CleanerJob.run` (any thread): the offset map over the dirty range, read segment by segment
//     and batch by batch (only the map and one segment's distinct keys are held), then each group of
//     segments the map covers planned batch by batch and, when anything changes, written to
//     `<base>.log.cleaned` (fsynced) and handed to `apply`;
//   - `applyCleanedGroup` (owner): steps 2–4 of the swap (`commitSwapUnguarded`), or nothing if
//     the group's segments are no longer the log's (retention, truncation), the cleaned file then
//     removed.
// `clean` runs all three on the calling thread.

extension PartitionLog {
    public struct CleanResult: Sendable, Equatable {
        /// The next clean's first dirty offset (the `cleaner-offset-checkpoint` entry).
        public var checkpoint: Offset
        public var groupsRewritten: Int
        public var batchesDropped: Int
        public var bytesBefore: Int
        public var bytesAfter: Int
        /// Bytes read from segments and written to cleaned files (what the I/O budget charges).
        public var bytesRead: Int = 0
        public var bytesWritten: Int = 0
    }

    /// The log as `CleanerSelection` sees it: segment sizes, offsets and timestamps.
    public func cleanerInput(name: String, highWatermark: Offset, checkpoint: Offset?,
                             config: CompactionConfig) -> LogToCleanInput {
        let summaries = segments.map { segment in
            SegmentSummary(baseOffset: segment.baseOffset.rawValue, endOffset: segment.nextOffset.rawValue,
                           sizeBytes: Int64(segment.sizeBytes),
                           firstBatchTimestamp: segment.header(at: 0).map(\.maxTimestamp),
                           largestTimestamp: segment.maxTimestampSoFar.rawValue)
        }
        return LogToCleanInput(name: name, segments: summaries, logStartOffset: logStartOffset.rawValue,
                               highWatermark: highWatermark.rawValue, checkpoint: checkpoint?.rawValue, config: config)
    }

    /// Cleans the sealed segments below `range.firstUncleanableOffset` at `nowMs`, on the calling
    /// thread. `producerLastOffsets`: for each producer id still in the producer-state window, the
    /// last offset of its last batch. `maxKeys` bounds the offset map.
    public func clean(_ range: CleanableRange, nowMs: Int64, deleteRetentionMs: Int64,
                      producerLastOffsets: [Int64: Int64], maxKeys: Int = Int.max) throws(StorageError) -> CleanResult {
        let job = try prepareClean(range, nowMs: nowMs, deleteRetentionMs: deleteRetentionMs,
                                   producerLastOffsets: producerLastOffsets, maxKeys: maxKeys)
        let result = try job.run { (group) throws(StorageError) -> Bool in try self.applyCleanedGroup(group) }
        // Nothing else touches the log while the caller's thread is in here.
        guard let result else { throw .corruptFile(path: directory, reason: "the clean found the log changed under it") }
        return result
    }

    /// Owner: a job cleaning `range` on any thread (see the file comment).
    public func prepareClean(_ range: CleanableRange, nowMs: Int64, deleteRetentionMs: Int64,
                             producerLastOffsets: [Int64: Int64], maxKeys: Int = Int.max) throws(StorageError) -> CleanerJob {
        try checkWritable()
        let end = Offset(range.firstUncleanableOffset)
        let sealed = segments.dropLast().filter { $0.nextOffset <= end }
        var sources: [CleanerJob.Source] = []
        for segment in sealed {
            let handle = try FileHandle(path: segment.logPath, create: false, truncate: false, fileSystem: fileSystem)
            sources.append(CleanerJob.Source(segment: segment, handle: handle, baseOffset: segment.baseOffset,
                                             nextOffset: segment.nextOffset, sizeBytes: segment.sizeBytes))
        }
        return CleanerJob(directory: directory, fileSystem: fileSystem, segmentBytes: config.segmentBytes, range: range,
                          nowMs: nowMs, deleteRetentionMs: deleteRetentionMs, producerLastOffsets: producerLastOffsets,
                          maxKeys: maxKeys, sources: sources)
    }

    /// Owner: swaps in one group a job wrote. False (and the cleaned file removed) when the
    /// group's segments are no longer the log's, consecutive and sealed.
    public func applyCleanedGroup(_ group: CleanedGroup) throws(StorageError) -> Bool {
        try checkWritable()
        guard let first = group.segments.first,
              let index = segments.firstIndex(where: { $0 === first }),
              index + group.segments.count < segments.count,
              zip(segments[index...], group.segments).allSatisfy({ $0 === $1 })
        else {
            if let path = group.cleanedPath { try? fileSystem.remove(path) }
            return false
        }
        try guarded { () throws(StorageError) in
            try commitSwapUnguarded(at: index, count: group.segments.count, hasCleaned: group.cleanedPath != nil)
        }
        return true
    }
}

/// One group of consecutive sealed segments a `CleanerJob` cleaned: replaced by its
/// `<base>.log.cleaned` file, or removed when nothing of it stays (`cleanedPath` nil).
/// @unchecked Sendable: the segments are only compared by identity (on the owner thread).
public struct CleanedGroup: @unchecked Sendable {
    let segments: [LogSegment]
    public let firstBase: Offset
    public var segmentCount: Int { segments.count }
    public let cleanedPath: String?
}

/// A clean of one log that runs on any thread (see PartitionLog+Cleaning.swift). It reads the
/// segments through descriptors of its own and writes only `.cleaned` files; the swap is the
/// owner's (`apply`). @unchecked Sendable: everything is set at creation and only read after; the
/// `LogSegment`s are held for identity only, never used here.
public final class CleanerJob: @unchecked Sendable {
    struct Source {
        let segment: LogSegment
        let handle: FileHandle
        let baseOffset: Offset
        let nextOffset: Offset
        let sizeBytes: Int
    }

    public let directory: String
    let fileSystem: any FileSystem
    let segmentBytes: Int
    public let range: CleanableRange
    let nowMs: Int64
    let deleteRetentionMs: Int64
    let producerLastOffsets: [Int64: Int64]
    let maxKeys: Int
    let sources: [Source]

    init(directory: String, fileSystem: any FileSystem, segmentBytes: Int, range: CleanableRange, nowMs: Int64,
         deleteRetentionMs: Int64, producerLastOffsets: [Int64: Int64], maxKeys: Int, sources: [Source]) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.segmentBytes = segmentBytes
        self.range = range
        self.nowMs = nowMs
        self.deleteRetentionMs = deleteRetentionMs
        self.producerLastOffsets = producerLastOffsets
        self.maxKeys = maxKeys
        self.sources = sources
    }

    /// Bytes of the segments the job may read.
    public var sourceBytes: Int { sources.reduce(0) { $0 + $1.sizeBytes } }

    /// Runs the clean. `charge` is called with every chunk of bytes read or written (the I/O
    /// budget may sleep in it); `isAborted` is asked between batches (true: the cleaned file in
    /// progress is removed and nil returned); `apply` swaps a written group in (false: the log
    /// changed under the job, which then stops and returns nil).
    public func run(charge: @escaping (Int) -> Void = { _ in }, isAborted: () -> Bool = { false },
                    apply: (CleanedGroup) throws(StorageError) -> Bool) throws(StorageError) -> PartitionLog.CleanResult? {
        let io = IOCount(charge: charge)
        guard let map = try buildMap(io: io, isAborted: isAborted) else { return nil }
        var result = PartitionLog.CleanResult(checkpoint: Offset(max(map.latestOffset + 1, range.firstDirtyOffset)),
                                              groupsRewritten: 0, batchesDropped: 0, bytesBefore: 0, bytesAfter: 0)
        // Only segments the map fully covers are rewritten (a clean judges no record past it).
        let covered = sources.prefix { $0.nextOffset.rawValue <= map.latestOffset + 1 }
        var index = 0
        while index < covered.count {
            // A group: consecutive segments whose sizes sum to at most segment.bytes.
            var count = 1
            var bytes = covered[index].sizeBytes
            while index + count < covered.count, bytes + covered[index + count].sizeBytes <= segmentBytes {
                bytes += covered[index + count].sizeBytes
                count += 1
            }
            let group = Array(covered[index..<index + count])
            let holdsLogStart = index == 0
            index += count
            result.bytesBefore += bytes
            // Walk 1 plans the group; only a group that changes is read again and written.
            var changed = false
            var keepsAny = false
            var dropped = 0
            var lastBase: Int64 = -1
            for source in group {
                let done = try walk(source, io: io, isAborted: isAborted) { (batch) throws(StorageError) in
                    lastBase = batch.summary.baseOffset
                    let plan = self.plan(batch.summary, map: map)
                    switch plan.action {
                    case .copy: keepsAny = true
                    case .drop: changed = true; dropped += 1
                    case .rewrite, .retainEmpty: changed = true; keepsAny = true
                    }
                }
                if !done { return nil }
            }
            guard changed else {
                result.bytesAfter += bytes
                continue
            }
            // D154: the group at the log start is never removed whole (the next open would move
            // the log start past it); its last batch stays, emptied, as Kafka keeps an empty
            // cleaned segment there.
            var emptyAt: Int64? = nil
            if holdsLogStart && !keepsAny {
                emptyAt = lastBase
                keepsAny = true
                dropped -= 1
            }
            guard let written = try write(group, map: map, hasBatches: keepsAny, emptyAt: emptyAt, io: io,
                                          isAborted: isAborted) else {
                return nil
            }
            let cleaned = CleanedGroup(segments: group.map(\.segment), firstBase: group[0].baseOffset,
                                       cleanedPath: keepsAny ? written.path : nil)
            guard try apply(cleaned) else { return nil }
            result.groupsRewritten += 1
            result.batchesDropped += dropped
            result.bytesAfter += written.bytes
        }
        result.bytesRead = io.read
        result.bytesWritten = io.written
        return result
    }

    private func plan(_ summary: BatchSummary, map: OffsetMap) -> BatchPlan {
        RecordRetention.plan(summary, map: map, nowMs: nowMs, deleteRetentionMs: deleteRetentionMs,
                             producerLastOffsets: producerLastOffsets)
    }

    final class IOCount {
        let charge: (Int) -> Void
        var read = 0
        var written = 0
        init(charge: @escaping (Int) -> Void) { self.charge = charge }
        func didRead(_ bytes: Int) { read += bytes; charge(bytes) }
        func didWrite(_ bytes: Int) { written += bytes; charge(bytes) }
    }

    /// Pass 1: the offset map over the dirty range, one segment's keys gathered at a time (see
    /// `OffsetMap.build`, whose rule this follows). nil when aborted.
    private func buildMap(io: IOCount, isAborted: () -> Bool) throws(StorageError) -> OffsetMap? {
        let from = range.firstDirtyOffset, to = range.firstUncleanableOffset
        var map = OffsetMap(firstDirtyOffset: from)
        var first = true
        for source in sources where source.nextOffset.rawValue > from && source.baseOffset.rawValue < to {
            var keys = map.startSegment()
            var overflow = false
            let done = try walk(source, io: io, isAborted: isAborted, stopWhen: { overflow }) { (batch) throws(StorageError) in
                guard batch.summary.lastOffset >= from && batch.summary.baseOffset < to else { return }
                map.gather(batch.summary, into: &keys, below: to)
                if map.count + keys.newKeys > self.maxKeys { overflow = true }
            }
            if !done { return nil }
            guard keys.batches > 0 else { continue }
            if !overflow {
                map.merge(keys)
                first = false
                continue
            }
            guard first else { return map }
            // Not even the first dirty segment fits: as many of its batches as do.
            var full = false
            let again = try walk(source, io: io, isAborted: isAborted, stopWhen: { full }) { (batch) throws(StorageError) in
                guard batch.summary.lastOffset >= from && batch.summary.baseOffset < to else { return }
                if !map.addInPart(batch.summary, from: from, to: to, maxKeys: self.maxKeys) { full = true }
            }
            return again ? map : nil
        }
        return map
    }

    /// Pass 2 for a group that changes: its kept batches, in order, into `<base>.log.cleaned`,
    /// each checked as `replaceSegments` checks them, then fsynced. With nothing kept, no file.
    /// nil when aborted (the partial file removed).
    private func write(_ group: [Source], map: OffsetMap, hasBatches: Bool, emptyAt: Int64?, io: IOCount,
                       isAborted: () -> Bool) throws(StorageError) -> (path: String, bytes: Int)? {
        let path = directory + "/" + LogSegment.fileName(baseOffset: group[0].baseOffset, suffix: ".log") + ".cleaned"
        guard hasBatches else { return (path, 0) }
        let rangeEnd = group[group.count - 1].nextOffset.rawValue
        let cleaned = try FileHandle(path: path, create: true, truncate: true, fileSystem: fileSystem)
        var position = 0
        var expected = group[0].baseOffset.rawValue
        do throws(StorageError) {
            for source in group {
                let done = try walk(source, io: io, isAborted: isAborted) { (batch) throws(StorageError) in
                    var plan = self.plan(batch.summary, map: map)
                    if batch.summary.baseOffset == emptyAt {
                        plan.action = .retainEmpty
                        plan.kept = []
                        plan.deleteHorizonMs = nil
                    }
                    var output: [UInt8]
                    switch plan.action {
                    case .copy: output = batch.bytes
                    case .drop: return
                    case .rewrite, .retainEmpty:
                        let decoded = batch.decoded
                        let kept = Set(plan.kept)
                        let records = decoded.records.filter { kept.contains($0.offset.rawValue) }
                        output = Array(RecordBatchRewriter.rewrite(decoded, keeping: records,
                                                                   deleteHorizonMs: plan.deleteHorizonMs).readableBytesView)
                    }
                    let header = try output.withUnsafeBytes { bytes in
                        Result { () throws(StorageError) in try PartitionLog.checkedCleanedBatch(bytes, path: path) }
                    }.get()
                    guard header.baseOffset >= expected, header.lastOffset < rangeEnd else {
                        throw .malformedBatch(path: path, reason: "batch \(header.baseOffset)-\(header.lastOffset) is outside \(expected)..<\(rangeEnd)")
                    }
                    expected = header.lastOffset + 1
                    try output.withUnsafeBytes { bytes in
                        Result { () throws(StorageError) in try cleaned.pwrite(bytes, at: position) }
                    }.get()
                    position += output.count
                    io.didWrite(output.count)
                }
                if !done {
                    try? fileSystem.remove(path)
                    return nil
                }
            }
            try cleaned.sync()
        } catch {
            try? fileSystem.remove(path)
            throw error
        }
        return (path, position)
    }

    struct Batch {
        var bytes: [UInt8]
        var decoded: DecodedBatch
        var summary: BatchSummary
    }

    /// Reads `source` batch by batch through the job's descriptor and calls `body` with each.
    /// False when `isAborted` said so (checked before every batch); stops early when `stopWhen`.
    private func walk(_ source: Source, io: IOCount, isAborted: () -> Bool, stopWhen: () -> Bool = { false },
                      _ body: (Batch) throws(StorageError) -> Void) throws(StorageError) -> Bool {
        let path = source.handle.path
        var position = 0
        var header = [UInt8](repeating: 0, count: RecordBatchHeader.size)
        while position < source.sizeBytes, !stopWhen() {
            if isAborted() { return false }
            try read(source, into: &header, at: position)
            guard let parsed = header.withUnsafeBytes({ RecordBatchHeader($0) }),
                  parsed.totalSize >= RecordBatchHeader.size, position + parsed.totalSize <= source.sizeBytes
            else {
                throw .corruptFile(path: path, reason: "the cleaner found no whole batch at position \(position)")
            }
            var bytes = [UInt8](repeating: 0, count: parsed.totalSize)
            try read(source, into: &bytes, at: position)
            io.didRead(bytes.count)
            try body(try Self.summarize(bytes, header: parsed, path: path, position: position))
            position += parsed.totalSize
        }
        return true
    }

    private func read(_ source: Source, into buffer: inout [UInt8], at position: Int) throws(StorageError) {
        let path = source.handle.path
        var done = 0
        let total = buffer.count
        while done < total {
            let count = try buffer.withUnsafeMutableBytes { bytes in
                Result { () throws(StorageError) -> Int in
                    try fileSystem.pread(source.handle.fd, path: path, into: UnsafeMutableRawBufferPointer(rebasing: bytes[done...]),
                                         at: position + done)
                }
            }.get()
            guard count > 0 else {
                throw .corruptFile(path: path, reason: "the cleaner read past the end at position \(position + done)")
            }
            done += count
        }
    }

    static func summarize(_ bytes: [UInt8], header: RecordBatchHeader, path: String, position: Int) throws(StorageError) -> Batch {
        var decoder = RecordBatchDecoder(ByteBuffer(bytes: bytes), decompressedBytesMax: Limits.batchDecompressedBytesMax)
        let next: DecodedBatch?
        do {
            next = try decoder.next()
        } catch {
            throw .corruptFile(path: path, reason: "the cleaner cannot read the batch at position \(position): \(error)")
        }
        guard let decoded = next else {
            throw .corruptFile(path: path, reason: "the cleaner found no whole batch at position \(position)")
        }
        let records = decoded.records.map { record in
            RecordSummary(offset: record.offset.rawValue, key: record.key.map { Array($0.readableBytesView) },
                          hasValue: record.value != nil)
        }
        let horizon = header.attributes & RecordBatchRewriter.deleteHorizonFlag != 0 ? header.baseTimestamp : nil
        let summary = BatchSummary(baseOffset: header.baseOffset, lastOffset: header.lastOffset,
                                   producerId: header.producerId, isControl: header.isControl,
                                   deleteHorizonMs: horizon, records: records)
        return Batch(bytes: bytes, decoded: decoded, summary: summary)
    }
}
