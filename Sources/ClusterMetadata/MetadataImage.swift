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
    /// Next producer id InitProducerId may hand out.
    public private(set) var nextProducerID: Int64 = 0
    /// Records applied so far (the metadata log's length).
    public private(set) var recordCount: Int64 = 0

    public init() {}

    public func topic(_ name: TopicName) -> Topic? { topicsByName[name] }
    public func topic(id: TopicID) -> Topic? { topicNamesByID[id].flatMap { topicsByName[$0] } }
    public var topicNames: [TopicName] { topicsByName.keys.sorted() }

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
        }
        return next
    }
}
