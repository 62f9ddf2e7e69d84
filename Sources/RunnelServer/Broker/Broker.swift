import ClusterMetadata
import Foundation
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

/// The broker's state and request handling: the data plane. Everything here is owned by one
/// event loop, `loop` (DESIGN.md §7): requests hop to it, and only it touches the metadata image,
/// the partition logs, producer state and parked requests, so the produce and fetch paths take no
/// locks. Blocking file work (fsync) runs on `threadPool` and comes back to `loop` as an event.
///
/// Metadata comes from the control plane (`ControlPlane`: the Raft metadata quorum, the
/// controller, registration and heartbeats, forwarding to the active controller): every applied
/// batch is handed to this loop (`metadataApplied`, as its `ControlPlaneHost`), where the
/// `ReplicaManager` opens, creates and deletes the local replicas. Changes go through the
/// controller (`controlPlane.submit`) and complete once committed and applied here.
/// `ServerNode` opens both and wires them together.
final class Broker: RequestDispatcher, GroupServiceHost, ControlPlaneHost {
    /// The configuration in effect: the static one with the metadata log's dynamic broker
    /// configs on top (`staticConfig.withDynamic`), refreshed when those change.
    private(set) var config: BrokerConfig
    /// The configuration from the file, environment and overrides.
    let staticConfig: BrokerConfig
    let loop: any EventLoop
    let threadPool: NIOThreadPool
    let logger: Logger
    let allocator = ByteBufferAllocator()

    /// The quorum, the controller and the way to it (it sees this broker only as its host).
    let controlPlane: ControlPlane
    let logs: LogManager
    let replicas: ReplicaManager
    let clusterID: String
    /// The metadata as applied on this loop.
    private(set) var image: MetadataImage
    var topicIDs = SystemRandomNumberGenerator()
    var fetchWaiters = FetchWaiters()
    /// DeleteRecords answers waiting for the ISR's log start offsets, per partition.
    var deleteRecordsWaiters: [TopicPartition: [DeleteRecordsWaiter]] = [:]
    /// The follower side of replication: fetchers from the leaders of the partitions followed here.
    lazy var replicaFetchers = makeReplicaFetchers()
    /// The group coordinator shell (one pure coordinator per __consumer_offsets partition).
    lazy var groups = GroupService(host: self, brokerConfig: config)
    /// What each request may do: everything unless `authorizer.class.name` turns ACLs on.
    let authorizer: Authorizer
    /// The ports actually bound, by listener name, for listeners that asked for port 0 (set by
    /// BrokerRuntime).
    var boundPorts: [String: Int] = [:]
    /// Next producer id to hand out; ids up to image.nextProducerID are reserved for this run.
    /// Starts at the reserved end, so ids reserved by an earlier run are never reused.
    lazy var producerIDsNext: Int64 = image.nextProducerID

    /// Whether the metadata replayed at start-up has caught up (`finishStartup` ran). Until then
    /// the image may be history — a broker-only node serves its client listener while it replays —
    /// so no partition is led here (NOT_LEADER_OR_FOLLOWER; clients retry).
    private(set) var metadataCaughtUp = false
    /// A creation of __consumer_offsets is under way.
    var creatingOffsetsTopic = false
    /// Requests received but not yet answered (graceful shutdown waits for them).
    var inFlight = 0
    var shuttingDown = false
    private var drained: EventLoopPromise<Void>?
    private var periodicTasks: [RepeatedTask] = []
    /// Prometheus metrics (`runnel.metrics.listener`), nil when off; see `attachMetrics`.
    var metrics: BrokerMetrics?
    /// The log cleaner (Broker+Cleaner.swift), nil when `log.cleaner.enable` is false.
    var cleaner: LogCleaner?
    /// `cleaner-offset-checkpoint`: each compacted log's first dirty offset.
    var cleanerCheckpoints: [TopicPartition: Offset] = [:]
    var cleanerStats = CleanerStats()

    var nodeID: BrokerID { config.nodeID }
    var partitions: [TopicPartition: Partition] { replicas.partitions }

    /// Opens the partition logs of the data directory, with the metadata of `controlPlane` as it
    /// stands before its quorum starts (its latest snapshot); `finishStartup` opens the replicas
    /// once the metadata is replayed. `fileSystem` is the seam fault tests use to fail chosen file
    /// operations of the logs. `ServerNode.open` creates both and wires them together.
    init(config: BrokerConfig, controlPlane: ControlPlane, loop: any EventLoop, threadPool: NIOThreadPool,
         logger: Logger, fileSystem: any FileSystem = PosixFileSystem()) throws {
        self.staticConfig = config
        let dynamic = controlPlane.quorum.image.dynamicBrokerConfigs(for: config.nodeID)
        let config = config.withDynamic(broker: dynamic.broker, defaults: dynamic.defaults)
        self.config = config
        authorizer = Authorizer(config: config)
        self.loop = loop
        self.threadPool = threadPool
        self.logger = logger
        self.controlPlane = controlPlane
        let dataDirectory = config.dataDirectory
        clusterID = controlPlane.clusterID
        image = controlPlane.quorum.image

        let defaults = LogConfigs.brokerDefault(config)
        FileDescriptorLimit.raiseSoftLimit(logger: logger)
        do {
            let known = image
            logs = try LogManager(dataDirectory: dataDirectory, defaultConfig: defaults, now: Clock.now(),
                                  fileSystem: fileSystem, logger: logger,
                                  configFor: { topic in known.topic(topic).map { LogConfigs.forTopic($0.configs, broker: config) } })
        } catch {
            throw StorageFailure("opening the logs", path: dataDirectory, detail: FileDescriptorLimit.explain(error))
        }
        FileDescriptorLimit.check(segments: logs.logs.values.reduce(0) { $0 + $1.segmentCount },
                                  partitions: logs.logs.count, logger: logger)
        replicas = ReplicaManager(nodeID: config.nodeID, logs: logs, config: config, loop: loop, threadPool: threadPool,
                                  logger: logger)
        replicas.onHighWatermarkChanged = { [weak self] key in self?.fetchWaiters.notify(key, .highWatermark) }
    }

    /// After the metadata is replayed: local replicas opened (strays deleted), groups loaded,
    /// periodic work scheduled. `latest` is the quorum's image when it shares this loop.
    func finishStartup(latest: MetadataImage?) {
        loop.preconditionInEventLoop()
        image = latest ?? image
        refreshDynamicConfig()
        metadataCaughtUp = true
        let delta = replicas.apply(image, deleteStrays: true)
        followRoleChanges(delta.roles, removed: delta.removed)
        groups.start()
        schedulePeriodicWork()
        startCleaner()
    }

    func partitionAppended(_ key: TopicPartition) { fetchWaiters.notify(key, .appended) }

    /// A batch of committed metadata was applied by the quorum (called on this loop).
    func metadataApplied(_ next: MetadataImage, _ records: [MetadataRecord]) {
        loop.preconditionInEventLoop()
        image = next
        if records.contains(where: { if case .brokerConfig = $0 { return true } else { return false } }) {
            refreshDynamicConfig()
        }
        let delta = replicas.apply(next)
        for key in delta.removed { fetchWaiters.partitionRemoved(key, broker: self) }
        followRoleChanges(delta.roles, removed: delta.removed)
        if !shuttingDown { groups.leadershipChanged(delta.roles, removed: delta.removed) }
        let topicsChanged = records.contains {
            switch $0 {
            case .topic, .removeTopic, .partition: return true
            default: return false
            }
        }
        if topicsChanged && !shuttingDown { groups.topicsChanged() }
    }

    /// Puts the image's dynamic broker configs (this broker's and the cluster-wide defaults) on
    /// top of the static configuration; partition logs pick the new defaults up in `replicas.apply`.
    private func refreshDynamicConfig() {
        let dynamic = image.dynamicBrokerConfigs(for: nodeID)
        let next = staticConfig.withDynamic(broker: dynamic.broker, defaults: dynamic.defaults)
        guard next.dynamicValues != config.dynamicValues || next.dynamicDefaults != config.dynamicDefaults else { return }
        config = next
        replicas.config = next
        if let rate = next.string("log.cleaner.io.max.bytes.per.second").flatMap(Double.init),
           let throttle = cleaner?.throttle, throttle.bytesPerSecond != rate {
            throttle.set(bytesPerSecond: rate)
        }
        logger.info("dynamic broker configuration now \((next.dynamicValues.merging(next.dynamicDefaults) { mine, _ in mine }).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))")
    }

    private func schedulePeriodicWork() {
        let retentionMs = config.int("log.retention.check.interval.ms")!
        periodicTasks.append(loop.scheduleRepeatedTask(initialDelay: .milliseconds(retentionMs),
                                                       delay: .milliseconds(retentionMs)) { [weak self] _ in
            self?.applyRetention()
        })
        // Kafka's log.flush.scheduler: checks flush.ms every second; a no-op unless configured.
        periodicTasks.append(loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] _ in
            self?.flushDueLogs()
        })
        // Followers that stopped catching up leave the ISR (Kafka checks every lag time / 2).
        let isrCheckMs = max(50, replicaLagTimeMs / 2)
        periodicTasks.append(loop.scheduleRepeatedTask(initialDelay: .milliseconds(isrCheckMs),
                                                       delay: .milliseconds(isrCheckMs)) { [weak self] _ in
            self?.checkISRs()
        })
        // Checkpoints bound recovery work after a crash (Kafka: every 60 s).
        periodicTasks.append(loop.scheduleRepeatedTask(initialDelay: .seconds(60), delay: .seconds(60)) { [weak self] _ in
            guard let self else { return }
            do { try self.logs.writeCheckpoints() } catch { self.logger.error("writing checkpoints: \(error)") }
        })
    }

    func applyRetention() {
        let now = Clock.now()
        var moved = false
        for (key, partition) in partitions.sorted(by: { $0.key < $1.key }) {
            do {
                guard let result = try partition.applyRetention(now: now) else { continue }
                if result.deletedSegments > 0 {
                    moved = true
                    logger.info("retention: deleted \(counted(result.deletedSegments, "segment")) (\(counted(result.deletedBytes, "byte"))) of \(key); log start offset now \(result.logStartOffset)",
                                metadata: .partition(key))
                }
            } catch {
                logger.error("retention of \(key): \(error)", metadata: .partition(key))
            }
        }
        // The log start offsets moved: persist them so a restart does not serve deleted ranges.
        if moved {
            do { try logs.writeCheckpoints() } catch { logger.error("writing checkpoints: \(error)") }
        }
    }

    private func flushDueLogs() {
        let now = Clock.now()
        for partition in partitions.values where partition.flushIsDue(now: now) {
            partition.flushInBackground()
        }
    }

    // MARK: Dispatch

    func dispatch(frame: ByteBuffer, connection: ConnectionInfo, completion: @escaping (DispatchResult) -> Void) {
        if let raftInbox = controlPlane.raftInbox, (try? RequestHeader.Prefix.peek(frame).apiKey) == ApiKey.runnelRaft.rawValue {
            return raftInbox.dispatch(frame: frame, connection: connection, completion: completion)
        }
        if loop.inEventLoop {
            handle(frame: frame, connection: connection, completion: completion)
        } else {
            loop.execute { self.handle(frame: frame, connection: connection, completion: completion) }
        }
    }

    private func handle(frame: ByteBuffer, connection: ConnectionInfo, completion: @escaping (DispatchResult) -> Void) {
        // Once shutdown has begun the logs are closing: new requests get their connection
        // closed (clients reconnect elsewhere or retry after the restart), never a half-done answer.
        guard !shuttingDown else {
            completion(.close(reason: "broker is shutting down"))
            return
        }
        inFlight += 1
        // Per-API count and latency (D123): two integers more in this closure's context, no
        // allocation of their own.
        let apiKey = metrics == nil ? -1 : (try? RequestHeader.Prefix.peek(frame).apiKey) ?? -1
        let startedAt = metrics == nil ? 0 : BrokerMetrics.now()
        let done: (DispatchResult) -> Void = { [self] result in
            loop.preconditionInEventLoop()
            inFlight -= 1
            metrics?.requestDone(apiKey: apiKey, startedAt: startedAt)
            completion(result)
            if inFlight == 0, let drained { self.drained = nil; drained.succeed(()) }
        }
        RequestRouter.route(frame: frame, connection: connection, broker: self, done: done)
    }

    // MARK: Shutdown

    /// Graceful shutdown on the owner loop: answer parked fetches now, wait (bounded) for
    /// in-flight requests such as acks=all produces waiting for fsync, then flush and close every
    /// log, write checkpoints and the clean-shutdown marker.
    func shutdown() -> EventLoopFuture<Void> {
        loop.preconditionInEventLoop()
        // Controlled shutdown first, while requests are still served: the controller moves this
        // broker's leaderships to other replicas (nothing to move on a single node).
        guard image.brokers.count > 1, let controlled = controlPlane.controlledShutdown() else { return stopServing() }
        return controlled.flatMap { [self] in stopServing() }
    }

    private func stopServing() -> EventLoopFuture<Void> {
        loop.preconditionInEventLoop()
        controlPlane.stop()
        shuttingDown = true
        for task in periodicTasks { task.cancel() }
        cleaner?.stop()
        replicaFetchers.shutdown()
        groups.shutdown()
        fetchWaiters.completeAll()
        let promise = loop.makePromise(of: Void.self)
        if inFlight == 0 { promise.succeed(()) } else { drained = promise }
        let deadline = loop.scheduleTask(in: .seconds(10)) { [self] in
            if let drained {
                logger.warning("shutdown: \(counted(inFlight, "request")) still in flight after 10 s; closing anyway")
                self.drained = nil
                drained.succeed(())
            }
        }
        return promise.futureResult.flatMapThrowing { [self] in
            deadline.cancel()
            controlPlane.shutDownSharedQuorum()
            try logs.close()
            logger.info("flushed and closed \(counted(partitions.count, "partition log")); clean-shutdown marker written")
        }
    }
}

/// Wall-clock milliseconds: the shell's one clock (pure modules get time injected).
enum Clock {
    static func now() -> TimestampMs {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return TimestampMs(Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }
}
