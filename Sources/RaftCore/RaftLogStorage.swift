/// Why a storage read could not answer. Neither is an I/O error: a storage implementation
/// serves reads from state it validated when it opened (see `RaftLogStorage`).
public enum RaftStorageError: Error, Hashable, Sendable {
    /// The index is at or below the snapshot: the entry was compacted away.
    case compacted
    /// The index is past the last stored entry.
    case unavailable
}

/// What a node restarts from.
public struct RaftInitialState: Hashable, Sendable {
    public var hardState: HardState
    /// Membership as of the newest snapshot; conf changes in the log after it are re-applied by
    /// the application when it re-applies those entries.
    public var snapshot: RaftSnapshot
    public init(hardState: HardState, snapshot: RaftSnapshot) {
        self.hardState = hardState
        self.snapshot = snapshot
    }
}

/// The durable Raft log: a snapshot, the entries after it, and the hard state.
///
/// The node only READS storage; it sees the entries it produced in a `Ready` once the
/// application has written them with `save` and called `RaftNode.advance()`. The application
/// WRITES storage while it handles a `Ready`, and compacts it after taking a snapshot.
///
/// Obligations of an implementation:
/// - Reads never fail for I/O reasons: validate and index everything when opening (a torn tail is
///   truncated then), serve reads from memory or a mapping, and treat a read fault afterwards as
///   fatal. Only `.compacted` / `.unavailable` are reported.
/// - `save` is durable when it returns (fsync), in this order: snapshot, then entries, then hard
///   state. A crash part-way may leave any prefix of that sequence (e.g. some entries without the
///   new hard state), never a suffix without its prefix.
/// - `term(at:)` answers for `firstIndex - 1` too (the snapshot's index and term).
public protocol RaftLogStorage: AnyObject {
    /// The hard state and newest snapshot, read once when a node starts.
    func initialState() -> RaftInitialState
    /// The index of the first entry still stored: the snapshot's index + 1.
    var firstIndex: LogIndex { get }
    /// The index of the last stored entry, or the snapshot's index when there is none after it.
    var lastIndex: LogIndex { get }
    /// The term of the entry at `index`, for `firstIndex - 1 ... lastIndex`.
    func term(at index: LogIndex) throws(RaftStorageError) -> Term
    /// Entries in `range` (within `firstIndex ... lastIndex`), at most `maxCount` of them (≥ 1).
    func entries(in range: Range<LogIndex>, maxCount: Int) throws(RaftStorageError) -> [Entry]
    /// The newest snapshot (index 0 and the bootstrap membership when none was taken).
    func snapshot() -> RaftSnapshot

    /// Persists one `Ready`: `snapshot` replaces everything up to its index; `entries` (consecutive)
    /// replace any stored entries from `entries.first.index` on; then `hardState`. Durable on return.
    func save(snapshot: RaftSnapshot?, entries: [Entry], hardState: HardState?) throws
    /// Records a snapshot the application took at an applied index and discards the entries up to
    /// it. `snapshot.index` must be within `firstIndex ... lastIndex` and not above the commit.
    func compact(with snapshot: RaftSnapshot) throws
}

/// How a new group starts: the founding membership is not configuration but the first entries
/// of the log, one committed `ConfChange` per founder at term 1 (as etcd does): `addVoter` for
/// each founding voter in id order, then `addLearner` for each founding learner. Every node, a
/// later joiner included, then derives the membership at any index by applying the log prefix,
/// so no node can disagree about it. Every founder, voter or learner, passes the same two lists;
/// a group needs at least one voter, and no node may be in both lists.
public enum RaftBootstrap {
    public static func entries(voters: [NodeID], learners: [NodeID] = []) -> [Entry] {
        let conf = ConfState(voters: voters, learners: learners)
        precondition(!conf.voters.isEmpty || conf.learners.isEmpty, "a group with learners needs a voter")
        let changes = conf.voters.map { ConfChange(.addVoter, $0) } + conf.learners.map { ConfChange(.addLearner, $0) }
        return changes.enumerated().map { offset, change in
            Entry(term: Term(1), index: LogIndex(UInt64(offset + 1)), kind: .confChange, data: change.encoded)
        }
    }

    public static func hardState(voters: [NodeID], learners: [NodeID] = []) -> HardState {
        let count = entries(voters: voters, learners: learners).count
        return count == 0 ? .empty : HardState(term: Term(1), vote: .none, commit: LogIndex(UInt64(count)))
    }
}

/// An in-memory `RaftLogStorage` for tests and the simulator. Not thread-safe: one owner.
public final class MemoryRaftStorage: RaftLogStorage {
    public private(set) var hardState: HardState
    private var snap: RaftSnapshot
    /// `log[0]` is the entry at `snap.index + 1`.
    private var log: [Entry]

    /// A fresh node. A founding member passes the founding voters and learners (every founder
    /// the same lists) and starts with `RaftBootstrap.entries(voters:learners:)`; a node that will
    /// be added to a running group, as a voter or a learner, passes none and receives the log (or
    /// a snapshot) from the leader.
    public init(bootstrap voters: [NodeID] = [], learners: [NodeID] = []) {
        let entries = RaftBootstrap.entries(voters: voters, learners: learners)
        self.hardState = RaftBootstrap.hardState(voters: voters, learners: learners)
        self.snap = RaftSnapshot(index: .zero, term: .zero, confState: ConfState())
        self.log = entries
    }

    public func initialState() -> RaftInitialState { RaftInitialState(hardState: hardState, snapshot: snap) }
    public var firstIndex: LogIndex { snap.index + 1 }
    public var lastIndex: LogIndex { snap.index + UInt64(log.count) }
    public func snapshot() -> RaftSnapshot { snap }
    /// Every stored entry after the snapshot (for checkers and printing).
    public var storedEntries: [Entry] { log }

    public func term(at index: LogIndex) throws(RaftStorageError) -> Term {
        if index == snap.index { return snap.term }
        if index < snap.index { throw .compacted }
        if index > lastIndex { throw .unavailable }
        return log[offset(index)].term
    }

    public func entries(in range: Range<LogIndex>, maxCount: Int) throws(RaftStorageError) -> [Entry] {
        precondition(maxCount > 0, "entries(in:maxCount:) needs maxCount ≥ 1")
        if range.lowerBound <= snap.index { throw .compacted }
        if range.upperBound > lastIndex + 1 { throw .unavailable }
        let lo = offset(range.lowerBound)
        let hi = min(offset(range.upperBound), lo + maxCount)
        return Array(log[lo..<hi])
    }

    public func save(snapshot: RaftSnapshot?, entries: [Entry], hardState: HardState?) throws {
        if let snapshot { install(snapshot) }
        append(entries)
        if let hardState { self.hardState = hardState }
    }

    public func compact(with snapshot: RaftSnapshot) throws {
        precondition(snapshot.index >= snap.index && snapshot.index <= lastIndex,
                     "compact(with:) at \(snapshot.index) outside \(snap.index)...\(lastIndex)")
        let drop = offset(snapshot.index) + 1
        log.removeFirst(drop)
        snap = snapshot
    }

    /// Persists only a prefix of `entries` and nothing else: the simulator's model of a crash
    /// in the middle of `save` (the torn tail that recovery truncates).
    public func saveTorn(entries: [Entry], keeping count: Int) {
        append(Array(entries.prefix(count)))
    }

    private func offset(_ index: LogIndex) -> Int { Int(index.rawValue - snap.index.rawValue - 1) }

    private func install(_ snapshot: RaftSnapshot) {
        // Keep entries after the snapshot only if they agree with it (the log matching property
        // says they then belong to the same history); otherwise the log restarts at the snapshot.
        if snapshot.index <= lastIndex, snapshot.index > snap.index,
           (try? term(at: snapshot.index)) == snapshot.term {
            log.removeFirst(offset(snapshot.index) + 1)
        } else {
            log = []
        }
        snap = snapshot
    }

    private func append(_ entries: [Entry]) {
        guard let first = entries.first else { return }
        precondition(first.index > snap.index, "append at \(first.index) at or below the snapshot \(snap.index)")
        precondition(first.index <= lastIndex + 1, "append at \(first.index) leaves a gap after \(lastIndex)")
        log.removeSubrange(offset(first.index)...)
        log.append(contentsOf: entries)
    }
}
