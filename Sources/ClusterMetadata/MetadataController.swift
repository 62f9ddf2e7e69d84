import RunnelCore

/// Controller decisions (DESIGN.md §5): checks a request against the current image and answers
/// with the records that carry it out, or a Kafka error. Pure: time arrives as milliseconds,
/// randomness from an injected generator, and nothing here does I/O.
///
/// The image a decision is made against is the controller's *latest* image: the committed image
/// plus the records this controller proposed that are not committed yet (the caller applies a
/// decision's records to it before the next decision, and falls back to the committed image
/// when it loses leadership). Broker sessions (last heartbeat times) are the one piece of state
/// kept here: they are not replicated, and a newly active controller gives every registered broker
/// a full session (`becameActive`).
public struct MetadataController: Sendable {
    public struct Config: Sendable, Equatable {
        /// A broker that has not heartbeated for this long is fenced (broker.session.timeout.ms).
        public var sessionTimeoutMs: Int64
        /// Producer ids handed out per InitProducerId block.
        public var producerIDBlockSize: Int64
        /// unclean.leader.election.enable, the broker default (topics may override it).
        public var uncleanLeaderElection: Bool
        /// leader.imbalance.per.broker.percentage: a broker whose preferred partitions are led
        /// elsewhere for more than this share gets them back (auto.leader.rebalance.enable).
        public var leaderImbalancePercentage: Int

        public init(sessionTimeoutMs: Int64 = 9000, producerIDBlockSize: Int64 = 1000,
                    uncleanLeaderElection: Bool = false, leaderImbalancePercentage: Int = 10) {
            self.sessionTimeoutMs = sessionTimeoutMs
            self.producerIDBlockSize = producerIDBlockSize
            self.uncleanLeaderElection = uncleanLeaderElection
            self.leaderImbalancePercentage = leaderImbalancePercentage
        }
    }

    public var config: Config
    /// Brokers that place partitions while the image has no registered broker (a single node
    /// before it registers itself). Empty in a cluster.
    public var staticBrokers: [BrokerID]
    /// Last heartbeat (or registration) time of each broker, in ms. Controller-local.
    public internal(set) var lastContact: [BrokerID: Int64] = [:]
    /// Brokers that registered or heartbeated to this controller since it became active (the
    /// others hold only the session `becameActive` granted them).
    public internal(set) var heardFrom: Set<BrokerID> = []
    /// Deliberately broken rules for `cluster-sim`'s canaries; empty (and unreachable from any
    /// configuration) everywhere else.
    package var canaries: Set<ControllerCanary> = []

    public init(config: Config = Config(), staticBrokers: [BrokerID] = []) {
        self.config = config
        self.staticBrokers = staticBrokers
    }

    /// The single node's controller (every partition on `brokers`, until brokers register).
    public init(brokers: [BrokerID]) {
        precondition(!brokers.isEmpty, "a controller needs at least one broker")
        self.init(staticBrokers: brokers)
    }

    /// A refusal: a Kafka error code plus the message returned to the client.
    public struct Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        public let code: KafkaErrorCode
        public let message: String
        public init(_ code: KafkaErrorCode, _ message: String) { self.code = code; self.message = message }
        public var description: String { "\(code): \(message)" }
    }

    /// Brokers new partitions may be placed on: the usable registered ones, or the static list
    /// while nobody has registered.
    public func placementBrokers(in image: MetadataImage) -> [BrokerID] {
        image.brokers.isEmpty ? staticBrokers.sorted() : image.usableBrokers
    }

    // MARK: Topics

    public func createTopic<G: RandomNumberGenerator>(
        name: String, partitions: Int32, replicationFactor: Int16, configs: [String: String],
        in image: MetadataImage, ids: inout G
    ) -> Result<[MetadataRecord], Refusal> {
        if let why = TopicName.invalidReason(name) { return .failure(Refusal(KafkaErrorCode.invalidTopicException, why)) }
        let topic = TopicName(name)
        if image.topic(topic) != nil {
            return .failure(Refusal(KafkaErrorCode.topicAlreadyExists, "Topic '\(name)' already exists."))
        }
        guard partitions >= 1, partitions <= Limits.partitionsPerTopicMax else {
            return .failure(Refusal(KafkaErrorCode.invalidPartitions,
                                    "Number of partitions must be in 1...\(Limits.partitionsPerTopicMax), got \(partitions)."))
        }
        let brokers = placementBrokers(in: image)
        if let refusal = checkReplicationFactor(Int(replicationFactor), available: brokers.count) { return .failure(refusal) }
        var id = TopicID.random(using: &ids)
        while id == .zero || image.topic(id: id) != nil { id = TopicID.random(using: &ids) }
        var records: [MetadataRecord] = [.topic(name: topic, id: id)]
        records += partitionRecords(topicID: id, from: 0, count: partitions, replicationFactor: Int(replicationFactor),
                                    brokers: brokers, random: &ids)
        for (key, value) in configs.sorted(by: { $0.key < $1.key }) {
            records.append(.config(topic: topic, key: key, value: value))
        }
        return .success(records)
    }

    /// Kafka's INVALID_REPLICATION_FACTOR, naming both numbers.
    func checkReplicationFactor(_ rf: Int, available: Int) -> Refusal? {
        guard rf >= 1 else {
            return Refusal(KafkaErrorCode.invalidReplicationFactor, "Replication factor must be at least 1, got \(rf).")
        }
        guard rf <= available else {
            return Refusal(KafkaErrorCode.invalidReplicationFactor,
                           "Replication factor \(rf) is larger than the number of available brokers, \(available).")
        }
        return nil
    }

    public func createPartitions<G: RandomNumberGenerator>(topic name: String, totalCount: Int32, in image: MetadataImage,
                                                           random: inout G) -> Result<[MetadataRecord], Refusal> {
        guard let topic = image.topic(TopicName(name)) else {
            return .failure(Refusal(KafkaErrorCode.unknownTopicOrPartition, "Topic '\(name)' does not exist."))
        }
        let current = Int32(topic.partitions.count)
        guard totalCount > current else {
            return .failure(Refusal(KafkaErrorCode.invalidPartitions,
                                    "Topic '\(name)' has \(counted(current, "partition")); the new count \(totalCount) must be larger."))
        }
        guard totalCount <= Limits.partitionsPerTopicMax else {
            return .failure(Refusal(KafkaErrorCode.invalidPartitions, "Number of partitions must be at most \(Limits.partitionsPerTopicMax)."))
        }
        let rf = topic.partitions.first?.replicas.count ?? 1
        let brokers = placementBrokers(in: image)
        if let refusal = checkReplicationFactor(rf, available: brokers.count) { return .failure(refusal) }
        return .success(partitionRecords(topicID: topic.id, from: current, count: totalCount - current, replicationFactor: rf,
                                         brokers: brokers, random: &random))
    }

    public func deleteTopic(name: String, in image: MetadataImage) -> Result<[MetadataRecord], Refusal> {
        guard let topic = image.topic(TopicName(name)) else {
            return .failure(Refusal(KafkaErrorCode.unknownTopicOrPartition, "Topic '\(name)' does not exist."))
        }
        return .success([.removeTopic(id: topic.id)])
    }

    /// Hands out `count` producer ids; the record makes the allocation durable.
    public func allocateProducerIDs(count: Int64, in image: MetadataImage) -> (first: Int64, record: MetadataRecord) {
        let first = image.nextProducerID
        return (first, .producerIDs(nextProducerID: first + count))
    }

    func partitionRecords<G: RandomNumberGenerator>(topicID: TopicID, from first: Int32, count: Int32, replicationFactor: Int,
                                                    brokers: [BrokerID], random: inout G) -> [MetadataRecord] {
        let assignments = ReplicaPlacement.assign(partitions: first, count: count, replicationFactor: replicationFactor,
                                                  brokers: brokers, random: &random)
        return assignments.enumerated().map { offset, replicas in
            .partition(PartitionState(topicID: topicID, partition: PartitionID(first + Int32(offset)), replicas: replicas,
                                      isr: replicas, leader: replicas[0], leaderEpoch: LeaderEpoch(0), partitionEpoch: 0))
        }
    }

    /// Whether `topic` may elect a leader outside its ISR (the topic's
    /// unclean.leader.election.enable, else the cluster-wide dynamic default, else the broker's).
    func uncleanAllowed(_ topic: MetadataImage.Topic?, image: MetadataImage) -> Bool {
        if let value = topic?.configs["unclean.leader.election.enable"] { return value == "true" }
        if let value = image.brokerConfigs[""]?["unclean.leader.election.enable"] { return value == "true" }
        return config.uncleanLeaderElection
    }
}

/// Deliberately broken controller rules, one per canary of `cluster-sim` (which must catch each).
/// Package access: no configuration of the broker can switch one on.
package enum ControllerCanary: String, CaseIterable, Sendable {
    /// An election takes the first usable replica, in the ISR or not.
    case electOutsideISR = "elect-outside-isr"
}
