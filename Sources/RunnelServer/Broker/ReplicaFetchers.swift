import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import Replication
import RunnelClient
import RunnelCore

/// The follower side of replication (DESIGN.md §5): one fetcher per leader broker, each sending
/// Kafka's Fetch (v12, with this broker's replica id) for every partition this broker follows
/// there, long-polling like a consumer. Owner-loop only.
///
/// One fetch round: send → append each partition's batches byte for byte (or truncate where the
/// leader reports a diverging epoch) → with `runnel.acks.all.fsync` fsync every partition that
/// got data reaching the leader's high watermark (group commit, on the thread pool) → next
/// round. The next fetch's offsets are the positions the leader counts toward its high
/// watermark, so any that can count names fsynced data; a follower far behind (its log end
/// still below the high watermark) fsyncs only once it reaches it.
/// A failed round (connection, timeout) waits `replica.fetch.backoff.ms` and reconnects.
final class ReplicaFetchers {
    struct Settings {
        var nodeID: BrokerID
        var waitMaxMs: Int32 = 500
        var partitionBytesMax: Int32 = 1 << 20
        var responseBytesMax: Int32 = 10 << 20
        var backoffMs: Int64 = 1000
    }

    let loop: any EventLoop
    let settings: Settings
    let logger: Logger
    /// This broker's replica of a partition.
    let partition: (TopicPartition) -> Partition?
    /// Where a broker's inter-broker listener is, from the metadata.
    let endpoint: (BrokerID) -> BrokerAddress?
    /// TLS when inter.broker.listener.name is an SSL listener (nil: plain TCP).
    let tls: ClientTLS?
    /// Told after batches were appended to a follower's log.
    var appended: ((TopicPartition) -> Void)?
    private var fetchers: [BrokerID: ReplicaFetcher] = [:]
    private var sources: [TopicPartition: BrokerID] = [:]

    init(loop: any EventLoop, settings: Settings, logger: Logger, partition: @escaping (TopicPartition) -> Partition?,
         endpoint: @escaping (BrokerID) -> BrokerAddress?, tls: ClientTLS? = nil) {
        self.tls = tls
        self.loop = loop
        self.settings = settings
        self.logger = logger
        self.partition = partition
        self.endpoint = endpoint
    }

    /// The source this broker fetches `key` from.
    func source(of key: TopicPartition) -> BrokerID? { sources[key] }

    /// Follow `key` at `leader` (nil: stop fetching it — this broker leads it, or nobody does).
    func follow(_ key: TopicPartition, leader: BrokerID?) {
        loop.preconditionInEventLoop()
        if let current = sources[key] {
            guard current != leader else { return }
            fetchers[current]?.remove(key)
            sources[key] = nil
        }
        guard let leader, leader != settings.nodeID else { return }
        sources[key] = leader
        let fetcher = fetchers[leader] ?? {
            let made = ReplicaFetcher(source: leader, owner: self)
            fetchers[leader] = made
            return made
        }()
        fetcher.add(key)
    }

    func shutdown() {
        for fetcher in fetchers.values { fetcher.stop() }
        fetchers.removeAll()
        sources.removeAll()
    }
}

/// Fetches every partition this broker follows at one leader, over one connection.
final class ReplicaFetcher {
    let source: BrokerID
    private weak var ownerReference: ReplicaFetchers?
    private var owner: ReplicaFetchers { ownerReference! }
    private var partitions: Set<TopicPartition> = []
    /// Partitions whose first fetch here waits for their log to be durable (see `add`).
    private var syncing: Set<TopicPartition> = []
    private var connection: EventLoopFuture<BrokerConnection>?
    private var running = false
    /// Counts rounds; a round whose number is no longer current was abandoned (see `restart`).
    private var generation = 0
    /// The partitions of the fetch now parked at the leader; nil while no request is out.
    private var asking: Set<TopicPartition>?
    private var restartPending = false
    /// The pause before the next round after a partition error, doubled while errors repeat.
    private var errorBackoffMs: Int64 = 0
    private var stopped = false
    private var failures = 0
    private let loop: any EventLoop
    private let logger: Logger
    private let settings: ReplicaFetchers.Settings

    init(source: BrokerID, owner: ReplicaFetchers) {
        self.source = source
        self.ownerReference = owner
        self.loop = owner.loop
        self.logger = owner.logger
        self.settings = owner.settings
    }

    func add(_ key: TopicPartition) {
        partitions.insert(key)
        // The first fetch from this leader names the log end as the replica's position, and a
        // new leader counts it at once (its high watermark may be below it, or the replica may
        // join its ISR there). With `runnel.acks.all.fsync` that end must be durable first: the
        // previous leader's round may still be waiting for its fsync, or have deferred it (D63).
        // (Found by cluster-sim, seed 51: an ISR member's unsynced records below the new
        // leader's high watermark.)
        if let replica = owner.partition(key), replica.acksAllFsync, !replica.isLeader,
           replica.groupCommit.durableEnd < replica.logEndOffset {
            syncing.insert(key)
            replica.groupCommit.waitDurable(end: replica.logEndOffset) { [self] _ in
                // A failed fsync takes the log offline; rounds skip it.
                syncing.remove(key)
                start(including: key)
            }
            return start()
        }
        start(including: key)
    }

    /// Starts the round loop if it is idle. When a fetch is parked at the leader without `key`
    /// (it can wait there up to replica.fetch.wait.max.ms), that round is abandoned for a new one
    /// that asks for `key` too: a new partition's followers start at once, and the first acks=all
    /// batches of a new topic do not wait out a long poll.
    private func start(including key: TopicPartition? = nil) {
        if !running && !stopped {
            running = true
            loop.execute { self.round() }
        } else if let key, partitions.contains(key), let asking, !asking.contains(key) {
            restart()
        }
    }

    /// Abandons the fetch parked at the leader: its connection is closed and its answer never
    /// applied (its batches are fetched again; the positions it reported were durable when it was
    /// sent, and a leader records a position only when a fetch arrives, so a late answer to it can
    /// move nothing back). A new round starts on a new connection. Several partitions added at
    /// once restart once.
    private func restart() {
        guard !restartPending, !stopped else { return }
        restartPending = true
        generation += 1
        asking = nil
        connection?.whenSuccess { $0.close() }
        connection = nil
        loop.execute { [self] in
            restartPending = false
            round()
        }
    }

    func remove(_ key: TopicPartition) { partitions.remove(key) }

    func stop() {
        stopped = true
        connection?.whenSuccess { $0.close() }
        connection = nil
    }

    /// What a fetch asked for, per partition: the leader epoch and the offset it fetched from.
    private typealias Sent = [TopicPartition: (epoch: LeaderEpoch, offset: Offset)]

    private func round() {
        guard !stopped, ownerReference != nil, !partitions.isEmpty else { running = false; return }
        var request = FetchRequest()
        request.replicaId = settings.nodeID.rawValue
        request.maxWaitMs = settings.waitMaxMs
        request.minBytes = 1
        request.maxBytes = settings.responseBytesMax
        request.sessionEpoch = -1
        var sent: Sent = [:]
        var byTopic: [TopicName: [FetchRequest.FetchPartition]] = [:]
        for key in partitions.sorted() where !syncing.contains(key) {
            guard let replica = owner.partition(key), !replica.isLeader, !replica.isOffline else { continue }
            var wanted = FetchRequest.FetchPartition()
            wanted.partition = key.partition.rawValue
            wanted.currentLeaderEpoch = replica.leaderEpoch.rawValue
            wanted.fetchOffset = replica.logEndOffset.rawValue
            wanted.lastFetchedEpoch = replica.epochCache.latestEpoch?.rawValue ?? -1
            wanted.logStartOffset = replica.logStartOffset.rawValue
            wanted.partitionMaxBytes = settings.partitionBytesMax
            byTopic[key.topic, default: []].append(wanted)
            sent[key] = (replica.leaderEpoch, replica.logEndOffset)
        }
        guard !sent.isEmpty else {
            // Only partitions waiting for their fsync: its completion starts the next round.
            if partitions.isSubset(of: syncing) { running = false; return }
            return retry(after: settings.backoffMs)
        }
        request.topics = byTopic.keys.sorted().map { FetchRequest.FetchTopic(topic: $0.rawValue, partitions: byTopic[$0]!) }
        guard let connection = connect() else { return retry(after: settings.backoffMs) }
        let timeoutMs = Int64(settings.waitMaxMs) + 30_000
        generation += 1
        let round = generation
        asking = Set(sent.keys)
        connection.flatMap { $0.send(request, version: 12, timeoutMs: timeoutMs) }
            .hop(to: loop)
            .whenComplete { [self] result in
                guard !stopped, ownerReference != nil, round == generation else { return }
                asking = nil
                switch result {
                case .success(let response):
                    failures = 0
                    handle(response, sent: sent)
                case .failure(let error):
                    failures += 1
                    if failures == 1 || failures % 30 == 0 {
                        logger.warning("replica fetcher from broker \(source): \(error) (retrying every \(settings.backoffMs) ms)",
                                       metadata: .broker(source))
                    }
                    self.connection?.whenSuccess { $0.close() }
                    self.connection = nil
                    retry(after: settings.backoffMs)
                }
            }
    }

    private func retry(after ms: Int64) {
        guard !stopped, ownerReference != nil else { return }
        loop.scheduleTask(in: .milliseconds(ms)) { [self] in round() }
    }

    private func connect() -> EventLoopFuture<BrokerConnection>? {
        if let connection { return connection }
        guard let address = owner.endpoint(source) else { return nil }
        let made = BrokerConnection.connect(to: address, on: loop, clientId: "runnel-replica-\(settings.nodeID)",
                                            connectTimeoutMs: 2000, requestTimeoutMs: 30_000, frameBytesMax: 200 << 20,
                                            tls: owner.tls)
        connection = made
        return made
    }

    /// Applies one fetch response, then (after the fsyncs it needs) starts the next round.
    private func handle(_ response: FetchResponse, sent: Sent) {
        var toSync: [Partition] = []
        var backoff = response.errorCode != 0
        let now = Clock.now()
        for topic in response.responses {
            for data in topic.partitions {
                let key = TopicPartition(TopicName(topic.topic), PartitionID(data.partitionIndex))
                // Only if nothing changed since the request: still followed here, same epoch, same end.
                guard let asked = sent[key], partitions.contains(key), let replica = owner.partition(key), !replica.isLeader,
                      replica.leaderEpoch == asked.epoch, replica.logEndOffset == asked.offset else { continue }
                do {
                    switch KafkaErrorCode(data.errorCode) {
                    case .none:
                        if data.divergingEpoch.epoch >= 0 || data.divergingEpoch.endOffset >= 0 {
                            let leader = (epoch: LeaderEpoch(data.divergingEpoch.epoch), endOffset: Offset(data.divergingEpoch.endOffset))
                            let cut = FollowerTruncation.offset(leader: leader, local: replica.epochCache, localLogEnd: replica.logEndOffset)
                            try replica.truncate(to: max(cut.offset, replica.logStartOffset))
                        } else if let records = data.records, records.byteCount > 0 {
                            let buffer = records.buffer
                            _ = try buffer.withUnsafeReadableBytes { bytes throws(StorageError) in
                                try replica.appendReplicated(bytes, now: now)
                            }
                            owner.appended?(key)
                            // The position the next fetch reports must be durable only if it can
                            // count: reach the leader's high watermark (raise it, or let this
                            // replica rejoin the ISR). Below it, it can do neither — the high
                            // watermark never moves back — so a follower far behind defers the
                            // fsync to the round that reaches it (D63).
                            if replica.acksAllFsync && replica.logEndOffset >= Offset(data.highWatermark) {
                                toSync.append(replica)
                            }
                        }
                        replica.followerHighWatermark(Offset(data.highWatermark))
                        // DeleteRecords or retention on the leader: follow its log start offset
                        // (as far as this replica's log reaches; Kafka's maybeIncrementLogStartOffset).
                        if data.logStartOffset > replica.logStartOffset.rawValue {
                            try replica.moveLogStart(to: Offset(data.logStartOffset))
                        }
                    case .offsetOutOfRange:
                        if asked.offset < Offset(data.logStartOffset) {
                            try replica.restart(at: Offset(data.logStartOffset))
                        } else {
                            // Past the leader's end with no epoch to compare (an empty epoch
                            // cache): keep what the leader has committed, refetch the rest.
                            try replica.truncate(to: max(replica.logStartOffset, Offset(data.highWatermark)))
                        }
                    default:
                        // NOT_LEADER_OR_FOLLOWER, FENCED/UNKNOWN_LEADER_EPOCH, …: the metadata
                        // will move this partition; ask again after a pause.
                        backoff = true
                    }
                } catch {
                    logger.error("replicating \(key) from broker \(source): \(error)", metadata: .partition(key, broker: source))
                    backoff = true
                }
            }
        }
        // A partition error is mostly metadata in flight: this broker applied a change (a new
        // topic, a new leader epoch) before the leader did, or the other way round. The leader is
        // usually there within milliseconds, so the pause starts at 10 ms and doubles while
        // errors repeat, up to 200 ms (replica.fetch.backoff.ms if lower).
        if backoff {
            let cap = min(settings.backoffMs, 200)
            errorBackoffMs = errorBackoffMs == 0 ? min(10, cap) : min(errorBackoffMs * 2, cap)
        } else {
            errorBackoffMs = 0
        }
        let next = { [self] in backoff ? retry(after: errorBackoffMs) : round() }
        guard !toSync.isEmpty else { return next() }
        var pending = toSync.count
        for replica in toSync {
            replica.groupCommit.waitDurable(end: replica.logEndOffset) { _ in
                // A failed fsync takes the log offline; the next round skips it.
                pending -= 1
                if pending == 0 { next() }
            }
        }
    }
}
