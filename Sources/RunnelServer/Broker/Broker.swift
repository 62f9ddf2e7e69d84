import ClusterMetadata
import Foundation
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RaftCore
import RunnelCore

/// The broker's state and request handling. Everything here is owned by one event loop, `loop`
/// (DESIGN.md §7): requests hop to it, and only it touches the metadata image, the partition
/// logs, producer state and parked requests, so the produce and fetch paths take no locks.
/// Blocking file work (fsync) runs on `threadPool` and comes back to `loop` as an event.
///
/// Metadata comes from the Raft metadata quorum (`MetadataQuorum`, on `quorum.loop`): every
/// applied batch is handed to this loop (`metadataApplied`), where the `ReplicaManager` opens,
/// creates and deletes the local replicas. Changes go through the controller
/// (`ControllerService.submit`) and complete once committed and applied here. A single node is a
/// one-voter quorum on the same path; its quorum shares this loop (nothing else would use
/// another), so its proposals commit within the call.
final class Broker: RequestDispatcher, GroupServiceHost {
    let config: BrokerConfig
    let loop: any EventLoop
    let threadPool: NIOThreadPool
    let logger: Logger
    let allocator = ByteBufferAllocator()

    let quorum: MetadataQuorum
    let controllerService: ControllerService
    /// The way to the active controller when it is another node.
    let controllerChannel: ControllerChannel
    /// Whether this node is the active controller, as last reported on this loop.
    private(set) var isActiveControllerHere = false
    /// Registration with the controller and heartbeats (set once the broker is serving).
    var lifecycle: BrokerLifecycle?
    let logs: LogManager
    let replicas: ReplicaManager
    let clusterID: String
    /// The metadata as applied on this loop.
    private(set) var image: MetadataImage
    var topicIDs = SystemRandomNumberGenerator()
    var fetchWaiters = FetchWaiters()
    /// The follower side of replication: fetchers from the leaders of the partitions followed here.
    lazy var replicaFetchers = makeReplicaFetchers()
    /// The group coordinator shell (one pure coordinator per __consumer_offsets partition).
    lazy var groups = GroupService(host: self, brokerConfig: config)
    /// What each request may do (ACLs plug in there; until then everything is allowed).
    let authorizer = Authorizer()
    /// The port actually bound, when the listener asked for port 0 (set by BrokerRuntime).
    var boundPort: Int?
    /// Next producer id to hand out; ids up to image.nextProducerID are reserved for this run.
    /// Starts at the reserved end, so ids reserved by an earlier run are never reused.
    lazy var producerIDsNext: Int64 = image.nextProducerID

    /// A creation of __consumer_offsets is under way.
    var creatingOffsetsTopic = false
    /// Requests received but not yet answered (graceful shutdown waits for them).
    var inFlight = 0
    var shuttingDown = false
    private var drained: EventLoopPromise<Void>?
    private var periodicTasks: [RepeatedTask] = []
    private var controllerTask: RepeatedTask?

    var nodeID: BrokerID { config.nodeID }
    var partitions: [TopicPartition: Partition] { replicas.partitions }

    /// Opens the data directory and the metadata quorum, converts a single-node data directory
    /// of an earlier release, and opens every local replica the metadata places here.
    /// `quorumLoop` runs the metadata quorum (nil: this loop). `fileSystem` is the seam fault
    /// tests use to fail chosen file operations of the logs.
    init(config: BrokerConfig, loop: any EventLoop, threadPool: NIOThreadPool, logger: Logger,
         fileSystem: any FileSystem = PosixFileSystem(), quorumLoop: (any EventLoop)? = nil) throws {
        self.config = config
        self.loop = loop
        self.threadPool = threadPool
        self.logger = logger
        let dataDirectory = config.dataDirectory
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        clusterID = try MetaProperties.load(dataDirectory: dataDirectory, nodeID: config.nodeID)

        let voters = config.effectiveVoters.map { NodeID(UInt64($0.rawValue)) }
        var options = MetadataQuorum.Options(nodeID: NodeID(UInt64(config.nodeID.rawValue)), voters: voters, peers: [:],
                                             clusterID: clusterID, directory: dataDirectory + "/" + Self.metadataDirectoryName)
        options.snapshotBytes = Int(config.int("metadata.log.max.record.bytes.between.snapshots")!)
        options.listenerName = config.controllerListenerNames.first ?? options.listenerName
        for voter in config.quorumVoters { options.peers[NodeID(UInt64(voter.id.rawValue))] = (voter.host, voter.port) }
        let legacy = try LegacyMetadataLog.read(dataDirectory: dataDirectory, logger: logger)
        quorum = try MetadataQuorum(options: options, loop: quorumLoop ?? loop, logger: logger)
        if legacy != nil && voters.count != 1 {
            throw StorageFailure("convert", path: LegacyMetadataLog.path(dataDirectory: dataDirectory),
                                 detail: "this data directory was written by a single-node release; start it as a single node "
                                    + "(controller.quorum.voters empty) once to convert it before it joins a cluster")
        }
        var controller = MetadataController(config: .init(), staticBrokers: [config.nodeID])
        controller.config.uncleanLeaderElection = config.bool("unclean.leader.election.enable")
        controller.config.sessionTimeoutMs = config.int("broker.session.timeout.ms")!
        controller.config.leaderImbalancePercentage = Int(config.int("leader.imbalance.per.broker.percentage")!)
        controllerService = ControllerService(quorum: quorum, controller: controller, logger: logger)
        var addresses: [BrokerID: (host: String, port: Int)] = [:]
        for voter in config.quorumVoters { addresses[voter.id] = (voter.host, voter.port) }
        controllerChannel = ControllerChannel(loop: loop, nodeID: config.nodeID, addresses: addresses, logger: logger)
        image = quorum.image

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
        replicas.onHighWatermarkChanged = { [weak self] key in self?.fetchWaiters.notify(key) }
        wireQuorum()
        if quorum.loop === loop {
            // A single voter: it elects itself and replays its log within start().
            quorum.start()
            if let legacy { try convert(legacy) }
            finishStartup()
        }
    }

    /// Where the metadata quorum keeps its Raft log and snapshots (Kafka's directory name).
    static var metadataDirectoryName: String { LogManager.foreignDirectoryNames.first! }

    private func wireQuorum() {
        let ownerLoop = loop
        func onOwner(_ body: @escaping () -> Void) {
            if ownerLoop.inEventLoop { body() } else { ownerLoop.execute(body) }
        }
        quorum.onApplied = { [weak self] image, records in
            onOwner { self?.metadataApplied(image, records) }
        }
        quorum.onActiveChange = { [weak self] active in
            guard let self else { return }
            self.controllerService.activeChanged(active, now: Clock.now().rawValue)
            onOwner { self.isActiveControllerHere = active }
        }
        quorum.onLeaderChange = { [weak self] leader in
            let id = leader.rawValue == 0 ? nil : BrokerID(Int32(truncatingIfNeeded: leader.rawValue))
            onOwner { self?.controllerChannel.leaderChanged(id) }
        }
    }

    /// Whether an admin request must go to the active controller on another node: this node is
    /// not it, and the request came from a client (a request forwarded to this node's
    /// CONTROLLER listener is answered here, with NOT_CONTROLLER if need be).
    func mustForward(_ context: RequestContext) -> Bool {
        !isActiveControllerHere && !config.controllerListenerNames.contains(context.connection.listenerName)
    }

    /// The handler of an admin request that the active controller answers: `here` runs on this
    /// node when it is the active controller (or the request came over the CONTROLLER
    /// listener); otherwise the request is forwarded, and `here` answers only if that fails.
    func viaActiveController<R: KafkaRequest>(
        _ here: @escaping (R, RequestContext, Responder<R.Response>) -> Void
    ) -> (R, RequestContext, Responder<R.Response>) -> Void {
        { [self] request, context, respond in
            guard mustForward(context) else { return here(request, context, respond) }
            forward(request, context, respond) { here(request, context, respond) }
        }
    }

    /// Sends a client's admin request to the active controller and relays its answer; when that
    /// fails (no controller known, unreachable), `otherwise` answers here (NOT_CONTROLLER per item).
    func forward<R: KafkaRequest>(_ request: R, _ context: RequestContext, _ respond: Responder<R.Response>,
                                  otherwise: @escaping () -> Void) {
        controllerChannel.send(request, version: context.version).whenComplete { [self] result in
            switch result {
            case .success(let response):
                respond.send(response)
            case .failure(let error):
                logger.info("forwarding \(R.apiKey.name) to the active controller failed: \(error)")
                otherwise()
            }
        }
    }

    /// Converts the metadata of a single-node release (its records become one entry of the Raft
    /// log, committed before anything else happens), then marks the old file converted.
    private func convert(_ records: [MetadataRecord]) throws {
        guard quorum.image.recordCount == 0 else {
            // Converted before, but the rename did not happen (a crash in between).
            try LegacyMetadataLog.markConverted(dataDirectory: config.dataDirectory)
            return
        }
        var outcome: Result<Void, MetadataController.Refusal>?
        controllerService.submit { _, _ in .success(records) }.whenSuccess { outcome = $0 }
        guard case .success = outcome else {
            throw StorageFailure("convert", path: LegacyMetadataLog.path(dataDirectory: config.dataDirectory),
                                 detail: "the metadata quorum did not commit the converted records: \(String(describing: outcome))")
        }
        try LegacyMetadataLog.markConverted(dataDirectory: config.dataDirectory)
        let topics = image.topicNames.count
        logger.notice("converted the metadata of a single-node release: \(counted(records.count, "record")), \(counted(topics, "topic")), producer ids from \(image.nextProducerID); the old file is kept as \(LegacyMetadataLog.fileName)\(LegacyMetadataLog.convertedSuffix)")
    }

    /// After the metadata is replayed: local replicas opened (strays deleted), groups loaded,
    /// periodic work scheduled.
    func finishStartup() {
        loop.preconditionInEventLoop()
        image = quorum.loop === loop ? quorum.image : image
        let delta = replicas.apply(image, deleteStrays: true)
        followRoleChanges(delta.roles, removed: delta.removed)
        groups.start()
        schedulePeriodicWork()
        scheduleControllerWork()
        startLifecycle()
    }

    /// Registers with the controller and starts heartbeating (a single voter is registered and
    /// unfenced when this returns). A broker-only node starts it before its metadata has caught
    /// up: registering is what makes the controller add it to the quorum as a learner.
    func startLifecycle() {
        if let lifecycle { return lifecycle.start() }
        let listener = advertisedListener
        let context = BrokerLifecycle.Context(
            nodeID: nodeID, clusterID: clusterID,
            listeners: [.init(name: listener.name, host: listener.host, port: Int32(listener.port))],
            rack: config.string("broker.rack").flatMap { $0.isEmpty ? nil : $0 }, heartbeatIntervalMs: config.int("broker.heartbeat.interval.ms")!,
            metadataOffset: { [unowned self] in image.recordCount },
            isLocalControllerActive: { [unowned self] in isActiveControllerHere })
        let lifecycle = BrokerLifecycle(loop: loop, context: context, controller: controllerService, channel: controllerChannel,
                                        logger: logger)
        self.lifecycle = lifecycle
        lifecycle.start()
    }

    /// The active controller's periodic work, on the quorum's loop: fence brokers whose session
    /// expired and, with auto.leader.rebalance.enable, move leadership back to
    /// preferred replicas every leader.imbalance.check.interval.seconds.
    private func scheduleControllerWork() {
        let service = controllerService
        let rebalanceEvery = config.bool("auto.leader.rebalance.enable") ? config.int("leader.imbalance.check.interval.seconds")! : 0
        var ticks: Int64 = 0
        // Sessions are checked every 250 ms, so a broker is fenced at most that long after its
        // session ends; rebalance every `rebalanceEvery` seconds (four ticks each).
        controllerTask = service.loop.scheduleRepeatedTask(initialDelay: .milliseconds(250), delay: .milliseconds(250)) { _ in
            ticks += 1
            service.periodicCheck(now: Clock.now().rawValue, rebalance: rebalanceEvery > 0 && ticks % (rebalanceEvery * 4) == 0)
        }
    }

    func partitionAppended(_ key: TopicPartition) { fetchWaiters.notify(key) }

    /// A batch of committed metadata was applied by the quorum (called on this loop).
    func metadataApplied(_ next: MetadataImage, _ records: [MetadataRecord]) {
        loop.preconditionInEventLoop()
        image = next
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
                    logger.info("retention: deleted \(counted(result.deletedSegments, "segment")) (\(counted(result.deletedBytes, "byte"))) of \(key); log start offset now \(result.logStartOffset)")
                }
            } catch {
                logger.error("retention of \(key): \(error)")
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

    /// Where Raft messages that reach a client listener go: a broker-only node is a learner of the
    /// metadata quorum without a CONTROLLER listener, and the leader sends it the log there.
    var raftInbox: ControllerRouter?

    func dispatch(frame: ByteBuffer, connection: ConnectionInfo, completion: @escaping (DispatchResult) -> Void) {
        if let raftInbox, (try? RequestHeader.Prefix.peek(frame).apiKey) == ApiKey.runnelRaft.rawValue {
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
        let done: (DispatchResult) -> Void = { [self] result in
            loop.preconditionInEventLoop()
            inFlight -= 1
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
        guard let lifecycle, image.brokers.count > 1 else { return stopServing() }
        return lifecycle.shutDown(timeoutMs: 30_000).flatMap { [self] in stopServing() }
    }

    private func stopServing() -> EventLoopFuture<Void> {
        loop.preconditionInEventLoop()
        lifecycle?.stop()
        controllerTask?.cancel()
        controllerChannel.close()
        shuttingDown = true
        for task in periodicTasks { task.cancel() }
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
            if quorum.loop === loop { quorum.shutdown() }
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
