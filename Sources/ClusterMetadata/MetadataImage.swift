import RunnelCore

/// The cluster's metadata at one point of the metadata log: an immutable value that every part
/// of the broker reads. `applying` returns the next image; it never mutates shared state.
public struct MetadataImage: Equatable, Sendable {
    public struct Topic: Equatable, Sendable {
        public var name: TopicName
        public var id: TopicID
        /// Indexed by partition number.
        public var partitions: [PartitionState]
        /// Topic config overrides (keys validated by the broker before the record was written).
        public var configs: [String: String]
    }

    public private(set) var topicsByName: [TopicName: Topic] = [:]
    public private(set) var topicNamesByID: [TopicID: TopicName] = [:]
    /// Registered brokers, fenced or not.
    public private(set) var brokers: [BrokerID: BrokerRegistration] = [:]
    /// Dynamic broker configs by resource name: a broker id ("1"), or "" for the cluster-wide
    /// default (Kafka's `<default>` entity). Keys validated by the broker before the record was written.
    public private(set) var brokerConfigs: [String: [String: String]] = [:]
    /// The ACLs by id (StandardAuthorizer's data; `AclAuthorizer` decides with them).
    public private(set) var acls: [TopicID: AclBinding] = [:]

    /// SCRAM credentials by user name, then by Kafka's mechanism code (docs/decisions.md D173).
    public internal(set) var scramCredentials: [String: [Int8: ScramCredential]] = [:]
    /// Next producer id InitProducerId may hand out.
    public private(set) var nextProducerID: Int64 = 0
    /// Records applied so far (the metadata log's length): the offset the next record gets.
    public private(set) var recordCount: Int64 = 0

    public init() {}

    public func topic(_ name: TopicName) -> Topic? { topicsByName[name] }
    public func topic(id: TopicID) -> Topic? { topicNamesByID[id].flatMap { topicsByName[$0] } }
    public var topicNames: [TopicName] { topicsByName.keys.sorted() }

    public func partition(_ topic: TopicName, _ partition: PartitionID) -> PartitionState? {
        guard let t = topicsByName[topic], partition.rawValue >= 0, Int(partition.rawValue) < t.partitions.count else { return nil }
        return t.partitions[Int(partition.rawValue)]
    }

    /// Every partition of every topic, in topic-name then partition order.
    public var allPartitions: [(topic: TopicName, state: PartitionState)] {
        topicNames.flatMap { name in topicsByName[name]!.partitions.map { (name, $0) } }
    }

    public func broker(_ id: BrokerID) -> BrokerRegistration? { brokers[id] }
    /// The dynamic configs of broker `id` and the cluster-wide dynamic defaults.
    public func dynamicBrokerConfigs(for id: BrokerID) -> (broker: [String: String], defaults: [String: String]) {
        (brokerConfigs[String(id.rawValue)] ?? [:], brokerConfigs[""] ?? [:])
    }
    /// Brokers that may lead partitions and join ISRs (unfenced, not shutting down), by id.
    public var usableBrokers: [BrokerID] { brokers.values.filter(\.isUsable).map(\.id).sorted() }
    public var unfencedBrokers: [BrokerID] { brokers.values.filter { !$0.fenced }.map(\.id).sorted() }
    public func isUsable(_ id: BrokerID) -> Bool { brokers[id]?.isUsable ?? false }

    /// Applies one committed record. Records are produced by `MetadataController`, which checks
    /// them first, so an inconsistent record (partition of an unknown topic) is a programmer
    /// error in the writer, reported as a thrown error so that a corrupt log stops start-up
    /// with a message rather than crashing.
    public func applying(_ record: MetadataRecord) throws(MetadataDecodeError) -> MetadataImage {
        var next = self
        next.recordCount += 1
        switch record {
        case .topic(let name, let id):
            guard next.topicsByName[name] == nil else { throw MetadataDecodeError(reason: "topic \(name) created twice") }
            next.topicsByName[name] = Topic(name: name, id: id, partitions: [], configs: [:])
            next.topicNamesByID[id] = name
        case .partition(let state):
            guard let name = next.topicNamesByID[state.topicID], var topic = next.topicsByName[name] else {
                throw MetadataDecodeError(reason: "partition record for unknown topic id \(state.topicID)")
            }
            let index = Int(state.partition.rawValue)
            // A negative index would trap below (found by FuzzMetadata).
            guard index >= 0 else { throw MetadataDecodeError(reason: "partition record with partition \(index) of \(name)") }
            if index < topic.partitions.count {
                topic.partitions[index] = state
            } else if index == topic.partitions.count {
                topic.partitions.append(state)
            } else {
                throw MetadataDecodeError(reason: "partition \(index) of \(name) skips partitions")
            }
            next.topicsByName[name] = topic
        case .config(let name, let key, let value):
            guard var topic = next.topicsByName[name] else {
                throw MetadataDecodeError(reason: "config record for unknown topic \(name)")
            }
            topic.configs[key] = value
            next.topicsByName[name] = topic
        case .removeTopic(let id):
            guard let name = next.topicNamesByID.removeValue(forKey: id) else {
                throw MetadataDecodeError(reason: "removal of unknown topic id \(id)")
            }
            next.topicsByName[name] = nil
        case .producerIDs(let nextID):
            next.nextProducerID = max(next.nextProducerID, nextID)
        case .registerBroker(let registration):
            next.brokers[registration.id] = registration
        case .brokerChange(let id, let epoch, let fenced, let shutdown):
            // A change for an earlier registration (the broker restarted since) is void.
            guard var broker = next.brokers[id], broker.epoch == epoch else { break }
            if let fenced { broker.fenced = fenced }
            if let shutdown { broker.inControlledShutdown = shutdown }
            next.brokers[id] = broker
        case .unregisterBroker(let id, let epoch):
            if next.brokers[id]?.epoch == epoch { next.brokers[id] = nil }
        case .brokerConfig(let resourceName, let key, let value):
            guard resourceName.isEmpty || (Int32(resourceName).map { $0 >= 0 } ?? false) else {
                throw MetadataDecodeError(reason: "broker config record for resource '\(resourceName)', not a broker id")
            }
            next.brokerConfigs[resourceName, default: [:]][key] = value
            if next.brokerConfigs[resourceName]?.isEmpty == true { next.brokerConfigs[resourceName] = nil }
        case .acl(let id, let binding):
            guard next.acls[id] == nil else { throw MetadataDecodeError(reason: "ACL \(id) added twice") }
            next.acls[id] = binding
        case .removeAcl(let id):
            guard next.acls.removeValue(forKey: id) != nil else { throw MetadataDecodeError(reason: "removal of unknown ACL \(id)") }

        case .scramCredential(let user, let mechanism, let credential):
            try next.applyScramCredential(user: user, mechanism: mechanism, credential: credential)
        }
        return next
    }

    /// Applies records in order.
    public func applying(_ records: [MetadataRecord]) throws(MetadataDecodeError) -> MetadataImage {
        var image = self
        for record in records { image = try image.applying(record) }
        return image
    }

    // MARK: Snapshots

    /// Records that rebuild this image from an empty one (a metadata snapshot's content):
    /// brokers, then topics with their partitions and configs, then dynamic broker configs, then ACLs, then
    /// the producer-id mark.
    /// `MetadataImage.restoring(snapshot:recordCount:)` replays them.
    public func snapshotRecords() -> [MetadataRecord] {
        var records: [MetadataRecord] = brokers.keys.sorted().map { .registerBroker(brokers[$0]!) }
        for name in topicNames {
            let topic = topicsByName[name]!
            records.append(.topic(name: name, id: topic.id))
            records += topic.partitions.map { .partition($0) }
            records += topic.configs.keys.sorted().map { .config(topic: name, key: $0, value: topic.configs[$0]) }
        }
        for resource in brokerConfigs.keys.sorted() {
            let configs = brokerConfigs[resource]!
            records += configs.keys.sorted().map { .brokerConfig(resourceName: resource, key: $0, value: configs[$0]) }
        }
        records += acls.keys.sorted { ($0.high, $0.low) < ($1.high, $1.low) }.map { .acl(id: $0, binding: acls[$0]!) }

        records += scramCredentialRecords()
        if nextProducerID > 0 { records.append(.producerIDs(nextProducerID: nextProducerID)) }
        return records
    }

    /// The image a snapshot describes, positioned at `recordCount` (the metadata offset the
    /// snapshot was taken at, not the number of records in it).
    public static func restoring(snapshot records: [MetadataRecord], recordCount: Int64) throws(MetadataDecodeError) -> MetadataImage {
        var image = try MetadataImage().applying(records)
        image.recordCount = recordCount
        return image
    }
}
