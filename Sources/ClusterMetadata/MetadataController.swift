import RunnelCore

/// Controller decisions: checks an admin request against the current image and answers with
/// the records that carry it out, or a Kafka error. Pure: the topic id generator is injected.
///
/// Single-node for now: every partition is placed on this broker with replication factor 1.
/// Replication factors above the number of live brokers are refused (Kafka's
/// INVALID_REPLICATION_FACTOR with the same reason).
public struct MetadataController: Sendable {
    public var brokers: [BrokerID]

    public init(brokers: [BrokerID]) {
        precondition(!brokers.isEmpty, "a controller needs at least one broker")
        self.brokers = brokers
    }

    /// A refusal: a Kafka error code plus the message returned to the client.
    public struct Refusal: Error, Equatable, Sendable {
        public let code: Int16
        public let message: String
        public init(_ code: Int16, _ message: String) { self.code = code; self.message = message }
    }

    public enum ErrorCode {
        public static let topicAlreadyExists: Int16 = 36
        public static let invalidPartitions: Int16 = 37
        public static let invalidReplicationFactor: Int16 = 38
        public static let invalidTopic: Int16 = 17
        public static let unknownTopicOrPartition: Int16 = 3
        public static let invalidConfig: Int16 = 40
    }

    public func createTopic<G: RandomNumberGenerator>(
        name: String, partitions: Int32, replicationFactor: Int16, configs: [String: String],
        in image: MetadataImage, ids: inout G
    ) -> Result<[MetadataRecord], Refusal> {
        if let why = TopicName.invalidReason(name) { return .failure(Refusal(ErrorCode.invalidTopic, why)) }
        let topic = TopicName(name)
        if image.topic(topic) != nil {
            return .failure(Refusal(ErrorCode.topicAlreadyExists, "Topic '\(name)' already exists."))
        }
        guard partitions >= 1, partitions <= Limits.partitionsPerTopicMax else {
            return .failure(Refusal(ErrorCode.invalidPartitions,
                                    "Number of partitions must be in 1...\(Limits.partitionsPerTopicMax), got \(partitions)."))
        }
        guard replicationFactor >= 1 else {
            return .failure(Refusal(ErrorCode.invalidReplicationFactor, "Replication factor must be at least 1, got \(replicationFactor)."))
        }
        guard Int(replicationFactor) <= brokers.count else {
            return .failure(Refusal(ErrorCode.invalidReplicationFactor,
                "Replication factor \(replicationFactor) is larger than the \(brokers.count) available broker(s); this cluster has \(brokers.count) node(s) and replication is not implemented yet."))
        }
        var id = TopicID.random(using: &ids)
        while id == .zero || image.topic(id: id) != nil { id = TopicID.random(using: &ids) }
        var records: [MetadataRecord] = [.topic(name: topic, id: id)]
        records += partitionRecords(topicID: id, from: 0, count: partitions, replicationFactor: Int(replicationFactor))
        for (key, value) in configs.sorted(by: { $0.key < $1.key }) {
            records.append(.config(topic: topic, key: key, value: value))
        }
        return .success(records)
    }

    public func createPartitions(topic name: String, totalCount: Int32, in image: MetadataImage) -> Result<[MetadataRecord], Refusal> {
        guard let topic = image.topic(TopicName(name)) else {
            return .failure(Refusal(ErrorCode.unknownTopicOrPartition, "Topic '\(name)' does not exist."))
        }
        let current = Int32(topic.partitions.count)
        guard totalCount > current else {
            return .failure(Refusal(ErrorCode.invalidPartitions,
                                    "Topic '\(name)' has \(counted(current, "partition")); the new count \(totalCount) must be larger."))
        }
        guard totalCount <= Limits.partitionsPerTopicMax else {
            return .failure(Refusal(ErrorCode.invalidPartitions, "Number of partitions must be at most \(Limits.partitionsPerTopicMax)."))
        }
        let rf = topic.partitions.first?.replicas.count ?? 1
        return .success(partitionRecords(topicID: topic.id, from: current, count: totalCount - current, replicationFactor: rf))
    }

    public func deleteTopic(name: String, in image: MetadataImage) -> Result<[MetadataRecord], Refusal> {
        guard let topic = image.topic(TopicName(name)) else {
            return .failure(Refusal(ErrorCode.unknownTopicOrPartition, "Topic '\(name)' does not exist."))
        }
        return .success([.removeTopic(id: topic.id)])
    }

    /// Hands out `count` producer ids; the record makes the allocation durable.
    public func allocateProducerIDs(count: Int64, in image: MetadataImage) -> (first: Int64, record: MetadataRecord) {
        let first = image.nextProducerID
        return (first, .producerIDs(nextProducerID: first + count))
    }

    func partitionRecords(topicID: TopicID, from first: Int32, count: Int32, replicationFactor: Int) -> [MetadataRecord] {
        (first..<first + count).map { p in
            // Round-robin placement starting at a partition-dependent broker (Kafka's spread).
            let start = Int(p) % brokers.count
            let replicas = (0..<replicationFactor).map { brokers[(start + $0) % brokers.count] }
            return .partition(PartitionState(topicID: topicID, partition: PartitionID(p), replicas: replicas,
                                             isr: replicas, leader: replicas[0], leaderEpoch: LeaderEpoch(0)))
        }
    }
}
