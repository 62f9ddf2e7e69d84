import ClusterMetadata
import GroupCoordinator
import KafkaWire
import Logging
import LogStorage
import NIOCore
import Replication
import RunnelCore

/// What the group coordinator shell needs from the broker it runs in, and nothing more: the
/// owner loop and logger, the metadata image, the partitions this broker leads, a way to wake
/// fetches parked on a partition, and the creation of `__consumer_offsets` on first use.
protocol GroupServiceHost: AnyObject {
    var loop: any EventLoop { get }
    var logger: Logger { get }
    var image: MetadataImage { get }
    func leaderPartition(_ key: TopicPartition) -> Partition?
    /// Records were appended to `key`: parked fetches may be answered.
    func partitionAppended(_ key: TopicPartition)
    func ensureConsumerOffsetsTopic() -> MetadataController.Refusal?
}

/// The shell around the pure group coordinator: one `GroupCoordinatorStateMachine` per
/// `__consumer_offsets` partition this broker leads (all of them on one node). It feeds requests
/// in, executes the actions that come out, and keeps their ordering obligations:
///
/// - `.append` records go to the partition's log at once (in order) and the responses of the
///   same action list wait until the partition's high watermark passes them (as an acks=all
///   produce would: on every in-sync replica, fsynced with runnel.acks.all.fsync). Responses of
///   later lists wait behind earlier ones (FIFO per partition), so nothing a client is told can
///   be lost by a crash or a leader change.
/// - The coordinator of a partition moves with its leadership: a broker that becomes leader
///   loads the state from the log, and answers COORDINATOR_LOAD_IN_PROGRESS until the high
///   watermark reaches what it loaded (so it never serves state that could still be rolled
///   back); one that stops leading unloads it and answers NOT_COORDINATOR.
/// - A failed append or fsync answers the waiting responses with NOT_COORDINATOR, unloads the
///   coordinator and reloads it from the log (the log is the truth after a failed write).
/// - `.wakeup(at:)` becomes one scheduled task per partition (replaced by the next wakeup).
///
/// Owner-loop only. It sees the broker only through `GroupServiceHost`.
final class GroupService {
    private unowned let host: any GroupServiceHost
    let config: GroupConfig
    private(set) var coordinators: [Int32: GroupCoordinatorStateMachine] = [:]
    private var callbacks: [RequestToken: (GroupResponse) -> Void] = [:]
    private var nextToken: UInt64 = 1
    private var wakeups: [Int32: Scheduled<Void>] = [:]
    private var waiting: [Int32: [(end: Offset, responses: [(RequestToken, GroupResponse)])]] = [:]
    private var seeds = SystemRandomNumberGenerator()
    /// Per loaded partition: the log end it was loaded up to (served once committed).
    private var loadedEnd: [Int32: Offset] = [:]

    init(host: any GroupServiceHost, brokerConfig b: BrokerConfig) {
        self.host = host
        var c = GroupConfig()
        c.initialRebalanceDelayMs = b.int("group.initial.rebalance.delay.ms")!
        c.minSessionTimeoutMs = Int32(b.int("group.min.session.timeout.ms")!)
        c.maxSessionTimeoutMs = Int32(b.int("group.max.session.timeout.ms")!)
        c.offsetsRetentionMs = b.int("offsets.retention.minutes")! * 60_000
        c.consumerHeartbeatIntervalMs = Int32(b.int("group.consumer.heartbeat.interval.ms")!)
        c.consumerSessionTimeoutMs = Int32(b.int("group.consumer.session.timeout.ms")!)
        config = c
    }

    static var topic: TopicName { TopicName(Broker.consumerOffsetsTopic) }

    var partitionCount: Int32 { Int32(host.image.topic(Self.topic)?.partitions.count ?? 0) }

    /// At start-up: load every partition of an existing `__consumer_offsets`.
    func start() {
        guard partitionCount > 0 else { return }
        for p in 0..<partitionCount { load(partition: p) }
    }

    /// Creates `__consumer_offsets` (and its empty coordinators) on first use. nil when ready.
    func ensureReady() -> String? {
        if partitionCount == 0 {
            if let refusal = host.ensureConsumerOffsetsTopic() { return refusal.message }
        }
        for p in 0..<partitionCount where coordinators[p] == nil { load(partition: p) }
        return nil
    }

    /// Why requests for `group` cannot be served now (nil when they can): no coordinator
    /// partitions (the topic could not be created) or a partition whose coordinator failed to load.
    func unavailable(group: String) -> GroupErrorCode? {
        if ensureReady() != nil { return .coordinatorNotAvailable }
        let p = partition(forGroup: group)
        guard coordinators[p] != nil else { return .notCoordinator }
        if let end = loadedEnd[p] {
            let key = TopicPartition(Self.topic, PartitionID(p))
            guard let local = host.leaderPartition(key) else { return .notCoordinator }
            if local.highWatermark < end { return .coordinatorLoadInProgress }
            loadedEnd[p] = nil
        }
        return nil
    }

    /// Leadership of `__consumer_offsets` partitions moved: coordinators load where this broker
    /// now leads and unload where it stopped.
    func leadershipChanged(_ roles: [TopicPartition: Partition.RoleChange], removed: [TopicPartition]) {
        let changed = roles.filter { $0.key.topic == Self.topic }
        for key in removed where key.topic == Self.topic { unload(partition: key.partition.rawValue) }
        for (key, change) in changed.sorted(by: { $0.key < $1.key }) {
            let p = key.partition.rawValue
            unload(partition: p)
            if change == .becameLeader { load(partition: p) }
        }
    }

    /// Drops a partition's coordinator: waiting and later requests answer NOT_COORDINATOR.
    private func unload(partition p: Int32, reason: String = "this broker no longer leads it") {
        loadedEnd[p] = nil
        if let queue = waiting.removeValue(forKey: p) {
            for entry in queue { for (t, r) in entry.responses { deliver(t, r.failed(with: .notCoordinator)) } }
        }
        guard coordinators[p] != nil else { return }
        let actions = coordinators[p]!.unload()
        for case .respond(let token, let response) in actions { deliver(token, response) }
        coordinators[p] = nil
        wakeups[p]?.cancel()
        wakeups[p] = nil
        host.logger.info("group coordinator for \(Self.topic)-\(p) unloaded: \(reason)")
    }

    func partition(forGroup group: String) -> Int32 {
        CoordinatorPartition.partition(forGroup: group, partitionCount: partitionCount)
    }

    /// Runs one event on the coordinator of `group`'s partition; `respond` gets its response,
    /// now or later.
    func submit(group: String, respond: @escaping (GroupResponse) -> Void,
                _ event: (inout GroupCoordinatorStateMachine, RequestToken, TimestampMs) -> [GroupAction]) {
        submit(partition: partition(forGroup: group), respond: respond, event)
    }

    func submit(partition p: Int32, respond: @escaping (GroupResponse) -> Void,
                _ event: (inout GroupCoordinatorStateMachine, RequestToken, TimestampMs) -> [GroupAction]) {
        let token = RequestToken(nextToken)
        nextToken += 1
        callbacks[token] = respond
        precondition(coordinators[p] != nil, "submit to an unavailable coordinator: check unavailable(group:) first")
        let actions = event(&coordinators[p]!, token, Clock.now())
        execute(actions, partition: p)
    }

    /// The cluster's topics changed (created, deleted, grown): KIP-848 groups reassign.
    func topicsChanged() {
        for p in coordinators.keys.sorted() { topicsChanged(partition: p) }
    }

    /// The cluster's user topics as the coordinator sees them (internal topics excluded).
    private var currentTopics: [TopicInfo] {
        host.image.topicNames.filter { !$0.rawValue.hasPrefix("__") }.compactMap { name -> TopicInfo? in
            guard let t = host.image.topic(name) else { return nil }
            return TopicInfo(name: name, id: t.id, partitionCount: Int32(t.partitions.count))
        }
    }

    private func topicsChanged(partition p: Int32) {
        let actions = coordinators[p]!.topicsChanged(currentTopics, now: Clock.now())
        execute(actions, partition: p)
    }

    func shutdown() {
        for w in wakeups.values { w.cancel() }
        wakeups.removeAll()
    }

    // MARK: Loading

    private func load(partition p: Int32) {
        let key = TopicPartition(Self.topic, PartitionID(p))
        guard let local = host.leaderPartition(key) else { return }
        var machine = GroupCoordinatorStateMachine(config: config, seed: seeds.next())
        var offset = local.logStartOffset
        let end = local.logEndOffset
        var records = 0
        do {
            while offset < end {
                let slice: LogSlice
                switch local.read(from: offset, maxBytes: 16 << 20) {
                case .records(let read): slice = read
                case .offsetOutOfRange(let start, let end):
                    throw StorageFailure("read", path: local.directory, detail: "offset \(offset) is outside \(start)..<\(end)")
                case .unreadable(_, let reason):
                    throw StorageFailure("read", path: local.directory, detail: reason)
                }
                guard let next = slice.nextOffset else { break }
                var decoder = RecordBatchDecoder(slice.makeByteBuffer(), decompressedBytesMax: Limits.batchDecompressedBytesMax)
                while let batch = try decoder.next() {
                    for r in batch.records where r.offset >= offset {
                        machine.load(try GroupRecordCodec.decode(key: r.key, value: r.value))
                        records += 1
                    }
                }
                offset = next
            }
        } catch {
            host.logger.error("loading group coordinator for \(key) at offset \(offset): \(error); it stays unavailable")
            return
        }
        if records > 0 { host.logger.info("loaded \(records) group records from \(key)") }
        coordinators[p] = machine
        if local.highWatermark < end { loadedEnd[p] = end }
        let actions = coordinators[p]!.finishLoading(now: Clock.now())
        execute(actions, partition: p)
        topicsChanged(partition: p)
    }

    // MARK: Actions

    private func execute(_ actions: [GroupAction], partition p: Int32) {
        let key = TopicPartition(Self.topic, PartitionID(p))
        guard let local = host.leaderPartition(key) else {
            for case .respond(let token, let response) in actions { deliver(token, response.failed(with: .notCoordinator)) }
            return
        }
        var end = local.logEndOffset
        var failed = false
        var responses: [(RequestToken, GroupResponse)] = []
        for action in actions {
            switch action {
            case .append(let records):
                guard !failed, !records.isEmpty else { continue }
                do {
                    end = try append(records, to: local, key: key)
                } catch {
                    host.logger.error("group coordinator \(key): append failed: \(error); reloading from the log")
                    failed = true
                }
            case .respond(let token, let response):
                responses.append((token, failed ? response.failed(with: .notCoordinator) : response))
            case .wakeup(let at):
                scheduleWakeup(partition: p, at: at)
            }
        }
        if failed { reload(partition: p) }
        guard !responses.isEmpty else { return }
        waiting[p, default: []].append((end, responses))
        local.waitForAcks(end: end, minISR: 1, timeoutMs: Self.commitTimeoutMs) { [weak self] code in
            self?.durable(partition: p, result: code == .none ? .success(()) : .failure(GroupCommitFailure(code: code)), end: end)
        }
    }

    private func append(_ records: [GroupRecord], to local: Partition, key: TopicPartition) throws -> Offset {
        let now = Clock.now()
        var builder = RecordBatchBuilder(capacityBytes: 1024)
        for record in records {
            let encoded = GroupRecordCodec.encode(record)
            builder.append(timestamp: now, key: encoded.key, value: encoded.value)
        }
        let batch = builder.finish()
        let appended = try batch.withUnsafeReadableBytes { bytes -> PartitionLog.AppendResult in
            guard let header = RecordBatchHeader(bytes) else {
                throw StorageFailure("append", path: local.directory, detail: "the coordinator built a batch that does not parse")
            }
            return try local.append(batch: bytes, header: header, now: now)
        }
        host.partitionAppended(key)
        return appended.lastOffset + 1
    }

    /// How long a coordinator's write may wait for its in-sync replicas (Kafka's
    /// offsets.commit.timeout.ms default).
    static let commitTimeoutMs: Int64 = 5000

    struct GroupCommitFailure: Error { let code: KafkaErrorCode }

    private func durable(partition p: Int32, result: Result<Void, any Error>, end: Offset) {
        guard var queue = waiting[p] else { return }
        if case .failure = result {
            waiting[p] = nil
            for entry in queue { for (t, r) in entry.responses { deliver(t, r.failed(with: .notCoordinator)) } }
            reload(partition: p)
            return
        }
        while let first = queue.first, first.end <= end {
            queue.removeFirst()
            for (t, r) in first.responses { deliver(t, r) }
        }
        waiting[p] = queue.isEmpty ? nil : queue
    }

    private func deliver(_ token: RequestToken, _ response: GroupResponse) {
        guard let callback = callbacks.removeValue(forKey: token) else { return }
        callback(response)
    }

    private func scheduleWakeup(partition p: Int32, at: TimestampMs) {
        wakeups[p]?.cancel()
        let delayMs = max(0, at.rawValue - Clock.now().rawValue)
        wakeups[p] = host.loop.scheduleTask(in: .milliseconds(delayMs)) { [weak self] in
            guard let self, self.coordinators[p] != nil else { return }
            self.wakeups[p] = nil
            let actions = self.coordinators[p]!.tick(now: Clock.now())
            self.execute(actions, partition: p)
        }
    }

    private func reload(partition p: Int32) {
        guard coordinators[p] != nil else { return }
        unload(partition: p, reason: "reloading it from the log")
        load(partition: p)
    }
}
