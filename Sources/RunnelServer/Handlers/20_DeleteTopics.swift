import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

// DeleteTopics (key 20), versions 0-6. By name (v0-5 as a list of names, v6 as topic states)
// and, in v6, by topic id. The topic's data is removed. Unknown topic → UNKNOWN_TOPIC_OR_PARTITION
// (3); unknown id → UNKNOWN_TOPIC_ID (100); delete.topic.enable=false → TOPIC_DELETION_DISABLED.
extension Broker {
    /// Runs the request against this node's controller (NOT_CONTROLLER per item when it is not
    /// the active one); `RequestRouter` forwards it to the active controller first when it must.
    func handleDeleteTopics(_ request: DeleteTopicsRequest, _ context: RequestContext,
                            _ respond: Responder<DeleteTopicsResponse>) {
        var response = DeleteTopicsResponse()
        let targets: [(name: String?, id: TopicID)] = context.version >= 6
            ? request.topics.map { ($0.name, $0.topicId) }
            : request.topicNames.map { ($0, TopicID.zero) }
        forEachInOrder(targets, { target, next in
            var result = DeleteTopicsResponse.DeletableTopicResult()
            result.errorMessage = nil
            var name = target.name
            if name == nil {
                guard let topic = self.image.topic(id: target.id) else {
                    result.name = nil
                    result.topicId = target.id
                    result.errorCode = KafkaErrorCode.unknownTopicID.rawValue
                    result.errorMessage = "Topic id \(target.id) does not exist."
                    response.responses.append(result)
                    return next()
                }
                name = topic.name.rawValue
            }
            result.name = name
            result.topicId = self.image.topic(TopicName(name!))?.id ?? .zero
            self.deleteTopic(name: name!) { refusal in
                if let refusal {
                    result.errorCode = refusal.code.rawValue
                    result.errorMessage = refusal.message
                }
                response.responses.append(result)
                next()
            }
        }, done: { respond.send(response) })
    }
}
