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

/// What a leader knows about one member's log (`RaftNode.progressStatus`): enough for
/// DescribeQuorum's per-voter and per-observer log end offset and last fetch time.
public struct ReplicaProgress: Hashable, Sendable, CustomStringConvertible {
    public var id: NodeID
    public var isLearner: Bool
    /// The highest index known to be in the member's log (for the leader itself, its last index).
    public var match: LogIndex
    /// The leader's `RaftNode.elapsedTicks` when the member last answered an append or a
    /// heartbeat in the leader's term; the leader's own entry says now. Nil: not heard from since
    /// this node became leader.
    public var lastContactTick: UInt64?
    public init(id: NodeID, isLearner: Bool, match: LogIndex, lastContactTick: UInt64?) {
        self.id = id
        self.isLearner = isLearner
        self.match = match
        self.lastContactTick = lastContactTick
    }
    public var description: String {
        "\(id) \(isLearner ? "learner" : "voter") match=\(match) contact=" + (lastContactTick.map(String.init) ?? "never")
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
    /// The conf change would make a voter, or the leader itself, a learner. Demotion is not
    /// supported: remove the voter, then add it as a learner (transfer leadership first when it
    /// is the leader).
    case demotionRefused
}
