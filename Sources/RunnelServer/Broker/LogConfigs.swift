import ClusterMetadata
import Compaction
import Foundation
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

/// Maps broker keys and topic overrides (Kafka names) onto `LogConfig`.
enum LogConfigs {
    static func brokerDefault(_ config: BrokerConfig) -> LogConfig {
        forTopic([:], broker: config)
    }

    /// The effective value of a topic key: the override, else the first of its broker synonyms
    /// that has a value, else the key's own default. Every topic key has one.
    static func effective(_ key: String, overrides: [String: String], broker: BrokerConfig) -> String? {
        if let v = overrides[key] { return v }
        guard let entry = TopicKeys.byName[key] else { return nil }
        return broker.resolve(entry.synonyms) ?? entry.key.defaultValue
    }

    static func forTopic(_ overrides: [String: String], broker: BrokerConfig) -> LogConfig {
        func int(_ key: String) -> Int64? { effective(key, overrides: overrides, broker: broker).flatMap { Int64($0) } }
        // cleanup.policy=compact alone: retention deletes nothing (Kafka; D152).
        let deletes = cleanupPolicy(overrides, broker: broker).delete
        return LogConfig(
            segmentBytes: Int(int("segment.bytes")!),
            segmentMs: int("segment.ms")!,
            indexIntervalBytes: Int(int("index.interval.bytes")!),
            indexSizeMaxBytes: Int(int("segment.index.bytes")!),
            retentionMs: deletes ? int("retention.ms")! : -1,
            retentionBytes: deletes ? int("retention.bytes")! : -1,
            flushIntervalMessages: int("flush.messages")!,
            flushIntervalMs: int("flush.ms")!,
            messageTimestampType: effective("message.timestamp.type", overrides: overrides, broker: broker) == "LogAppendTime"
                ? .logAppendTime : .createTime)
    }

    /// cleanup.policy: whether the cleaner compacts the topic, and whether retention deletes.
    static func cleanupPolicy(_ overrides: [String: String], broker: BrokerConfig) -> (compact: Bool, delete: Bool) {
        let words = (effective("cleanup.policy", overrides: overrides, broker: broker) ?? "delete")
            .lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return (words.contains("compact"), words.contains("delete"))
    }

    /// The compaction keys of a topic (delete.retention.ms, min.cleanable.dirty.ratio,
    /// min/max.compaction.lag.ms) with their broker defaults.
    static func compaction(_ overrides: [String: String], broker: BrokerConfig) -> CompactionConfig {
        func int(_ key: String, _ fallback: Int64) -> Int64 {
            effective(key, overrides: overrides, broker: broker).flatMap { Int64($0) } ?? fallback
        }
        let ratio = effective("min.cleanable.dirty.ratio", overrides: overrides, broker: broker).flatMap { Double($0) } ?? 0.5
        return CompactionConfig(minCleanableDirtyRatio: ratio, minCompactionLagMs: int("min.compaction.lag.ms", 0),
                                maxCompactionLagMs: int("max.compaction.lag.ms", Int64.max),
                                deleteRetentionMs: int("delete.retention.ms", 86_400_000))
    }

    static func maxMessageBytes(_ overrides: [String: String], broker: BrokerConfig) -> Int {
        Int(effective("max.message.bytes", overrides: overrides, broker: broker).flatMap { Int64($0) } ?? 1_048_588)
    }

    static func minInsyncReplicas(_ overrides: [String: String], broker: BrokerConfig) -> Int {
        Int(effective("min.insync.replicas", overrides: overrides, broker: broker).flatMap { Int64($0) } ?? 1)
    }

    static func acksAllFsync(_ overrides: [String: String], broker: BrokerConfig) -> Bool {
        effective("runnel.acks.all.fsync", overrides: overrides, broker: broker) != "false"
    }

    /// Validates CreateTopics/AlterConfigs topic overrides with Kafka's types and ranges; returns
    /// the normalized map or a message naming the key, the value and what is allowed. Two values
    /// a client would rely on is refused because Runnel lacks the feature: tiered
    /// storage (Kafka refuses the latter too unless remote.log.storage.system.enable is set).
    static func validateTopicOverrides(_ configs: [(String, String?)],
                                       broker: BrokerConfig) -> Result<[String: String], ConfigError> {
        var out: [String: String] = [:]
        for (key, value) in configs {
            guard let entry = TopicKeys.byName[key] else {
                return .failure(ConfigError("unknown topic configuration '\(key)'; Runnel accepts Kafka's topic configurations: \(TopicKeys.all.map(\.key.name).sorted().joined(separator: ", "))"))
            }
            guard let value else {
                return .failure(ConfigError("topic configuration '\(key)' has a null value"))
            }
            do {
                out[key] = try entry.key.validate(value)
            } catch {
                return .failure(error)
            }
            if key == "remote.storage.enable" && out[key] == "true" {
                return .failure(ConfigError("invalid value '\(value)' for 'remote.storage.enable': only false is supported (tiered storage is not implemented)"))
            }
        }
        let minLag = effective("min.compaction.lag.ms", overrides: out, broker: broker).flatMap { Int64($0) } ?? 0
        let maxLag = effective("max.compaction.lag.ms", overrides: out, broker: broker).flatMap { Int64($0) } ?? Int64.max
        if minLag > maxLag {
            return .failure(ConfigError("min.compaction.lag.ms \(minLag) is above max.compaction.lag.ms \(maxLag); it must be at most that"))
        }
        return .success(out)
    }

    /// The keys of `overrides` that Runnel stores and reports but does not act on yet, sorted.
    static func notYetInEffect(_ overrides: [String: String]) -> [String] {
        overrides.keys.filter { TopicKeys.byName[$0]?.inEffect == false }.sorted()
    }
}
