import ClusterMetadata
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

    /// The effective value of a topic key: the override, else the broker default behind it.
    static func effective(_ key: String, overrides: [String: String], broker: BrokerConfig) -> String? {
        if let v = overrides[key] { return v }
        guard let entry = TopicKeys.byName[key], let brokerKey = entry.brokerDefault else { return nil }
        return broker.topicDefault(forBrokerKey: brokerKey)
    }

    static func forTopic(_ overrides: [String: String], broker: BrokerConfig) -> LogConfig {
        func int(_ key: String) -> Int64? { effective(key, overrides: overrides, broker: broker).flatMap { Int64($0) } }
        return LogConfig(
            segmentBytes: Int(int("segment.bytes")!),
            segmentMs: int("segment.ms")!,
            indexIntervalBytes: Int(int("index.interval.bytes")!),
            indexSizeMaxBytes: Int(int("segment.index.bytes")!),
            retentionMs: int("retention.ms")!,
            retentionBytes: int("retention.bytes")!,
            flushIntervalMessages: int("flush.messages")!,
            flushIntervalMs: int("flush.ms") ?? Int64.max,
            messageTimestampType: effective("message.timestamp.type", overrides: overrides, broker: broker) == "LogAppendTime"
                ? .logAppendTime : .createTime)
    }

    static func maxMessageBytes(_ overrides: [String: String], broker: BrokerConfig) -> Int {
        Int(effective("max.message.bytes", overrides: overrides, broker: broker).flatMap { Int64($0) } ?? 1_048_588)
    }

    static func acksAllFsync(_ overrides: [String: String], broker: BrokerConfig) -> Bool {
        effective("runnel.acks.all.fsync", overrides: overrides, broker: broker) != "false"
    }

    /// Validates CreateTopics/AlterConfigs topic overrides; returns the normalized map or a
    /// message naming the key, the value and what is allowed.
    static func validateTopicOverrides(_ configs: [(String, String?)]) -> Result<[String: String], ConfigError> {
        var out: [String: String] = [:]
        for (key, value) in configs {
            guard let entry = TopicKeys.byName[key] else {
                return .failure(ConfigError("unknown topic configuration '\(key)'; supported: \(TopicKeys.all.map(\.key.name).joined(separator: ", "))"))
            }
            guard let value else {
                return .failure(ConfigError("topic configuration '\(key)' has a null value"))
            }
            if key == "cleanup.policy" && value.lowercased().contains("compact") {
                return .failure(ConfigError("invalid value '\(value)' for 'cleanup.policy': only 'delete' is supported (log compaction is not implemented)"))
            }
            do {
                out[key] = try entry.key.validate(value)
            } catch {
                return .failure(error)
            }
        }
        return .success(out)
    }
}
