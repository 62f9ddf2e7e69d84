public import RunnelCore

/// Input of a server-side assignor: the members (sorted by id for determinism) with their
/// subscriptions and current target assignment (for stickiness), and the subscribed topics.
public struct AssignorMember: Sendable {
    public var memberID: String
    public var subscribedTopics: Set<TopicID>
    public var current: PartitionAssignment
    public init(memberID: String, subscribedTopics: Set<TopicID>, current: PartitionAssignment) {
        self.memberID = memberID
        self.subscribedTopics = subscribedTopics
        self.current = current
    }
}

/// The KIP-848 server-side assignors. Pure functions of their input.
public enum Assignors {
    public static func assign(_ name: ServerAssignorName, members: [AssignorMember], topics: [TopicInfo]) -> [String: PartitionAssignment] {
        switch name {
        case .uniform: uniform(members: members, topics: topics)
        case .range: range(members: members, topics: topics)
        }
    }

    /// Kafka's range rule, per topic: the subscribed members sorted by member id get contiguous
    /// ranges of ⌊P/M⌋ partitions, the first P mod M members one more.
    public static func range(members: [AssignorMember], topics: [TopicInfo]) -> [String: PartitionAssignment] {
        var result = Dictionary(uniqueKeysWithValues: members.map { ($0.memberID, PartitionAssignment()) })
        for topic in topics {
            let subscribers = members.filter { $0.subscribedTopics.contains(topic.id) }.map(\.memberID).sorted()
            guard !subscribers.isEmpty else { continue }
            let count = Int(topic.partitionCount)
            let quota = count / subscribers.count, extra = count % subscribers.count
            var next = 0
            for (i, id) in subscribers.enumerated() {
                let n = quota + (i < extra ? 1 : 0)
                for p in next..<next + n { result[id]!.insert(topic.id, PartitionID(Int32(p))) }
                next += n
            }
        }
        return result
    }

    /// Kafka's uniform assignor goal: balanced (member counts within ±1 when subscriptions are
    /// identical; as close as the subscriptions allow otherwise) and sticky (a partition stays
    /// with its current owner unless balance requires a move).
    ///
    /// 1. Every member keeps the partitions it currently has that still exist and that it still
    ///    subscribes to.
    /// 2. Unassigned partitions go, in (topic id, partition) order, to the least-loaded
    ///    subscriber (ties by member id).
    /// 3. While some member has at least two more partitions than a subscriber of one of its
    ///    partitions' topics, one partition moves from the most to the least loaded. Each move
    ///    lowers the sum of squared loads, so the loop ends; it is bounded by the partition count
    ///    for identical subscriptions.
    public static func uniform(members: [AssignorMember], topics: [TopicInfo]) -> [String: PartitionAssignment] {
        let sorted = members.sorted { $0.memberID < $1.memberID }
        var result = Dictionary(uniqueKeysWithValues: sorted.map { ($0.memberID, PartitionAssignment()) })
        let partitionCounts = Dictionary(topics.map { ($0.id, $0.partitionCount) }, uniquingKeysWith: { a, _ in a })
        var taken = PartitionAssignment()
        for m in sorted {
            for (t, p) in m.current.pairs where m.subscribedTopics.contains(t) && p.rawValue < partitionCounts[t] ?? 0 && !taken.contains(t, p) {
                result[m.memberID]!.insert(t, p)
                taken.insert(t, p)
            }
        }
        for topic in topics.sorted(by: { TopicID.precedes($0.id, $1.id) }) {
            let subscribers = sorted.filter { $0.subscribedTopics.contains(topic.id) }.map(\.memberID)
            guard !subscribers.isEmpty else { continue }
            for p in 0..<topic.partitionCount where !taken.contains(topic.id, PartitionID(p)) {
                let target = subscribers.min { (result[$0]!.count, $0) < (result[$1]!.count, $1) }!
                result[target]!.insert(topic.id, PartitionID(p))
            }
        }
        balance(&result, members: sorted)
        return result
    }

    private static func balance(_ result: inout [String: PartitionAssignment], members: [AssignorMember]) {
        let subscriptions = Dictionary(uniqueKeysWithValues: members.map { ($0.memberID, $0.subscribedTopics) })
        let movesMax = result.values.reduce(0) { $0 + $1.count } * max(1, members.count)
        for _ in 0..<movesMax {
            guard let move = bestMove(result, subscriptions: subscriptions) else { return }
            result[move.from]!.remove(move.topic, move.partition)
            result[move.to]!.insert(move.topic, move.partition)
        }
    }

    /// From the most-loaded member that can give a partition away, its last partition that a
    /// member with at least two fewer partitions subscribes to, to the least-loaded such member.
    private static func bestMove(_ result: [String: PartitionAssignment], subscriptions: [String: Set<TopicID>])
        -> (from: String, to: String, topic: TopicID, partition: PartitionID)? {
        let byLoad = result.keys.sorted { (result[$0]!.count, $1) > (result[$1]!.count, $0) }
        for from in byLoad {
            let load = result[from]!.count
            for (t, p) in result[from]!.pairs.reversed() {
                let receivers = byLoad.filter { result[$0]!.count + 1 < load && subscriptions[$0]!.contains(t) }
                if let to = receivers.min(by: { (result[$0]!.count, $0) < (result[$1]!.count, $1) }) {
                    return (from, to, t, p)
                }
            }
        }
        return nil
    }
}
