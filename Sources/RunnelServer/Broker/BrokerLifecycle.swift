import ClusterMetadata
import KafkaMessages
import Logging
import NIOCore
import RunnelCore

/// A broker's life with the controller (Kafka's BrokerRegistration and BrokerHeartbeat, keys
/// 62/63): it registers at start-up (a new incarnation id each process), then heartbeats every
/// `broker.heartbeat.interval.ms` with the metadata offset it has applied. The controller keeps
/// it fenced until it has caught up, fences it when its heartbeats stop for
/// `broker.session.timeout.ms`, and on a controlled shutdown moves its leaderships away before it
/// lets it go. A heartbeat refused for a stale or unknown registration registers again.
///
/// Runs on the broker's loop; it reaches the controller directly when this node is the active
/// controller, else over the CONTROLLER listener (`ControllerChannel`). Nothing here blocks.
final class BrokerLifecycle {
    struct Context {
        var nodeID: BrokerID
        var clusterID: String
        var listeners: [BrokerRegistration.Endpoint]
        var rack: String?
        var heartbeatIntervalMs: Int64
        /// The metadata offset this broker has applied (records below it).
        var metadataOffset: () -> Int64
        /// Whether this node is the active controller now.
        var isLocalControllerActive: () -> Bool
    }

    private let loop: any EventLoop
    private let context: Context
    private let controller: ControllerService
    private let channel: ControllerChannel
    private let logger: Logger
    let incarnation: TopicID
    private(set) var epoch: Int64 = -1
    private(set) var isFenced = true
    private var timer: Scheduled<Void>?
    private var inFlight = false
    private var stopped = false
    private var shutdownPromise: EventLoopPromise<Void>?
    /// When a controller last answered a heartbeat (any answer): a controlled shutdown gives up
    /// after a silence (D99), /health reports one longer than the session timeout (D125).
    private(set) var lastAnswer = NIODeadline.now()

    init(loop: any EventLoop, context: Context, controller: ControllerService, channel: ControllerChannel, logger: Logger) {
        self.loop = loop
        self.context = context
        self.controller = controller
        self.channel = channel
        self.logger = logger
        var random = SystemRandomNumberGenerator()
        incarnation = TopicID.random(using: &random)
    }

    /// Registers, then heartbeats at once (with a single-voter quorum on this loop both complete
    /// within the call, so the broker is unfenced when this returns).
    func start() {
        loop.preconditionInEventLoop()
        guard !started else { return }
        started = true
        beat()
    }

    private var started = false

    /// One step: register when not registered, else heartbeat; then schedule the next one.
    private func beat() {
        guard !stopped, !inFlight else { return }
        inFlight = true
        if epoch < 0 {
            register { [self] in inFlight = false; afterStep(immediately: epoch >= 0) }
        } else {
            heartbeat(wantShutDown: shutdownPromise != nil) { [self] in inFlight = false; afterStep(immediately: false) }
        }
    }

    private func afterStep(immediately: Bool) {
        guard !stopped else { return }
        if immediately { return beat() }
        let delay = shutdownPromise != nil ? min(500, context.heartbeatIntervalMs) : context.heartbeatIntervalMs
        timer = loop.scheduleTask(in: .milliseconds(delay)) { [weak self] in self?.beat() }
    }

    private func register(_ done: @escaping () -> Void) {
        let request = MetadataController.RegistrationRequest(id: context.nodeID, incarnation: incarnation,
                                                             listeners: context.listeners, rack: context.rack)
        if context.isLocalControllerActive() {
            onControllerLoop({ $0.register(request, now: Clock.now().rawValue) }) { [self] result in
                switch result {
                case .success(let epoch): registered(epoch)
                case .failure(let refusal): logger.info("registration with the controller refused: \(refusal.message)")
                }
                done()
            }
            return
        }
        var wire = BrokerRegistrationRequest()
        wire.brokerId = context.nodeID.rawValue
        wire.clusterId = context.clusterID
        wire.incarnationId = incarnation
        wire.listeners = context.listeners.map {
            .init(name: $0.name, host: $0.host, port: UInt16(clamping: $0.port), securityProtocol: $0.securityProtocol)
        }
        wire.rack = context.rack
        channel.send(wire, version: 0).whenComplete { [self] result in
            switch result {
            case .success(let response) where response.errorCode == 0: registered(response.brokerEpoch)
            case .success(let response) where response.errorCode == 41:
                channel.rotate()   // not the active controller: try the next voter
            case .success(let response): logger.info("registration with the controller refused: error \(response.errorCode)")
            case .failure(let error): logger.debug("registration: \(error)")
            }
            done()
        }
    }

    private func registered(_ newEpoch: Int64) {
        epoch = newEpoch
        isFenced = true
        logger.info("registered with the controller: broker \(context.nodeID), epoch \(newEpoch)",
                    metadata: .broker(context.nodeID, epoch: newEpoch))
    }

    private func heartbeat(wantShutDown: Bool, _ done: @escaping () -> Void) {
        let beat = MetadataController.Heartbeat(id: context.nodeID, epoch: epoch, metadataOffset: context.metadataOffset(),
                                                wantShutDown: wantShutDown)
        let handle: (Int16, MetadataController.HeartbeatReply?) -> Void = { [self] code, reply in
            if let reply {
                lastAnswer = .now()
                handleReply(reply)
            } else if code == KafkaErrorCode.staleBrokerEpoch.rawValue || code == KafkaErrorCode.brokerIDNotRegistered.rawValue {
                logger.info("the controller no longer knows this registration (error \(code)); registering again")
                epoch = -1
            }
            done()
        }
        if context.isLocalControllerActive() {
            onControllerLoop({ $0.heartbeat(beat, now: Clock.now().rawValue) }) { result in
                switch result {
                case .success(let reply): handle(0, reply)
                case .failure(let refusal): handle(refusal.code.rawValue, nil)
                }
            }
            return
        }
        var wire = BrokerHeartbeatRequest()
        wire.brokerId = beat.id.rawValue
        wire.brokerEpoch = beat.epoch
        wire.currentMetadataOffset = beat.metadataOffset
        wire.wantShutDown = wantShutDown
        channel.send(wire, version: 0).whenComplete { [self] result in
            switch result {
            case .success(let r) where r.errorCode == 0:
                handle(0, .init(isCaughtUp: r.isCaughtUp, isFenced: r.isFenced, shouldShutDown: r.shouldShutDown))
            case .success(let r):
                handle(r.errorCode, nil)
            case .failure(let error):
                logger.debug("heartbeat: \(error)")
                handle(-1, nil)
            }
        }
    }

    private func handleReply(_ reply: MetadataController.HeartbeatReply) {
        if reply.isFenced != isFenced {
            isFenced = reply.isFenced
            if shutdownPromise == nil {
                logger.info(reply.isFenced ? "broker \(context.nodeID) is fenced" : "broker \(context.nodeID) is unfenced: it serves as a replica and leader",
                            metadata: .broker(context.nodeID, epoch: epoch))
            }
        }
        if reply.shouldShutDown, let promise = shutdownPromise {
            logger.info("controlled shutdown: the controller moved this broker's leaderships away")
            stop()
            promise.succeed(())
        }
    }

    /// Controlled shutdown: heartbeats asking to shut down until the controller has moved this
    /// broker's leaderships away, or `timeoutMs` passes, or no controller has answered for
    /// `silenceMs` (the quorum has lost its majority: the other voters are stopping too, so
    /// nothing can be moved and waiting longer only delays the exit); then no more heartbeats.
    func shutDown(timeoutMs: Int64, silenceMs: Int64) -> EventLoopFuture<Void> {
        loop.preconditionInEventLoop()
        if let shutdownPromise { return shutdownPromise.futureResult }
        let promise = loop.makePromise(of: Void.self)
        guard !stopped, epoch >= 0 else {
            stop()
            promise.succeed(())
            return promise.futureResult
        }
        shutdownPromise = promise
        lastAnswer = .now()
        let giveUp = { [weak self] (why: String) in
            guard let self, !self.stopped else { return }
            self.logger.warning("controlled shutdown: \(why); stopping without it")
            self.stop()
            promise.succeed(())
        }
        let deadline = loop.scheduleTask(in: .milliseconds(timeoutMs)) {
            giveUp("the controller has not moved this broker's leaderships away in \(timeoutMs) ms")
        }
        let watch = loop.scheduleRepeatedTask(initialDelay: .milliseconds(250), delay: .milliseconds(250)) { [weak self] _ in
            guard let self, NIODeadline.now() - self.lastAnswer >= .milliseconds(silenceMs) else { return }
            giveUp("no controller has answered for \(silenceMs) ms (the metadata quorum has no reachable majority)")
        }
        promise.futureResult.whenComplete { _ in deadline.cancel(); watch.cancel() }
        timer?.cancel()
        beat()
        return promise.futureResult
    }

    func stop() {
        stopped = true
        timer?.cancel()
    }

    /// Runs `work` on the controller's loop and `done` back on this one.
    private func onControllerLoop<T>(_ work: @escaping (ControllerService) -> EventLoopFuture<T>, _ done: @escaping (T) -> Void) {
        let controller = self.controller
        let owner = loop
        let run = {
            work(controller).whenSuccess { value in
                if owner.inEventLoop { done(value) } else { owner.execute { done(value) } }
            }
        }
        if controller.loop.inEventLoop { run() } else { controller.loop.execute(run) }
    }
}
