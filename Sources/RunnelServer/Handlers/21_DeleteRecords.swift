import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

// DeleteRecords (key 21), versions 0-2. Served by each partition's leader: the log start
// offset moves to the requested offset (-1 = the high watermark), whole segments below it are
// dropped (their files removed in the background, D97), and the answer carries the new
// low_watermark. An offset above the high watermark (or below -1) → OFFSET_OUT_OF_RANGE; an
// offset below the current log start leaves it where it is. Followers take the new log start
// from the leader's fetch answers (ReplicaFetchers). The leader answers once its own log moved;
// it does not wait for the followers' (D132).
extension Broker {
    func handleDeleteRecords(_ request: DeleteRecordsRequest, _ context: RequestContext,
                             _ respond: Responder<DeleteRecordsResponse>) {
        var response = DeleteRecordsResponse()
        var moved = false
        for topic in request.topics {
            var topicResult = DeleteRecordsResponse.DeleteRecordsTopicResult()
            topicResult.name = topic.name
            for wanted in topic.partitions {
                var result = DeleteRecordsResponse.DeleteRecordsPartitionResult()
                result.partitionIndex = wanted.partitionIndex
                result.lowWatermark = -1
                let key = TopicPartition(TopicName(topic.name), PartitionID(wanted.partitionIndex))
                guard let partition = leaderPartition(key) else {
                    result.errorCode = missingPartitionError(key)
                    topicResult.partitions.append(result)
                    continue
                }
                let highWatermark = partition.highWatermark.rawValue
                let target = wanted.offset == -1 ? highWatermark : wanted.offset
                guard target >= 0, target <= highWatermark else {
                    result.errorCode = KafkaErrorCode.offsetOutOfRange.rawValue
                    topicResult.partitions.append(result)
                    continue
                }
                do {
                    if try partition.moveLogStart(to: Offset(target)) {
                        moved = true
                        logger.info("DeleteRecords: log start offset of \(key) now \(partition.logStartOffset)")
                    }
                    result.lowWatermark = partition.logStartOffset.rawValue
                } catch {
                    logger.error("DeleteRecords on \(key): \(error)")
                    result.errorCode = KafkaErrorCode.kafkaStorageError.rawValue
                }
                topicResult.partitions.append(result)
            }
            response.topics.append(topicResult)
        }
        // Persist the new log start offsets, so a restart does not serve the deleted range.
        if moved {
            do { try logs.writeCheckpoints() } catch { logger.error("writing checkpoints: \(error)") }
        }
        respond.send(response)
    }
}
