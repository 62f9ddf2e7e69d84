public import RunnelCore

/// A set of (topic id, partition) pairs: what a KIP-848 member owns, is assigned, or must revoke.
/// Value type with set algebra; `topics` lists it in a deterministic order (topic id, partition).
public struct PartitionAssignment: Hashable, Sendable {
    public private(set) var partitions: [TopicID: Set<PartitionID>] = [:]

    public init() {}

    public init(_ topics: [TopicIDPartitions]) {
        for t in topics { for p in t.partitions { insert(t.topicID, p) } }
    }

    public static let empty = PartitionAssignment()

    public var isEmpty: Bool { partitions.isEmpty }
    public var count: Int { partitions.values.reduce(0) { $0 + $1.count } }

    public func contains(_ topic: TopicID, _ partition: PartitionID) -> Bool {
        partitions[topic]?.contains(partition) ?? false
    }

    public mutating func insert(_ topic: TopicID, _ partition: PartitionID) {
        partitions[topic, default: []].insert(partition)
    }

    public mutating func remove(_ topic: TopicID, _ partition: PartitionID) {
        guard var set = partitions[topic] else { return }
        set.remove(partition)
        partitions[topic] = set.isEmpty ? nil : set
    }

    /// Every pair, sorted by topic id then partition.
    public var pairs: [(TopicID, PartitionID)] {
        topics.flatMap { t in t.partitions.map { (t.topicID, $0) } }
    }

    /// Sorted per-topic lists, the shape of the wire and record fields.
    public var topics: [TopicIDPartitions] {
        partitions.keys.sorted(by: TopicID.precedes).map { id in
            TopicIDPartitions(topicID: id, partitions: partitions[id]!.sorted())
        }
    }

    public func subtracting(_ other: PartitionAssignment) -> PartitionAssignment {
        filter { !other.contains($0, $1) }
    }

    public func intersection(_ other: PartitionAssignment) -> PartitionAssignment {
        filter { other.contains($0, $1) }
    }

    public func union(_ other: PartitionAssignment) -> PartitionAssignment {
        var result = self
        for (t, p) in other.pairs { result.insert(t, p) }
        return result
    }

    public func isSubset(of other: PartitionAssignment) -> Bool {
        pairs.allSatisfy { other.contains($0.0, $0.1) }
    }

    func filter(_ keep: (TopicID, PartitionID) -> Bool) -> PartitionAssignment {
        var result = PartitionAssignment()
        for (t, ps) in partitions { for p in ps where keep(t, p) { result.insert(t, p) } }
        return result
    }
}
