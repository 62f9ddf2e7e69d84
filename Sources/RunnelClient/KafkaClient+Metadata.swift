import KafkaMessages
import RunnelCore

extension KafkaClient {
    /// Asks a broker for metadata of `topics` (nil: every topic), folds it into the cache and
    /// returns the raw response.
    func fetchMetadata(topics: [String]?, allowAutoTopicCreation: Bool = false) async throws -> MetadataResponse {
        let (response, _) = try await send(.any) { version in
            MetadataRequest(topics: topics.map { $0.map { MetadataRequest.MetadataRequestTopic(name: $0) } },
                            // Before v4 the field does not exist and brokers auto-create.
                            allowAutoTopicCreation: version >= 4 ? allowAutoTopicCreation : true)
        }
        updateMetadata { $0.merge(response, allTopics: topics == nil) }
        return response
    }

    /// Refreshes the cache for `topics` (nil: all topics) and returns the new snapshot.
    @discardableResult
    public func refreshMetadata(topics: [String]?) async throws -> MetadataSnapshot {
        try await withRetries {
            _ = try await fetchMetadata(topics: topics)
            return metadata
        }
    }

    /// Metadata of one topic: from the cache when every partition has a leader, else from a
    /// broker. Waits (bounded) while the topic's partitions have no leader yet, as right after
    /// creation. Throws `unknownTopicOrPartition` when the topic does not exist.
    public func topicMetadata(_ topic: String, refresh: Bool = false,
                              allowAutoTopicCreation: Bool = false) async throws -> TopicMetadata {
        if !refresh, let cached = metadata.topics[topic], cached.partitions.allSatisfy({ $0.leader != nil }) {
            return cached
        }
        var attempt = 1
        while true {
            let response = try await withRetries {
                try await fetchMetadata(topics: [topic], allowAutoTopicCreation: allowAutoTopicCreation)
            }
            let entry = response.topics.first { $0.name == topic }
            let code = KafkaErrorCode(entry?.errorCode ?? KafkaErrorCode.unknownTopicOrPartition.rawValue)
            if code == .unknownTopicOrPartition && !allowAutoTopicCreation {
                throw KafkaClientError.unknownTopicOrPartition(topic: topic, partition: nil)
            }
            let settled = code == .none && metadata.topics[topic].map { $0.partitions.allSatisfy { $0.leader != nil } } == true
            if settled, let result = metadata.topics[topic] { return result }
            guard code == .none || code.isRetriable else {
                throw KafkaClientError.kafka(code: code, message: nil, context: "metadata for topic \(topic)")
            }
            guard attempt < config.attemptsMax else {
                if let partial = metadata.topics[topic] { return partial }
                throw code == .unknownTopicOrPartition ? KafkaClientError.unknownTopicOrPartition(topic: topic, partition: nil)
                    : KafkaClientError.kafka(code: code, message: nil, context: "metadata for topic \(topic)")
            }
            attempt += 1
            try await Task.sleep(nanoseconds: UInt64(config.retryBackoffMs) * 1_000_000)
        }
    }

    /// The leader of `topic`/`partition` from the cache (nil when unknown or leaderless).
    func cachedLeader(topic: String, partition: PartitionID) -> BrokerID? {
        metadata.topics[topic]?.partition(partition)?.leader
    }
}
