import RunnelCore

// Durability. Appends land in the page cache through the mapping; `recoveryPoint` says how much
// of that is known to be on disk.
//
// Group commit for acks=all, off the owner thread (DESIGN.md §4, §7):
//
//     owner:   let request = log.makeFlushRequest()        // captures files + end offset
//     pool:    let durable = try request.perform()         // fdatasync; owner keeps appending
//     owner:   log.flushCompleted(request, now: now)       // recovery point = durable
//              (answer every parked request whose last offset < durable)
//
// One fdatasync covers every batch appended before the request was made. While one flush runs,
// the server parks newer acks=all requests and starts one more flush when it completes.
//
// Kafka's `flush.messages` / `flush.ms` (default: never) are hooks: `flushIsDue(now:)` (also
// reported by every append) tells the server to start a flush; by default it never does and
// the OS writes the page cache back on its own schedule — except after a roll, when the sealed
// segment is due (Kafka flushes a rolled segment in the background too).

/// The work of one flush, safe to run on any thread (it holds only file descriptors, which stay
/// open while it exists even if the owner rolls or deletes the segments meanwhile).
public struct FlushRequest: Sendable {
    /// Everything below this offset is durable once `perform` returns.
    public let endOffset: Offset
    let files: [FileHandle]
    let generation: Int

    /// fdatasync of every file with unflushed data; returns `endOffset`. Any thread.
    public func perform() throws(StorageError) -> Offset {
        for file in files { try file.sync() }
        return endOffset
    }
}

extension PartitionLog {
    /// Offsets appended but not yet known durable.
    public var unflushedOffsets: Int64 { logEndOffset - recoveryPoint }

    /// Owner thread: what a flush of everything appended so far must sync; nil when there is
    /// nothing to flush (or the log is offline).
    public func makeFlushRequest() -> FlushRequest? {
        let end = logEndOffset
        guard failure == nil, !segments.isEmpty, end > recoveryPoint else { return nil }
        let files = segments.filter { $0.nextOffset > recoveryPoint && !$0.isEmpty }.map(\.logHandle)
        return FlushRequest(endOffset: end, files: files, generation: truncationGeneration)
    }

    /// Owner thread: a request's `perform` succeeded. Advances the recovery point unless the
    /// log was truncated since the request was made.
    public func flushCompleted(_ request: FlushRequest, now: TimestampMs) {
        guard request.generation == truncationGeneration else { return }
        recoveryPoint = max(recoveryPoint, min(request.endOffset, logEndOffset))
        lastFlushTime = now
    }

    /// Owner thread: a request's `perform` threw. The log goes offline (after a failed fsync the
    /// page cache no longer tells what reached the disk).
    public func flushFailed(_ error: StorageError) {
        markFailed(error)
    }

    /// Owner thread, synchronous: flush everything appended so far.
    public func flush(now: TimestampMs) throws(StorageError) {
        try checkWritable()
        guard let request = makeFlushRequest() else { return }
        do throws(StorageError) {
            _ = try request.perform()
        } catch {
            markFailed(error)
            throw error
        }
        flushCompleted(request, now: now)
    }

    /// Kafka's flush policy: true when `flush.messages` unflushed offsets accumulated or the
    /// last flush is older than `flush.ms` (and something is unflushed).
    /// Also true when a rolled segment is not yet known durable: Kafka flushes a rolled segment
    /// right after the roll, off the append path; so does Runnel, through this hook.
    public func flushIsDue(now: TimestampMs) -> Bool {
        let unflushed = unflushedOffsets
        guard unflushed > 0 else { return false }
        if segments.count > 1 && recoveryPoint < activeSegment.baseOffset { return true }
        if unflushed >= config.flushIntervalMessages { return true }
        return config.flushIntervalMs != Int64.max && now.rawValue - lastFlushTime.rawValue >= config.flushIntervalMs
    }
}
