import ClusterMetadata
import Replication
import RunnelCore

/// One broker's replica of one partition: the simulator's `RunnelServer.Partition`, rule for
/// rule (role changes, the leader's append path and acks=all waiters, the follower's append and
/// truncation), around the same pure pieces: `LeaderState`, `LeaderEpochCache`,
/// `FollowerTruncation`, `ProducerStateTable`.
///
/// The disk: `log`, of which the first `durable` records are fsynced, the leader-epoch
/// checkpoint (replaced, fsynced, whenever the cache changes, as `saveEpochCache` does) and the
/// high-watermark checkpoint (written when the log is fsynced). A crash keeps only those
/// (`recovered()`); everything else is memory.
struct Replica: AdoptingReplica {
    typealias RoleChange = ReplicaRules.RoleChange

    /// An AlterPartition sent: when, and the change it asked for in which leader epoch.
    struct ISRRequest {
        var sentAt: UInt64
        var isr: [BrokerID]
        var leaderEpoch: LeaderEpoch
    }

    /// An acks=all produce waiting until the high watermark passes `end`.
    struct AckWaiter {
        var request: ProduceRequest
        var client: Address
        /// Where the record is (the original's offset for a retried duplicate).
        var offset: Offset
        var end: Offset
        var minISR: Int
        var deadline: UInt64
    }

    let partition: TopicPartition
    let broker: BrokerID
    var canaries: Set<ReplicationCanary>

    // Disk.
    private(set) var log: [SimRecord] = []
    private(set) var durable = 0
    private(set) var epochCheckpoint = LeaderEpochCache()
    private(set) var hwCheckpoint = Offset.zero

    // Memory.
    private(set) var epochCache = LeaderEpochCache()
    private(set) var highWatermark = Offset.zero
    private(set) var leaderEpoch = LeaderEpoch.none
    var partitionEpoch: Int32 = 0
    private(set) var leaderID: BrokerID?
    private(set) var replicas: [BrokerID] = []
    var leaderState: LeaderState?
    private(set) var producers = ProducerStateTable()
    private(set) var ackWaiters: [AckWaiter] = []
    /// acks=all answers decided by the last event, for the node to send.
    var answered: [(AckWaiter, KafkaErrorCode)] = []
    /// Follower: the fetch out (what it asked, and when), a fetch held until an fsync, a pause.
    var fetchOut: (epoch: LeaderEpoch, offset: Offset, sentAt: UInt64, id: UInt64)?
    var awaitingSync = false
    var backoffUntil: UInt64 = 0
    /// Leader: the AlterPartition requests in flight, by request id — each ends once, by its
    /// answer or by the shell's request timeout, as each `ControllerChannel.send` future does —
    /// and, when an answer did not settle the pending change, when it is sent again.
    var isrRequests: [UInt64: ISRRequest] = [:]
    var isrResendAt: UInt64?
    private(set) var isrRetryAfterMs: Int64 = 0

    /// Checker bookkeeping, not replica state: records below it were compared with the
    /// committed log (they change only by truncation, which lowers it).
    var checked = 0

    init(partition: TopicPartition, broker: BrokerID, canaries: Set<ReplicationCanary>) {
        self.partition = partition
        self.broker = broker
        self.canaries = canaries
    }

    var logEnd: Offset { Offset(Int64(log.count)) }
    var durableEnd: Offset { Offset(Int64(durable)) }
    var isLeader: Bool { leaderState != nil }

    /// The replica a restart finds: the fsynced log, the epoch checkpoint cut to it (keeping its
    /// newest epoch, `LeaderEpochCache.recover`, as `Partition.loadEpochCache`), the
    /// checkpointed high watermark as far as the log reaches, producers rebuilt from the log.
    func recovered() -> Replica {
        var next = Replica(partition: partition, broker: broker, canaries: canaries)
        next.log = Array(log.prefix(durable))
        next.durable = durable
        next.epochCache = epochCheckpoint
        next.epochCache.recover(logEnd: next.logEnd)
        next.epochCheckpoint = epochCheckpoint
        next.hwCheckpoint = hwCheckpoint
        next.highWatermark = min(hwCheckpoint, next.logEnd)
        next.rebuildProducers()
        next.checked = min(checked, durable)
        return next
    }

    // MARK: Role (Partition.adopt)

    /// Takes the role, epochs, replicas and ISR the metadata gives this replica, by
    /// `ReplicaRules.adopt` — `AdoptingReplica.adopt`, the broker's `Partition.adopt` too.
    mutating func adopt(_ state: PartitionState, now: Int64) -> RoleChange? {
        adopt(leader: state.hasLeader ? state.leader : nil, leaderEpoch: state.leaderEpoch, partitionEpoch: state.partitionEpoch,
              replicas: state.replicas, isr: state.isr, now: now)
    }

    // MARK: AdoptingReplica (called by `adopt` only)

    var adoptionView: ReplicaRules.Replica {
        ReplicaRules.Replica(me: broker, leaderEpoch: leaderEpoch, partitionEpoch: partitionEpoch, leader: leaderID,
                             applied: !replicas.isEmpty, leadingEpoch: leaderState?.leaderEpoch,
                             latestLogEpoch: epochCache.latestEpoch)
    }

    mutating func takeEpochs(leaderEpoch: LeaderEpoch, partitionEpoch: Int32, leader: BrokerID?, replicas: [BrokerID]) {
        self.leaderEpoch = leaderEpoch
        self.partitionEpoch = partitionEpoch
        leaderID = leader
        self.replicas = replicas
    }

    mutating func committedInOffice(replicas: [BrokerID], isr: [BrokerID], now: Int64) {
        if leaderState?.committed(replicas: replicas, isr: isr, now: now) == true { highWatermarkMoved() }
    }

    /// The controller's answer to the ISR change proposed as leader in `epoch`
    /// (`Partition.isrChangeAnswered`). Returns the settlement.
    mutating func isrChangeAnswered(_ answer: ReplicaRules.ISRAnswer, proposedEpoch epoch: LeaderEpoch, proposedISR: [BrokerID], now: Int64) -> ReplicaRules.Settlement {
        let (settlement, moved) = ReplicaRules.apply(answer, proposedEpoch: epoch, proposedISR: proposedISR, to: &leaderState, partitionEpoch: &partitionEpoch,
                                                     replicas: replicas, now: now)
        if settlement == .refused { isrRetryAfterMs = now + ReplicaRules.isrRetryBackoffMs }
        if moved { highWatermarkMoved() }
        return settlement
    }

    /// The ISR change to propose now, if any; none for `isrRetryBackoffMs` after a refusal.
    func isrChange(now: Int64, lagTimeMs: Int64) -> [BrokerID]? {
        guard now >= isrRetryAfterMs else { return nil }
        return leaderState?.isrChange(now: now, lagTimeMs: lagTimeMs)
    }

    mutating func takeOffice(leaderEpoch: LeaderEpoch, replicas: [BrokerID], isr: [BrokerID], now: Int64) {
        if epochCache.assign(epoch: leaderEpoch, startOffset: logEnd) { epochCheckpoint = epochCache }
        var leader = LeaderState(leader: broker, leaderEpoch: leaderEpoch, replicas: replicas, isr: isr,
                                 highWatermark: highWatermark, logEnd: logEnd, position: durableEnd, now: now)
        leader.canaries = canaries
        leaderState = leader
        fetchOut = nil
        awaitingSync = false
        isrRequests = [:]
        isrResendAt = nil
        highWatermarkMoved()
    }

    /// No longer the leader: acks=all waiters fail with NOT_LEADER_OR_FOLLOWER.
    mutating func leaveOffice() {
        leaderState = nil
        isrRequests = [:]  // their answers would be ignored: not this replica's leadership any more
        isrResendAt = nil
        answered += ackWaiters.map { ($0, KafkaErrorCode.notLeaderOrFollower) }
        ackWaiters = []
    }

    // MARK: The leader's append path (Partition.append, waitForAcks)

    /// Appends one record stamped with this leader's epoch; records its producer's sequence.
    /// Returns its offset.
    mutating func append(_ record: SimRecord) -> Offset {
        var stamped = record
        stamped.epoch = leaderEpoch
        let offset = logEnd
        log.append(stamped)
        recordProducer(stamped, at: offset)
        let end = logEnd
        leaderState?.leaderAppended(logEnd: end)
        return offset
    }

    /// acks=all: answers at once when the high watermark is past `waiter.end`, else waits.
    mutating func waitForAcks(_ waiter: AckWaiter) {
        guard let state = leaderState else { return answered.append((waiter, .notLeaderOrFollower)) }
        switch state.ackState(end: waiter.end, minISR: waiter.minISR) {
        case .done: answered.append((waiter, .none))
        case .notEnoughReplicasAfterAppend: answered.append((waiter, .notEnoughReplicasAfterAppend))
        case .waiting: ackWaiters.append(waiter)
        }
    }

    /// Waiters whose request timed out answer REQUEST_TIMED_OUT.
    mutating func expireWaiters(now: UInt64) {
        let expired = ackWaiters.filter { $0.deadline <= now }
        guard !expired.isEmpty else { return }
        ackWaiters.removeAll { $0.deadline <= now }
        answered += expired.map { ($0, KafkaErrorCode.requestTimedOut) }
    }

    mutating func highWatermarkMoved() {
        guard let state = leaderState else { return }
        highWatermark = max(highWatermark, state.highWatermark)
        var remaining: [AckWaiter] = []
        for waiter in ackWaiters {
            switch state.ackState(end: waiter.end, minISR: waiter.minISR) {
            case .waiting: remaining.append(waiter)
            case .done: answered.append((waiter, .none))
            case .notEnoughReplicasAfterAppend: answered.append((waiter, .notEnoughReplicasAfterAppend))
            }
        }
        ackWaiters = remaining
    }

    /// An fsync of the whole log completed; the high-watermark checkpoint is written with it.
    /// Returns whether anything was unsynced.
    mutating func synced() -> Bool {
        let had = durable < log.count
        durable = log.count
        hwCheckpoint = highWatermark
        if var state = leaderState {
            let moved = state.leaderPositionChanged(durableEnd)
            leaderState = state
            if moved { highWatermarkMoved() }
        }
        return had
    }

    // MARK: The follower side (Partition.appendReplicated, truncate)

    /// The leader's records, with their offsets and epochs, at this log's end.
    mutating func appendReplicated(_ records: [SimRecord]) {
        for record in records {
            let offset = logEnd
            log.append(record)
            if epochCache.assign(epoch: record.epoch, startOffset: offset) { epochCheckpoint = epochCache }
            recordProducer(record, at: offset)
        }
    }

    /// The leader's high watermark, as far as this follower's log reaches.
    mutating func followerHighWatermark(_ leaderHighWatermark: Offset) {
        guard leaderState == nil else { return }
        highWatermark = min(leaderHighWatermark, logEnd)
    }

    /// Everything at and past `offset` goes (durably: the shell's truncation is fsynced).
    mutating func truncate(to offset: Offset) {
        guard offset < logEnd else {
            // An epoch taken at the log end and never written goes all the same (Partition.truncate).
            if epochCache.truncateFromEnd(logEnd) { epochCheckpoint = epochCache }
            return
        }
        let end = Int(offset.rawValue)
        log.removeSubrange(end...)
        durable = min(durable, end)
        checked = min(checked, end)
        if epochCache.truncateFromEnd(offset) { epochCheckpoint = epochCache }
        highWatermark = min(highWatermark, offset)
        rebuildProducers()
    }

    // MARK: Producers

    private mutating func recordProducer(_ record: SimRecord, at offset: Offset) {
        guard record.producerID >= 0 && record.sequence >= 0 else { return }
        producers.record(producerId: record.producerID, epoch: record.producerEpoch,
                         batch: .init(firstSequence: record.sequence, lastSequence: record.sequence, baseOffset: offset,
                                      logAppendTimeMs: -1))
    }

    private mutating func rebuildProducers() {
        producers = ProducerStateTable()
        for (i, record) in log.enumerated() { recordProducer(record, at: Offset(Int64(i))) }
    }
}
