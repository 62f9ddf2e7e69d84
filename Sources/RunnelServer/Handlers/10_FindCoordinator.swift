import ClusterMetadata
import KafkaMessages
import Logging
import RunnelCore

// FindCoordinator (key 10), versions 0-4 (v4 batches keys). Key type 0 (group): this node, the
// leader of every __consumer_offsets partition, which is created on first use. Key type 1
// (transaction) → COORDINATOR_NOT_AVAILABLE (15): transactions are not implemented.
extension Broker {
    func handleFindCoordinator(_ request: FindCoordinatorRequest, _ context: RequestContext,
                               _ respond: Responder<FindCoordinatorResponse>) {
        var response = FindCoordinatorResponse()
        let keys = context.version >= 4 ? request.coordinatorKeys : [request.key]
        var results: [FindCoordinatorResponse.Coordinator] = []
        for key in keys {
            var c = FindCoordinatorResponse.Coordinator(key: key, nodeId: -1, host: "", port: -1, errorCode: 0, errorMessage: nil)
            if request.keyType != 0 {
                c = FindCoordinatorResponse.Coordinator(key: key, nodeId: -1, host: "", port: -1,
                                                        errorCode: KafkaErrorCode.coordinatorNotAvailable.rawValue,
                                                        errorMessage: "Only group coordinators exist (transactions are not implemented).")
            } else if let refusal = ensureConsumerOffsetsTopic() {
                c = FindCoordinatorResponse.Coordinator(key: key, nodeId: -1, host: "", port: -1,
                                                        errorCode: KafkaErrorCode.coordinatorNotAvailable.rawValue, errorMessage: refusal.message)
            } else {
                // The coordinator is the leader of the group's __consumer_offsets partition.
                let partition = PartitionID(groups.partition(forGroup: key))
                let leader = image.partition(TopicName(Self.consumerOffsetsTopic), partition)?.leader ?? .noLeader
                if let endpoint = endpoint(of: leader, listener: context.connection.listenerName) {
                    c.nodeId = leader.rawValue
                    c.host = endpoint.host
                    c.port = endpoint.port
                } else {
                    c = FindCoordinatorResponse.Coordinator(key: key, nodeId: -1, host: "", port: -1,
                                                            errorCode: KafkaErrorCode.coordinatorNotAvailable.rawValue,
                                                            errorMessage: "\(Self.consumerOffsetsTopic)-\(partition) has no leader now")
                }
            }
            results.append(c)
        }
        if context.version >= 4 {
            response.coordinators = results
        } else if let c = results.first {
            response.errorCode = c.errorCode
            response.errorMessage = c.errorMessage
            response.nodeId = c.nodeId
            response.host = c.host
            response.port = c.port
        }
        respond.send(response)
    }
}
