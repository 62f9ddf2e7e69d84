/// A message between Raft nodes. One flat struct, as in etcd-raft, so the shell's codec is one
/// function; fields that a kind does not use keep their zero values.
public struct RaftMessage: Hashable, Sendable {
    public enum Kind: UInt8, Sendable, CustomStringConvertible {
        case append = 0, appendResponse
        case vote, voteResponse
        case preVote, preVoteResponse
        case heartbeat, heartbeatResponse
        case snapshot
        /// Leadership transfer: the receiver campaigns at once, skipping PreVote.
        case timeoutNow
        /// A follower forwards a ReadIndex request to the leader; the leader answers with the index.
        case readIndex, readIndexResponse

        public var description: String {
            switch self {
            case .append: "MsgApp"
            case .appendResponse: "MsgAppResp"
            case .vote: "MsgVote"
            case .voteResponse: "MsgVoteResp"
            case .preVote: "MsgPreVote"
            case .preVoteResponse: "MsgPreVoteResp"
            case .heartbeat: "MsgHeartbeat"
            case .heartbeatResponse: "MsgHeartbeatResp"
            case .snapshot: "MsgSnap"
            case .timeoutNow: "MsgTimeoutNow"
            case .readIndex: "MsgReadIndex"
            case .readIndexResponse: "MsgReadIndexResp"
            }
        }
    }

    public var kind: Kind
    public var from: NodeID
    public var to: NodeID
    public var term: Term
    /// append: term of the entry at `index`; (pre)vote: candidate's last log term;
    /// rejected appendResponse: the follower's term at `rejectHint`.
    public var logTerm: Term
    /// append: index preceding `entries`; (pre)vote: candidate's last index; appendResponse:
    /// last index now matching (or the rejected `index`); readIndexResponse: the read index.
    public var index: LogIndex
    public var entries: [Entry]
    public var commit: LogIndex
    public var reject: Bool
    /// A rejected append: the follower's guess of the highest index that may match.
    public var rejectHint: LogIndex
    public var snapshot: RaftSnapshot?
    /// (pre)vote: the election was started by a leadership transfer, so voters ignore the
    /// check-quorum lease.
    public var isTransfer: Bool
    /// readIndex / readIndexResponse: the caller's request tag; heartbeat / heartbeatResponse:
    /// the leader's read sequence number (8 bytes) echoed back.
    public var context: [UInt8]

    public init(
        kind: Kind, from: NodeID, to: NodeID, term: Term, logTerm: Term = .zero, index: LogIndex = .zero,
        entries: [Entry] = [], commit: LogIndex = .zero, reject: Bool = false, rejectHint: LogIndex = .zero,
        snapshot: RaftSnapshot? = nil, isTransfer: Bool = false, context: [UInt8] = []
    ) {
        self.kind = kind
        self.from = from
        self.to = to
        self.term = term
        self.logTerm = logTerm
        self.index = index
        self.entries = entries
        self.commit = commit
        self.reject = reject
        self.rejectHint = rejectHint
        self.snapshot = snapshot
        self.isTransfer = isTransfer
        self.context = context
    }

    var isResponse: Bool {
        switch kind {
        case .appendResponse, .voteResponse, .preVoteResponse, .heartbeatResponse, .readIndexResponse: true
        default: false
        }
    }
}
