import ClusterMetadata
import KafkaMessages
import NIOCore
import RaftCore
import RunnelCore

// DescribeQuorum (key 55), versions 0-2: the metadata quorum (topic `__cluster_metadata`,
// partition 0) as its leader, the active controller, sees it: leader id, leader epoch (the Raft
// term), high watermark (the commit index), every voter and observer (Raft learner) with its log
// end offset (match index) and, v1+, last fetch and last caught-up times (D44, D52); v2 adds the
// voters' CONTROLLER endpoints and error messages.
// - A broker that is not the active controller forwards the request to it (as Kafka's brokers
//   do); when that fails, or on a node that does not lead the quorum, the partition answers
//   NOT_LEADER_OR_FOLLOWER, Kafka's answer from a quorum member that is not the leader.
// - Anything but exactly `__cluster_metadata` partition 0 is INVALID_REQUEST, as in Kafka.
// Not implemented: directory ids (always the zero uuid: Runnel has no directory ids).
extension Broker {
    func handleDescribeQuorum(_ request: DescribeQuorumRequest, _ context: RequestContext,
                              _ respond: Responder<DescribeQuorumResponse>) {
        guard authorizeCluster(.describe, context) else {
            var response = DescribeQuorumResponse()
            response.errorCode = KafkaErrorCode.clusterAuthorizationFailed.rawValue
            response.errorMessage = Self.authorizationFailed
            return respond.send(response)
        }
        let answerHere = { [self] in
            let quorum = controlPlane.quorum
            let version = context.version
            let owner = loop
            let answer = {
                let response = quorum.answer(request, version: version, now: Clock.now().rawValue)
                if owner.inEventLoop { respond.send(response) } else { owner.execute { respond.send(response) } }
            }
            if quorum.loop.inEventLoop { answer() } else { quorum.loop.execute(answer) }
        }
        guard controlPlane.mustForward(context) else { return answerHere() }
        controlPlane.forward(request, context, respond, otherwise: answerHere)
    }
}

extension MetadataQuorum {
    /// The metadata log's name in DescribeQuorum (Kafka's).
    static let topicName = "__cluster_metadata"

    /// DescribeQuorum's answer on this node (call on `loop`).
    func answer(_ request: DescribeQuorumRequest, version: Int16, now: Int64) -> DescribeQuorumResponse {
        loop.preconditionInEventLoop()
        var response = DescribeQuorumResponse()
        response.errorMessage = nil
        guard request.topics.count == 1, request.topics[0].topicName == Self.topicName,
              request.topics[0].partitions.count == 1, request.topics[0].partitions[0].partitionIndex == 0 else {
            response.errorCode = KafkaErrorCode.invalidRequest.rawValue
            if version >= 2 { response.errorMessage = "DescribeQuorum names exactly \(Self.topicName) partition 0." }
            return response
        }
        var partition = DescribeQuorumResponse.PartitionData()
        partition.partitionIndex = 0
        partition.errorMessage = nil
        if let description = describe(now: now) {
            partition.leaderId = description.leaderID
            partition.leaderEpoch = description.leaderEpoch
            partition.highWatermark = description.highWatermark
            partition.currentVoters = description.voters.map(Self.replicaState)
            partition.observers = description.observers.map(Self.replicaState)
            if version >= 2 { response.nodes = voterNodes(description.voters.map(\.id)) }
        } else {
            let status = self.status
            partition.errorCode = KafkaErrorCode.notLeaderOrFollower.rawValue
            partition.leaderId = status.leader == .none ? -1 : Int32(truncatingIfNeeded: status.leader.rawValue)
            partition.leaderEpoch = Int32(truncatingIfNeeded: status.term.rawValue)
            partition.highWatermark = -1
            if version >= 2 {
                partition.errorMessage = "Node \(options.nodeID) does not lead the metadata quorum"
                    + (status.leader == .none ? "; no leader is known." : "; node \(status.leader) does.")
            }
        }
        response.topics = [DescribeQuorumResponse.TopicData(topicName: Self.topicName, partitions: [partition])]
        return response
    }

    private static func replicaState(_ replica: Description.Replica) -> DescribeQuorumResponse.ReplicaState {
        var state = DescribeQuorumResponse.ReplicaState()
        state.replicaId = replica.id
        state.logEndOffset = replica.logEndOffset
        state.lastFetchTimestamp = replica.lastFetchTimestamp
        state.lastCaughtUpTimestamp = replica.lastCaughtUpTimestamp
        return state
    }

    /// The CONTROLLER endpoint of each voter that controller.quorum.voters names.
    private func voterNodes(_ ids: [Int32]) -> [DescribeQuorumResponse.Node] {
        ids.compactMap { id in
            guard let address = options.peers[NodeID(UInt64(id))] else { return nil }
            var node = DescribeQuorumResponse.Node()
            node.nodeId = id
            node.listeners = [.init(name: options.listenerName, host: address.host, port: UInt16(clamping: address.port))]
            return node
        }
    }
}
