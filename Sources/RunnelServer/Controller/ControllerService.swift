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
/// (two CreateTopics of one name: the second is refused). A proposal that fails resets `latest`
/// to the committed image; so does losing leadership.
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
            return loop.makeSucceededFuture(.failure(.init(41, "This node is not the active controller" +
                (leader.rawValue == 0 ? "; no controller is elected yet." : "; node \(leader) is."))))
        }
        if inFlight == 0 { latest = quorum.image }
        let records: [MetadataRecord]
        switch decide(&controller, latest) {
        case .failure(let refusal): return loop.makeSucceededFuture(.failure(refusal))
        case .success(let decided): records = decided
        }
        guard !records.isEmpty else { return loop.makeSucceededFuture(.success(())) }
        do {
            latest = try latest.applying(records)
        } catch {
            return loop.makeSucceededFuture(.failure(.init(-1, "the controller's records do not apply: \(error)")))
        }
        inFlight += 1
        return quorum.propose(records).map { .success(()) }.flatMapErrorThrowing { [self] error in
            latest = quorum.image
            let proposal = error as? MetadataQuorum.ProposalError
            switch proposal {
            case .notLeader, .superseded, .shuttingDown: return .failure(.init(41, "\(error)"))
            case .timedOut: return .failure(.init(7, "\(error)"))
            case .storage, .none: return .failure(.init(-1, "\(error)"))
            }
        }.always { [self] _ in inFlight -= 1 }
    }
}
