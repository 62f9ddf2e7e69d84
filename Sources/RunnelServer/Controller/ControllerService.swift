import ClusterMetadata
import Logging
import NIOCore
import RaftCore
import RunnelCore

/// The controller role (DESIGN.md §5): turns requests that change metadata into records with the
/// pure `MetadataController`, proposes them to the metadata quorum, and completes the caller once
/// they are committed and applied. It lives on the quorum's loop.
///
/// Decisions are made against `latest`: the committed image plus this controller's own
/// proposals that are not committed yet, so two requests in a row see each other's effects
/// (two CreateTopics of one name: the second is refused). Losing leadership resets `latest` to
/// the committed image, and so does a proposal refused for that reason. A proposal that only
/// timed out is still in the log of a leader that kept its leadership and will commit: `latest`
/// keeps it until the committed image has caught up, so no decision is made against a state that
/// misses it (an ISR change refused on such a state while the timed-out one commits would leave
/// its leader settling the wrong outcome).
final class ControllerService {
    typealias Decision = (inout MetadataController, MetadataImage) -> Result<[MetadataRecord], MetadataController.Refusal>

    let quorum: MetadataQuorum
    private let logger: Logger
    private(set) var controller: MetadataController
    private var latest: MetadataImage
    private var inFlight = 0

    init(quorum: MetadataQuorum, controller: MetadataController, logger: Logger) {
        self.quorum = quorum
        self.controller = controller
        self.logger = logger
        latest = quorum.image
    }

    var loop: any EventLoop { quorum.loop }
    var isActive: Bool { quorum.isActiveController }

    /// Called by the quorum when this node becomes or stops being the active controller.
    func activeChanged(_ active: Bool, now: Int64) {
        loop.preconditionInEventLoop()
        latest = quorum.image
        if active { controller.becameActive(image: latest, now: now) }
    }

    /// Runs `decide` against the latest image and proposes its records. The future (on the
    /// quorum loop) succeeds once they are applied, or fails with the refusal: the decision's
    /// own, NOT_CONTROLLER (41) when this node is not the active controller, or
    /// REQUEST_TIMED_OUT (7) when the quorum did not commit in time.
    func submit(_ decide: @escaping Decision) -> EventLoopFuture<Result<Void, MetadataController.Refusal>> {
        loop.preconditionInEventLoop()
        guard quorum.isActiveController else {
            let leader = quorum.leader
            return loop.makeSucceededFuture(.failure(.init(.notController, "This node is not the active controller" +
                (leader.rawValue == 0 ? "; no controller is elected yet." : "; node \(leader) is."))))
        }
        if inFlight == 0 && quorum.image.recordCount >= latest.recordCount { latest = quorum.image }
        let records: [MetadataRecord]
        switch decide(&controller, latest) {
        case .failure(let refusal): return loop.makeSucceededFuture(.failure(refusal))
        case .success(let decided): records = decided
        }
        guard !records.isEmpty else { return loop.makeSucceededFuture(.success(())) }
        do {
            latest = try latest.applying(records)
        } catch {
            return loop.makeSucceededFuture(.failure(.init(.unknownServerError, "the controller's records do not apply: \(error)")))
        }
        inFlight += 1
        return quorum.propose(records).map { .success(()) }.flatMapErrorThrowing { [self] error in
            let proposal = error as? MetadataQuorum.ProposalError
            if case .timedOut = proposal {} else { latest = quorum.image }
            switch proposal {
            case .notLeader, .superseded, .shuttingDown: return .failure(.init(.notController, "\(error)"))
            case .timedOut: return .failure(.init(.requestTimedOut, "\(error)"))
            case .storage, .none: return .failure(.init(.unknownServerError, "\(error)"))
            }
        }.always { [self] _ in inFlight -= 1 }
    }
}

// MARK: Broker lifecycle (BrokerRegistration and BrokerHeartbeat, on the CONTROLLER listener)

extension ControllerService {
    /// Registers a broker; the future carries its new epoch.
    func register(_ request: MetadataController.RegistrationRequest, now: Int64)
        -> EventLoopFuture<Result<Int64, MetadataController.Refusal>> {
        let box = LifecycleBox()
        addLearnerIfNeeded(request.id)
        return submit { controller, latest in
            controller.register(request, in: latest, now: now).map { decided in
                box.epoch = decided.epoch
                return decided.records
            }
        }.map { result in result.map { box.epoch } }
    }

    /// A broker's heartbeat; the future carries the reply once its records are applied.
    func heartbeat(_ heartbeat: MetadataController.Heartbeat, now: Int64)
        -> EventLoopFuture<Result<MetadataController.HeartbeatReply, MetadataController.Refusal>> {
        let box = LifecycleBox()
        addLearnerIfNeeded(heartbeat.id)
        return submit { controller, latest in
            controller.heartbeat(heartbeat, in: latest, now: now).map { decided in
                box.reply = decided.reply
                return decided.records
            }
        }.map { result in result.map { box.reply! } }
    }

    /// A leader's ISR changes (AlterPartition): one decision for all of them; the future carries
    /// each change's committed state or its refusal, in order.
    func alterPartition(_ changes: [MetadataController.ISRChange], from broker: BrokerID, brokerEpoch: Int64)
        -> EventLoopFuture<[Result<PartitionState, MetadataController.Refusal>]> {
        let box = LifecycleBox()
        return submit { controller, latest in
            var records: [MetadataRecord] = []
            box.outcomes = changes.map { change in
                controller.alterPartition(change, from: broker, brokerEpoch: brokerEpoch, in: latest).map { decided in
                    if let record = decided.record { records.append(record) }
                    return decided.state
                }
            }
            return .success(records)
        }.map { result in
            switch result {
            case .success: return box.outcomes
            case .failure(let refusal): return changes.map { _ in .failure(refusal) }
            }
        }
    }

    /// A broker that is not a member of the metadata quorum (a broker-only node) becomes a
    /// learner, so the log reaches it; tried again at each of its heartbeats until it is one.
    private func addLearnerIfNeeded(_ broker: BrokerID) {
        let id = NodeID(UInt64(broker.rawValue))
        if !quorum.isMember(id) { quorum.addLearner(id) }
    }

    /// The active controller's periodic work: fence brokers whose session expired, and give
    /// leadership back to preferred replicas when `rebalance` is due.
    func periodicCheck(now: Int64, rebalance: Bool) {
        guard isActive else { return }
        _ = submit { controller, latest in .success(controller.expireSessions(in: latest, now: now)) }
        if rebalance {
            _ = submit { controller, latest in .success(controller.rebalanceLeaders(in: latest)) }
        }
    }
}

/// Carries a decision's by-product (an epoch, a heartbeat reply) out of the decision closure.
private final class LifecycleBox {
    var epoch: Int64 = -1
    var reply: MetadataController.HeartbeatReply?
    var outcomes: [Result<PartitionState, MetadataController.Refusal>] = []
}
