import KafkaMessages
import RunnelCore

/// A config resource the admin calls name: a topic, one broker, or the cluster-wide broker
/// defaults.
public enum ConfigTarget: Sendable, Equatable, CustomStringConvertible {
    case topic(String)
    case broker(BrokerID)
    case brokerDefaults

    var resourceType: Int8 { if case .topic = self { return 2 } else { return 4 } }
    var resourceName: String {
        switch self {
        case .topic(let name): return name
        case .broker(let id): return String(id.rawValue)
        case .brokerDefaults: return ""
        }
    }

    public var description: String {
        switch self {
        case .topic(let name): return "topic \(name)"
        case .broker(let id): return "broker \(id)"
        case .brokerDefaults: return "the broker defaults"
        }
    }
}

/// One change of IncrementalAlterConfigs.
public enum ConfigUpdate: Sendable, Equatable {
    case set(String, String)
    case delete(String)
}

/// A partition's log start offset after DeleteRecords.
public struct DeletedRecords: Sendable, Equatable {
    public var partition: PartitionID
    public var lowWatermark: Offset
}

extension KafkaClient {
    /// DescribeConfigs of one resource, sorted by name. A broker is asked directly (only it
    /// knows its configuration); topics and the defaults any broker.
    public func describeConfigs(_ target: ConfigTarget) async throws -> [ConfigEntry] {
        if metadata.brokers.isEmpty { _ = try? await refreshMetadata(topics: []) }
        return try await withRetries {
            let destination: Target
            if case .broker(let id) = target { destination = .broker(id) } else { destination = .any }
            let (response, _) = try await send(destination) { _ in
                var resource = DescribeConfigsRequest.DescribeConfigsResource()
                resource.resourceType = target.resourceType
                resource.resourceName = target.resourceName
                resource.configurationKeys = nil
                var request = DescribeConfigsRequest()
                request.resources = [resource]
                return request
            }
            guard let result = response.results.first else { return [] }
            let code = KafkaErrorCode(result.errorCode)
            if code == .unknownTopicOrPartition, case .topic(let name) = target {
                throw KafkaClientError.unknownTopicOrPartition(topic: name, partition: nil)
            }
            guard code == .none else {
                throw KafkaClientError.kafka(code: code, message: result.errorMessage, context: "describe configs of \(target)")
            }
            return result.configs.map { entry in
                ConfigEntry(name: entry.name, value: entry.value, isDefault: entry.isDefault || entry.configSource == 5,
                            isReadOnly: entry.readOnly, isSensitive: entry.isSensitive, source: entry.configSource)
            }.sorted { $0.name < $1.name }
        }
    }

    /// IncrementalAlterConfigs of one resource, through the active controller. Throws the
    /// broker's refusal (INVALID_CONFIG, INVALID_REQUEST, UNKNOWN_TOPIC_OR_PARTITION) with its message.
    public func alterConfigs(_ target: ConfigTarget, _ updates: [ConfigUpdate], validateOnly: Bool = false) async throws {
        if metadata.brokers.isEmpty { _ = try? await refreshMetadata(topics: []) }
        try await withRetries {
            let (response, _) = try await send(.controller) { _ in
                var resource = IncrementalAlterConfigsRequest.AlterConfigsResource()
                resource.resourceType = target.resourceType
                resource.resourceName = target.resourceName
                resource.configs = updates.map { update in
                    var config = IncrementalAlterConfigsRequest.AlterableConfig()
                    switch update {
                    case .set(let key, let value):
                        config.name = key
                        config.configOperation = 0
                        config.value = value
                    case .delete(let key):
                        config.name = key
                        config.configOperation = 1
                        config.value = nil
                    }
                    return config
                }
                var request = IncrementalAlterConfigsRequest()
                request.resources = [resource]
                request.validateOnly = validateOnly
                return request
            }
            guard let result = response.responses.first else {
                throw KafkaClientError.protocolViolation(address: "controller", detail: "IncrementalAlterConfigs response names no resource")
            }
            let code = KafkaErrorCode(result.errorCode)
            if code == .unknownTopicOrPartition, case .topic(let name) = target {
                throw KafkaClientError.unknownTopicOrPartition(topic: name, partition: nil)
            }
            guard code == .none else {
                throw KafkaClientError.kafka(code: code, message: result.errorMessage, context: "alter configs of \(target)")
            }
        }
    }

    /// DeleteRecords: moves the log start offset of each partition to its offset (-1 = the high
    /// watermark), asking each partition's leader.
    public func deleteRecords(topic: String, before offsets: [(PartitionID, Int64)]) async throws -> [DeletedRecords] {
        try await withRetries {
            var byLeader: [BrokerID: [(PartitionID, Int64)]] = [:]
            for (partition, offset) in offsets {
                guard let leader = cachedLeader(topic: topic, partition: partition) else {
                    _ = try await topicMetadata(topic, refresh: true)
                    throw KafkaClientError.kafka(code: .leaderNotAvailable, message: nil, context: "delete records of \(topic)[\(partition)]")
                }
                byLeader[leader, default: []].append((partition, offset))
            }
            var deleted: [DeletedRecords] = []
            for (leader, entries) in byLeader.sorted(by: { $0.key < $1.key }) {
                let (response, _) = try await send(.broker(leader)) { _ in
                    var entry = DeleteRecordsRequest.DeleteRecordsTopic()
                    entry.name = topic
                    entry.partitions = entries.map { partition, offset in
                        var wire = DeleteRecordsRequest.DeleteRecordsPartition()
                        wire.partitionIndex = partition.rawValue
                        wire.offset = offset
                        return wire
                    }
                    var request = DeleteRecordsRequest()
                    request.topics = [entry]
                    request.timeoutMs = 30_000
                    return request
                }
                for topicResult in response.topics {
                    for partition in topicResult.partitions {
                        let code = KafkaErrorCode(partition.errorCode)
                        if code.invalidatesMetadata { _ = try? await topicMetadata(topic, refresh: true) }
                        guard code == .none else {
                            throw KafkaClientError.kafka(code: code, message: nil,
                                                         context: "delete records of \(topic)[\(partition.partitionIndex)]")
                        }
                        deleted.append(DeletedRecords(partition: PartitionID(partition.partitionIndex),
                                                      lowWatermark: Offset(partition.lowWatermark)))
                    }
                }
            }
            return deleted.sorted { $0.partition < $1.partition }
        }
    }
}
