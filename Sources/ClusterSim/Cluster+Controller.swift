import ClusterMetadata
import RaftCore
import Replication
import RunnelCore

// The active controller (the simulator's `ControllerService`): a request is decided by the pure
// `MetadataController` against the latest image, its records are proposed as one Raft entry, and
// the answer leaves once that entry is applied here. A node that is not the active controller
// answers NOT_CONTROLLER (the broker asks again, elsewhere).

extension Cluster {
    mutating func controllerTick(_ address: Address) {
        updateControllerRole(address)
        let i = index(address)
        guard var controller = nodes[i].controller else { return }
        let expired = controller.logic.expireSessions(in: controller.latest, now: nowMs)
        nodes[i].controller = controller
        if !expired.isEmpty { propose(expired, at: address, replies: [], why: "expire sessions") }
        controller = nodes[i].controller!
        if now >= controller.lastRebalance + Self.rebalanceTicks {
            nodes[i].controller!.lastRebalance = now
            let moves = controller.logic.rebalanceLeaders(in: controller.latest)
            if !moves.isEmpty { propose(moves, at: address, replies: [], why: "preferred leaders") }
        }
    }

    /// Proposes `records` as one entry; `replies` leave when it is applied. Returns false when the
    /// quorum refused the proposal (a transfer in progress).
    @discardableResult
    mutating func propose(_ records: [MetadataRecord], at address: Address, replies: [Message], why: String) -> Bool {
        let i = index(address)
        do {
            let entryIndex = try nodes[i].raft!.propose(MetadataRecord.encodeBatch(records))
            nodes[i].controller!.latest = try nodes[i].controller!.latest.applying(records)
            nodes[i].controller!.replies[entryIndex, default: []] += replies
            record("propose \(address) index=\(entryIndex) \(why): \(records.count) records")
            return true
        } catch {
            record("propose \(address) \(why) refused: \(error)")
            return false
        }
    }

    mutating func handleControllerRequest(_ message: Message) {
        let address = message.to
        let i = index(address)
        guard nodes[i].controller != nil else { return answerNotController(message) }
        let now = nowMs
        switch message.body {
        case .register(let request):
            switch nodes[i].controller!.logic.register(request, in: nodes[i].controller!.latest, now: now) {
            case .success(let (records, epoch)):
                let reply = Message(from: address, to: message.from, body: .registered(request.incarnation, epoch))
                propose(records, at: address, replies: [reply], why: "register \(request.id) epoch \(epoch)")
            case .failure:
                send(Message(from: address, to: message.from, body: .registered(request.incarnation, nil)))
            }
        case .heartbeat(let heartbeat):
            switch nodes[i].controller!.logic.heartbeat(heartbeat, in: nodes[i].controller!.latest, now: now) {
            case .success(let (records, answer)):
                let reply = Message(from: address, to: message.from, body: .heartbeatReply(.none, fenced: answer.isFenced))
                if records.isEmpty { send(reply) } else {
                    propose(records, at: address, replies: [reply], why: "heartbeat \(heartbeat.id)")
                }
            case .failure(let refusal):
                send(Message(from: address, to: message.from, body: .heartbeatReply(refusal.code, fenced: true)))
            }
        case .alterPartition(let change, let brokerEpoch, let id):
            alterPartition(change, brokerEpoch: brokerEpoch, id: id, message: message)
        case .createTopic(let name, let partitions, let replicationFactor, let minISR):
            let result = nodes[i].controller!.logic.createTopic(
                name: name, partitions: partitions, replicationFactor: replicationFactor,
                configs: ["min.insync.replicas": String(minISR)], in: nodes[i].controller!.latest, ids: &random)
            switch result {
            case .success(let records):
                let reply = Message(from: address, to: message.from, body: .createTopicReply(name, .none))
                propose(records, at: address, replies: [reply], why: "create topic \(name)")
            case .failure(let refusal):
                send(Message(from: address, to: message.from, body: .createTopicReply(name, refusal.code)))
            }
        default:
            preconditionFailure("not a controller request")
        }
    }

    private mutating func alterPartition(_ change: MetadataController.ISRChange, brokerEpoch: Int64, id: UInt64, message: Message) {
        let address = message.to
        let i = index(address)
        let key = TopicPartition(change.topic, change.partition)
        let controller = nodes[i].controller!
        let result = controller.logic.alterPartition(change, from: BrokerID(Int32(message.from)), brokerEpoch: brokerEpoch,
                                                     in: controller.latest)
        switch result {
        case .success(let (state, record)):
            let answer = ReplicaRules.ISRAnswer.accepted(isr: state.isr, leaderEpoch: state.leaderEpoch,
                                                         partitionEpoch: state.partitionEpoch)
            let reply = Message(from: address, to: message.from, body: .alterPartitionReply(change, answer, id: id))
            if let record {
                propose([record], at: address, replies: [reply], why: "ISR of \(key) to \(state.isr)")
            } else {
                send(reply)
            }
        case .failure(let refusal):
            record("controller \(address) refuses ISR \(change.newISR) of \(key): \(refusal.code)")
            send(Message(from: address, to: message.from, body: .alterPartitionReply(change, .refused(refusal.code), id: id)))
        }
    }

    private mutating func answerNotController(_ message: Message) {
        let body: Body
        switch message.body {
        case .register(let request): body = .registered(request.incarnation, nil)
        case .heartbeat: body = .heartbeatReply(.notController, fenced: true)
        case .alterPartition(let change, _, let id):
            body = .alterPartitionReply(change, .refused(.notController), id: id)
        case .createTopic(let name, _, _, _): body = .createTopicReply(name, .notController)
        default: preconditionFailure("not a controller request")
        }
        send(Message(from: message.to, to: message.from, body: body))
    }
}
