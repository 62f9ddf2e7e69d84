/// A Kafka error code as responses carry it (Errors.java numbering): data, not a thrown error.
/// The one table of codes for the whole project — the broker's handlers, the pure modules'
/// results (controller refusals, group responses) and the client all name codes through it.
public struct KafkaErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }
    public init(_ rawValue: Int16) { self.rawValue = rawValue }

    public static let unknownServerError = KafkaErrorCode(-1)
    public static let none = KafkaErrorCode(0)
    public static let offsetOutOfRange = KafkaErrorCode(1)
    public static let corruptMessage = KafkaErrorCode(2)
    public static let unknownTopicOrPartition = KafkaErrorCode(3)
    public static let leaderNotAvailable = KafkaErrorCode(5)
    public static let notLeaderOrFollower = KafkaErrorCode(6)
    public static let requestTimedOut = KafkaErrorCode(7)
    public static let messageTooLarge = KafkaErrorCode(10)
    public static let offsetMetadataTooLarge = KafkaErrorCode(12)
    public static let networkException = KafkaErrorCode(13)
    public static let coordinatorLoadInProgress = KafkaErrorCode(14)
    public static let coordinatorNotAvailable = KafkaErrorCode(15)
    public static let notCoordinator = KafkaErrorCode(16)
    public static let invalidTopicException = KafkaErrorCode(17)
    public static let recordListTooLarge = KafkaErrorCode(18)
    public static let notEnoughReplicas = KafkaErrorCode(19)
    public static let notEnoughReplicasAfterAppend = KafkaErrorCode(20)
    public static let invalidRequiredAcks = KafkaErrorCode(21)
    public static let illegalGeneration = KafkaErrorCode(22)
    public static let inconsistentGroupProtocol = KafkaErrorCode(23)
    public static let invalidGroupID = KafkaErrorCode(24)
    public static let unknownMemberID = KafkaErrorCode(25)
    public static let invalidSessionTimeout = KafkaErrorCode(26)
    public static let rebalanceInProgress = KafkaErrorCode(27)
    public static let topicAuthorizationFailed = KafkaErrorCode(29)
    public static let groupAuthorizationFailed = KafkaErrorCode(30)
    public static let clusterAuthorizationFailed = KafkaErrorCode(31)
    public static let securityDisabled = KafkaErrorCode(54)
    public static let unsupportedVersion = KafkaErrorCode(35)
    public static let topicAlreadyExists = KafkaErrorCode(36)
    public static let invalidPartitions = KafkaErrorCode(37)
    public static let invalidReplicationFactor = KafkaErrorCode(38)
    public static let invalidReplicaAssignment = KafkaErrorCode(39)
    public static let invalidConfig = KafkaErrorCode(40)
    public static let notController = KafkaErrorCode(41)
    public static let invalidRequest = KafkaErrorCode(42)
    public static let unsupportedForMessageFormat = KafkaErrorCode(43)
    public static let outOfOrderSequenceNumber = KafkaErrorCode(45)
    public static let duplicateSequenceNumber = KafkaErrorCode(46)
    public static let invalidProducerEpoch = KafkaErrorCode(47)
    public static let invalidTxnState = KafkaErrorCode(48)
    public static let invalidProducerIDMapping = KafkaErrorCode(49)
    public static let transactionalIDAuthorizationFailed = KafkaErrorCode(53)
    public static let kafkaStorageError = KafkaErrorCode(56)
    public static let unknownProducerID = KafkaErrorCode(59)
    public static let nonEmptyGroup = KafkaErrorCode(68)
    public static let groupIDNotFound = KafkaErrorCode(69)
    public static let fetchSessionIDNotFound = KafkaErrorCode(70)
    public static let topicDeletionDisabled = KafkaErrorCode(73)
    public static let fencedLeaderEpoch = KafkaErrorCode(74)
    public static let unknownLeaderEpoch = KafkaErrorCode(75)
    public static let unsupportedCompressionType = KafkaErrorCode(76)
    public static let staleBrokerEpoch = KafkaErrorCode(77)
    public static let memberIDRequired = KafkaErrorCode(79)
    public static let preferredLeaderNotAvailable = KafkaErrorCode(80)
    public static let groupMaxSizeReached = KafkaErrorCode(81)
    public static let fencedInstanceID = KafkaErrorCode(82)
    public static let eligibleLeadersNotAvailable = KafkaErrorCode(83)
    public static let electionNotNeeded = KafkaErrorCode(84)
    public static let groupSubscribedToTopic = KafkaErrorCode(86)
    public static let invalidRecord = KafkaErrorCode(87)
    public static let unstableOffsetCommit = KafkaErrorCode(88)
    public static let invalidUpdateVersion = KafkaErrorCode(95)
    public static let unknownTopicID = KafkaErrorCode(100)
    public static let duplicateBrokerRegistration = KafkaErrorCode(101)
    public static let brokerIDNotRegistered = KafkaErrorCode(102)
    public static let inconsistentClusterID = KafkaErrorCode(104)
    public static let ineligibleReplica = KafkaErrorCode(107)
    public static let fencedMemberEpoch = KafkaErrorCode(110)
    public static let unreleasedInstanceID = KafkaErrorCode(111)
    public static let unsupportedAssignor = KafkaErrorCode(112)
    public static let staleMemberEpoch = KafkaErrorCode(113)
    public static let invalidRegularExpression = KafkaErrorCode(128)

    public var isError: Bool { rawValue != 0 }

    /// Errors after which the same request may succeed once metadata is refreshed or the broker
    /// has caught up (Kafka's `RetriableException` subclasses that a producer or consumer meets).
    public var isRetriable: Bool {
        switch rawValue {
        case 3, 5, 6, 7, 13, 14, 15, 16, 19, 20, 56, 74, 75, 100: return true
        default: return false
        }
    }

    /// Errors that mean the client's view of partition leadership is stale.
    public var invalidatesMetadata: Bool {
        switch rawValue {
        case 3, 5, 6, 74, 100: return true
        default: return false
        }
    }

    /// Kafka's constant name, e.g. "NOT_LEADER_OR_FOLLOWER".
    public var name: String { Self.names[rawValue] ?? "UNKNOWN_ERROR_CODE" }

    /// A short lower-case phrase for one-line messages, e.g. "topic already exists".
    public var phrase: String { String(name.lowercased().map { $0 == "_" ? " " : $0 }) }

    public var description: String { "\(name) (\(rawValue))" }

    static let names: [Int16: String] = [
        -1: "UNKNOWN_SERVER_ERROR", 0: "NONE", 1: "OFFSET_OUT_OF_RANGE", 2: "CORRUPT_MESSAGE",
        3: "UNKNOWN_TOPIC_OR_PARTITION", 4: "INVALID_FETCH_SIZE", 5: "LEADER_NOT_AVAILABLE",
        6: "NOT_LEADER_OR_FOLLOWER", 7: "REQUEST_TIMED_OUT", 8: "BROKER_NOT_AVAILABLE",
        9: "REPLICA_NOT_AVAILABLE", 10: "MESSAGE_TOO_LARGE", 11: "STALE_CONTROLLER_EPOCH",
        12: "OFFSET_METADATA_TOO_LARGE", 13: "NETWORK_EXCEPTION", 14: "COORDINATOR_LOAD_IN_PROGRESS",
        15: "COORDINATOR_NOT_AVAILABLE", 16: "NOT_COORDINATOR", 17: "INVALID_TOPIC_EXCEPTION",
        18: "RECORD_LIST_TOO_LARGE", 19: "NOT_ENOUGH_REPLICAS", 20: "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
        21: "INVALID_REQUIRED_ACKS", 22: "ILLEGAL_GENERATION", 23: "INCONSISTENT_GROUP_PROTOCOL",
        24: "INVALID_GROUP_ID", 25: "UNKNOWN_MEMBER_ID", 26: "INVALID_SESSION_TIMEOUT",
        27: "REBALANCE_IN_PROGRESS", 28: "INVALID_COMMIT_OFFSET_SIZE", 29: "TOPIC_AUTHORIZATION_FAILED",
        30: "GROUP_AUTHORIZATION_FAILED", 31: "CLUSTER_AUTHORIZATION_FAILED", 32: "INVALID_TIMESTAMP",
        33: "UNSUPPORTED_SASL_MECHANISM", 34: "ILLEGAL_SASL_STATE", 35: "UNSUPPORTED_VERSION",
        36: "TOPIC_ALREADY_EXISTS", 37: "INVALID_PARTITIONS", 38: "INVALID_REPLICATION_FACTOR",
        39: "INVALID_REPLICA_ASSIGNMENT", 40: "INVALID_CONFIG", 41: "NOT_CONTROLLER",
        42: "INVALID_REQUEST", 43: "UNSUPPORTED_FOR_MESSAGE_FORMAT", 44: "POLICY_VIOLATION",
        45: "OUT_OF_ORDER_SEQUENCE_NUMBER", 46: "DUPLICATE_SEQUENCE_NUMBER", 47: "INVALID_PRODUCER_EPOCH",
        48: "INVALID_TXN_STATE", 49: "INVALID_PRODUCER_ID_MAPPING", 50: "INVALID_TRANSACTION_TIMEOUT",
        51: "CONCURRENT_TRANSACTIONS", 52: "TRANSACTION_COORDINATOR_FENCED",
        53: "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", 54: "SECURITY_DISABLED",
        55: "OPERATION_NOT_ATTEMPTED", 56: "KAFKA_STORAGE_ERROR", 57: "LOG_DIR_NOT_FOUND",
        58: "SASL_AUTHENTICATION_FAILED", 59: "UNKNOWN_PRODUCER_ID", 60: "REASSIGNMENT_IN_PROGRESS",
        61: "DELEGATION_TOKEN_AUTH_DISABLED", 67: "INVALID_PRINCIPAL_TYPE", 68: "NON_EMPTY_GROUP",
        69: "GROUP_ID_NOT_FOUND", 70: "FETCH_SESSION_ID_NOT_FOUND", 71: "INVALID_FETCH_SESSION_EPOCH",
        72: "LISTENER_NOT_FOUND", 73: "TOPIC_DELETION_DISABLED", 74: "FENCED_LEADER_EPOCH",
        75: "UNKNOWN_LEADER_EPOCH", 76: "UNSUPPORTED_COMPRESSION_TYPE", 77: "STALE_BROKER_EPOCH",
        78: "OFFSET_NOT_AVAILABLE", 79: "MEMBER_ID_REQUIRED", 80: "PREFERRED_LEADER_NOT_AVAILABLE",
        81: "GROUP_MAX_SIZE_REACHED", 82: "FENCED_INSTANCE_ID", 83: "ELIGIBLE_LEADERS_NOT_AVAILABLE",
        84: "ELECTION_NOT_NEEDED", 85: "NO_REASSIGNMENT_IN_PROGRESS", 86: "GROUP_SUBSCRIBED_TO_TOPIC",
        87: "INVALID_RECORD", 88: "UNSTABLE_OFFSET_COMMIT", 89: "THROTTLING_QUOTA_EXCEEDED",
        90: "PRODUCER_FENCED", 91: "RESOURCE_NOT_FOUND", 92: "DUPLICATE_RESOURCE",
        93: "UNACCEPTABLE_CREDENTIAL", 94: "INCONSISTENT_VOTER_SET", 95: "INVALID_UPDATE_VERSION",
        96: "FEATURE_UPDATE_FAILED", 97: "PRINCIPAL_DESERIALIZATION_FAILURE", 98: "SNAPSHOT_NOT_FOUND",
        99: "POSITION_OUT_OF_RANGE", 100: "UNKNOWN_TOPIC_ID", 101: "DUPLICATE_BROKER_REGISTRATION",
        102: "BROKER_ID_NOT_REGISTERED", 103: "INCONSISTENT_TOPIC_ID", 104: "INCONSISTENT_CLUSTER_ID",
        105: "TRANSACTIONAL_ID_NOT_FOUND", 106: "FETCH_SESSION_TOPIC_ID_ERROR",
        107: "INELIGIBLE_REPLICA", 108: "NEW_LEADER_ELECTED", 109: "OFFSET_MOVED_TO_TIERED_STORAGE",
        110: "FENCED_MEMBER_EPOCH", 111: "UNRELEASED_INSTANCE_ID", 112: "UNSUPPORTED_ASSIGNOR",
        113: "STALE_MEMBER_EPOCH", 114: "MISMATCHED_ENDPOINT_TYPE", 115: "UNSUPPORTED_ENDPOINT_TYPE",
        116: "UNKNOWN_CONTROLLER_ID", 117: "UNKNOWN_SUBSCRIPTION_ID", 118: "TELEMETRY_TOO_LARGE",
        119: "INVALID_REGISTRATION", 120: "TRANSACTION_ABORTABLE", 121: "INVALID_RECORD_STATE",
        122: "SHARE_SESSION_NOT_FOUND", 123: "INVALID_SHARE_SESSION_EPOCH", 124: "FENCED_STATE_EPOCH",
        125: "INVALID_VOTER_KEY", 126: "DUPLICATE_VOTER", 127: "VOTER_NOT_FOUND", 128: "INVALID_REGULAR_EXPRESSION",
    ]
}
