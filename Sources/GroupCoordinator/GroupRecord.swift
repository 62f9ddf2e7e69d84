public import RunnelCore

/// A record of the `__consumer_offsets` partition this coordinator owns.
///
/// Format: each case is one Kafka record whose key is `int16 keyVersion` + the key struct and whose
/// value is `int16 valueVersion` + the value struct, or a null value (tombstone) when the
/// associated value is nil. The shell maps them 1:1 onto the generated KafkaMessages types
/// (schemas in `kafka-message-specs/internal-topics/`):
///
/// | case | key (version) | value (version the shell should write) |
/// |---|---|---|
/// | `offsetCommit` | OffsetCommitKey (1) | OffsetCommitValue (3: offset, leaderEpoch, metadata, commitTimestamp) |
/// | `groupMetadata` | GroupMetadataKey (2) | GroupMetadataValue (3) |
/// | `consumerGroupMetadata` | ConsumerGroupMetadataKey (3) | ConsumerGroupMetadataValue (0) |
/// | `consumerGroupPartitionMetadata` | ConsumerGroupPartitionMetadataKey (4) | ConsumerGroupPartitionMetadataValue (0, PartitionMetadata racks empty) |
/// | `consumerGroupMemberMetadata` | ConsumerGroupMemberMetadataKey (5) | ConsumerGroupMemberMetadataValue (0) |
/// | `consumerGroupTargetAssignmentMetadata` | ConsumerGroupTargetAssignmentMetadataKey (6) | ConsumerGroupTargetAssignmentMetadataValue (0) |
/// | `consumerGroupTargetAssignmentMember` | ConsumerGroupTargetAssignmentMemberKey (7) | ConsumerGroupTargetAssignmentMemberValue (0) |
/// | `consumerGroupCurrentMemberAssignment` | ConsumerGroupCurrentMemberAssignmentKey (8) | ConsumerGroupCurrentMemberAssignmentValue (0) |
///
/// Crash story: the partition is compacted by key, and the coordinator rebuilds its whole state by
/// replaying the records in log order (`GroupCoordinatorStateMachine.load`). Every state change
/// that must survive a restart is written before the response that reveals it is sent (see
/// `GroupAction.append`), so a crash loses at most changes no client was told about.
public enum GroupRecord: Hashable, Sendable {
    case offsetCommit(group: String, TopicPartition, OffsetCommitValue?)
    case groupMetadata(group: String, GroupMetadataValue?)
    case consumerGroupMetadata(group: String, epoch: Int32?)
    case consumerGroupPartitionMetadata(group: String, [TopicInfo]?)
    case consumerGroupMemberMetadata(group: String, memberID: String, ConsumerMemberMetadataValue?)
    case consumerGroupTargetAssignmentMetadata(group: String, assignmentEpoch: Int32?)
    case consumerGroupTargetAssignmentMember(group: String, memberID: String, PartitionAssignment?)
    case consumerGroupCurrentMemberAssignment(group: String, memberID: String, CurrentMemberAssignmentValue?)

    /// The group the record belongs to.
    public var groupID: String {
        switch self {
        case .offsetCommit(let g, _, _), .groupMetadata(let g, _), .consumerGroupMetadata(let g, _),
             .consumerGroupPartitionMetadata(let g, _), .consumerGroupMemberMetadata(let g, _, _),
             .consumerGroupTargetAssignmentMetadata(let g, _), .consumerGroupTargetAssignmentMember(let g, _, _),
             .consumerGroupCurrentMemberAssignment(let g, _, _):
            return g
        }
    }

    /// The key version the shell writes in front of the key.
    public var keyVersion: Int16 {
        switch self {
        case .offsetCommit: 1
        case .groupMetadata: 2
        case .consumerGroupMetadata: 3
        case .consumerGroupPartitionMetadata: 4
        case .consumerGroupMemberMetadata: 5
        case .consumerGroupTargetAssignmentMetadata: 6
        case .consumerGroupTargetAssignmentMember: 7
        case .consumerGroupCurrentMemberAssignment: 8
        }
    }
}

/// OffsetCommitValue (v3 fields; `expireTimestamp` of v1 is never written).
public struct OffsetCommitValue: Hashable, Sendable {
    public var offset: Offset
    public var leaderEpoch: LeaderEpoch
    public var metadata: String
    public var commitTimestamp: TimestampMs
    public init(offset: Offset, leaderEpoch: LeaderEpoch, metadata: String, commitTimestamp: TimestampMs) {
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
        self.commitTimestamp = commitTimestamp
    }
}

/// GroupMetadataValue (v3): a classic group at its last Stable or Empty point.
public struct GroupMetadataValue: Hashable, Sendable {
    public var protocolType: String
    public var generation: Int32
    public var protocol_: String?
    public var leader: String?
    public var currentStateTimestamp: TimestampMs
    public var members: [Member]

    public struct Member: Hashable, Sendable {
        public var memberID: String
        public var groupInstanceID: String?
        public var clientID: String
        public var clientHost: String
        public var rebalanceTimeoutMs: Int32
        public var sessionTimeoutMs: Int32
        /// The member's metadata for the selected protocol.
        public var subscription: [UInt8]
        public var assignment: [UInt8]
        public init(memberID: String, groupInstanceID: String?, clientID: String, clientHost: String,
                    rebalanceTimeoutMs: Int32, sessionTimeoutMs: Int32, subscription: [UInt8], assignment: [UInt8]) {
            self.memberID = memberID
            self.groupInstanceID = groupInstanceID
            self.clientID = clientID
            self.clientHost = clientHost
            self.rebalanceTimeoutMs = rebalanceTimeoutMs
            self.sessionTimeoutMs = sessionTimeoutMs
            self.subscription = subscription
            self.assignment = assignment
        }
    }

    public init(protocolType: String, generation: Int32, protocol_: String?, leader: String?,
                currentStateTimestamp: TimestampMs, members: [Member]) {
        self.protocolType = protocolType
        self.generation = generation
        self.protocol_ = protocol_
        self.leader = leader
        self.currentStateTimestamp = currentStateTimestamp
        self.members = members
    }
}

/// ConsumerGroupMemberMetadataValue (v0; ClassicMemberMetadata is never written).
public struct ConsumerMemberMetadataValue: Hashable, Sendable {
    public var instanceID: String?
    public var rackID: String?
    public var clientID: String
    public var clientHost: String
    public var subscribedTopicNames: [TopicName]
    public var subscribedTopicRegex: String?
    public var rebalanceTimeoutMs: Int32
    public var serverAssignor: String?
    public init(instanceID: String?, rackID: String?, clientID: String, clientHost: String,
                subscribedTopicNames: [TopicName], subscribedTopicRegex: String?, rebalanceTimeoutMs: Int32,
                serverAssignor: String?) {
        self.instanceID = instanceID
        self.rackID = rackID
        self.clientID = clientID
        self.clientHost = clientHost
        self.subscribedTopicNames = subscribedTopicNames
        self.subscribedTopicRegex = subscribedTopicRegex
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.serverAssignor = serverAssignor
    }
}

/// Kafka's MemberState byte values (ConsumerGroupCurrentMemberAssignmentValue.State).
public enum ConsumerMemberState: Int8, Hashable, Sendable {
    /// Converged to the target assignment of its epoch.
    case stable = 0
    /// Must revoke partitions (by heartbeating without them) before it can move on.
    case unrevokedPartitions = 1
    /// At the target epoch, waiting for partitions other members still own.
    case unreleasedPartitions = 2
}

/// ConsumerGroupCurrentMemberAssignmentValue (v0).
public struct CurrentMemberAssignmentValue: Hashable, Sendable {
    public var memberEpoch: Int32
    public var previousMemberEpoch: Int32
    public var state: ConsumerMemberState
    public var assignedPartitions: PartitionAssignment
    public var partitionsPendingRevocation: PartitionAssignment
    public init(memberEpoch: Int32, previousMemberEpoch: Int32, state: ConsumerMemberState,
                assignedPartitions: PartitionAssignment, partitionsPendingRevocation: PartitionAssignment) {
        self.memberEpoch = memberEpoch
        self.previousMemberEpoch = previousMemberEpoch
        self.state = state
        self.assignedPartitions = assignedPartitions
        self.partitionsPendingRevocation = partitionsPendingRevocation
    }
}
