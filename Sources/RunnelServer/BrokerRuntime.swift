import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RaftCore
import RunnelCore

/// Runs one broker process: event loops, the broker state, the listeners, and the signal handling
/// that turns SIGTERM/SIGINT into a graceful shutdown (stop accepting, finish in-flight requests,
/// flush, write the clean-shutdown marker, exit 0).
public final class BrokerRuntime {
    public let config: BrokerConfig
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let threadPool: NIOThreadPool
    private var node: ServerNode?
    private var server: KafkaServer?
    private var controllerServer: KafkaServer?
    /// The metadata quorum's own loop in a cluster (a single voter uses the broker's).
    private var controllerGroup: MultiThreadedEventLoopGroup?
    /// `runnel.metrics.listener`: /metrics and /health (nil when off).
    private var metricsServer: MetricsServer?
    public private(set) var boundAddresses: [SocketAddress] = []
    private let startedAt = DispatchTime.now()
    private let stopSignalled = DispatchSemaphore(value: 0)
    private let stopRequested = NIOLockedValueBox(false)
    private var signalSources: [any DispatchSourceSignal] = []

    /// Loads the TLS files first: a bad or missing one stops start-up here, naming the key and the file.
    public init(config: BrokerConfig, logger: Logger) throws {
        self.config = try config.loadingTLS()
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: config.networkThreads)
        threadPool = NIOThreadPool(numberOfThreads: config.ioThreads)
        threadPool.start()
    }

    /// Opens the data directory (recovering logs after an unclean stop), joins the metadata
    /// quorum and binds the listeners: the CONTROLLER ones first (the other voters must reach this
    /// node to elect a controller), the client ones once this node's metadata has caught up.
    public func start() throws {
        let owner = group.next()
        // The metrics listener comes first, so /health answers (503, with the reason) while the
        // logs load and the node joins the quorum.
        var metrics: BrokerMetrics?
        if let listener = config.metricsListener {
            let server = MetricsServer(logger: logger)
            let address: SocketAddress
            do {
                address = try server.bind(listener, group: group)
            } catch {
                throw ListenerBindError(listener: "metrics (\(MetricsListener.key))", host: listener.host, port: listener.port, cause: error)
            }
            metricsServer = server
            metrics = BrokerMetrics(apiKeys: ApiSupport.ranges.keys.sorted())
            logger.info("metrics listener: http://\(address.ipAddress ?? listener.host):\(address.port ?? listener.port)/metrics and /health")
        }
        // A single voter shares the broker's loop; in a cluster the quorum gets a loop of its own.
        let clustered = config.effectiveVoters != [config.nodeID]
        if clustered { controllerGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1) }
        let quorumLoop = controllerGroup?.next()
        let node = try owner.submit { [config, logger, threadPool] in
            try ServerNode.open(config: config, loop: owner, threadPool: threadPool, logger: logger, quorumLoop: quorumLoop,
                                metrics: metrics)
        }.wait()
        self.node = node
        metricsServer?.serve(node)
        let broker = node.broker
        let controlPlane = node.controlPlane
        let controllerNames = config.controllerListenerNames
        let router = ControllerRouter(quorum: controlPlane.quorum, controllerService: controlPlane.controllerService,
                                      admin: broker, logger: logger)
        let controllerServer = KafkaServer(group: group, dispatcher: router, frameBytesMax: config.requestBytesMax, logger: logger,
                                           tls: config.tls, protocols: config.listenerProtocols)
        for listener in config.listeners where controllerNames.contains(listener.name) {
            boundAddresses.append(try controllerServer.bind(listener))
        }
        self.controllerServer = controllerServer
        let server = KafkaServer(group: group, dispatcher: broker, frameBytesMax: config.requestBytesMax, logger: logger,
                                 tls: config.tls, protocols: config.listenerProtocols)
        server.saslSettings = SaslSettings(config: config)
        self.server = server
        func bindClientListeners() throws {
            var clientAddresses: [SocketAddress] = []
            var ports: [String: Int] = [:]
            for listener in config.listeners where !controllerNames.contains(listener.name) {
                let address = try server.bind(listener)
                clientAddresses.append(address)
                ports[listener.name] = address.port
            }
            boundAddresses += clientAddresses
            try owner.submit { broker.boundPorts = ports }.wait()
        }
        if let quorumLoop, !config.isController {
            // A broker-only node is a learner of the quorum: the log reaches it on its client
            // listener, and only after it registered (the controller then adds it as a learner).
            controlPlane.raftInbox = ControllerRouter(quorum: controlPlane.quorum, logger: logger)
            try bindClientListeners()
            try quorumLoop.submit { try controlPlane.startQuorum() }.wait()
            try owner.submit { node.startLifecycle() }.wait()
            try waitForMetadata(controlPlane.quorum)
            try owner.submit { node.finishStartup() }.wait()
            try waitForUnfencing(controlPlane)
        } else {
            if let quorumLoop {
                try quorumLoop.submit { try controlPlane.startQuorum() }.wait()
                try waitForMetadata(controlPlane.quorum)
                try owner.submit { node.finishStartup() }.wait()
                try waitForUnfencing(controlPlane)
            }
            try bindClientListeners()
        }
        let pending = config.explicitKeysNotYetInEffect
        if !pending.isEmpty {
            logger.notice("accepted but not yet in effect in Runnel: \(pending.joined(separator: ", "))")
        }
        let ms = Double(DispatchTime.now().uptimeNanoseconds - startedAt.uptimeNanoseconds) / 1e6
        logger.info("runnel \(RunnelVersion.current) ready: listeners \(boundAddresses.map(\.description).joined(separator: ", ")), data \(config.dataDirectory), node.id \(config.nodeID), \(String(format: "%.0f", ms)) ms to ready")
    }

    /// Blocks until the controller has unfenced this broker (it caught up with the metadata),
    /// as a Kafka broker enables its client listeners only then; says every 5 s what it waits for.
    private func waitForUnfencing(_ controlPlane: ControlPlane) throws {
        var lastReport = DispatchTime.now()
        while try controlPlane.loop.submit({ controlPlane.lifecycle?.isFenced ?? true }).wait() {
            try checkNotStopping()
            if DispatchTime.now().uptimeNanoseconds - lastReport.uptimeNanoseconds > 5_000_000_000 {
                lastReport = DispatchTime.now()
                logger.notice("still waiting for the active controller to unfence this broker")
            }
            usleep(20_000)
        }
    }

    /// Blocks (this thread, never a loop) until the metadata quorum has a leader and this node
    /// has applied everything it knows to be committed; says every 5 s what it waits for.
    private func waitForMetadata(_ quorum: MetadataQuorum) throws {
        let voters = config.quorumVoters.map(\.description).joined(separator: ",")
        var lastReport = DispatchTime.now()
        logger.info("joining the metadata quorum (voters \(voters))")
        while true {
            try checkNotStopping()
            let status = try quorum.loop.submit { quorum.status }.wait()
            if status.leader.rawValue != 0 && status.commit.rawValue > 0 && status.applied >= status.commit {
                logger.info("metadata quorum: node \(status.leader) leads (term \(status.term)); applied up to index \(status.applied)")
                return
            }
            if DispatchTime.now().uptimeNanoseconds - lastReport.uptimeNanoseconds > 5_000_000_000 {
                lastReport = DispatchTime.now()
                logger.notice("still waiting for the metadata quorum (voters \(voters)): \(status)")
            }
            usleep(50_000)
        }
    }

    /// Takes SIGTERM and SIGINT from now on: before `start`, so that a signal during start-up
    /// (log recovery, waiting for the quorum) stops the broker gracefully rather than killing it
    /// by the default action with its logs open (`start` then throws `StartupInterrupted`).
    public func installSignalHandlers() {
        guard signalSources.isEmpty else { return }
        let queue = DispatchQueue(label: "runnel.signals")
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { [self] in
                logger.info("received \(sig == SIGTERM ? "SIGTERM" : "SIGINT"): shutting down")
                stopRequested.withLockedValue { $0 = true }
                stopSignalled.signal()
            }
            source.resume()
            signalSources.append(source)
        }
    }

    /// A signal arrived while `start` was still waiting; the caller shuts down.
    public struct StartupInterrupted: Error, CustomStringConvertible {
        public var description: String { "start-up interrupted by a signal" }
    }

    private func checkNotStopping() throws {
        if stopRequested.withLockedValue({ $0 }) { throw StartupInterrupted() }
    }

    /// Blocks until SIGTERM or SIGINT, then shuts down gracefully. Returns the exit status.
    public func runUntilSignalled() -> Int32 {
        installSignalHandlers()
        stopSignalled.wait()
        return shutdown()
    }

    /// Graceful shutdown; returns the exit status (0 when everything was flushed).
    @discardableResult
    public func shutdown() -> Int32 {
        metricsServer?.close()
        server?.stopAccepting()
        var status: Int32 = 0
        if let node {
            let broker = node.broker
            do {
                try broker.loop.flatSubmit { broker.shutdown() }.wait()
            } catch {
                logger.error("shutdown: \(error)")
                status = 1
            }
            if let controllerGroup {
                let quorum = node.controlPlane.quorum
                try? quorum.loop.submit { quorum.shutdown() }.wait()
                try? controllerGroup.syncShutdownGracefully()
            }
        }
        controllerServer?.stopAccepting()
        try? group.syncShutdownGracefully()
        try? threadPool.syncShutdownGracefully()
        logger.info("stopped\(status == 0 ? " cleanly" : " with errors")")
        return status
    }
}
