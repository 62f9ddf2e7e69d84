public import RunnelCore

/// Identifies one request the shell handed to the coordinator, so that a response produced later
/// (a JoinGroup completed by another member's join or by a timer, a parked SyncGroup) can be
/// routed back to its connection. The shell allocates tokens; the coordinator only echoes them.
public struct RequestToken: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }
    public static func < (a: RequestToken, b: RequestToken) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "#\(rawValue)" }
}

/// Group responses carry Kafka error codes; the coordinator names them through the project's one
/// table (RunnelCore `KafkaErrorCode`).
public typealias GroupErrorCode = KafkaErrorCode

/// Bounds on what clients can grow inside the coordinator (STYLE.md "every queue is bounded").
/// These belong in RunnelCore `Limits`; they live here until the lead moves them.
/// The coordinator's configuration (Kafka broker settings, with Kafka's defaults).
public struct GroupConfig: Sendable {
    /// `group.initial.rebalance.delay.ms`: how long the first join into an Empty group waits.
    public var initialRebalanceDelayMs: Int64 = 3000
    /// `group.min.session.timeout.ms` / `group.max.session.timeout.ms`.
    public var minSessionTimeoutMs: Int32 = 6000
    public var maxSessionTimeoutMs: Int32 = 1_800_000
    /// `group.max.size` (classic) and `group.consumer.max.size` (KIP-848), capped by GroupLimits.
    public var maxSize: Int = GroupLimits.membersPerGroupMax
    public var consumerMaxSize: Int = GroupLimits.membersPerGroupMax
    /// `offsets.retention.minutes` (10080) in milliseconds.
    public var offsetsRetentionMs: Int64 = 10080 * 60_000
    /// `offset.metadata.max.bytes`.
    public var offsetMetadataMaxBytes: Int = 4096
    /// `group.consumer.heartbeat.interval.ms` / `group.consumer.session.timeout.ms`.
    public var consumerHeartbeatIntervalMs: Int32 = 5000
    public var consumerSessionTimeoutMs: Int32 = 45000
    /// `group.consumer.assignors`: the first one is the default.
    public var consumerAssignors: [ServerAssignorName] = [.uniform, .range]

    public init() {}
}

/// A server-side assignor name as ConsumerGroupHeartbeat's ServerAssignor carries it.
public enum ServerAssignorName: String, Sendable, CaseIterable {
    case uniform
    case range
}

/// The shell's current view of one topic (from the cluster metadata): KIP-848 subscriptions are
/// by name, assignments by topic id.
public struct TopicInfo: Hashable, Sendable {
    public var name: TopicName
    public var id: TopicID
    public var partitionCount: Int32
    public init(name: TopicName, id: TopicID, partitionCount: Int32) {
        self.name = name
        self.id = id
        self.partitionCount = partitionCount
    }
}

/// One topic's partitions, by topic id: the unit of KIP-848 assignments.
public struct TopicIDPartitions: Hashable, Sendable {
    public var topicID: TopicID
    public var partitions: [PartitionID]
    public init(topicID: TopicID, partitions: [PartitionID]) {
        self.topicID = topicID
        self.partitions = partitions
    }
}

extension TopicID {
    /// Total order for deterministic output (TopicID itself is not Comparable).
    static func precedes(_ a: TopicID, _ b: TopicID) -> Bool { (a.high, a.low) < (b.high, b.low) }
}
