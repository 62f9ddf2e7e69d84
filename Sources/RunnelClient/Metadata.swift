import KafkaMessages
import RunnelCore

/// What the client knows about the cluster from its last Metadata responses.
public struct MetadataSnapshot: Sendable, Equatable {
    public var clusterId: String?
    public var controllerId: BrokerID?
    public var brokers: [BrokerID: BrokerInfo] = [:]
    public var topics: [String: TopicMetadata] = [:]

    public init() {}
}

public struct BrokerInfo: Sendable, Equatable {
    public var id: BrokerID
    public var address: BrokerAddress
    public var rack: String?
}

public struct TopicMetadata: Sendable, Equatable {
    public var name: TopicName
    public var id: TopicID
    public var isInternal: Bool
    /// Sorted by partition id.
    public var partitions: [PartitionMetadata]

    public var partitionCount: Int { partitions.count }

    public func partition(_ id: PartitionID) -> PartitionMetadata? {
        let index = Int(id.rawValue)
        if index >= 0, index < partitions.count, partitions[index].id == id { return partitions[index] }
        return partitions.first { $0.id == id }
    }
}

public struct PartitionMetadata: Sendable, Equatable {
    public var id: PartitionID
    /// nil while the partition has no leader (LEADER_NOT_AVAILABLE, leader id -1).
    public var leader: BrokerID?
    public var leaderEpoch: LeaderEpoch
    public var replicas: [BrokerID]
    public var isr: [BrokerID]
    public var offlineReplicas: [BrokerID]
    public var error: KafkaErrorCode
}

extension MetadataSnapshot {
    /// Folds a response into the snapshot. When `allTopics`, topics missing from the response are
    /// forgotten; otherwise only the topics in the response change (an unknown topic is removed).
    mutating func merge(_ response: MetadataResponse, allTopics: Bool) {
        clusterId = response.clusterId
        controllerId = response.controllerId >= 0 ? BrokerID(response.controllerId) : nil
        brokers = [:]
        for broker in response.brokers {
            let id = BrokerID(broker.nodeId)
            brokers[id] = BrokerInfo(id: id, address: BrokerAddress(host: broker.host, port: Int(broker.port)), rack: broker.rack)
        }
        if allTopics { topics = [:] }
        for topic in response.topics {
            guard let name = topic.name else { continue }
            if topic.errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue
                || topic.errorCode == KafkaErrorCode.invalidTopicException.rawValue {
                topics[name] = nil
                continue
            }
            // A topic with a top-level error (e.g. LEADER_NOT_AVAILABLE just after creation)
            // is kept only if it comes with partitions.
            guard topic.errorCode == 0 || !topic.partitions.isEmpty else { continue }
            let partitions = topic.partitions.map { partition in
                PartitionMetadata(
                    id: PartitionID(partition.partitionIndex),
                    leader: partition.leaderId >= 0 ? BrokerID(partition.leaderId) : nil,
                    leaderEpoch: LeaderEpoch(partition.leaderEpoch),
                    replicas: partition.replicaNodes.map { BrokerID($0) },
                    isr: partition.isrNodes.map { BrokerID($0) },
                    offlineReplicas: partition.offlineReplicas.map { BrokerID($0) },
                    error: KafkaErrorCode(partition.errorCode))
            }.sorted { $0.id < $1.id }
            topics[name] = TopicMetadata(name: TopicName(name), id: topic.topicId, isInternal: topic.isInternal,
                                         partitions: partitions)
        }
    }
}


