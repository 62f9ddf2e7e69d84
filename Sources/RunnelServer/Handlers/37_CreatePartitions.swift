import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

// CreatePartitions (key 37), versions 0-3. Raises a topic's partition count; the new count must
// be larger (INVALID_PARTITIONS otherwise); manual assignments must name this node only;
// validate_only. Duplicate topics in one request → INVALID_REQUEST.
extension Broker {
    /// Runs the request against this node's controller (NOT_CONTROLLER per item when it is not
    /// the active one); `RequestRouter` forwards it to the active controller first when it must.
    func handleCreatePartitions(_ request: CreatePartitionsRequest, _ context: RequestContext,
                                _ respond: Responder<CreatePartitionsResponse>) {
        var response = CreatePartitionsResponse()
        var seen: [String: Int] = [:]
        for t in request.topics { seen[t.name, default: 0] += 1 }
        forEachInOrder(request.topics, { wanted, next in
            var result = CreatePartitionsResponse.CreatePartitionsTopicResult()
            result.name = wanted.name
            func finish(_ code: Int16, _ message: String?) {
                result.errorCode = code
                result.errorMessage = message
                response.results.append(result)
                next()
            }
            if seen[wanted.name]! > 1 {
                finish(KafkaErrorCode.invalidRequest.rawValue, "Topic '\(wanted.name)' appears more than once in the request.")
            } else if let foreign = wanted.assignments?.flatMap(\.brokerIds).filter({ $0 != self.nodeID.rawValue }), !foreign.isEmpty {
                finish(KafkaErrorCode.invalidReplicaAssignment.rawValue, "Replica assignment names broker(s) \(Set(foreign).sorted()) that do not exist.")
            } else {
                self.createPartitions(topic: wanted.name, totalCount: wanted.count, validateOnly: request.validateOnly) { refusal in
                    finish(refusal?.code.rawValue ?? 0, refusal?.message)
                }
            }
        }, done: { respond.send(response) })
    }
}
