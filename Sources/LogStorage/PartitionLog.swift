import Logging
public import RunnelCore

/// The log of one topic partition: a directory `<topic>-<partition>/` of segments (see
/// `LogSegment` for the files and their crash story), the last of which is active.
///
/// - Append: `append` stamps the batch's baseOffset (from the log end) and partitionLeaderEpoch
///   in place (outside the CRC), rewrites maxTimestamp + CRC for LogAppendTime topics, rolls when
///   the batch would not fit (`segment.bytes`), the segment is older than `segment.ms`, an index
///   is full or relative offsets would overflow, then memcpys the batch into the active mapping.
/// - Read: `read` returns whole stored batches from one segment, starting with the batch that
///   holds the fetch offset; lookups are a binary search over segments, then over the offset
///   index, then a short forward scan of batch headers.
/// - Durability (`PartitionLog+Flush.swift`): `recoveryPoint` is the offset below which
///   everything is known to be on disk. Segment roll and clean close always fsync.
/// - Recovery (`PartitionLog+Recovery.swift`), retention and truncation
///   (`PartitionLog+Retention.swift`).
///
/// Threading contract: ONE owner thread calls everything here (append, read, lookups, roll,
/// truncate, retention, close). The only work that may run elsewhere is `FlushRequest.perform()`
/// (fdatasync), which the owner creates with `makeFlushRequest()` and whose completion it reports
/// back with `flushCompleted`. Any I/O error during a mutation takes the log offline
/// (`StorageError.logFailed` for later writes) until it is reopened, as Kafka does.
public final class PartitionLog {
    public let topic: TopicName
    public let partition: PartitionID
    public let directory: String
    /// Replaceable at runtime (topic config alter); sizes apply from the next roll.
    public var config: LogConfig
    let fileSystem: any FileSystem
    let logger: Logger
    /// Sorted by base offset; the last one is active. Never empty while the log is open.
    var segments: [LogSegment]
    /// Offsets below this are gone (retention, DeleteRecords): reads there are out of range.
    public internal(set) var logStartOffset: Offset
    /// Everything below this offset is known to be flushed to disk.
    public internal(set) var recoveryPoint: Offset
    var lastFlushTime: TimestampMs
    /// Bumped by every truncation: a flush started before one must not advance the recovery
    /// point, because the bytes it synced may have been replaced.
    var truncationGeneration = 0
    /// Takes the files of segments that retention or DeleteRecords dropped (renamed `.deleted`
    /// already, so the log no longer has them) to remove them elsewhere, e.g. in steps on a
    /// thread pool. nil: they are removed at once, on the owner thread.
    public var removeLater: ((LogRemoval) -> Void)?
    var failure: StorageError?
    var endOffsetAtClose: Offset?
    /// Damaged positions already logged ("base@position").
    private var reportedDamage: Set<String> = []

    init(topic: TopicName, partition: PartitionID, directory: String, config: LogConfig, fileSystem: any FileSystem,
         logger: Logger, segments: [LogSegment], logStartOffset: Offset, recoveryPoint: Offset, now: TimestampMs) {
        precondition(!segments.isEmpty && segments.last!.isActive)
        self.topic = topic
        self.partition = partition
        self.directory = directory
        self.config = config
        self.fileSystem = fileSystem
        self.logger = logger
        self.segments = segments
        self.logStartOffset = logStartOffset
        self.recoveryPoint = recoveryPoint
        self.lastFlushTime = now
    }

    /// `<topic>-<partition>`, Kafka's directory name.
    public static func directoryName(topic: TopicName, partition: PartitionID) -> String {
        "\(topic.rawValue)-\(partition.rawValue)"
    }

    /// One past the last offset in the log: the offset the next batch gets.
    public var logEndOffset: Offset { segments.last?.nextOffset ?? endOffsetAtClose ?? .zero }
    public var activeSegment: LogSegment { segments[segments.count - 1] }
    public var segmentCount: Int { segments.count }

    /// Owner thread: takes the segments' mapped pages out of the process's resident set (they
    /// stay in the page cache). For after a scan that touched a whole segment (recovery, the
    /// producer-state rebuild), so a restarted broker's RSS does not carry its logs.
    public func releaseMappedPages() {
        for segment in segments { segment.mapping?.releaseResidentPages() }
    }
    public var segmentBaseOffsets: [Offset] { segments.map(\.baseOffset) }

    /// Kafka's per-partition `leader-epoch-checkpoint` (its text is the replication layer's).
    public static let leaderEpochCheckpointName = "leader-epoch-checkpoint"

    /// The text of this log's leader-epoch checkpoint; nil when there is none.
    public func readLeaderEpochCheckpoint() throws(StorageError) -> String? {
        try CheckpointText.read(from: directory + "/" + Self.leaderEpochCheckpointName, fileSystem: fileSystem)
    }

    /// Replaces the leader-epoch checkpoint atomically (see `CheckpointText`).
    public func writeLeaderEpochCheckpoint(_ text: String) throws(StorageError) {
        try CheckpointText.write(text, to: directory + "/" + Self.leaderEpochCheckpointName, fileSystem: fileSystem)
    }
    /// Bytes of batches in all segments.
    public var sizeBytes: Int { segments.reduce(0) { $0 + $1.sizeBytes } }
    public var isOffline: Bool { failure != nil }
    /// Why the log is offline (what every write now throws), or nil while it is writable.
    public var offlineError: StorageError? {
        failure.map { .logFailed(path: directory, cause: $0.description) }
    }

    // MARK: Append

    public struct AppendResult: Sendable, Equatable {
        public var baseOffset: Offset
        public var lastOffset: Offset
        /// The broker time stamped into the batch for LogAppendTime topics, else -1.
        public var logAppendTime: TimestampMs
        /// `flush.messages` / `flush.ms` say the log should be flushed now.
        public var flushDue: Bool
    }

    /// Appends one validated batch (exactly one batch's bytes), assigning its offsets from the
    /// log end. The bytes are written to the active segment once, with a stamped copy of the
    /// header (baseOffset, partitionLeaderEpoch; maxTimestamp, attributes and CRC for
    /// LogAppendTime), so the caller's buffer is only read: a Produce request's records slice
    /// needs no private copy first. Throws `batchTooLarge` (nothing changes) for a batch larger than `segment.bytes`.
    public func append(copying batch: UnsafeRawBufferPointer, leaderEpoch: LeaderEpoch,
                       now: TimestampMs) throws(StorageError) -> AppendResult {
        let header = try checkedHeader(batch)
        try checkWritable()
        let base = logEndOffset
        let appendTime = config.messageTimestampType == .logAppendTime ? now : TimestampMs.none
        var stamped = header
        stamped.baseOffset = base.rawValue
        stamped.partitionLeaderEpoch = leaderEpoch.rawValue
        if appendTime != .none {
            stamped.maxTimestamp = now.rawValue
            stamped.attributes |= 0x8
        }
        try appendStamped(batch, header: stamped, now: now) { storedHeader in
            RecordBatchHeader.stamp(storedHeader, baseOffset: base.rawValue, leaderEpoch: leaderEpoch.rawValue)
            if appendTime != .none {
                RecordBatchHeader.stampLogAppendTime(header: storedHeader, body: UnsafeRawBufferPointer(rebasing: batch[RecordBatchHeader.size...]),
                                                     timestamp: now.rawValue)
            }
        }
        return AppendResult(baseOffset: base, lastOffset: Offset(stamped.lastOffset), logAppendTime: appendTime,
                            flushDue: flushIsDue(now: now))
    }

    /// `append(copying:)` for a mutable buffer (kept for callers that have one).
    public func append(_ batch: UnsafeMutableRawBufferPointer, leaderEpoch: LeaderEpoch,
                       now: TimestampMs) throws(StorageError) -> AppendResult {
        try append(copying: UnsafeRawBufferPointer(batch), leaderEpoch: leaderEpoch, now: now)
    }

    /// Appends batches that already carry their offsets (a follower copying the leader's log):
    /// every batch is validated (CRC included) and must start at or after the log end. Checked
    /// as stored batches (`validateStored`, D147): a compacted leader sends batches with fewer
    /// records than offsets, or none.
    public func appendAssigned(_ batches: UnsafeRawBufferPointer, now: TimestampMs) throws(StorageError) -> Offset {
        try checkWritable()
        var position = 0
        while position < batches.count {
            let rest = UnsafeRawBufferPointer(rebasing: batches[position...])
            let header: RecordBatchHeader
            switch RecordBatchHeader.validateStored(rest) {
            case .success(let valid): header = valid
            case .failure(let invalid): throw .malformedBatch(path: directory, reason: "at byte \(position): \(invalid)")
            }
            guard header.totalSize <= config.segmentBytes else {
                throw .batchTooLarge(bytes: header.totalSize, segmentBytes: config.segmentBytes, path: directory)
            }
            guard header.baseOffset >= logEndOffset.rawValue else {
                throw .offsetNotIncreasing(path: directory, baseOffset: Offset(header.baseOffset), logEndOffset: logEndOffset)
            }
            try appendStamped(UnsafeRawBufferPointer(rebasing: rest[0..<header.totalSize]), header: header, now: now)
            position += header.totalSize
        }
        return logEndOffset
    }

    private func checkedHeader(_ batch: UnsafeRawBufferPointer) throws(StorageError) -> RecordBatchHeader {
        guard let header = RecordBatchHeader(batch), header.totalSize == batch.count, header.lastOffsetDelta >= 0 else {
            throw .malformedBatch(path: directory, reason: "\(batch.count) bytes are not exactly one batch")
        }
        guard batch.count <= config.segmentBytes else {
            throw .batchTooLarge(bytes: batch.count, segmentBytes: config.segmentBytes, path: directory)
        }
        return header
    }

    private func appendStamped(_ batch: UnsafeRawBufferPointer, header: RecordBatchHeader, now: TimestampMs,
                               stamp: (UnsafeMutableRawBufferPointer) -> Void = { _ in }) throws(StorageError) {
        try guarded { () throws(StorageError) in
            if let reason = rollReason(batchBytes: batch.count, lastOffset: Offset(header.lastOffset),
                                       batchTimestamp: TimestampMs(header.maxTimestamp), now: now) {
                logger.debug("rolling \(directory) at offset \(logEndOffset): \(reason)")
                try rollUnguarded()
            }
            if !activeSegment.hasRoom(forBytes: batch.count, segmentBytes: config.segmentBytes) {
                // An empty segment preallocated before segment.bytes was raised: grow it.
                try activeSegment.activate(config: config)
            }
            try activeSegment.append(batch, header: header, indexIntervalBytes: config.indexIntervalBytes, now: now, stamp: stamp)
        }
    }

    /// Why the active segment must roll before a batch is appended, or nil.
    /// Age follows Kafka: record time (the batch's timestamp minus the segment's first) when both
    /// have timestamps, else wall-clock time since the first append.
    func rollReason(batchBytes: Int, lastOffset: Offset, batchTimestamp: TimestampMs, now: TimestampMs) -> String? {
        let active = activeSegment
        guard !active.isEmpty else { return nil }
        if !active.hasRoom(forBytes: batchBytes, segmentBytes: config.segmentBytes) { return "segment.bytes reached" }
        if let base = active.rollingBaseTimestamp {
            let reference = active.rollingBaseIsRecordTime && batchTimestamp.rawValue >= 0 ? batchTimestamp : now
            if reference.rawValue - base.rawValue > config.segmentMs { return "segment.ms elapsed" }
        }
        if active.indexIsFull { return "index full" }
        if lastOffset - active.baseOffset > Int64(Int32.max) { return "relative offset overflow" }
        return nil
    }

    /// Seals the active segment (cut to size; its fsync is left to the next flush, which
    /// `flushIsDue` then asks for) and starts a new one at the log end.
    public func roll() throws(StorageError) {
        try checkWritable()
        try guarded { () throws(StorageError) in try rollUnguarded() }
    }

    private func rollUnguarded() throws(StorageError) {
        let newBase = logEndOffset
        let old = activeSegment
        if old.isEmpty { return }
        let fresh = try LogSegment.create(directory: directory, baseOffset: newBase, config: config, fileSystem: fileSystem)
        do throws(StorageError) {
            // No fsync of the old segment here: a roll must not stall the owner thread for the
            // seconds a 1 GiB fdatasync can take. The recovery point stays where it is, so
            // `flushIsDue` turns true and the owner's caller runs the flush off-thread (a crash
            // before it completes recovers the sealed segment like the active one).
            try old.seal(sync: false)
            try fileSystem.syncDirectory(directory)
        } catch {
            try? fresh.deleteFiles()
            throw error
        }
        segments.append(fresh)
    }

    // MARK: Read

    public enum ReadResult: Sendable {
        case records(LogSlice)
        /// The offset is below the log start or above the log end.
        case offsetOutOfRange(logStartOffset: Offset, logEndOffset: Offset)
        /// Bytes the read had to walk through at or before `offset` are not a batch (the file
        /// was damaged at rest). Nothing after them is served in their place; the caller answers
        /// with an error (Fetch: CORRUPT_MESSAGE). Logged once per damaged position.
        case unreadable(offset: Offset, reason: String)
    }

    /// Whole stored batches for a fetch at `offset`: starting with the batch that holds it (which
    /// may begin before it), from one segment, ending before `upperBound` (the high watermark;
    /// nothing at or after it is returned) and within `maxBytes` — except that with
    /// `minOneBatch` the first batch is returned whole even when larger, so consumers progress.
    public func read(from offset: Offset, maxBytes: Int, upperBound: Offset? = nil,
                     minOneBatch: Bool = true) -> ReadResult {
        let end = logEndOffset
        guard offset >= logStartOffset, offset <= end else {
            return .offsetOutOfRange(logStartOffset: logStartOffset, logEndOffset: end)
        }
        let bound = min(upperBound ?? end, end)
        var index = segmentIndex(containing: offset)
        while index < segments.count, offset < bound {
            let segment = segments[index]
            if segment.baseOffset >= bound { break }
            switch segment.locateBatch(atOrAfter: offset) {
            case .found(let start, _):
                return .records(slice(of: segment, from: start, maxBytes: maxBytes, bound: bound, minOneBatch: minOneBatch))
            case .pastEnd:
                index += 1
            case .unreadable(let position, let reason):
                reportDamage(segment: segment, position: position, reason: reason)
                return .unreadable(offset: offset, reason: "\(segment.logPath): \(reason)")
            }
        }
        return .records(.empty)
    }

    /// One log line per damaged position, however often consumers retry there.
    private func reportDamage(segment: LogSegment, position: Int, reason: String) {
        let key = "\(segment.baseOffset)@\(position)"
        guard !reportedDamage.contains(key) else { return }
        reportedDamage.insert(key)
        logger.error("log \(directory) is damaged: \(segment.logPath): \(reason); reads at or after that position answer CORRUPT_MESSAGE")
    }

    /// Whole batches from `start` (a batch found by `locateBatch`), stopping before the bound, at
    /// `maxBytes`, or before bytes that do not parse (the next read starting there reports them).
    private func slice(of segment: LogSegment, from start: Int, maxBytes: Int, bound: Offset, minOneBatch: Bool) -> LogSlice {
        var position = start
        var count = 0
        var first: Offset? = nil
        var next: Offset? = nil
        while let header = segment.header(at: position) {
            if header.lastOffset >= bound.rawValue { break }
            if let next, header.baseOffset < next.rawValue { break }
            if position + header.totalSize - start > maxBytes && !(count == 0 && minOneBatch) { break }
            if first == nil { first = Offset(header.baseOffset) }
            next = Offset(header.lastOffset + 1)
            position += header.totalSize
            count += 1
        }
        guard count > 0 else { return .empty }
        return LogSlice(mapping: segment.mapping, range: start..<position, firstOffset: first, nextOffset: next, batchCount: count)
    }

    /// Index of the segment whose base is the greatest ≤ `offset` (0 when all are greater).
    func segmentIndex(containing offset: Offset) -> Int {
        var low = 0, high = segments.count - 1, found = 0
        while low <= high {
            let mid = (low + high) / 2
            if segments[mid].baseOffset <= offset {
                found = mid
                low = mid + 1
            } else {
                high = mid - 1
            }
        }
        return found
    }

    // MARK: ListOffsets

    /// ListOffsets EARLIEST (-2).
    public var earliestOffset: Offset { logStartOffset }
    /// ListOffsets LATEST (-1) before the high-watermark cap the caller applies.
    public var latestOffset: Offset { logEndOffset }

    /// ListOffsets by timestamp: the first record whose timestamp is ≥ `timestamp`, with that
    /// timestamp; nil when there is none. Uses the time index of the first segment whose
    /// largest timestamp reaches `timestamp`, then the offset index, then a forward scan.
    /// `compressed` opens compressed batches to find the exact record (see RecordScan).
    public func offset(forTimestamp timestamp: TimestampMs,
                       compressed: CompressedBatchScanner? = nil) -> (offset: Offset, timestamp: TimestampMs)? {
        for segment in segments where segment.nextOffset > logStartOffset && segment.maxTimestampSoFar >= timestamp {
            if let found = segment.firstRecord(atOrAfter: timestamp, compressed: compressed) {
                return (max(found.offset, logStartOffset), found.timestamp)
            }
        }
        return nil
    }

    // MARK: Failure handling

    func checkWritable() throws(StorageError) {
        if let failure { throw .logFailed(path: directory, cause: failure.description) }
        if segments.isEmpty { throw .logClosed(path: directory) }
    }

    /// Runs a mutation; an I/O error takes the log offline.
    func guarded<R>(_ body: () throws(StorageError) -> R) throws(StorageError) -> R {
        do throws(StorageError) {
            return try body()
        } catch {
            markFailed(error)
            throw error
        }
    }

    func markFailed(_ error: StorageError) {
        if failure == nil {
            logger.error("log \(directory) is offline: \(error)")
            failure = error
        }
    }
}
