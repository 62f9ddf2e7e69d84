import ClusterMetadata
import KafkaMessages
import Replication
import RunnelCore

// OffsetForLeaderEpoch (key 23), versions 0-4 (v4 flexible). For each partition this broker
// leads: the largest leader epoch at or below the requested one that the log knows, and where it
// ends (the start of the next epoch, or the log end for the latest) — from the leader-epoch cache
// (KIP-101). Consumers use it to detect a log truncated under them after a leader change
// (KIP-320); Runnel's followers use the Fetch diverging-epoch field instead. A requested epoch
// newer than any the log knows answers UNDEFINED (-1, -1). Errors per partition: current_leader_epoch
// (v2+) older → FENCED_LEADER_EPOCH, newer → UNKNOWN_LEADER_EPOCH; not the leader →
// NOT_LEADER_OR_FOLLOWER; unknown → UNKNOWN_TOPIC_OR_PARTITION; an offline log → KAFKA_STORAGE_ERROR.
// With ACLs on, a consumer needs DESCRIBE on the topic and a follower (replica_id >= 0, v3+)
// CLUSTER_ACTION on the cluster; otherwise TOPIC_AUTHORIZATION_FAILED (29) per partition.
extension Broker {
    func handleOffsetForLeaderEpoch(_ request: OffsetForLeaderEpochRequest, _ context: RequestContext,
                                    _ respond: Responder<OffsetForLeaderEpochResponse>) {
        var response = OffsetForLeaderEpochResponse()
        let follower = request.replicaId >= 0
        let clusterAction = follower && authorizeCluster(.clusterAction, context)
        for topic in request.topics {
            var topicResult = OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult()
            topicResult.topic = topic.topic
            guard follower ? clusterAction : authorize(.describe, .topic, topic.topic, context) else {
                topicResult.partitions = topic.partitions.map {
                    .init(errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue, partition: $0.partition)
                }
                response.topics.append(topicResult)
                continue
            }
            for wanted in topic.partitions {
                var result = OffsetForLeaderEpochResponse.EpochEndOffset()
                result.partition = wanted.partition
                let key = TopicPartition(TopicName(topic.topic), PartitionID(wanted.partition))
                if let partition = leaderPartition(key) {
                    if partition.isOffline {
                        result.errorCode = KafkaErrorCode.kafkaStorageError.rawValue
                    } else if let code = leaderEpochError(requested: wanted.currentLeaderEpoch, partition: partition) {
                        result.errorCode = code
                    } else if let end = partition.endOffset(for: LeaderEpoch(wanted.leaderEpoch)) {
                        result.leaderEpoch = end.epoch.rawValue
                        result.endOffset = end.endOffset.rawValue
                    }
                } else {
                    result.errorCode = missingPartitionError(key)
                }
                topicResult.partitions.append(result)
            }
            response.topics.append(topicResult)
        }
        respond.send(response)
    }
}
