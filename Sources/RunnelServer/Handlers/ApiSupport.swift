import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

/// The versions this broker advertises in ApiVersions, per API key — only APIs that are fully
/// implemented (a client such as kafka-python 3 uses whatever maximum is advertised).
///
/// Minimums are 0 wherever Kafka ever had a v0 (PROTOCOL.md §1a): librdkafka 2.0.2 (inside kcat)
/// checks single version points, e.g. it only compresses when Produce v0 is advertised. Clients
/// always pick the highest common version, so the low versions are probed, never sent; they
/// still decode (the generated types cover every version) and are answered correctly or with a
/// per-partition error where the old version needs a message format Runnel does not store.
///
/// | key | API              | advertised | notes |
/// |-----|------------------|------------|-------|
/// | 0   | Produce          | 0-9        | v0-2 carry message formats v0/v1: refused per partition |
/// | 1   | Fetch            | 0-12       | v0-3 would need down-conversion: UNSUPPORTED_VERSION per partition; sessions declined |
/// | 2   | ListOffsets      | 0-6        | earliest, latest, by timestamp (v7 would add max-timestamp -3) |
/// | 3   | Metadata         | 0-12       | topic ids from v10; auto-creation |
/// | 18  | ApiVersions      | 0-4        | unsupported version → error 35 with a v0 body |
/// | 19  | CreateTopics     | 0-7        | RF 1 only until replication; validate_only |
/// | 20  | DeleteTopics     | 0-6        | by name, and by topic id (v6) |
/// | 22  | InitProducerId   | 0-4        | idempotent producers only; transactional ids refused |
/// | 32  | DescribeConfigs  | 0-4        | topic and broker resources, synonyms, documentation |
/// | 37  | CreatePartitions | 0-3        | |
///
/// Not implemented (so not advertised): groups (FindCoordinator, Join/Sync/Heartbeat/Leave,
/// OffsetCommit/Fetch, ...), transactions, SASL, DeleteRecords, OffsetForLeaderEpoch.
enum ApiSupport {
    static let advertised: [(apiKey: Int16, min: Int16, max: Int16)] = [
        (0, 0, 9),
        (1, 0, 12),
        (2, 0, 6),
        (3, 0, 12),
        (18, 0, 4),
        (19, 0, 7),
        (20, 0, 6),
        (22, 0, 4),
        (32, 0, 4),
        (37, 0, 3),
    ]

    static let ranges: [Int16: ClosedRange<Int16>] = Dictionary(
        uniqueKeysWithValues: advertised.map { ($0.apiKey, $0.min...$0.max) })

    static func supports(apiKey: Int16, version: Int16) -> Bool {
        ranges[apiKey]?.contains(version) ?? false
    }
}
