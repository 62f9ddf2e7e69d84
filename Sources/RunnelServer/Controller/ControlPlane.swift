import ClusterMetadata
import KafkaMessages
import LogStorage
import Logging
import NIOCore
import RaftCore
import RunnelCore

/// What the control plane needs of the broker it feeds: where applied metadata goes, and the
/// image heartbeats report the offset of. The control plane sees the broker only through this.
protocol ControlPlaneHost: AnyObject {
    /// The metadata as applied on the host's loop.
    var image: MetadataImage { get }
    /// A batch of committed metadata was applied by the quorum (called on the host's loop).
    func metadataApplied(_ image: MetadataImage, _ records: [MetadataRecord])
}

/// This node's part in the cluster's control plane: its member of the metadata quorum
/// (`MetadataQuorum`), the controller that decides when this node is the active one
/// (`ControllerService`), the way to the active controller when it is another node
/// (`ControllerChannel`), the broker's registration and heartbeats (`BrokerLifecycle`), the active
/// controller's periodic work, and the forwarding of admin requests to it.
///
/// Threads: the quorum and the controller run on `quorum.loop`; everything else here is owned by
/// `loop`, the broker's loop, where every completion and every applied batch is delivered (to the
/// host, `ControlPlaneHost`). A single voter's quorum shares `loop` (`sharesLoop`), so its
/// proposals commit within the call.
final class ControlPlane {
    let config: BrokerConfig
    /// The broker's loop (the owner of the state below and of the host).
    let loop: any EventLoop
    let logger: Logger
    let clusterID: String
    let quorum: MetadataQuorum
    let controllerService: ControllerService
    /// The way to the active controller when it is another node.
    let controllerChannel: ControllerChannel
    /// Whether this node is the active controller, as last reported on `loop`.
    private(set) var isActiveControllerHere = false
    /// Registration with the controller and heartbeats (set once the broker is serving).
    private(set) var lifecycle: BrokerLifecycle?
    /// Where Raft messages that reach a client listener go: a broker-only node is a learner of the
    /// metadata quorum without a CONTROLLER listener, and the leader sends it the log there.
    var raftInbox: ControllerRouter?
    private var controllerTask: RepeatedTask?
    /// The metadata of a single-node release, converted once the quorum has started.
    private var legacy: [MetadataRecord]?
    private weak var host: (any ControlPlaneHost)?

    var nodeID: BrokerID { config.nodeID }
    /// Whether the quorum runs on the broker's loop (a single voter: nothing else would use another).
    var sharesLoop: Bool { quorum.loop === loop }

    /// Opens the metadata quorum's log (not started yet) and reads the metadata of a single-node
    /// release, if any. `quorumLoop` runs the quorum (nil: `loop`).
    init(config: BrokerConfig, clusterID: String, loop: any EventLoop, quorumLoop: (any EventLoop)?, logger: Logger) throws {
        self.config = config
        self.loop = loop
        self.logger = logger
        self.clusterID = clusterID
        let dataDirectory = config.dataDirectory
        let voters = config.effectiveVoters.map { NodeID(UInt64($0.rawValue)) }
        var options = MetadataQuorum.Options(nodeID: NodeID(UInt64(config.nodeID.rawValue)), voters: voters, peers: [:],
                                             clusterID: clusterID, directory: dataDirectory + "/" + Self.metadataDirectoryName)
        options.snapshotBytes = Int(config.int("metadata.log.max.record.bytes.between.snapshots")!)
        options.listenerName = config.controllerListenerNames.first ?? options.listenerName
        for voter in config.quorumVoters { options.peers[NodeID(UInt64(voter.id.rawValue))] = (voter.host, voter.port) }
        legacy = try LegacyMetadataLog.read(dataDirectory: dataDirectory, logger: logger)
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
    }

    /// Where the metadata quorum keeps its Raft log and snapshots (Kafka's directory name).
    static var metadataDirectoryName: String { LogManager.foreignDirectoryNames.first! }

    /// Delivers the quorum's applied batches to `host` (on `loop`) and follows the active
    /// controller. Call once, before `startQuorum`.
    func attach(_ host: any ControlPlaneHost) {
        self.host = host
        let ownerLoop = loop
        func onOwner(_ body: @escaping () -> Void) {
            if ownerLoop.inEventLoop { body() } else { ownerLoop.execute(body) }
        }
        quorum.onApplied = { [weak host] image, records in
            onOwner { host?.metadataApplied(image, records) }
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

    /// Starts the quorum (call on `quorum.loop`). A single voter elects itself and replays its
    /// log within the call, then converts the metadata of a single-node release, if any.
    func startQuorum() throws {
        quorum.loop.preconditionInEventLoop()
        quorum.start()
        if sharesLoop, let legacy {
            self.legacy = nil
            try convert(legacy)
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
        let image = quorum.image
        let topics = image.topicNames.count
        logger.notice("converted the metadata of a single-node release: \(counted(records.count, "record")), \(counted(topics, "topic")), producer ids from \(image.nextProducerID); the old file is kept as \(LegacyMetadataLog.fileName)\(LegacyMetadataLog.convertedSuffix)")
    }

    // MARK: The active controller

    /// The active controller as last known here.
    var activeControllerID: BrokerID? { isActiveControllerHere ? nodeID : controllerChannel.activeID }

    /// Runs `decide` on the controller; `completion` on `loop` once its records are applied
    /// there (or with the refusal). With a single-voter quorum on `loop` it completes before this
    /// returns.
    func submit(_ decide: @escaping ControllerService.Decision,
                completion: @escaping (Result<Void, MetadataController.Refusal>) -> Void) {
        let service = controllerService
        let owner = loop
        let run = {
            service.submit(decide).whenComplete { result in
                let outcome: Result<Void, MetadataController.Refusal>
                switch result {
                case .success(let decided): outcome = decided
                case .failure(let error): outcome = .failure(.init(.unknownServerError, "\(error)"))
                }
                if owner.inEventLoop { completion(outcome) } else { owner.execute { completion(outcome) } }
            }
        }
        if service.loop.inEventLoop { run() } else { service.loop.execute(run) }
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

    // MARK: Serving

    /// Once the broker serves: the controller's periodic work, and registration with heartbeats.
    func startServing(advertising listeners: [Listener]) {
        scheduleControllerWork()
        startLifecycle(advertising: listeners)
    }

    /// Registers with the controller and starts heartbeating (a single voter is registered and
    /// unfenced when this returns). A broker-only node starts it before its metadata has caught
    /// up: registering is what makes the controller add it to the quorum as a learner.
    func startLifecycle(advertising listeners: [Listener]) {
        loop.preconditionInEventLoop()
        if let lifecycle { return lifecycle.start() }
        let context = BrokerLifecycle.Context(
            nodeID: nodeID, clusterID: clusterID,
            listeners: listeners.map { .init(name: $0.name, host: $0.host, port: Int32($0.port)) },
            rack: config.string("broker.rack").flatMap { $0.isEmpty ? nil : $0 }, heartbeatIntervalMs: config.int("broker.heartbeat.interval.ms")!,
            metadataOffset: { [unowned self] in host?.image.recordCount ?? 0 },
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

    // MARK: Shutdown

    /// Controlled shutdown: the controller moves this broker's leaderships to other replicas
    /// (nil when this broker never registered). It waits at most 30 s, and gives up after 5 s
    /// without any controller answer: longer than a controller failover (an election timeout is
    /// at most 2 s), shorter than a supervisor's patience when a whole cluster stops at once (D99).
    func controlledShutdown() -> EventLoopFuture<Void>? {
        loop.preconditionInEventLoop()
        return lifecycle?.shutDown(timeoutMs: 30_000, silenceMs: 5_000)
    }

    /// No more heartbeats, controller work or forwarding.
    func stop() {
        loop.preconditionInEventLoop()
        lifecycle?.stop()
        controllerTask?.cancel()
        controllerChannel.close()
    }

    /// Stops a quorum that shares the broker's loop (a cluster's quorum is stopped on its own
    /// loop by `BrokerRuntime`, after the broker).
    func shutDownSharedQuorum() {
        if sharesLoop { quorum.shutdown() }
    }
}
