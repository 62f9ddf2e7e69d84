/// Configuration of one `RaftNode`. Every value is checked by `validate()` when the node starts.
public struct RaftConfig: Sendable {
    /// This node's id; never `.none`.
    public var id: NodeID
    /// A follower that hears nothing from a leader for a randomized timeout in
    /// `[electionTicks, 2 × electionTicks)` campaigns; a leader with CheckQuorum steps down when a
    /// majority has been silent for `electionTicks`.
    public var electionTicks: Int
    /// A leader sends heartbeats every `heartbeatTicks`. Must be less than `electionTicks`.
    public var heartbeatTicks: Int
    /// PreVote (§9.6): a node polls the voters before raising its term, so a rejoining node with
    /// a stale log cannot depose a healthy leader.
    public var preVote: Bool
    /// CheckQuorum: a leader that has not heard from a majority within an election timeout steps
    /// down, and followers that heard from a leader within it ignore vote requests (the lease).
    public var checkQuorum: Bool
    /// Bounds the entries in one append message (flow control; keeps messages small).
    public var maxEntriesPerMessage: Int
    /// Bounds the append messages in flight to one follower while replicating.
    public var maxInflightMessages: Int
    /// Bounds `Ready.committedEntries`.
    public var maxCommittedEntriesPerReady: Int
    /// Seeds the generator for randomized election timeouts. Give each node its own seed.
    public var randomSeed: UInt64
    /// The index the application has applied, when it restarts with state that is newer than
    /// the last snapshot in storage; nil means the snapshot's index.
    public var applied: LogIndex?
    /// Deliberately broken behaviours for the simulator's canaries. Internal: nothing outside
    /// this module (the broker's configuration included) can switch one on.
    var canaries: Set<RaftCanary> = []

    public init(
        id: NodeID, electionTicks: Int = 10, heartbeatTicks: Int = 1, preVote: Bool = true,
        checkQuorum: Bool = true, maxEntriesPerMessage: Int = 64, maxInflightMessages: Int = 256,
        maxCommittedEntriesPerReady: Int = 1024, randomSeed: UInt64, applied: LogIndex? = nil
    ) {
        self.id = id
        self.electionTicks = electionTicks
        self.heartbeatTicks = heartbeatTicks
        self.preVote = preVote
        self.checkQuorum = checkQuorum
        self.maxEntriesPerMessage = maxEntriesPerMessage
        self.maxInflightMessages = maxInflightMessages
        self.maxCommittedEntriesPerReady = maxCommittedEntriesPerReady
        self.randomSeed = randomSeed
        self.applied = applied
    }

    /// Programmer errors: a node must not start with a nonsensical configuration.
    func validate() {
        precondition(id != .none, "RaftConfig.id must not be 0")
        precondition(heartbeatTicks > 0, "RaftConfig.heartbeatTicks must be positive")
        precondition(electionTicks > heartbeatTicks, "RaftConfig.electionTicks must exceed heartbeatTicks")
        precondition(maxEntriesPerMessage > 0 && maxInflightMessages > 0 && maxCommittedEntriesPerReady > 0,
                     "RaftConfig bounds must be positive")
    }
}

/// Deliberately broken behaviours that prove the simulator's checker has teeth. Compiled in,
/// off by default, reachable only through the simulator (the type and the config field are
/// internal to RaftCore).
enum RaftCanary: String, CaseIterable, Sendable {
    /// A voter grants a second vote in a term it already voted in.
    case doubleVote = "double-vote"
    /// A follower appends without checking that the entry before the new ones matches.
    case noLogCheck = "no-log-check"
    /// A leader commits entries of earlier terms by counting replicas, the mistake of Raft's
    /// Figure 8.
    case commitOldTerm = "commit-old-term"
    /// A leader answers ReadIndex at once, without confirming it is still leader.
    case staleRead = "stale-read"
    /// A node forgets its vote when it restarts (the vote is not part of the persisted state).
    case volatileVote = "volatile-vote"
    /// A leader counts its learners' acknowledgements towards the commit quorum.
    case learnerQuorum = "learner-quorum"
    /// A learner campaigns on election timeouts like a voter.
    case learnerCampaigns = "learner-campaigns"
}

/// SplitMix64: the same small generator as RunnelCore's `SeededRandom` (RaftCore depends on
/// nothing, so it carries its own copy). Used only for election timeouts.
struct RaftRandom: Sendable {
    private var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A value in `0..<bound` (bound > 0). Modulo bias is irrelevant at these sizes.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
