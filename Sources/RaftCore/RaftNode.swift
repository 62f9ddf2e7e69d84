/// One Raft participant as a pure state machine (etcd-raft's RawNode).
///
/// Inputs: `tick()` (logical time), `step(_:)` (a message from a peer), `propose(_:)`,
/// `proposeConfChange(_:)`, `campaign()`, `transferLeadership(to:)`, `readIndex(context:)`.
/// Output: `ready()` returns a `Ready`; the application persists, sends and applies it in the
/// order documented on `Ready`, then calls `advance()`.
///
/// Ordering obligations (the application owns all I/O, so it owns these):
/// - Between `ready()` and `advance()` call no other mutating method (checked by precondition).
/// - Persist `Ready.hardState`, `Ready.snapshot` and `Ready.entries` durably BEFORE sending any of
///   `Ready.messages`. A vote granted, an append acknowledged or a commit index announced in those
///   messages is a promise about the disk.
/// - Apply `Ready.committedEntries` only after that persistence, in order.
/// - Restart a node from the same `RaftLogStorage`; never from a copy older than what was saved.
///
/// The node holds a reference to its storage, which it only reads (the application writes it).
public struct RaftNode {
    let config: RaftConfig
    let id: NodeID
    var log: RaftLog
    var term: Term
    var vote: NodeID
    var role: RaftRole = .follower
    var leader: NodeID = .none
    var confState: ConfState

    var random: RaftRandom
    /// Logical time: ticks since this node started. Only `progressStatus` reads it.
    var ticks: UInt64 = 0
    var electionElapsed = 0
    var heartbeatElapsed = 0
    var randomizedElectionTimeout = 0
    /// Granted (true) and rejected (false) answers to this node's current (pre-)campaign.
    var votes: [NodeID: Bool] = [:]
    /// Leader only: one entry per member (voter or learner) other than this node.
    var progress: [NodeID: Progress] = [:]
    /// Leader only: the index of the last conf change appended; another waits until it is applied.
    var pendingConfIndex: LogIndex = .zero
    var leadTransferee: NodeID = .none
    var pendingReads: [PendingRead] = []
    /// Numbers ReadIndex requests; heartbeats carry the latest so answers can be matched to reads.
    var readSequence: UInt64 = 0

    var outbox: [RaftMessage] = []
    var readStates: [ReadState] = []
    var prevHardState: HardState
    var prevRole: RaftRole = .follower
    var prevLeader: NodeID = .none
    /// What the outstanding `Ready` handed out, for `advance()`; nil when none is outstanding.
    var handedOut: HandedOut?

    struct HandedOut {
        var hardState: HardState
        var snapshotIndex: LogIndex?
        var lastCommitted: LogIndex?
        var lastEntry: LogIndex?
    }

    struct PendingRead {
        var index: LogIndex
        var sequence: UInt64
        var context: [UInt8]
        var requester: NodeID
        var acks: Set<NodeID>
    }

    /// Starts (or restarts) a node from what `storage` holds.
    public init(config: RaftConfig, storage: any RaftLogStorage) {
        config.validate()
        let initial = storage.initialState()
        let snapshot = initial.snapshot
        let applied = config.applied ?? snapshot.index
        precondition(initial.hardState.commit >= snapshot.index || initial.hardState == .empty,
                     "hard state commit \(initial.hardState.commit) below snapshot \(snapshot.index)")
        let commit = max(initial.hardState.commit, snapshot.index)
        precondition(commit <= storage.lastIndex, "commit \(commit) past stored last index \(storage.lastIndex)")
        precondition(applied >= snapshot.index && applied <= commit, "applied \(applied) outside \(snapshot.index)...\(commit)")
        self.config = config
        self.id = config.id
        self.log = RaftLog(storage: storage, committed: commit, applied: applied)
        self.log.allowUnsafe = !config.canaries.isEmpty
        self.term = initial.hardState.term
        self.vote = config.canaries.contains(.volatileVote) ? .none : initial.hardState.vote
        self.confState = snapshot.confState
        self.random = RaftRandom(seed: config.randomSeed)
        self.prevHardState = initial.hardState
        // Entries the application applied after the snapshot are not handed out again, so
        // their membership changes must be replayed here.
        if applied > snapshot.index, let entries = log.entries(from: snapshot.index + 1, upTo: applied + 1, maxCount: Int.max) {
            for entry in entries where entry.kind == .confChange {
                if let change = ConfChange(decoding: entry.data) { confState.apply(change) }
            }
        }
        resetTimers()
    }

    // MARK: - Observation

    public var status: RaftStatus {
        RaftStatus(id: id, role: role, term: term, vote: vote, leader: leader, commit: log.committed,
                   applied: log.applied, lastIndex: log.lastIndex, confState: confState)
    }

    /// Leader only (empty elsewhere): what it knows of every member's log, this node included
    /// when it is a member, sorted by id. For DescribeQuorum-style status: a member's lag is
    /// `status.lastIndex - match` entries and `ticks - lastContactTick` ticks.
    public var progressStatus: [ReplicaProgress] {
        guard role == .leader else { return [] }
        return (confState.voters + confState.learners).sorted().map { member in
            if member == id {
                return ReplicaProgress(id: id, isLearner: false, match: log.lastIndex, lastContactTick: ticks)
            }
            let pr = progress[member]
            return ReplicaProgress(id: member, isLearner: confState.isLearner(member), match: pr?.match ?? .zero,
                                   lastContactTick: pr?.lastContactTick)
        }
    }

    /// This node's logical clock: the number of `tick()` calls since it started.
    public var elapsedTicks: UInt64 { ticks }

    var hardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }

    /// The entry at `index` in this node's view of its log (stored or not yet persisted).
    public func entry(at index: LogIndex) -> Entry? {
        log.entries(from: index, upTo: index + 1, maxCount: 1)?.first
    }

    // MARK: - Inputs

    /// Advances logical time by one tick: election timeouts, heartbeats, CheckQuorum.
    public mutating func tick() {
        precondition(handedOut == nil, "tick() between ready() and advance()")
        ticks += 1
        if role == .leader { tickLeader() } else { tickFollower() }
    }

    /// Handles a message from a peer. Messages for another node are a programmer error.
    public mutating func step(_ message: RaftMessage) {
        precondition(handedOut == nil, "step(_:) between ready() and advance()")
        precondition(message.to == id, "message for \(message.to) stepped into \(id)")
        stepChecked(message)
    }

    /// Starts an election now (PreVote first when configured).
    public mutating func campaign() {
        precondition(handedOut == nil, "campaign() between ready() and advance()")
        if role != .leader { hup(transfer: false) }
    }

    /// Appends `data` to the log. Leader only. Returns the entry's index; it is committed when a
    /// later `Ready.committedEntries` contains it (or lost if leadership changes first).
    public mutating func propose(_ data: [UInt8]) throws(RaftProposalError) -> LogIndex {
        precondition(handedOut == nil, "propose(_:) between ready() and advance()")
        try checkCanPropose()
        return appendAsLeader([Entry(term: term, index: .zero, kind: .normal, data: data)])
    }

    // MARK: - Ready

    /// Whether `ready()` has anything to hand out.
    public var hasReady: Bool {
        role != prevRole || leader != prevLeader || hardState != prevHardState
            || log.unstableSnapshot != nil || !log.unstable.isEmpty || !outbox.isEmpty || !readStates.isEmpty
            || (log.committed > log.applied && log.committed >= log.firstIndex)
    }

    /// Hands out what must be persisted, sent and applied. See `Ready` for the order, and call
    /// `advance()` when done.
    public mutating func ready() -> Ready {
        precondition(handedOut == nil, "ready() called twice without advance()")
        let hs = hardState
        let committed = log.nextCommittedEntries(maxCount: config.maxCommittedEntriesPerReady)
        var ready = Ready(
            role: role, leader: leader, hardState: hs == prevHardState ? nil : hs,
            snapshot: log.unstableSnapshot, entries: log.unstable, messages: outbox,
            committedEntries: committed, readStates: readStates)
        ready.hardStateNeedsSync = hs.term != prevHardState.term || hs.vote != prevHardState.vote
        handedOut = HandedOut(hardState: hs, snapshotIndex: log.unstableSnapshot?.index,
                              lastCommitted: committed.last?.index, lastEntry: log.unstable.last?.index)
        outbox = []
        readStates = []
        prevRole = role
        prevLeader = leader
        return ready
    }

    /// Acknowledges the last `Ready`: its data is persisted, its messages sent, its committed
    /// entries applied.
    public mutating func advance() {
        guard let done = handedOut else { preconditionFailure("advance() without ready()") }
        handedOut = nil
        prevHardState = done.hardState
        log.stabilize()
        precondition(log.storage.lastIndex == log.lastIndex,
                     "advance(): storage last index \(log.storage.lastIndex) != \(log.lastIndex); save the Ready first")
        if let index = done.snapshotIndex { log.applied = max(log.applied, index) }
        if let index = done.lastCommitted { log.applied = max(log.applied, index) }
    }

    // MARK: - Shared helpers

    mutating func send(_ message: RaftMessage) {
        outbox.append(message)
    }

    mutating func resetTimers() {
        electionElapsed = 0
        heartbeatElapsed = 0
        randomizedElectionTimeout = config.electionTicks + random.below(config.electionTicks)
    }

    /// Whether this node may start an election. A voter may; so may a node that applied its own
    /// removal: its log can be the most up to date, and a remaining voter that has not learnt the
    /// removal committed may need it to lead once more to learn it (it counts only the votes of
    /// its membership, never its own, and hands leadership over at once). A node that knows no
    /// membership at all (a new node not yet added) never campaigns, and neither does a learner:
    /// election timeouts, `campaign()` and `timeoutNow` all leave it a follower.
    var isPromotable: Bool {
        !confState.voters.isEmpty && (!confState.isLearner(id) || config.canaries.contains(.learnerCampaigns))
    }

    /// Whether a leader is known and was heard from within an election timeout (CheckQuorum's
    /// lease: while it holds, vote requests are ignored).
    var inLease: Bool {
        config.checkQuorum && leader != .none && electionElapsed < config.electionTicks
    }

    var committedInCurrentTerm: Bool { log.term(at: log.committed) == term }

    private func checkCanPropose() throws(RaftProposalError) {
        guard role == .leader else { throw .notLeader(leader: leader) }
        guard leadTransferee == .none else { throw .transferInProgress }
    }

    /// Leader: gives entries their term and index, appends them and replicates. Returns the last index.
    @discardableResult
    mutating func appendAsLeader(_ entries: [Entry]) -> LogIndex {
        var index = log.lastIndex
        let stamped = entries.map { entry -> Entry in
            index = index + 1
            return Entry(term: term, index: index, kind: entry.kind, data: entry.data)
        }
        log.appendUnstable(stamped)
        if maybeCommit() { broadcastAppend(sendIfEmpty: true) } else { broadcastAppend(sendIfEmpty: false) }
        return index
    }
}
