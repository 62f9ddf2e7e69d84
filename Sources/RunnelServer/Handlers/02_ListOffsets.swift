import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

// ListOffsets (key 2), versions 0-8. LATEST (-1) is the high watermark (the log end on one
// node; read_committed is the same until transactions exist), EARLIEST (-2) the log start
// offset, MAX_TIMESTAMP (-3, v7+) the first record with the log's largest timestamp,
// EARLIEST_LOCAL (-4, v8+) the log start offset too (no tiered storage), any other timestamp
// the first offset whose record timestamp is >= it (offset -1 when there is none). Found
// offsets at or above the high watermark are not reported. v0 answers with the old offsets
// list. current_leader_epoch (v4+) is checked: older → FENCED_LEADER_EPOCH (74), newer →
// UNKNOWN_LEADER_EPOCH (75). With ACLs on, a topic the principal may not DESCRIBE gets
// TOPIC_AUTHORIZATION_FAILED (29) per partition.
extension Broker {
    func handleListOffsets(_ request: ListOffsetsRequest, _ context: RequestContext,
                           _ respond: Responder<ListOffsetsResponse>) {
        var response = ListOffsetsResponse()
        for topic in request.topics {
            var topicResult = ListOffsetsResponse.ListOffsetsTopicResponse()
            topicResult.name = topic.name
            guard authorize(.describe, .topic, topic.name, context) else {
                topicResult.partitions = topic.partitions.map {
                    .init(partitionIndex: $0.partitionIndex, errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue)
                }
                response.topics.append(topicResult)
                continue
            }
            for wanted in topic.partitions {
                var result = ListOffsetsResponse.ListOffsetsPartitionResponse()
                result.partitionIndex = wanted.partitionIndex
                let key = TopicPartition(TopicName(topic.name), PartitionID(wanted.partitionIndex))
                guard let partition = leaderPartition(key) else {
                    result.errorCode = missingPartitionError(key)
                    topicResult.partitions.append(result)
                    continue
                }
                if let code = leaderEpochError(requested: wanted.currentLeaderEpoch, partition: partition) {
                    result.errorCode = code
                    topicResult.partitions.append(result)
                    continue
                }
                let found: (offset: Offset, timestamp: TimestampMs)?
                switch wanted.timestamp {
                case -1: found = (partition.highWatermark, .none)
                case -2, -4: found = (partition.logStartOffset, .none)
                case -3:
                    let max = partition.maxTimestamp
                    found = max == .none ? nil : partition.offset(forTimestamp: max, compressed: Self.scanCompressedBatch)
                        .flatMap { $0.offset < partition.highWatermark ? $0 : nil }
                default:
                    found = partition.offset(forTimestamp: TimestampMs(wanted.timestamp), compressed: Self.scanCompressedBatch)
                        .flatMap { $0.offset < partition.highWatermark ? $0 : nil }
                }
                if context.version == 0 {
                    result.oldStyleOffsets = found.map { [$0.offset.rawValue] } ?? []
                } else {
                    result.offset = found?.offset.rawValue ?? -1
                    result.timestamp = found?.timestamp.rawValue ?? -1
                    result.leaderEpoch = found == nil ? -1 : partition.leaderEpoch.rawValue
                }
                topicResult.partitions.append(result)
            }
            response.topics.append(topicResult)
        }
        respond.send(response)
    }

    /// Opens a compressed batch (gzip) to find the first record at or after `target`, as Kafka
    /// does for offsetsForTimes. Bounded by Limits.batchDecompressedBytesMax.
    static func scanCompressedBatch(_ batch: UnsafeRawBufferPointer, _ target: TimestampMs) -> (offset: Offset, timestamp: TimestampMs)? {
        var buffer = ByteBufferAllocator().buffer(capacity: batch.count)
        buffer.writeBytes(batch)
        var decoder = RecordBatchDecoder(buffer, decompressedBytesMax: Limits.batchDecompressedBytesMax, verifyCRC: false)
        guard let decoded = try? decoder.next() else { return nil }
        return decoded.records.first { $0.timestamp >= target }.map { ($0.offset, $0.timestamp) }
    }

    /// Kafka's current_leader_epoch check (KIP-320): nil when the request may proceed.
    func leaderEpochError(requested: Int32, partition: Partition) -> Int16? {
        guard requested >= 0 else { return nil }
        if requested < partition.leaderEpoch.rawValue { return 74 }
        if requested > partition.leaderEpoch.rawValue { return 75 }
        return nil
    }
}
