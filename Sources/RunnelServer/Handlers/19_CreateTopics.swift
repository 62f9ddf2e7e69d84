import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

// CreateTopics (key 19), versions 0-7. Partitions (-1 = num.partitions, v4+), replication factor
// (-1 = default.replication.factor; above the number of brokers → INVALID_REPLICATION_FACTOR
// naming the reason), manual assignments (every replica must be this node), topic configs
// (retention.ms, retention.bytes, segment.bytes, segment.ms, cleanup.policy=delete,
// message.timestamp.type, max.message.bytes, …; anything else → INVALID_CONFIG), validate_only.
// v5+ returns the effective configs, partitions and replication factor; v7 the topic id.
// A topic named twice in one request gets INVALID_REQUEST for both, as in Kafka.
extension Broker {
    /// Runs the request against this node's controller (NOT_CONTROLLER per item when it is not
    /// the active one); `RequestRouter` forwards it to the active controller first when it must.
    func handleCreateTopics(_ request: CreateTopicsRequest, _ context: RequestContext,
                            _ respond: Responder<CreateTopicsResponse>) {
        var response = CreateTopicsResponse()
        var seen: [String: Int] = [:]
        for t in request.topics { seen[t.name, default: 0] += 1 }
        forEachInOrder(request.topics, { wanted, next in
            var result = CreateTopicsResponse.CreatableTopicResult()
            result.name = wanted.name
            result.errorMessage = nil
            func fail(_ code: Int16, _ message: String) {
                result.errorCode = code
                result.errorMessage = message
                response.topics.append(result)
                next()
            }
            if seen[wanted.name]! > 1 {
                fail(KafkaErrorCode.invalidRequest.rawValue, "Topic '\(wanted.name)' appears more than once in the request.")
                return
            }
            var partitions = wanted.numPartitions
            var replicationFactor = wanted.replicationFactor
            if !wanted.assignments.isEmpty {
                guard partitions == -1, replicationFactor == -1 else {
                    fail(KafkaErrorCode.invalidRequest.rawValue, "Both replica assignments and a partition count or replication factor were given.")
                    return
                }
                let foreign = wanted.assignments.flatMap(\.brokerIds).filter { $0 != self.nodeID.rawValue }
                guard foreign.isEmpty else {
                    fail(KafkaErrorCode.invalidReplicaAssignment.rawValue, "Replica assignment names broker(s) \(Set(foreign).sorted()) that do not exist; this cluster has node \(self.nodeID) only.")
                    return
                }
                partitions = Int32(wanted.assignments.count)
                replicationFactor = Int16(wanted.assignments[0].brokerIds.count)
            }
            if partitions == -1 { partitions = Int32(self.config.int("num.partitions")!) }
            if replicationFactor == -1 { replicationFactor = Int16(self.config.int("default.replication.factor")!) }
            let overrides: [String: String]
            switch LogConfigs.validateTopicOverrides(wanted.configs.map { ($0.name, $0.value) }, broker: self.config) {
            case .success(let o): overrides = o
            case .failure(let error):
                fail(KafkaErrorCode.invalidConfig.rawValue, error.message)
                return
            }
            self.createTopic(name: wanted.name, partitions: partitions, replicationFactor: replicationFactor,
                             configs: overrides, validateOnly: request.validateOnly) { outcome in
                switch outcome {
                case .failure(let refusal):
                    fail(refusal.code.rawValue, refusal.message)
                case .success(let topic):
                    if !request.validateOnly {
                        self.logger.info("created topic \(wanted.name) with \(counted(partitions, "partition"))")
                        let pending = LogConfigs.notYetInEffect(overrides)
                        if !pending.isEmpty {
                            self.logger.notice("topic \(wanted.name): stored but not yet in effect in Runnel: \(pending.map { "\($0)=\(overrides[$0]!)" }.joined(separator: ", "))")
                        }
                        result.topicId = topic.id
                    }
                    result.numPartitions = Int32(topic.partitions.count)
                    result.replicationFactor = Int16(topic.partitions.first?.replicas.count ?? 1)
                    result.configs = self.describeTopicConfigs(overrides: topic.configs).map {
                        CreateTopicsResponse.CreatableTopicConfigs(name: $0.name, value: $0.value, readOnly: false,
                                                                   configSource: $0.source, isSensitive: false)
                    }
                    response.topics.append(result)
                    next()
                }
            }
        }, done: { respond.send(response) })
    }
}
