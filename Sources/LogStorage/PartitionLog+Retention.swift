import RunnelCore

// Retention, DeleteRecords and truncation: the ways a log loses data on purpose.
//
// Crash story: segments are deleted oldest first (retention) or newest first (truncation), so a
// crash part-way always leaves a contiguous run of segments. With `removeLater` set, retention
// renames a segment's files to `.deleted` (same order) and the files are removed later; the next
// open removes any `.deleted` file left by a crash. A segment's files go index first,
// log last; an index without its log is removed at the next open, a log without its indexes gets
// them rebuilt. The log start offset is persisted by `LogManager` in
// `log-start-offset-checkpoint` after the deletion; a crash before that is harmless because on
// open the log start is at least the first segment's base offset.

extension PartitionLog {
    public struct RetentionResult: Sendable, Equatable {
        public var deletedSegments: Int
        public var deletedBytes: Int
        public var logStartOffset: Offset
    }

    /// Deletes whole sealed segments (never the active one), oldest first, while the oldest is
    /// entirely below the log start offset, or older than `retention.ms` (its largest timestamp
    /// is before now − retention.ms; a segment without timestamps never expires by time), or
    /// not needed to keep the log at least `retention.bytes`. Advances the log start offset.
    /// The server calls it every `log.retention.check.interval.ms`.
    @discardableResult
    public func applyRetention(now: TimestampMs) throws(StorageError) -> RetentionResult {
        try checkWritable()
        var excessBytes = config.retentionBytes >= 0 ? Int64(sizeBytes) - config.retentionBytes : Int64.min
        var count = 0
        while count < segments.count - 1 {
            let segment = segments[count]
            let belowStart = segments[count + 1].baseOffset <= logStartOffset
            let expired = config.retentionMs >= 0 && segment.maxTimestampSoFar.rawValue >= 0
                && now.rawValue - segment.maxTimestampSoFar.rawValue > config.retentionMs
            let oversize = excessBytes != Int64.min && excessBytes - Int64(segment.sizeBytes) >= 0
            guard belowStart || expired || oversize else { break }
            if excessBytes != Int64.min { excessBytes -= Int64(segment.sizeBytes) }
            count += 1
        }
        let bytes = try deleteOldestSegments(count)
        return RetentionResult(deletedSegments: count, deletedBytes: bytes, logStartOffset: logStartOffset)
    }

    /// DeleteRecords: moves the log start offset up to `offset` (at most the log end; the
    /// caller caps it at the high watermark) and deletes the segments entirely below it.
    /// Returns the new log start offset.
    @discardableResult
    public func deleteRecords(before offset: Offset) throws(StorageError) -> Offset {
        try checkWritable()
        logStartOffset = max(logStartOffset, min(offset, logEndOffset))
        var count = 0
        while count < segments.count - 1 && segments[count + 1].baseOffset <= logStartOffset { count += 1 }
        try deleteOldestSegments(count)
        return logStartOffset
    }

    @discardableResult
    private func deleteOldestSegments(_ count: Int) throws(StorageError) -> Int {
        guard count > 0 else { return 0 }
        precondition(count < segments.count, "the active segment is never deleted by retention")
        return try guarded { () throws(StorageError) -> Int in
            var bytes = 0
            var dropped: [LogSegment] = []
            var files: [String] = []
            for _ in 0..<count {
                let segment = segments.removeFirst()
                bytes += segment.sizeBytes
                if removeLater != nil {
                    files += try segment.renameForDeletion()
                    dropped.append(segment)
                } else {
                    try segment.deleteFiles()
                }
            }
            logStartOffset = max(logStartOffset, segments[0].baseOffset)
            try fileSystem.syncDirectory(directory)
            if let removeLater, !files.isEmpty {
                removeLater(LogRemoval(files: files, fileSystem: fileSystem, segments: dropped))
            }
            return bytes
        }
    }

    /// Removes every offset at and after `offset` (replication: a follower's divergent tail).
    /// Works on batch boundaries: when `offset` falls inside a batch, that whole batch goes and
    /// the log end becomes the batch's base offset. Appends then continue at the new log end.
    /// Truncating to at or below the log start (or the first segment) empties the log and
    /// restarts it at `offset` (`truncateFully(startingAt:)`).
    public func truncate(to offset: Offset) throws(StorageError) {
        try checkWritable()
        guard offset < logEndOffset else { return }
        if offset < logStartOffset || offset <= segments[0].baseOffset {
            try truncateFully(startingAt: offset)
            return
        }
        try guarded { () throws(StorageError) in
            truncationGeneration += 1
            while segments.count > 1 && segments[segments.count - 1].baseOffset >= offset {
                try segments.removeLast().deleteFiles()
            }
            let last = activeOrLast
            try last.truncate(to: offset)
            if !last.isActive { try last.activate(config: config) }
            try fileSystem.syncDirectory(directory)
            recoveryPoint = min(recoveryPoint, logEndOffset)
        }
    }

    /// Empties the log and restarts it at `offset` (a follower whose leader's log starts after
    /// all of its data).
    public func truncateFully(startingAt offset: Offset) throws(StorageError) {
        try checkWritable()
        try guarded { () throws(StorageError) in
            truncationGeneration += 1
            while segments.count > 1 { try segments.removeLast().deleteFiles() }
            let first = segments[0]
            if first.baseOffset == offset {
                try first.truncate(toPosition: 0)
                if !first.isActive { try first.activate(config: config) }
            } else {
                try first.deleteFiles()
                segments = [try LogSegment.create(directory: directory, baseOffset: offset, config: config, fileSystem: fileSystem)]
            }
            try fileSystem.syncDirectory(directory)
            logStartOffset = offset
            recoveryPoint = offset
        }
    }

    private var activeOrLast: LogSegment { segments[segments.count - 1] }
}
