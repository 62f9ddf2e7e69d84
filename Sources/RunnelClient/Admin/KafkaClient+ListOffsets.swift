import KafkaMessages
import RunnelCore

extension KafkaClient {
    /// The earliest, latest or first-at-timestamp offset of each partition (all partitions of
    /// the topic when `partitions` is nil), asking each partition's leader.
    public func listOffsets(topic: String, partitions: [PartitionID]? = nil, spec: OffsetSpec) async throws -> [ListedOffset] {
        let specs = try await topicPartitions(topic, partitions).map { ($0, spec) }
        return try await listOffsets(topic: topic, specs: specs)
    }

    /// ListOffsets with a different spec per partition.
    public func listOffsets(topic: String, specs: [(PartitionID, OffsetSpec)]) async throws -> [ListedOffset] {
        try await withRetries {
            var byLeader: [BrokerID: [(PartitionID, OffsetSpec)]] = [:]
            for (partition, spec) in specs {
                guard let leader = cachedLeader(topic: topic, partition: partition) else {
                    _ = try await topicMetadata(topic, refresh: true)
                    throw KafkaClientError.kafka(code: .leaderNotAvailable, message: nil,
                                                 context: "list offsets of \(topic)[\(partition)]")
                }
                byLeader[leader, default: []].append((partition, spec))
            }
            var listed: [ListedOffset] = []
            for (leader, entries) in byLeader.sorted(by: { $0.key < $1.key }) {
                let (response, _) = try await send(.broker(leader)) { _ in
                    var request = ListOffsetsRequest()
                    request.replicaId = -1
                    var entry = ListOffsetsRequest.ListOffsetsTopic()
                    entry.name = topic
                    entry.partitions = entries.map { partition, spec in
                        var wire = ListOffsetsRequest.ListOffsetsPartition()
                        wire.partitionIndex = partition.rawValue
                        wire.timestamp = spec.wireTimestamp
                        return wire
                    }
                    request.topics = [entry]
                    return request
                }
                for topicResponse in response.topics {
                    for partition in topicResponse.partitions {
                        let code = KafkaErrorCode(partition.errorCode)
                        if code.invalidatesMetadata { _ = try? await topicMetadata(topic, refresh: true) }
                        guard code == .none else {
                            if code == .unknownTopicOrPartition && !code.isRetriable {
                                throw KafkaClientError.unknownTopicOrPartition(topic: topic, partition: partition.partitionIndex)
                            }
                            throw KafkaClientError.kafka(code: code, message: nil,
                                                         context: "list offsets of \(topic)[\(partition.partitionIndex)]")
                        }
                        listed.append(ListedOffset(partition: PartitionID(partition.partitionIndex),
                                                   offset: partition.offset >= 0 ? Offset(partition.offset) : nil,
                                                   timestamp: TimestampMs(partition.timestamp)))
                    }
                }
            }
            return listed.sorted { $0.partition < $1.partition }
        }
    }

    /// `partitions`, checked against the topic's partition count, or all of them.
    func topicPartitions(_ topic: String, _ partitions: [PartitionID]?) async throws -> [PartitionID] {
        let metadata = try await topicMetadata(topic)
        guard let partitions else { return metadata.partitions.map(\.id) }
        for partition in partitions where metadata.partition(partition) == nil {
            throw KafkaClientError.unknownTopicOrPartition(topic: topic, partition: partition.rawValue)
        }
        return partitions
    }
}
