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
                  .list, "Listener name to security protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."),
        ConfigKey("controller.listener.names", "CONTROLLER", .list,
                  "Listener names used by the controller quorum."),
        ConfigKey("controller.quorum.voters", "", .list,
                  "Controller voters as id@host:port; empty = this node alone (one-voter quorum)."),
        ConfigKey("broker.heartbeat.interval.ms", "2000", .int(10...Int64(Int32.max)),
                  "How often a broker heartbeats to the active controller."),
        ConfigKey("broker.session.timeout.ms", "9000", .int(100...Int64(Int32.max)),
                  "A broker without a heartbeat for this long is fenced and its leaderships move."),
        ConfigKey("auto.leader.rebalance.enable", "true", .bool,
                  "Give leadership back to preferred replicas (the first of each partition) once they are in sync."),
        ConfigKey("leader.imbalance.check.interval.seconds", "300", .int(1...Int64(Int32.max)),
                  "How often the active controller checks leadership balance."),
        ConfigKey("leader.imbalance.per.broker.percentage", "10", .int(0...100),
                  "Share of a broker's preferred partitions led elsewhere above which they move back."),
        ConfigKey("broker.rack", "", .string, "This broker's rack, recorded in its registration (empty: none)."),
        ConfigKey("metadata.log.max.record.bytes.between.snapshots", "20971520", .int(1024...Int64.max),
                  "Bytes of metadata records applied between two metadata snapshots (the Raft log is cut at each)."),
        ConfigKey("inter.broker.listener.name", "PLAINTEXT", .string,
                  "Listener brokers use among themselves (Kafka leaves it unset and uses PLAINTEXT)."),
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
        ConfigKey("log.cleanup.policy", "delete", .choiceList(["compact", "delete"]),
                  "Default of cleanup.policy: delete (retention), compact (the log cleaner) or both."),
        ConfigKey("runnel.acks.all.fsync", "true", .bool,
                  "fsync acks=all batches before acknowledging them (group commit). false = Kafka's relaxed mode: rely on the page cache."),
        ConfigKey("runnel.metrics.listener", "", .string,
                  "Serve Prometheus metrics (GET /metrics) and readiness (GET /health) at http://host:port; empty = off."),
        // Topics.
        ConfigKey("num.partitions", "1", pos32, "Partitions of auto-created topics and CreateTopics without a count."),
        ConfigKey("default.replication.factor", "1", .int(1...Int64(Int16.max)), "Replication factor of auto-created topics."),
        ConfigKey("min.insync.replicas", "1", pos32, "Replicas that must have a batch before acks=all succeeds."),
        ConfigKey("auto.create.topics.enable", "true", .bool, "Create a topic when a client asks for metadata of an unknown one."),
        ConfigKey("delete.topic.enable", "true", .bool, "Allow DeleteTopics."),
        // Replication (followers fetch from leaders).
        ConfigKey("replica.lag.time.max.ms", "30000", .int(1...Int64(Int32.max)),
                  "A follower not caught up with its leader for this long leaves the ISR."),
        ConfigKey("replica.fetch.max.bytes", "1048576", .int(1...Int64(Int32.max)),
                  "Bytes a follower asks for per partition in one fetch (at least one batch is always returned)."),
        ConfigKey("replica.fetch.response.max.bytes", "10485760", .int(1...Int64(Int32.max)),
                  "Bytes a follower asks for in one fetch response, over all partitions."),
        ConfigKey("replica.fetch.wait.max.ms", "500", .int(0...Int64(Int32.max)),
                  "How long a follower's fetch may wait at the leader for new data."),
        ConfigKey("replica.fetch.backoff.ms", "1000", .int(0...Int64(Int32.max)),
                  "Wait before a follower retries a leader after a failed fetch."),
        // Network.
        ConfigKey("socket.request.max.bytes", "104857600", .int(1024...Int64(Int32.max)),
                  "Largest request frame; larger ones are refused from their size prefix, before allocation."),
        ConfigKey("num.network.threads", "1", .int(1...64), "NIO event-loop threads for connections."),
        ConfigKey("num.io.threads", "2", .int(1...64), "Threads for fsync and other blocking file work."),
        ConfigKey("connections.max.idle.ms", "600000", ms, "Close connections idle for this long."),
        // Authorization (ACLs, D180).
        ConfigKey("authorizer.class.name", "", .choice(["", "org.apache.kafka.metadata.authorizer.StandardAuthorizer", "runnel"]),
                  "Turns ACLs on: Kafka's StandardAuthorizer class name or its short name `runnel`; empty = everything is allowed."),
        ConfigKey("super.users", "", .string, "Principals allowed everything whatever the ACLs say, separated by semicolons (User:admin;User:broker)."),
        ConfigKey("allow.everyone.if.no.acl.found", "false", .bool,
                  "With ACLs on, allow an operation on a resource that no ACL names at all."),
        // SASL (docs/decisions.md D171).
        ConfigKey("sasl.enabled.mechanisms", "SCRAM-SHA-256,SCRAM-SHA-512", .choiceList(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]),
                  "SASL mechanisms offered on SASL_PLAINTEXT and SASL_SSL listeners."),
        ConfigKey("connections.max.reauth.ms", "0", ms,
                  "SASL session lifetime (KIP-368): past it a connection must re-authenticate; 0 = never expires."),
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
        // Broker defaults of topic keys (Kafka's synonyms, TopicKeys). Those whose topic key is not
        // in effect yet are listed in the README's "accepted, not yet in effect" table.
        ConfigKey("log.flush.scheduler.interval.ms", "9223372036854775807", ms,
                  "Default of log.flush.interval.ms (Kafka: also how often its flusher looks)."),
        ConfigKey("log.roll.jitter.ms", nil, ms, "Default of segment.jitter.ms; default log.roll.jitter.hours."),
        ConfigKey("log.roll.jitter.hours", "0", i32, "Default of segment.jitter.ms, in hours."),
        // The log cleaner (compacted topics, D151).
        ConfigKey("log.cleaner.enable", "true", .bool, "Run the log cleaner (compacted topics are not compacted without it)."),
        ConfigKey("log.cleaner.threads", "1", .int(1...64), "Cleaner threads (each cleans one log at a time)."),
        ConfigKey("log.cleaner.backoff.ms", "15000", .int(1...Int64(Int32.max)), "How long an idle cleaner thread waits before it looks again."),
        ConfigKey("log.cleaner.io.max.bytes.per.second", "1.0E8", .double(0...Double.greatestFiniteMagnitude),
                  "Bytes per second all cleaner threads together may read and write (Kafka: unlimited; Runnel: 100 MB/s, D153)."),
        ConfigKey("log.cleaner.dedupe.buffer.size", "134217728", .int(1024 * 1024...Int64.max),
                  "Memory of the cleaners' offset maps, shared among the threads; bounds the keys one clean covers."),
        ConfigKey("log.cleaner.delete.retention.ms", "86400000", ms, "Default of delete.retention.ms."),
        ConfigKey("log.cleaner.min.compaction.lag.ms", "0", ms, "Default of min.compaction.lag.ms."),
        ConfigKey("log.cleaner.max.compaction.lag.ms", "9223372036854775807", .int(1...Int64.max),
                  "Default of max.compaction.lag.ms."),
        ConfigKey("log.cleaner.min.cleanable.ratio", "0.5", .double(0...1), "Default of min.cleanable.dirty.ratio."),
        ConfigKey("log.segment.delete.delay.ms", "60000", ms, "Default of file.delete.delay.ms."),
        ConfigKey("unclean.leader.election.enable", "false", .bool, "Default of the topic key of the same name."),
        ConfigKey("compression.type", "producer", compressionTypes, "Default of the topic key of the same name."),
        ConfigKey("compression.gzip.level", "-1", gzipLevel, "Default of the topic key of the same name."),
        ConfigKey("compression.lz4.level", "9", lz4Level, "Default of the topic key of the same name."),
        ConfigKey("compression.zstd.level", "3", zstdLevel, "Default of the topic key of the same name."),
        ConfigKey("log.preallocate", "false", .bool, "Default of preallocate."),
        ConfigKey("log.message.format.version", "3.0-IV1", .kafkaVersion, "Default of message.format.version (Kafka 3.x)."),
        ConfigKey("log.message.timestamp.before.max.ms", "9223372036854775807", ms,
                  "Default of message.timestamp.before.max.ms."),
        ConfigKey("log.message.timestamp.after.max.ms", "9223372036854775807", ms,
                  "Default of message.timestamp.after.max.ms."),
        ConfigKey("log.message.timestamp.difference.max.ms", "9223372036854775807", ms,
                  "Default of message.timestamp.difference.max.ms (Kafka 3.x)."),
        ConfigKey("log.message.downconversion.enable", "true", .bool,
                  "Default of message.downconversion.enable (Kafka 3.x)."),
        ConfigKey("log.local.retention.ms", "-2", .int(-2...Int64.max), "Default of local.retention.ms."),
        ConfigKey("log.local.retention.bytes", "-2", .int(-2...Int64.max), "Default of local.retention.bytes."),
    ] + SSLKeys.all

    /// Kafka's codec names for compression.type (`producer` keeps what the producer sent).
    static let compressionTypes = ConfigKind.choice(["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"])
    /// java.util.zip levels: 1...9, or -1 for the library's default.
    static let gzipLevel = ConfigKind.intIn([1...9, -1...(-1)])
    static let lz4Level = ConfigKind.int(1...17)
    /// zstd's negative "fast" levels reach -(1 << 17).
    static let zstdLevel = ConfigKind.int(-131_072...22)

    /// Kafka's synonym groups of broker keys (DynamicBrokerConfig): a key of a group falls back to
    /// the keys after it. Values are converted to the unit of the key being resolved.
    static let synonymGroups: [[BrokerSynonym]] = [
        [.init("log.retention.ms"), .init("log.retention.minutes", msPerUnit: 60_000),
         .init("log.retention.hours", msPerUnit: 3_600_000)],
        [.init("log.roll.ms"), .init("log.roll.hours", msPerUnit: 3_600_000)],
        [.init("log.roll.jitter.ms"), .init("log.roll.jitter.hours", msPerUnit: 3_600_000)],
        [.init("log.flush.interval.ms"), .init("log.flush.scheduler.interval.ms")],
        // Runnel's own fallbacks (Kafka reports these keys as null when unset).
        [.init("advertised.listeners"), .init("listeners")],
        [.init("log.dir"), .init("log.dirs")],
    ]

    /// The chain that gives broker key `name` its value: itself, then the keys it falls back to.
    static func chain(of name: String) -> [BrokerSynonym] {
        for group in synonymGroups {
            if let i = group.firstIndex(where: { $0.name == name }) { return Array(group[i...]) }
        }
        return [.init(name)]
    }

    public static let byName: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
}

typealias RunnelCoreLimits = RunnelCore.Limits

extension ConfigKind {
    /// Same bounds as an int kind but allowing Int64 (used for ms keys).
    var widened: ConfigKind {
        if case .int(let r) = self { return .int(r.lowerBound...Int64.max) }
        return self
    }
}
