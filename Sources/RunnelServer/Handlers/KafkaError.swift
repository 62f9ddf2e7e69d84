import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

/// Kafka error codes the broker returns (Errors.java). Error codes are data in responses,
/// never thrown past a handler (STYLE.md).
enum KafkaError {
    static let unknownServerError: Int16 = -1
    static let none: Int16 = 0
    static let offsetOutOfRange: Int16 = 1
    static let corruptMessage: Int16 = 2
    static let unknownTopicOrPartition: Int16 = 3
    static let leaderNotAvailable: Int16 = 5
    static let notLeaderOrFollower: Int16 = 6
    static let requestTimedOut: Int16 = 7
    static let messageTooLarge: Int16 = 10
    static let coordinatorLoadInProgress: Int16 = 14
    static let coordinatorNotAvailable: Int16 = 15
    static let notCoordinator: Int16 = 16
    static let invalidTopicException: Int16 = 17
    static let recordListTooLarge: Int16 = 18
    static let invalidRequiredAcks: Int16 = 21
    static let topicAuthorizationFailed: Int16 = 29
    static let unsupportedVersion: Int16 = 35
    static let topicAlreadyExists: Int16 = 36
    static let invalidPartitions: Int16 = 37
    static let invalidReplicationFactor: Int16 = 38
    static let invalidRequest: Int16 = 42
    static let unsupportedForMessageFormat: Int16 = 43
    static let invalidConfig: Int16 = 40
    static let outOfOrderSequenceNumber: Int16 = 45
    static let invalidProducerEpoch: Int16 = 47
    static let transactionalIdAuthorizationFailed: Int16 = 53
    static let kafkaStorageError: Int16 = 56
    static let topicDeletionDisabled: Int16 = 73
    static let fetchSessionIdNotFound: Int16 = 70
    static let unsupportedCompressionType: Int16 = 76
    static let invalidRecord: Int16 = 87
    static let unknownTopicID: Int16 = 100
}
