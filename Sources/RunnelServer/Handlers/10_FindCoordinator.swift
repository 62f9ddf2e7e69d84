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
        let listener = advertisedListener
        var results: [FindCoordinatorResponse.Coordinator] = []
        for key in keys {
            var c = FindCoordinatorResponse.Coordinator(key: key, nodeId: nodeID.rawValue, host: listener.host,
                                                        port: Int32(listener.port), errorCode: 0, errorMessage: nil)
            if request.keyType != 0 {
                c = FindCoordinatorResponse.Coordinator(key: key, nodeId: -1, host: "", port: -1,
                                                        errorCode: KafkaError.coordinatorNotAvailable,
                                                        errorMessage: "Only group coordinators exist (transactions are not implemented).")
            } else if let refusal = ensureConsumerOffsetsTopic() {
                c = FindCoordinatorResponse.Coordinator(key: key, nodeId: -1, host: "", port: -1,
                                                        errorCode: KafkaError.coordinatorNotAvailable, errorMessage: refusal.message)
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
