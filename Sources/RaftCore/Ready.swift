/// Everything a `RaftNode` needs done, handed out by `RaftNode.ready()`.
///
/// The application MUST handle a `Ready` in this order, then call `RaftNode.advance()` before it
/// calls any other method of the node:
/// 1. **Persist** `snapshot`, `entries` and `hardState` with one `RaftLogStorage.save` that is
///    durable (fsynced) when it returns. Nothing below may happen first: a vote or an append
///    acknowledgement in `messages` promises that these are on disk, and a leader counts its own
///    unpersisted entries towards commitment on the strength of this ordering.
/// 2. **Send** `messages` (any order, any loss: Raft tolerates an unreliable network).
/// 3. **Apply** `snapshot` (restore the state machine from it) and then `committedEntries`, in
///    order. For an `Entry.Kind.confChange` entry call `RaftNode.applyConfChange`. `committedEntries`
///    may include entries from `entries` of this same `Ready`, which is why step 1 comes first.
/// 4. **Answer** `readStates` once the state machine has applied up to their index.
public struct Ready: Sendable {
    /// Always present so the application can see leadership changes.
    public var role: RaftRole
    public var leader: NodeID
    /// Set when term, vote or commit changed since the previous `Ready`.
    public var hardState: HardState?
    /// A snapshot from the leader that replaces the log up to its index.
    public var snapshot: RaftSnapshot?
    /// New or replacing entries; the first one's index says where the stored log is cut.
    public var entries: [Entry]
    public var messages: [RaftMessage]
    public var committedEntries: [Entry]
    public var readStates: [ReadState]

    /// Whether step 1 must fsync: the vote/term changed, or there is log data to persist.
    public var mustSync: Bool { snapshot != nil || !entries.isEmpty || hardStateNeedsSync }
    var hardStateNeedsSync = false
}

/// What the application can read about a node at any time.
public struct RaftStatus: Hashable, Sendable, CustomStringConvertible {
    public var id: NodeID
    public var role: RaftRole
    public var term: Term
    public var vote: NodeID
    public var leader: NodeID
    public var commit: LogIndex
    public var applied: LogIndex
    public var lastIndex: LogIndex
    public var confState: ConfState
    public var description: String {
        "\(id) \(role) term=\(term) vote=\(vote) lead=\(leader) commit=\(commit) applied=\(applied) last=\(lastIndex) \(confState)"
    }
}

/// Why a proposal (or a ReadIndex request) was not accepted. The caller retries elsewhere or later.
public enum RaftProposalError: Error, Hashable, Sendable {
    /// Only the leader accepts proposals; `leader` is who this node believes leads (maybe `.none`).
    case notLeader(leader: NodeID)
    /// A leadership transfer is under way; proposals wait for the new leader.
    case transferInProgress
    /// A membership change is already in flight, or the leader has not yet committed an entry in
    /// its own term.
    case confChangeNotAllowed
    /// ReadIndex before the leader has committed an entry in its term.
    case notCommittedInTerm
}
