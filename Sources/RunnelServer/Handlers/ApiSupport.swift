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
/// | 2   | ListOffsets      | 0-8        | earliest, latest, by timestamp; max-timestamp -3 (v7), earliest-local -4 (v8) |
/// | 3   | Metadata         | 0-12       | topic ids from v10; auto-creation |
/// | 18  | ApiVersions      | 0-4        | unsupported version → error 35 with a v0 body |
/// | 23  | OffsetForLeaderEpoch | 0-4    | from the leader-epoch cache; leaders only |
/// | 19  | CreateTopics     | 0-7        | replicas placed as Kafka does; validate_only |
/// | 20  | DeleteTopics     | 0-6        | by name, and by topic id (v6) |
/// | 22  | InitProducerId   | 0-4        | idempotent producers only; transactional ids refused |
/// | 21  | DeleteRecords    | 0-2        | by each partition's leader; followers follow its log start |
/// | 32  | DescribeConfigs  | 0-4        | topic and broker resources, synonyms, documentation |
/// | 33  | AlterConfigs     | 0-2        | topic and dynamic broker keys; forwarded to the active controller |
/// | 35  | DescribeLogDirs  | 0-4        | the one log dir, bytes per partition |
/// | 44  | IncrementalAlterConfigs | 0-1 | SET/DELETE/APPEND/SUBTRACT; forwarded to the active controller |
/// | 37  | CreatePartitions | 0-3        | |
/// | 43  | ElectLeaders     | 0-2        | preferred and unclean; forwarded to the active controller |
/// | 29  | DescribeAcls     | 1-3        | from the metadata image; SECURITY_DISABLED with ACLs off |
/// | 30  | CreateAcls       | 1-3        | metadata records; forwarded to the active controller |
/// | 31  | DeleteAcls       | 1-3        | filters as Kafka's; forwarded to the active controller |
/// | 55  | DescribeQuorum   | 0-2        | the metadata quorum, from the active controller (forwarded) |
/// | 60  | DescribeCluster  | 0-2        | v2: fenced brokers on request (KIP-1073) |
/// | 8   | OffsetCommit     | 0-9        | v9: KIP-848 member epoch |
/// | 9   | OffsetFetch      | 0-9        | v8+: several groups |
/// | 10  | FindCoordinator  | 0-4        | groups only (transactions → COORDINATOR_NOT_AVAILABLE) |
/// | 11  | JoinGroup        | 0-9        | MEMBER_ID_REQUIRED v4+, static members v5+ |
/// | 12  | Heartbeat        | 0-4        | |
/// | 13  | LeaveGroup       | 0-5        | batched members v3+ |
/// | 14  | SyncGroup        | 0-5        | |
/// | 15  | DescribeGroups   | 0-5        | |
/// | 16  | ListGroups       | 0-5        | states filter v4+, types filter v5 |
/// | 42  | DeleteGroups     | 0-2        | |
/// | 47  | OffsetDelete     | 0          | |
/// | 68  | ConsumerGroupHeartbeat | 1    | KIP-848; v0 (server-made member ids) is not implemented |
/// | 69  | ConsumerGroupDescribe  | 0    | |
///
/// | 17  | SaslHandshake    | 0-1        | v0 (raw tokens) answered ILLEGAL_SASL_STATE and closed (D174) |
/// | 36  | SaslAuthenticate | 0-2        | PLAIN, SCRAM-SHA-256/512; session lifetime v1+ (KIP-368) |
/// | 50  | DescribeUserScramCredentials | 0 | from the metadata image |
/// | 51  | AlterUserScramCredentials | 0 | forwarded to the active controller |
///
/// Not implemented (so not advertised): transactions.
enum ApiSupport {
    static let advertised: [(apiKey: Int16, min: Int16, max: Int16)] = [
        (0, 0, 9),
        (1, 0, 12),
        (2, 0, 8),
        (21, 0, 2),
        (33, 0, 2),
        (35, 0, 4),
        (44, 0, 1),
        (3, 0, 12),
        (18, 0, 4),
        (19, 0, 7),
        (23, 0, 4),
        (20, 0, 6),
        (22, 0, 4),
        (32, 0, 4),
        (37, 0, 3),
        (43, 0, 2),
        (29, 1, 3),
        (30, 1, 3),
        (31, 1, 3),
        (55, 0, 2),
        (60, 0, 2),
        (8, 0, 9),
        (9, 0, 9),
        (10, 0, 4),
        (11, 0, 9),
        (12, 0, 4),
        (13, 0, 5),
        (14, 0, 5),
        (15, 0, 5),
        (16, 0, 5),
        (42, 0, 2),
        (47, 0, 0),
        (68, 1, 1),
        (69, 0, 0),
        (17, 0, 1),
        (36, 0, 2),
        (50, 0, 0),
        (51, 0, 0),
    ].sorted { $0.apiKey < $1.apiKey }

    static let ranges: [Int16: ClosedRange<Int16>] = Dictionary(
        uniqueKeysWithValues: advertised.map { ($0.apiKey, $0.min...$0.max) })

    static func supports(apiKey: Int16, version: Int16) -> Bool {
        ranges[apiKey]?.contains(version) ?? false
    }
}
