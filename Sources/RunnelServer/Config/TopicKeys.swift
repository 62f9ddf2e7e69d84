import RunnelCore

/// A broker key that supplies a topic key's default (Kafka calls it a synonym), with the unit of
/// its value: `log.retention.hours` counts hours where `retention.ms` counts milliseconds.
public struct BrokerSynonym: Sendable, Equatable {
    public let name: String
    /// Milliseconds per unit of the broker key's value; 1 when it has the unit of the key it backs.
    public let msPerUnit: Int64

    public init(_ name: String, msPerUnit: Int64 = 1) {
        self.name = name
        self.msPerUnit = msPerUnit
    }
}

/// Every topic-level key of Kafka 3.x and 4.x (its LogConfig), accepted by CreateTopics and
/// reported by DescribeConfigs, with Kafka's types, ranges and broker synonyms. A key whose
/// behaviour Runnel does not have yet (`inEffect == false`) is validated, stored and reported like
/// the others, and logged when set; the README lists these in one table.
public enum TopicKeys {
    public struct Entry: Sendable {
        /// The key; `defaultValue` is used only when no broker synonym has a value.
        public let key: ConfigKey
        /// Broker keys that supply the default, Kafka's order (the first one set wins).
        public let synonyms: [BrokerSynonym]
        /// Whether Runnel acts on the value today.
        public let inEffect: Bool
    }

    static func entry(_ name: String, _ kind: ConfigKind, _ doc: String, default defaultValue: String? = nil,
                      synonyms: [BrokerSynonym] = [], inEffect: Bool) -> Entry {
        Entry(key: ConfigKey(name, defaultValue, kind, doc), synonyms: synonyms, inEffect: inEffect)
    }

    static func broker(_ names: String...) -> [BrokerSynonym] { names.map { BrokerSynonym($0) } }

    static let long = ConfigKind.int(Int64.min...Int64.max)
    static let nonNegative = ConfigKind.int(0...Int64.max)
    static let retentionChain = BrokerKeys.chain(of: "log.retention.ms")
    static let rollChain = BrokerKeys.chain(of: "log.roll.ms")
    static let jitterChain = BrokerKeys.chain(of: "log.roll.jitter.ms")
    static let flushChain = BrokerKeys.chain(of: "log.flush.interval.ms")

    public static let all: [Entry] = inEffectKeys + notYetInEffectKeys

    /// Keys Runnel acts on.
    static let inEffectKeys: [Entry] = [
        entry("cleanup.policy", .choiceList(["compact", "delete"]),
              "delete: retention drops old segments; compact: the cleaner keeps the newest record of each key; both: both.",
              synonyms: broker("log.cleanup.policy"), inEffect: true),
        entry("retention.ms", BrokerKeys.retention, "Delete sealed segments older than this (-1 = forever).",
              synonyms: retentionChain, inEffect: true),
        entry("retention.bytes", long, "Size limit of one partition (-1 = none).",
              synonyms: broker("log.retention.bytes"), inEffect: true),
        entry("segment.bytes", .int(Int64(RunnelCoreLimits.segmentBytesMin)...Int64(RunnelCoreLimits.segmentBytesMax)),
              "Segment size.", synonyms: broker("log.segment.bytes"), inEffect: true),
        entry("segment.ms", .int(1...Int64.max), "Roll segments older than this.", synonyms: rollChain, inEffect: true),
        entry("segment.index.bytes", .int(4096...Int64(Int32.max)), "Index file size.",
              synonyms: broker("log.index.size.max.bytes"), inEffect: true),
        entry("index.interval.bytes", BrokerKeys.i32, "Bytes between offset-index entries.",
              synonyms: broker("log.index.interval.bytes"), inEffect: true),
        entry("message.timestamp.type", .choice(["CreateTime", "LogAppendTime"]), "Record timestamp type.",
              synonyms: broker("log.message.timestamp.type"), inEffect: true),
        entry("max.message.bytes", .int(0...Int64(Int32.max)), "Largest record batch.",
              synonyms: broker("message.max.bytes"), inEffect: true),
        entry("flush.messages", .int(1...Int64.max), "fsync after this many messages.",
              synonyms: broker("log.flush.interval.messages"), inEffect: true),
        entry("flush.ms", nonNegative, "fsync when the oldest unflushed message is this old.",
              synonyms: flushChain, inEffect: true),
        entry("runnel.acks.all.fsync", .bool, "fsync acks=all batches before acknowledging.",
              synonyms: broker("runnel.acks.all.fsync"), inEffect: true),
    ]

    /// Keys stored and reported, whose behaviour Runnel does not have yet.
    static let notYetInEffectKeys: [Entry] = [
        entry("compression.type", BrokerKeys.compressionTypes,
              "Codec the broker stores batches in; producer = as sent; another codec than a batch's is recompressed.",
              synonyms: broker("compression.type"), inEffect: true),
        entry("compression.gzip.level", BrokerKeys.gzipLevel, "gzip level when the broker recompresses.",
              synonyms: broker("compression.gzip.level"), inEffect: true),
        entry("compression.lz4.level", BrokerKeys.lz4Level, "lz4 level when the broker recompresses.",
              synonyms: broker("compression.lz4.level"), inEffect: true),
        entry("compression.zstd.level", BrokerKeys.zstdLevel, "zstd level when the broker recompresses.",
              synonyms: broker("compression.zstd.level"), inEffect: true),
        entry("delete.retention.ms", nonNegative, "How long compaction keeps tombstones.",
              synonyms: broker("log.cleaner.delete.retention.ms"), inEffect: true),
        entry("min.compaction.lag.ms", nonNegative, "Youngest a record may be and still be compacted.",
              synonyms: broker("log.cleaner.min.compaction.lag.ms"), inEffect: true),
        entry("max.compaction.lag.ms", .int(1...Int64.max), "Oldest a record may get before compaction must run.",
              synonyms: broker("log.cleaner.max.compaction.lag.ms"), inEffect: true),
        entry("min.cleanable.dirty.ratio", .double(0...1), "Share of uncompacted log that triggers compaction.",
              synonyms: broker("log.cleaner.min.cleanable.ratio"), inEffect: true),
        entry("file.delete.delay.ms", nonNegative, "Wait before a deleted segment's files are removed (Runnel removes them at once).",
              synonyms: broker("log.segment.delete.delay.ms"), inEffect: false),
        entry("segment.jitter.ms", nonNegative, "Largest random amount subtracted from segment.ms per segment.",
              synonyms: jitterChain, inEffect: false),
        entry("preallocate", .bool, "Preallocate segment files (Runnel always sizes the active segment sparsely).",
              synonyms: broker("log.preallocate"), inEffect: false),
        entry("min.insync.replicas", BrokerKeys.pos32, "In-sync replicas an acks=all produce needs (fewer: NOT_ENOUGH_REPLICAS).",
              synonyms: broker("min.insync.replicas"), inEffect: true),
        entry("unclean.leader.election.enable", .bool, "Let an out-of-sync replica become leader when no ISR member is left (may lose acknowledged records).",
              synonyms: broker("unclean.leader.election.enable"), inEffect: true),
        entry("message.timestamp.before.max.ms", nonNegative, "Refuse CreateTime records older than this.",
              synonyms: broker("log.message.timestamp.before.max.ms"), inEffect: false),
        entry("message.timestamp.after.max.ms", nonNegative, "Refuse CreateTime records newer than now plus this.",
              synonyms: broker("log.message.timestamp.after.max.ms"), inEffect: false),
        entry("message.timestamp.difference.max.ms", nonNegative, "Kafka 3.x: refuse records this far from now either way.",
              synonyms: broker("log.message.timestamp.difference.max.ms"), inEffect: false),
        entry("message.format.version", .kafkaVersion, "Kafka 3.x: record format to write (Runnel always writes v2).",
              synonyms: broker("log.message.format.version"), inEffect: false),
        entry("message.downconversion.enable", .bool, "Kafka 3.x: convert batches for old fetchers (Runnel never converts).",
              synonyms: broker("log.message.downconversion.enable"), inEffect: false),
        entry("leader.replication.throttled.replicas", .replicaList, "Replicas whose leader-side replication is throttled.",
              default: "", inEffect: false),
        entry("follower.replication.throttled.replicas", .replicaList, "Replicas whose follower-side replication is throttled.",
              default: "", inEffect: false),
        entry("remote.storage.enable", .bool, "Tiered storage; true is refused: tiered storage is not implemented.",
              default: "false", inEffect: false),
        entry("local.retention.ms", .int(-2...Int64.max), "Local retention with tiered storage (-2 = retention.ms).",
              synonyms: broker("log.local.retention.ms"), inEffect: false),
        entry("local.retention.bytes", .int(-2...Int64.max), "Local size limit with tiered storage (-2 = retention.bytes).",
              synonyms: broker("log.local.retention.bytes"), inEffect: false),
        entry("remote.log.copy.disable", .bool, "Tiered storage: stop copying segments to remote storage.",
              default: "false", inEffect: false),
        entry("remote.log.delete.on.disable", .bool, "Tiered storage: delete remote data when it is disabled.",
              default: "false", inEffect: false),
        entry("remote.copy.lag.ms", .int(-1...Int64.max), "Tiered storage: how long a segment may wait to be copied.",
              default: "0", inEffect: false),
        entry("remote.copy.lag.bytes", .int(-1...Int64.max), "Tiered storage: how many bytes may wait to be copied.",
              default: "0", inEffect: false),
    ]

    public static let byName: [String: Entry] = Dictionary(uniqueKeysWithValues: all.map { ($0.key.name, $0) })
}
