import RunnelCore

/// A topic to create. -1 for partitions or replication factor means the broker's default
/// (`num.partitions`, `default.replication.factor`; CreateTopics v4+).
public struct NewTopic: Sendable, Equatable {
    public var name: String
    public var partitions: Int32
    public var replicationFactor: Int16
    public var configs: [String: String]

    public init(name: String, partitions: Int32 = -1, replicationFactor: Int16 = -1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// What the broker reported for one created (or validated) topic.
public struct CreatedTopic: Sendable, Equatable {
    public var name: String
    public var id: TopicID
    public var partitions: Int32
    public var replicationFactor: Int16
}

/// One configuration entry of a topic (DescribeConfigs).
public struct ConfigEntry: Sendable, Equatable {
    public var name: String
    public var value: String?
    public var isDefault: Bool
    public var isReadOnly: Bool
    public var isSensitive: Bool
    /// Kafka's ConfigSource: 1 topic, 4 static broker, 5 default, … (-1 unknown).
    public var source: Int8

    /// A short name for `source`, e.g. "topic", "default".
    public var sourceName: String {
        switch source {
        case 1: return "topic"
        case 2: return "dynamic-broker"
        case 3: return "dynamic-default-broker"
        case 4: return "static-broker"
        case 5: return "default"
        case 6: return "dynamic-broker-logger"
        case 7: return "client-metrics"
        case 8: return "group"
        default: return isDefault ? "default" : "unknown"
        }
    }
}

/// A topic as `runnel topic describe` shows it.
public struct TopicDescription: Sendable, Equatable {
    public var metadata: TopicMetadata
    /// Sorted by name. Empty when the broker does not support DescribeConfigs.
    public var configs: [ConfigEntry]
}

/// Which offset ListOffsets should return.
public enum OffsetSpec: Sendable, Equatable {
    /// The log start offset.
    case earliest
    /// The log end offset (the high watermark for read_uncommitted).
    case latest
    /// The first offset whose timestamp is at or after the given time.
    case timestamp(TimestampMs)
    /// The record with the largest timestamp (ListOffsets v7+).
    case maxTimestamp

    var wireTimestamp: Int64 {
        switch self {
        case .earliest: return -2
        case .latest: return -1
        case .timestamp(let time): return time.rawValue
        case .maxTimestamp: return -3
        }
    }
}

/// An answer of ListOffsets for one partition. `offset` is nil when no record matches a
/// timestamp query (every record is older).
public struct ListedOffset: Sendable, Equatable {
    public var partition: PartitionID
    public var offset: Offset?
    public var timestamp: TimestampMs
}
