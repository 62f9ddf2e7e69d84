public import LogStorage
import NIOCore
public import RaftCore
import RunnelCore

/// The durable `RaftLogStorage`: Raft entries in `LogStorage` segments (one record per entry, see
/// `RaftEntryCodec`), the hard state and the newest snapshot in two small files beside them (see
/// `RaftStateFiles`). One directory holds all of it:
///
///     <directory>/00000000000000000001.log | .index | .timeindex   entries; offset = Raft index
///     <directory>/raft-hard-state                                   term, vote, commit
///     <directory>/raft-snapshot                                     index, term, voters, data
///
/// Durability (`save`): snapshot file (atomic replace) → entries appended and fdatasynced →
/// hard-state file (atomic replace). Each step is durable before the next starts, so a crash
/// leaves a prefix of the sequence, which is what `RaftLogStorage` allows: entries without the
/// hard state that followed them, never a vote or commit without the entries it vouches for.
/// `save` returns only when everything is durable, so the application's "persist before send"
/// obligation (`Ready`) also covers "term and vote durable before a vote is answered".
///
/// Crash story (`open`): the segments are recovered exactly as partition logs are — every batch
/// CRC-checked, the log cut at the first invalid byte, so the torn tail of an interrupted `save`
/// is dropped (it was never acknowledged: messages wait for `save` to return). Then the log is
/// reconciled with the snapshot file: entries at or below the snapshot are dropped, and a log
/// that disagrees with the snapshot (a crash between writing a leader's snapshot and cutting the
/// log) restarts right after it. The index → term table is rebuilt by reading every entry once.
///
/// Reads never do I/O that can fail: entries come from the segments' mappings and terms from an
/// in-memory table (8 bytes per entry; snapshots keep it short). A record that does not decode
/// after recovery validated it is memory or disk corruption under us, and stops the process.
///
/// Threading: one owner calls everything (the controller's Raft loop), like `PartitionLog`.
public final class DurableRaftStorage: RaftLogStorage {
    public let directory: String
    let fileSystem: any FileSystem
    let log: PartitionLog
    /// The hard state as last written (or read at open).
    public private(set) var hardState: HardState
    var snap: RaftSnapshot
    /// `terms[k]` is the term of the entry at `snap.index + 1 + k`.
    var terms: [Term]
    /// Set by a failed write: the files may no longer say what memory says, so every later
    /// write is refused until the storage is reopened (as `PartitionLog` does).
    var failure: StorageError?

    init(directory: String, fileSystem: any FileSystem, log: PartitionLog, hardState: HardState,
         snapshot: RaftSnapshot, terms: [Term]) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.log = log
        self.hardState = hardState
        self.snap = snapshot
        self.terms = terms
    }

    // MARK: Reads (RaftLogStorage)

    public func initialState() -> RaftInitialState { RaftInitialState(hardState: hardState, snapshot: snap) }
    public var firstIndex: LogIndex { snap.index + 1 }
    public var lastIndex: LogIndex { snap.index + UInt64(terms.count) }
    public func snapshot() -> RaftSnapshot { snap }

    public func term(at index: LogIndex) throws(RaftStorageError) -> Term {
        if index == snap.index { return snap.term }
        if index < snap.index { throw .compacted }
        if index > lastIndex { throw .unavailable }
        return terms[Int(index.rawValue - snap.index.rawValue - 1)]
    }

    /// The Raft log keeps no time: nothing rolls or expires by age (`defaultLogConfig`).
    static let noTime = TimestampMs(0)

    /// Bytes of segment read per step of `entries(in:maxCount:)`; whole batches, at least one.
    static let readChunkBytes = 256 * 1024

    public func entries(in range: Range<LogIndex>, maxCount: Int) throws(RaftStorageError) -> [Entry] {
        precondition(maxCount > 0, "entries(in:maxCount:) needs maxCount ≥ 1")
        if range.lowerBound <= snap.index { throw .compacted }
        if range.upperBound > lastIndex + 1 { throw .unavailable }
        return readEntries(from: range.lowerBound, count: min(range.count, maxCount))
    }

    /// `count` entries from `first` (all within the stored range), decoded from the segments.
    func readEntries(from first: LogIndex, count: Int) -> [Entry] {
        var result: [Entry] = []
        result.reserveCapacity(count)
        var next = first
        while result.count < count {
            guard case .records(let slice) = log.read(from: Offset(Int64(next.rawValue)), maxBytes: Self.readChunkBytes),
                  !slice.isEmpty else {
                preconditionFailure("Raft log \(directory): no batch at index \(next) (stored up to \(lastIndex))")
            }
            slice.withUnsafeBytes { bytes in
                Self.forEachBatch(in: bytes) { batch in
                    do throws(RaftRecordError) {
                        try RaftEntryCodec.decode(batch) { entry in
                            if entry.index == next && result.count < count {
                                result.append(entry)
                                next = next + 1
                            }
                        }
                    } catch {
                        preconditionFailure("Raft log \(directory) changed under us after recovery: \(error)")
                    }
                }
            }
        }
        return result
    }

    /// Calls `body` with each whole batch in `bytes` (stored batches: their lengths were checked).
    static func forEachBatch(in bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var position = 0
        while let header = RecordBatchHeader(UnsafeRawBufferPointer(rebasing: bytes[position...])),
              header.totalSize <= bytes.count - position {
            body(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + header.totalSize)]))
            position += header.totalSize
        }
    }

    // MARK: Writes (RaftLogStorage)

    public func save(snapshot: RaftSnapshot?, entries: [Entry], hardState newHardState: HardState?) throws(StorageError) {
        try checkWritable()
        try guarded { () throws(StorageError) in
            if let snapshot { try install(snapshot) }
            if !entries.isEmpty {
                try append(entries)
                try log.flush(now: Self.noTime)
            }
            if let newHardState, newHardState != hardState { try writeHardState(newHardState) }
        }
    }

    public func compact(with snapshot: RaftSnapshot) throws(StorageError) {
        precondition(snapshot.index >= snap.index && snapshot.index <= lastIndex,
                     "compact(with:) at \(snapshot.index) outside \(snap.index)...\(lastIndex)")
        precondition((try? term(at: snapshot.index)) == snapshot.term,
                     "compact(with:) at \(snapshot.index) with term \(snapshot.term) that the log does not hold")
        try checkWritable()
        try guarded { () throws(StorageError) in
            // The snapshot file first: once it is durable the entries below it are redundant, so
            // a crash before they are deleted only leaves work for the next open.
            try RaftStateFiles.write(RaftStateFiles.encode(snapshot), name: RaftStateFiles.snapshotName,
                                     directory: directory, fileSystem: fileSystem)
            try dropThrough(snapshot)
        }
    }

    /// Clean close: seals the active segment (fsync, files cut to size). The storage cannot be
    /// used afterwards.
    public func close() throws(StorageError) {
        try log.close()
    }

    /// Drops everything without writing (tests: a crash).
    public func abandon() {
        log.abandon()
    }

    // MARK: Write steps

    /// A snapshot from the leader replaces the log up to its index. Entries after it are kept
    /// only if the log holds the snapshot's own (index, term): by log matching they are then the
    /// same history. Otherwise the log restarts right after the snapshot.
    private func install(_ snapshot: RaftSnapshot) throws(StorageError) {
        precondition(snapshot.index >= snap.index, "snapshot \(snapshot.index) older than the stored \(snap.index)")
        try RaftStateFiles.write(RaftStateFiles.encode(snapshot), name: RaftStateFiles.snapshotName,
                                 directory: directory, fileSystem: fileSystem)
        if snapshot.index <= lastIndex, (try? term(at: snapshot.index)) == snapshot.term {
            try dropThrough(snapshot)
        } else {
            try log.truncateFully(startingAt: Offset(Int64(snapshot.index.rawValue + 1)))
            snap = snapshot
            terms = []
        }
    }

    /// Forgets the entries up to `snapshot.index`, which the log holds with the snapshot's term.
    func dropThrough(_ snapshot: RaftSnapshot) throws(StorageError) {
        let dropped = Int(snapshot.index.rawValue - snap.index.rawValue)
        // Whole segments below the new start go; a segment straddling it stays until later.
        try log.deleteRecords(before: Offset(Int64(snapshot.index.rawValue + 1)))
        terms.removeFirst(dropped)
        snap = snapshot
    }

    /// Appends consecutive entries, first cutting any stored suffix they replace.
    private func append(_ entries: [Entry]) throws(StorageError) {
        let first = entries[0].index
        precondition(first > snap.index, "append at \(first) at or below the snapshot \(snap.index)")
        precondition(first <= lastIndex + 1, "append at \(first) leaves a gap after \(lastIndex)")
        for (offset, entry) in entries.enumerated() {
            precondition(entry.index == first + UInt64(offset), "entries passed to save are not consecutive at \(entry.index)")
        }
        if first <= lastIndex {
            // One entry per batch (RaftEntryCodec), so the cut is exactly at `first`.
            try log.truncate(to: Offset(Int64(first.rawValue)))
            precondition(log.logEndOffset == Offset(Int64(first.rawValue)),
                         "Raft log \(directory): truncation to \(first) left the log end at \(log.logEndOffset)")
            terms.removeSubrange(Int(first.rawValue - firstIndex.rawValue)...)
        }
        for entry in entries {
            let result = try RaftEntryCodec.encode(entry).withUnsafeReadableBytes { bytes throws(StorageError) in
                try log.append(copying: bytes, leaderEpoch: LeaderEpoch(Int32(clamping: entry.term.rawValue)), now: Self.noTime)
            }
            precondition(result.baseOffset == Offset(Int64(entry.index.rawValue)),
                         "Raft log \(directory): entry \(entry.index) stored at offset \(result.baseOffset)")
            terms.append(entry.term)
        }
    }

    func writeHardState(_ newHardState: HardState) throws(StorageError) {
        try RaftStateFiles.write(RaftStateFiles.encode(newHardState), name: RaftStateFiles.hardStateName,
                                 directory: directory, fileSystem: fileSystem)
        hardState = newHardState
    }

    // MARK: Failure handling

    func checkWritable() throws(StorageError) {
        if let failure { throw .logFailed(path: directory, cause: failure.description) }
    }

    func guarded(_ body: () throws(StorageError) -> Void) throws(StorageError) {
        do throws(StorageError) {
            try body()
        } catch {
            if failure == nil { failure = error }
            throw error
        }
    }
}
