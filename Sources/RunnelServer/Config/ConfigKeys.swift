import RunnelCore

/// Every broker configuration key Runnel accepts, with Kafka's names and defaults. A key not in
/// this table stops start-up. The README's configuration reference lists the same table.
public enum BrokerKeys {
    static let i32 = ConfigKind.int(0...Int64(Int32.max))
    static let pos32 = ConfigKind.int(1...Int64(Int32.max))
    static let ms = ConfigKind.int(0...Int64.max)
    static let retention = ConfigKind.int(-1...Int64.max)

    public static let all: [ConfigKey] = [
        // Identity, roles, listeners (KRaft names).
        ConfigKey("process.roles", "broker,controller", .choiceList(["broker", "controller"]),
                  "Roles of this node; a single node is both broker and controller (one-voter quorum)."),
        ConfigKey("node.id", "1", i32, "This node's id."),
        ConfigKey("listeners", "PLAINTEXT://localhost:9092", .listeners,
                  "Where clients connect: NAME://host:port, comma-separated. Empty host = all interfaces."),
        ConfigKey("advertised.listeners", nil, .listeners,
                  "Addresses returned to clients in Metadata; default: listeners."),
        ConfigKey("listener.security.protocol.map",
                  "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
                  .list, "Listener name to security protocol; only PLAINTEXT is supported so far."),
        ConfigKey("controller.listener.names", "CONTROLLER", .list,
                  "Listener names used by the controller quorum."),
        ConfigKey("controller.quorum.voters", "", .list,
                  "Controller voters as id@host:port; empty = this node alone (one-voter quorum)."),
        ConfigKey("inter.broker.listener.name", nil, .string, "Listener brokers use among themselves."),
        // Storage.
        ConfigKey("log.dirs", "./data", .string, "The data directory (one directory; Kafka allows a list)."),
        ConfigKey("log.dir", nil, .string, "Alias of log.dirs, used when log.dirs is not set."),
        ConfigKey("log.segment.bytes", "1073741824",
                  .int(Int64(RunnelCoreLimits.segmentBytesMin)...Int64(RunnelCoreLimits.segmentBytesMax)),
                  "Segment size at which a partition log rolls."),
        ConfigKey("log.roll.ms", nil, pos32.widened, "Roll a segment older than this; default log.roll.hours."),
        ConfigKey("log.roll.hours", "168", .int(1...Int64(Int32.max)), "Roll a segment older than this many hours."),
        ConfigKey("log.retention.ms", nil, retention, "Delete sealed segments older than this (-1 = keep forever); default from minutes/hours."),
        ConfigKey("log.retention.minutes", nil, retention, "Retention in minutes, used when log.retention.ms is unset."),
        ConfigKey("log.retention.hours", "168", retention, "Retention in hours, used when ms and minutes are unset."),
        ConfigKey("log.retention.bytes", "-1", retention, "Delete oldest sealed segments while a partition is larger (-1 = no limit)."),
        ConfigKey("log.retention.check.interval.ms", "300000", .int(1...Int64.max), "How often retention is checked."),
        ConfigKey("log.index.interval.bytes", "4096", i32, "Bytes of log between two offset-index entries."),
        ConfigKey("log.index.size.max.bytes", "10485760", .int(4096...Int64(Int32.max)), "Preallocated size of each index file."),
        ConfigKey("log.flush.interval.messages", "9223372036854775807", .int(1...Int64.max),
                  "fsync a partition after this many messages (Kafka default: never; acks=all batches are always fsynced while runnel.acks.all.fsync=true)."),
        ConfigKey("log.flush.interval.ms", nil, ms, "fsync a partition when its oldest unflushed message is this old (default: never)."),
        ConfigKey("log.message.timestamp.type", "CreateTime", .choice(["CreateTime", "LogAppendTime"]),
                  "Timestamp stored with records: the producer's or the broker's append time."),
        ConfigKey("message.max.bytes", "1048588", .int(0...Int64(Int32.max)), "Largest record batch a topic accepts."),
        ConfigKey("log.cleanup.policy", "delete", .choice(["delete"]), "Only delete is supported so far."),
        ConfigKey("runnel.acks.all.fsync", "true", .bool,
                  "fsync acks=all batches before acknowledging them (group commit). false = Kafka's relaxed mode: rely on the page cache."),
        // Topics.
        ConfigKey("num.partitions", "1", pos32, "Partitions of auto-created topics and CreateTopics without a count."),
        ConfigKey("default.replication.factor", "1", .int(1...Int64(Int16.max)), "Replication factor of auto-created topics."),
        ConfigKey("min.insync.replicas", "1", pos32, "Replicas that must have a batch before acks=all succeeds."),
        ConfigKey("auto.create.topics.enable", "true", .bool, "Create a topic when a client asks for metadata of an unknown one."),
        ConfigKey("delete.topic.enable", "true", .bool, "Allow DeleteTopics."),
        // Network.
        ConfigKey("socket.request.max.bytes", "104857600", .int(1024...Int64(Int32.max)),
                  "Largest request frame; larger ones are refused from their size prefix, before allocation."),
        ConfigKey("num.network.threads", "1", .int(1...64), "NIO event-loop threads for connections."),
        ConfigKey("num.io.threads", "2", .int(1...64), "Threads for fsync and other blocking file work."),
        ConfigKey("connections.max.idle.ms", "600000", ms, "Close connections idle for this long."),
        // Groups (used by the group coordinator).
        ConfigKey("offsets.topic.num.partitions", "50", .int(1...1000), "Partitions of __consumer_offsets."),
        ConfigKey("offsets.topic.replication.factor", "1", .int(1...Int64(Int16.max)), "Replication factor of __consumer_offsets."),
        ConfigKey("offsets.topic.segment.bytes", "104857600", .int(1024...Int64(Int32.max)), "Segment size of __consumer_offsets."),
        ConfigKey("offsets.retention.minutes", "10080", .int(1...Int64(Int32.max)), "Committed offsets of empty groups expire after this."),
        ConfigKey("group.initial.rebalance.delay.ms", "3000", i32, "Wait before the first rebalance of an empty group."),
        ConfigKey("group.min.session.timeout.ms", "6000", i32, "Smallest session timeout a member may ask for."),
        ConfigKey("group.max.session.timeout.ms", "1800000", i32, "Largest session timeout a member may ask for."),
        ConfigKey("group.consumer.heartbeat.interval.ms", "5000", pos32, "KIP-848 heartbeat interval."),
        ConfigKey("group.consumer.session.timeout.ms", "45000", pos32, "KIP-848 session timeout."),
    ]

    public static let byName: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
}

/// Topic-level keys: accepted by CreateTopics and reported by DescribeConfigs. Each has the
/// broker key that supplies its default.
public enum TopicKeys {
    public struct Entry: Sendable {
        public let key: ConfigKey
        /// Broker key whose value is this key's default (nil = the key's own default).
        public let brokerDefault: String?
    }

    public static let all: [Entry] = [
        Entry(key: ConfigKey("retention.ms", nil, BrokerKeys.retention, "Delete sealed segments older than this (-1 = forever)."),
              brokerDefault: "log.retention.ms"),
        Entry(key: ConfigKey("retention.bytes", nil, BrokerKeys.retention, "Size limit of one partition (-1 = none)."),
              brokerDefault: "log.retention.bytes"),
        Entry(key: ConfigKey("segment.bytes", nil,
                             .int(Int64(RunnelCoreLimits.segmentBytesMin)...Int64(RunnelCoreLimits.segmentBytesMax)),
                             "Segment size."), brokerDefault: "log.segment.bytes"),
        Entry(key: ConfigKey("segment.ms", nil, .int(1...Int64.max), "Roll segments older than this."),
              brokerDefault: "log.roll.ms"),
        Entry(key: ConfigKey("cleanup.policy", nil, .choice(["delete"]), "Only delete is supported so far."),
              brokerDefault: "log.cleanup.policy"),
        Entry(key: ConfigKey("message.timestamp.type", nil, .choice(["CreateTime", "LogAppendTime"]), "Record timestamp type."),
              brokerDefault: "log.message.timestamp.type"),
        Entry(key: ConfigKey("max.message.bytes", nil, .int(0...Int64(Int32.max)), "Largest record batch."),
              brokerDefault: "message.max.bytes"),
        Entry(key: ConfigKey("min.insync.replicas", nil, BrokerKeys.pos32, "Replicas needed for acks=all."),
              brokerDefault: "min.insync.replicas"),
        Entry(key: ConfigKey("flush.messages", nil, .int(1...Int64.max), "fsync after this many messages."),
              brokerDefault: "log.flush.interval.messages"),
        Entry(key: ConfigKey("flush.ms", nil, .int(0...Int64.max), "fsync when the oldest unflushed message is this old."),
              brokerDefault: "log.flush.interval.ms"),
        Entry(key: ConfigKey("index.interval.bytes", nil, BrokerKeys.i32, "Bytes between offset-index entries."),
              brokerDefault: "log.index.interval.bytes"),
        Entry(key: ConfigKey("segment.index.bytes", nil, .int(4096...Int64(Int32.max)), "Index file size."),
              brokerDefault: "log.index.size.max.bytes"),
        Entry(key: ConfigKey("runnel.acks.all.fsync", nil, .bool, "fsync acks=all batches before acknowledging."),
              brokerDefault: "runnel.acks.all.fsync"),
    ]

    public static let byName: [String: Entry] = Dictionary(uniqueKeysWithValues: all.map { ($0.key.name, $0) })
}

typealias RunnelCoreLimits = RunnelCore.Limits

extension ConfigKind {
    /// Same bounds as an int kind but allowing Int64 (used for ms keys).
    var widened: ConfigKind {
        if case .int(let r) = self { return .int(r.lowerBound...Int64.max) }
        return self
    }
}
