import ClusterMetadata
import Compaction
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import Replication
import RunnelCore

/// One replica of a partition on this broker (DESIGN.md §1, §5): its role, leader and partition
/// epochs, its log, its leader-epoch cache, its high watermark, its group commit and its
/// idempotent-producer state. Requests, the group coordinator and the replica fetcher reach the
/// log only through here: reads, lookups, the leader's one append path
/// (`append(batch:header:now:)`) and the follower's (`appendReplicated`), so producer state,
/// epochs, flush policy and the high watermark stay right whoever appends.
///
/// As leader it keeps a `LeaderState` (followers' positions, ISR, high watermark) and the
/// acks=all produces waiting for the high watermark; as follower it takes the leader's batches
/// byte for byte and the leader's high watermark. Owner-loop only.
final class Partition: AdoptingReplica {
    typealias RoleChange = ReplicaRules.RoleChange

    private let log: PartitionLog
    /// The topic id the partition was created for (a topic deleted and created again under the
    /// same name is another partition).
    let topicID: TopicID
    private(set) var leaderEpoch: LeaderEpoch
    /// The partition epoch of the metadata this replica last applied (AlterPartition names it).
    var partitionEpoch: Int32 = 0
    /// The metadata's leader (nil while the partition has none).
    private(set) var leaderID: BrokerID?
    private(set) var replicas: [BrokerID] = []
    /// The leader's view of its replicas; nil on a follower.
    private(set) var leaderState: LeaderState?
    var isLeader: Bool { leaderState != nil }
    /// Consumers read below it. A leader's comes from `leaderState`; a follower's is the
    /// leader's, as far as its own log reaches.
    private(set) var highWatermark: Offset
    private(set) var epochCache: LeaderEpochCache
    /// `runnel.acks.all.fsync` of the topic: positions (the leader's own, and what followers
    /// report) count only fsynced data.
    var acksAllFsync = true
    /// Called when the high watermark moved (fetches parked on it wake up).
    var onHighWatermarkChanged: (() -> Void)?
    /// The log lost segments or a tail (retention, DeleteRecords, truncation: the offset cut to,
    /// else nil): a clean of it in progress must stop (D151).
    var onLogShrunk: ((Offset?) -> Void)?
    let groupCommit: GroupCommit
    var producers = ProducerStateTable()
    /// Its topic's counters and the flush timer (nil when metrics are off).
    var metrics: TopicMetrics?
    private var ackWaiters: [AckWaiter] = []
    private let nodeID: BrokerID
    private let loop: any EventLoop
    private let threadPool: NIOThreadPool
    private let logger: Logger

    /// An acks=all produce waiting until the high watermark passes `end`.
    private final class AckWaiter {
        let end: Offset
        let minISR: Int
        let completion: (KafkaErrorCode) -> Void
        var deadline: Scheduled<Void>?
        init(end: Offset, minISR: Int, completion: @escaping (KafkaErrorCode) -> Void) {
            self.end = end
            self.minISR = minISR
            self.completion = completion
        }
    }

    init(log: PartitionLog, topicID: TopicID, nodeID: BrokerID, highWatermark: Offset?, loop: any EventLoop,
         threadPool: NIOThreadPool, logger: Logger) {
        self.log = log
        self.topicID = topicID
        self.nodeID = nodeID
        self.leaderEpoch = .none
        self.loop = loop
        self.threadPool = threadPool
        self.logger = logger
        self.highWatermark = min(highWatermark ?? .zero, log.logEndOffset)
        self.epochCache = LeaderEpochCache()
        // The flush request is made on the owner (it captures the files and end offset), run on
        // the pool, and reported back on the owner.
        groupCommit = GroupCommit(loop: loop, durableEnd: log.recoveryPoint)
        groupCommit.flush = { [weak self] completion in
            guard let self else { return completion(.failure(GroupCommitError.noProgress(durableEnd: .zero))) }
            self.flush(completion)
        }
        groupCommit.onDurable = { [weak self] end in self?.durableAdvanced(end) }
        epochCache = loadEpochCache()
        rebuildProducerState()
        // Recovery and the rebuild read the segments through their mappings; those pages
        // would otherwise stay in the broker's RSS until the next restart.
        log.releaseMappedPages()
    }

    // MARK: Role

    /// Takes the role, epochs, replicas and ISR the metadata gives this replica, by
    /// `ReplicaRules.adopt` (`AdoptingReplica.adopt`, shared with cluster-sim). Returns the role
    /// change the replica fetcher must follow, if any.
    @discardableResult
    func adopt(_ state: PartitionState, now: Int64) -> RoleChange? {
        var replica = self  // the protocol's `adopt` is mutating; a class reference is the same object
        return replica.adopt(leader: state.hasLeader ? state.leader : nil, leaderEpoch: state.leaderEpoch,
                             partitionEpoch: state.partitionEpoch, replicas: state.replicas, isr: state.isr, now: now)
    }

    // MARK: AdoptingReplica (called by `adopt` only)

    var adoptionView: ReplicaRules.Replica {
        ReplicaRules.Replica(me: nodeID, leaderEpoch: leaderEpoch, partitionEpoch: partitionEpoch, leader: leaderID,
                             applied: !replicas.isEmpty, leadingEpoch: leaderState?.leaderEpoch,
                             latestLogEpoch: epochCache.latestEpoch)
    }

    func takeEpochs(leaderEpoch: LeaderEpoch, partitionEpoch: Int32, leader: BrokerID?, replicas: [BrokerID]) {
        self.leaderEpoch = leaderEpoch
        self.partitionEpoch = partitionEpoch
        leaderID = leader
        self.replicas = replicas
    }

    func committedInOffice(replicas: [BrokerID], isr: [BrokerID], now: Int64) {
        if leaderState?.committed(replicas: replicas, isr: isr, now: now) == true { highWatermarkMoved() }
    }

    func takeOffice(leaderEpoch: LeaderEpoch, replicas: [BrokerID], isr: [BrokerID], now: Int64) {
        let end = log.logEndOffset
        if epochCache.assign(epoch: leaderEpoch, startOffset: end) { saveEpochCache() }
        let position = acksAllFsync ? groupCommit.durableEnd : end
        leaderState = LeaderState(leader: nodeID, leaderEpoch: leaderEpoch, replicas: replicas, isr: isr,
                                  highWatermark: highWatermark, logEnd: end, position: position, now: now)
        // What followers reported to an earlier term of this leader may be stale (a follower may
        // have lost its log since): each reports again with its next fetch.
        followerLogStarts.removeAll()
        logger.info("\(log.topic)-\(log.partition): leader in epoch \(leaderEpoch) from offset \(end), ISR \(isr), high watermark \(leaderState!.highWatermark)",
                    metadata: .partition(key, epoch: leaderEpoch))
        highWatermarkMoved()
        if acksAllFsync && position < end { flushInBackground() }
    }

    /// The replica is being removed (its topic deleted or the replica moved away).
    func stop() { leaveOffice() }

    /// No longer the leader: produces waiting for acknowledgement fail (the producer retries
    /// at the new leader; the batches may or may not survive there).
    func leaveOffice() {
        leaderState = nil
        let waiting = ackWaiters
        ackWaiters.removeAll()
        for waiter in waiting {
            waiter.deadline?.cancel()
            waiter.completion(.notLeaderOrFollower)
        }
    }

    // MARK: Reads

    var logStartOffset: Offset { log.logStartOffset }
    var logEndOffset: Offset { log.logEndOffset }
    var isOffline: Bool { log.isOffline }
    /// Everything below it is known to be on disk.
    var recoveryPoint: Offset { log.recoveryPoint }
    var segmentCount: Int { log.segmentCount }
    var segmentBaseOffsets: [Offset] { log.segmentBaseOffsets }
    /// The log's directory, for log lines.
    var directory: String { log.directory }
    var topic: TopicName { log.topic }
    var index: PartitionID { log.partition }
    var key: TopicPartition { TopicPartition(log.topic, log.partition) }

    /// Replaces the log's configuration (a topic config change); sizes apply from the next roll.
    func updateConfig(_ config: LogConfig) {
        if log.config != config { log.config = config }
    }

    /// Stored batches for a fetch (see `PartitionLog.read`).
    func read(from offset: Offset, maxBytes: Int, upperBound: Offset? = nil, minOneBatch: Bool = true) -> PartitionLog.ReadResult {
        log.read(from: offset, maxBytes: maxBytes, upperBound: upperBound, minOneBatch: minOneBatch)
    }

    /// ListOffsets by timestamp (see `PartitionLog.offset(forTimestamp:compressed:)`).
    func offset(forTimestamp timestamp: TimestampMs, compressed: CompressedBatchScanner?) -> (offset: Offset, timestamp: TimestampMs)? {
        log.offset(forTimestamp: timestamp, compressed: compressed)
    }

    /// The log's configuration in effect (tests check that a change reached it).
    var logConfigForTests: LogConfig { log.config }

    /// Bytes of the log's segments (DescribeLogDirs).
    var sizeBytes: Int { log.sizeBytes }

    /// The largest record timestamp in the log (ListOffsets MAX_TIMESTAMP).
    var maxTimestamp: TimestampMs { log.maxTimestamp }

    /// OffsetForLeaderEpoch and the diverging-epoch check (see `LeaderEpochCache.endOffset`).
    func endOffset(for epoch: LeaderEpoch) -> (epoch: LeaderEpoch, endOffset: Offset)? {
        epochCache.endOffset(for: epoch, logEndOffset: log.logEndOffset)
    }

    // MARK: The leader's append path

    /// The one append path of a leader: one validated batch (exactly its bytes) gets its offsets
    /// and this replica's leader epoch; an idempotent producer's sequences are recorded; a flush
    /// that `flush.messages` / `flush.ms` (or a roll) makes due is started, and with
    /// `runnel.acks.all.fsync` one that lets the high watermark reach the batch. Throws (and the
    /// log may go offline) on an I/O error.
    func append(batch bytes: UnsafeRawBufferPointer, header: RecordBatchHeader, now: TimestampMs) throws(StorageError) -> PartitionLog.AppendResult {
        let appended = try log.append(copying: bytes, leaderEpoch: leaderEpoch, now: now)
        metrics?.appended(bytes: bytes.count, records: header.recordsCount)
        if header.producerId >= 0 {
            producers.record(producerId: header.producerId, epoch: header.producerEpoch,
                             batch: .init(firstSequence: header.baseSequence, lastSequence: header.baseSequence &+ header.lastOffsetDelta,
                                          baseOffset: appended.baseOffset, logAppendTimeMs: appended.logAppendTime.rawValue))
        }
        // Mutated in place (`leaderState?.…`): a copy would copy its followers on every append.
        leaderState?.leaderAppended(logEnd: log.logEndOffset)
        if !acksAllFsync, leaderState?.leaderPositionChanged(log.logEndOffset) == true { highWatermarkMoved() }
        if appended.flushDue || (acksAllFsync && leaderState != nil) { flushInBackground() }
        return appended
    }

    /// acks=all: calls `completion` once the high watermark passes `end` (NONE), or with
    /// NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank below `minISR` by then,
    /// NOT_LEADER_OR_FOLLOWER when leadership moves first, REQUEST_TIMED_OUT after `timeoutMs`.
    func waitForAcks(end: Offset, minISR: Int, timeoutMs: Int64, completion: @escaping (KafkaErrorCode) -> Void) {
        guard let state = leaderState else { return completion(.notLeaderOrFollower) }
        switch state.ackState(end: end, minISR: minISR) {
        case .done: return completion(.none)
        case .notEnoughReplicasAfterAppend: return completion(.notEnoughReplicasAfterAppend)
        case .waiting: break
        }
        let waiter = AckWaiter(end: end, minISR: minISR, completion: completion)
        ackWaiters.append(waiter)
        waiter.deadline = loop.scheduleTask(in: .milliseconds(max(0, timeoutMs))) { [weak self, weak waiter] in
            guard let self, let waiter, let index = self.ackWaiters.firstIndex(where: { $0 === waiter }) else { return }
            self.ackWaiters.remove(at: index)
            waiter.completion(.requestTimedOut)
        }
    }

    // MARK: Replication, leader side

    /// A follower fetched from `position` (everything below it is on that replica — fsynced,
    /// with `runnel.acks.all.fsync`). Returns the ISR change to propose now, if any.
    func followerFetched(_ id: BrokerID, position: Offset, now: Int64, lagTimeMs: Int64) -> [BrokerID]? {
        guard leaderState != nil else { return nil }
        if leaderState?.followerFetched(id, position: position, now: now) == true { highWatermarkMoved() }
        return isrChange(now: now, lagTimeMs: lagTimeMs)
    }

    /// The ISR change to propose now (the periodic shrink check), if any; none for
    /// `ReplicaRules.isrRetryBackoffMs` after a change was refused.
    func isrChange(now: Int64, lagTimeMs: Int64) -> [BrokerID]? {
        guard now >= isrRetryAfterMs else { return nil }
        return leaderState?.isrChange(now: now, lagTimeMs: lagTimeMs)
    }

    private var isrRetryAfterMs: Int64 = 0

    func isrChangeProposed(_ isr: [BrokerID]) { leaderState?.proposed(isr) }

    /// The controller's answer to the ISR change this replica proposed as leader in `epoch`,
    /// settled by `ReplicaRules.settle`: a commit takes the answer's ISR and partition epoch, a
    /// definitive refusal drops the change and pauses proposals for `isrRetryBackoffMs`. Returns
    /// the settlement (the caller sends a `.resend` again).
    @discardableResult
    func isrChangeAnswered(_ answer: ReplicaRules.ISRAnswer, proposedEpoch epoch: LeaderEpoch, proposedISR: [BrokerID], now: Int64) -> ReplicaRules.Settlement {
        let (settlement, moved) = ReplicaRules.apply(answer, proposedEpoch: epoch, proposedISR: proposedISR, to: &leaderState, partitionEpoch: &partitionEpoch,
                                                     replicas: replicas, now: now)
        if settlement == .refused { isrRetryAfterMs = now + ReplicaRules.isrRetryBackoffMs }
        if moved { highWatermarkMoved() }
        return settlement
    }

    private func durableAdvanced(_ end: Offset) {
        guard acksAllFsync else { return }
        if leaderState?.leaderPositionChanged(end) == true { highWatermarkMoved() }
    }

    private func highWatermarkMoved() {
        guard let state = leaderState else { return }
        highWatermark = max(highWatermark, state.highWatermark)
        if !ackWaiters.isEmpty {
            var remaining: [AckWaiter] = []
            for waiter in ackWaiters {
                switch state.ackState(end: waiter.end, minISR: waiter.minISR) {
                case .waiting:
                    remaining.append(waiter)
                case .done:
                    waiter.deadline?.cancel()
                    waiter.completion(.none)
                case .notEnoughReplicasAfterAppend:
                    waiter.deadline?.cancel()
                    waiter.completion(.notEnoughReplicasAfterAppend)
                }
            }
            ackWaiters = remaining
        }
        onHighWatermarkChanged?()
    }

    // MARK: Replication, follower side

    /// A follower's append: the leader's batches, byte for byte with their offsets and epochs
    /// (each validated, CRC included). New epochs enter the epoch cache; idempotent producers'
    /// sequences are recorded so this replica can lead without losing duplicate detection.
    /// Returns the new log end.
    func appendReplicated(_ batches: UnsafeRawBufferPointer, now: TimestampMs) throws(StorageError) -> Offset {
        var position = 0
        var epochsChanged = false
        var headers: [RecordBatchHeader] = []
        while position < batches.count, let header = RecordBatchHeader(UnsafeRawBufferPointer(rebasing: batches[position...])),
              header.totalSize <= batches.count - position {
            headers.append(header)
            position += header.totalSize
        }
        // A fetch response may end with a partial batch (Kafka's max-bytes cut): it is dropped.
        guard position > 0 else { return log.logEndOffset }
        let end = try log.appendAssigned(UnsafeRawBufferPointer(rebasing: batches[0..<position]), now: now)
        for header in headers {
            if header.partitionLeaderEpoch >= 0,
               epochCache.assign(epoch: LeaderEpoch(header.partitionLeaderEpoch), startOffset: Offset(header.baseOffset)) {
                epochsChanged = true
            }
            if header.producerId >= 0 && header.baseSequence >= 0 {
                producers.record(producerId: header.producerId, epoch: header.producerEpoch,
                                 batch: .init(firstSequence: header.baseSequence,
                                              lastSequence: header.baseSequence &+ header.lastOffsetDelta,
                                              baseOffset: Offset(header.baseOffset), logAppendTimeMs: -1))
            }
        }
        if epochsChanged { saveEpochCache() }
        return end
    }

    /// The leader's high watermark, as far as this follower's log reaches.
    func followerHighWatermark(_ leaderHighWatermark: Offset) {
        guard leaderState == nil else { return }
        let next = min(leaderHighWatermark, log.logEndOffset)
        if next != highWatermark {
            highWatermark = next
            onHighWatermarkChanged?()
        }
    }

    /// A follower's divergent tail goes (KIP-101): everything at and past `offset`.
    func truncate(to offset: Offset) throws(StorageError) {
        guard offset < log.logEndOffset else {
            // Nothing to cut from the log, but the epoch cache may end with an epoch this replica
            // took office in as leader and wrote nothing in (an entry at the log end). A leader
            // that never had that epoch answers every fetch naming it with a divergence, so it
            // goes (as Kafka's UnifiedLog.truncateTo does); kept, the follower fetched, "cut"
            // nothing and fetched again, forever (found by cluster-sim, seed 9).
            if epochCache.truncateFromEnd(log.logEndOffset) { saveEpochCache() }
            return
        }
        logger.notice("\(log.topic)-\(log.partition): truncating from \(log.logEndOffset) to \(offset) (leader epoch divergence)", metadata: .partition(key, epoch: leaderEpoch))
        onLogShrunk?(offset)
        try log.truncate(to: offset)
        afterTruncation()
    }

    /// A follower whose leader's log starts past all of its data starts over at `offset`.
    func restart(at offset: Offset) throws(StorageError) {
        logger.notice("\(log.topic)-\(log.partition): log restarts at \(offset) (the leader's log starts there)", metadata: .partition(key, epoch: leaderEpoch))
        onLogShrunk?(.zero)
        try log.truncateFully(startingAt: offset)
        afterTruncation()
    }

    private func afterTruncation() {
        let end = log.logEndOffset
        groupCommit.truncated(to: end)
        if epochCache.truncateFromEnd(end) { saveEpochCache() }
        if epochCache.truncateFromStart(log.logStartOffset) { saveEpochCache() }
        highWatermark = min(highWatermark, end)
        producers = ProducerStateTable()
        rebuildProducerState()
    }

    /// Log start offsets the followers reported in their fetches (leader side; DeleteRecords
    /// waits for the ISR's).
    private(set) var followerLogStarts: [BrokerID: Offset] = [:]

    func followerReported(logStart: Offset, by id: BrokerID) {
        followerLogStarts[id] = logStart
    }

    /// The lowest log start offset in the ISR as far as this leader knows (its own, and what each
    /// follower last reported; nil while not leading). A follower that has not reported counts as 0.
    var isrLogStart: Offset? {
        guard let isr = leaderState?.isr else { return nil }
        return isr.map { $0 == nodeID ? log.logStartOffset : followerLogStarts[$0] ?? .zero }.min()
    }

    /// DeleteRecords on the leader (the caller checked `offset` against the high watermark), or
    /// a follower taking the leader's log start offset from a fetch answer: moves the log start
    /// offset up to `offset` (never past the log end) and drops the segments wholly below it.
    /// Returns whether it moved.
    @discardableResult
    func moveLogStart(to offset: Offset) throws(StorageError) -> Bool {
        guard offset > log.logStartOffset, !log.isOffline else { return false }
        let before = log.logStartOffset
        onLogShrunk?(nil)
        try log.deleteRecords(before: offset)
        if epochCache.truncateFromStart(log.logStartOffset) { saveEpochCache() }
        return log.logStartOffset != before
    }

    // MARK: Retention and flushing

    /// Retention (see `PartitionLog.applyRetention`); an offline log is left alone.
    func applyRetention(now: TimestampMs) throws(StorageError) -> PartitionLog.RetentionResult? {
        guard !log.isOffline else { return nil }
        let result = try log.applyRetention(now: now)
        if result.deletedSegments > 0 { onLogShrunk?(nil) }
        if epochCache.truncateFromStart(log.logStartOffset) { saveEpochCache() }
        return result
    }

    // MARK: Compaction (D151; the cleaner's owner-side steps)

    func cleanerInput(name: String, checkpoint: Offset?, config: CompactionConfig) -> LogToCleanInput {
        log.cleanerInput(name: name, highWatermark: highWatermark, checkpoint: checkpoint, config: config)
    }

    /// For each idempotent producer this replica remembers, the last offset of its last batch
    /// (D144: such a batch is kept, empty if need be, so its sequence survives a restart).
    var producerLastOffsets: [Int64: Int64] {
        producers.entries.compactMapValues { entry in
            entry.batches.last.map { $0.baseOffset.rawValue + Int64($0.lastSequence &- $0.firstSequence) }
        }
    }

    func prepareClean(_ range: CleanableRange, nowMs: Int64, deleteRetentionMs: Int64, maxKeys: Int) throws(StorageError) -> CleanerJob? {
        guard !log.isOffline else { return nil }
        return try log.prepareClean(range, nowMs: nowMs, deleteRetentionMs: deleteRetentionMs,
                                    producerLastOffsets: producerLastOffsets, maxKeys: maxKeys)
    }

    func applyCleaned(_ group: CleanedGroup) throws(StorageError) -> Bool { try log.applyCleanedGroup(group) }

    /// Kafka's flush policy says a background flush is due.
    func flushIsDue(now: TimestampMs) -> Bool { log.flushIsDue(now: now) }

    /// One flush: request made here on the owner, fdatasync on the pool, completion back here.
    private func flush(_ completion: @escaping (Result<Offset, any Error>) -> Void) {
        guard let request = log.makeFlushRequest() else {
            // Offline: nothing more can be made durable; the waiters fail (KAFKA_STORAGE_ERROR).
            if let failure = log.offlineError {
                completion(.failure(failure))
            } else {
                completion(.success(log.recoveryPoint))
            }
            return
        }
        let metrics = self.metrics
        threadPool.runIfActive(eventLoop: loop) { () throws -> Offset in
            guard let metrics else { return try request.perform() }
            return try metrics.timingFlush { try request.perform() }
        }.whenComplete { [self] result in
            switch result {
            case .success:
                log.flushCompleted(request, now: Clock.now())
                completion(.success(request.endOffset))
            case .failure(let error):
                if let storage = error as? StorageError { log.flushFailed(storage) }
                logger.error("fdatasync of \(log.directory) failed: \(error); the log is offline until restart")
                completion(.failure(error))
            }
        }
    }

    /// Starts a background flush of everything appended so far (nobody waits for it).
    func flushInBackground() {
        groupCommit.requestFlush(end: log.logEndOffset)
    }

    // MARK: The epoch cache and producer state on disk

    /// The epoch cache from `leader-epoch-checkpoint`, cut to the log (its newest epoch kept:
    /// `LeaderEpochCache.recover`); rebuilt from the batch headers when the file is missing or
    /// damaged (a data directory of an earlier release).
    private func loadEpochCache() -> LeaderEpochCache {
        do {
            if let text = try log.readLeaderEpochCheckpoint() {
                var cache = try LeaderEpochCache(checkpointText: text)
                cache.recover(logEnd: log.logEndOffset)
                cache.truncateFromStart(log.logStartOffset)
                return cache
            }
        } catch {
            logger.warning("\(log.directory)/\(PartitionLog.leaderEpochCheckpointName): \(error); rebuilding it from the log")
        }
        var cache = LeaderEpochCache()
        walkBatchHeaders(from: log.logStartOffset) { header in
            if header.partitionLeaderEpoch >= 0 {
                cache.assign(epoch: LeaderEpoch(header.partitionLeaderEpoch), startOffset: Offset(header.baseOffset))
            }
        }
        if !cache.entries.isEmpty {
            do { try log.writeLeaderEpochCheckpoint(cache.checkpointText) } catch {
                logger.error("writing \(log.directory)/\(PartitionLog.leaderEpochCheckpointName): \(error)")
            }
        }
        return cache
    }

    private func saveEpochCache() {
        do {
            try log.writeLeaderEpochCheckpoint(epochCache.checkpointText)
        } catch {
            // The cache in memory is right; a restart rebuilds the file from the batch headers.
            logger.error("writing \(log.directory)/\(PartitionLog.leaderEpochCheckpointName): \(error)")
        }
    }

    /// Rebuilds the idempotent-producer table from the batch headers of the active segment, so a
    /// producer retrying across a broker restart or a leader change still gets duplicate
    /// detection for its recent batches. (Kafka keeps producer snapshots; the active segment
    /// bounds this scan.)
    private func rebuildProducerState() {
        walkBatchHeaders(from: max(log.activeSegment.baseOffset, log.logStartOffset)) { header in
            if header.producerId >= 0 && header.baseSequence >= 0 {
                producers.record(producerId: header.producerId, epoch: header.producerEpoch,
                                 batch: .init(firstSequence: header.baseSequence,
                                              lastSequence: header.baseSequence &+ header.lastOffsetDelta,
                                              baseOffset: Offset(header.baseOffset), logAppendTimeMs: -1))
            }
        }
    }

    /// Calls `body` with every batch header from `start` to the log end (across segments).
    private func walkBatchHeaders(from start: Offset, _ body: (RecordBatchHeader) -> Void) {
        var next = start
        while next < log.logEndOffset {
            guard case .records(let slice) = log.read(from: next, maxBytes: Int.max), !slice.isEmpty else { return }
            let before = next
            slice.withUnsafeBytes { bytes in
                var position = 0
                while position < bytes.count, let header = RecordBatchHeader(UnsafeRawBufferPointer(rebasing: bytes[position...])) {
                    body(header)
                    next = Offset(header.lastOffset + 1)
                    position += header.totalSize
                }
            }
            if next <= before { return }
        }
    }
}
