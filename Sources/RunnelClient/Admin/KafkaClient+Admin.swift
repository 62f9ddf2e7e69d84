import KafkaMessages
import RunnelCore

extension KafkaClient {
    /// Creates topics (or only validates them). Throws the first topic's error, e.g.
    /// TOPIC_ALREADY_EXISTS or INVALID_REPLICATION_FACTOR with the broker's message.
    @discardableResult
    public func createTopics(_ topics: [NewTopic], validateOnly: Bool = false,
                             timeoutMs: Int32 = 30_000) async throws -> [CreatedTopic] {
        for topic in topics {
            if let reason = TopicName.invalidReason(topic.name) { throw KafkaClientError.invalidArgument(reason) }
        }
        if metadata.brokers.isEmpty { _ = try? await refreshMetadata(topics: []) }
        return try await withRetries {
            let (response, _) = try await send(.controller, timeoutMs: Int64(timeoutMs) + config.requestTimeoutMs) { version in
                var request = CreateTopicsRequest()
                request.timeoutMs = timeoutMs
                request.validateOnly = validateOnly
                request.topics = topics.map { topic in
                    var creatable = CreateTopicsRequest.CreatableTopic()
                    creatable.name = topic.name
                    // Broker defaults (-1) need v4+; older brokers get Kafka's classic defaults.
                    creatable.numPartitions = topic.partitions < 0 && version < 4 ? 1 : topic.partitions
                    creatable.replicationFactor = topic.replicationFactor < 0 && version < 4 ? 1 : topic.replicationFactor
                    creatable.configs = topic.configs.sorted { $0.key < $1.key }.map { key, value in
                        var config = CreateTopicsRequest.CreatableTopicConfig()
                        config.name = key
                        config.value = value
                        return config
                    }
                    return creatable
                }
                return request
            }
            var created: [CreatedTopic] = []
            for result in response.topics {
                let code = KafkaErrorCode(result.errorCode)
                guard code == .none else {
                    throw KafkaClientError.kafka(code: code, message: result.errorMessage,
                                                 context: "\(validateOnly ? "validate" : "create") topic \(result.name)")
                }
                created.append(CreatedTopic(name: result.name, id: result.topicId, partitions: result.numPartitions,
                                            replicationFactor: result.replicationFactor))
            }
            return created
        }
    }

    /// Creates one topic; see `createTopics`.
    @discardableResult
    public func createTopic(_ name: String, partitions: Int32 = -1, replicationFactor: Int16 = -1,
                            configs: [String: String] = [:], validateOnly: Bool = false) async throws -> CreatedTopic {
        let created = try await createTopics([NewTopic(name: name, partitions: partitions,
                                                       replicationFactor: replicationFactor, configs: configs)],
                                             validateOnly: validateOnly)
        guard let first = created.first else {
            throw KafkaClientError.protocolViolation(address: "controller", detail: "CreateTopics response names no topic")
        }
        return first
    }

    /// Deletes topics by name. Throws the first topic's error (UNKNOWN_TOPIC_OR_PARTITION as
    /// `unknownTopicOrPartition`).
    public func deleteTopics(_ names: [String], timeoutMs: Int32 = 30_000) async throws {
        if metadata.brokers.isEmpty { _ = try? await refreshMetadata(topics: []) }
        try await withRetries {
            let (response, _) = try await send(.controller, timeoutMs: Int64(timeoutMs) + config.requestTimeoutMs) { version in
                var request = DeleteTopicsRequest()
                request.timeoutMs = timeoutMs
                if version >= 6 {
                    request.topics = names.map { name in
                        var state = DeleteTopicsRequest.DeleteTopicState()
                        state.name = name
                        return state
                    }
                } else {
                    request.topicNames = names
                }
                return request
            }
            for result in response.responses {
                let code = KafkaErrorCode(result.errorCode)
                let name = result.name ?? result.topicId.description
                if code == .unknownTopicOrPartition {
                    throw KafkaClientError.unknownTopicOrPartition(topic: name, partition: nil)
                }
                guard code == .none else {
                    throw KafkaClientError.kafka(code: code, message: result.errorMessage, context: "delete topic \(name)")
                }
            }
        }
        updateMetadata { snapshot in for name in names { snapshot.topics[name] = nil } }
    }

    /// Every topic's name, sorted; internal topics only when asked.
    public func listTopics(includeInternal: Bool = false) async throws -> [TopicMetadata] {
        let snapshot = try await refreshMetadata(topics: nil)
        return snapshot.topics.values.filter { includeInternal || !$0.isInternal }.sorted { $0.name < $1.name }
    }

    /// Partitions (leader, replicas, ISR) and configuration of one topic.
    public func describeTopic(_ name: String) async throws -> TopicDescription {
        let metadata = try await topicMetadata(name, refresh: true)
        let configs = try await describeTopicConfigs(name)
        return TopicDescription(metadata: metadata, configs: configs)
    }

    /// A topic's configuration through DescribeConfigs (resource type 2 = topic). Empty when the
    /// broker does not offer DescribeConfigs.
    public func describeTopicConfigs(_ name: String) async throws -> [ConfigEntry] {
        let versions = try await apiVersions()
        guard versions.version(for: .describeConfigs) != nil else { return [] }
        return try await describeConfigs(.topic(name))
    }

    /// Raises a topic's partition count to `totalCount`.
    public func createPartitions(_ topic: String, totalCount: Int32, validateOnly: Bool = false,
                                 timeoutMs: Int32 = 30_000) async throws {
        if metadata.brokers.isEmpty { _ = try? await refreshMetadata(topics: []) }
        try await withRetries {
            let (response, _) = try await send(.controller, timeoutMs: Int64(timeoutMs) + config.requestTimeoutMs) { _ in
                var entry = CreatePartitionsRequest.CreatePartitionsTopic()
                entry.name = topic
                entry.count = totalCount
                entry.assignments = nil
                var request = CreatePartitionsRequest()
                request.topics = [entry]
                request.timeoutMs = timeoutMs
                request.validateOnly = validateOnly
                return request
            }
            for result in response.results {
                let code = KafkaErrorCode(result.errorCode)
                if code == .unknownTopicOrPartition {
                    throw KafkaClientError.unknownTopicOrPartition(topic: result.name, partition: nil)
                }
                guard code == .none else {
                    throw KafkaClientError.kafka(code: code, message: result.errorMessage,
                                                 context: "create partitions of topic \(result.name)")
                }
            }
        }
        _ = try? await refreshMetadata(topics: [topic])
    }
}
