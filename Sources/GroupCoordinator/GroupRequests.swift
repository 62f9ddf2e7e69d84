public import RunnelCore

// Plain request structs the shell fills from the decoded Kafka messages. Field names follow the
// Kafka schemas in lowerCamel. `clientID`/`clientHost` come from the request header and the
// connection. Versions matter only where the behaviour depends on them (noted per field).

public struct JoinGroupRequest: Sendable {
    public var groupID: String
    public var memberID: String
    public var groupInstanceID: String?
    public var sessionTimeoutMs: Int32
    /// v0 has none: pass the session timeout, as Kafka does.
    public var rebalanceTimeoutMs: Int32
    public var protocolType: String
    public var protocols: [(name: String, metadata: [UInt8])]
    public var clientID: String
    public var clientHost: String
    /// v4+ answers an empty member id with MEMBER_ID_REQUIRED; v0-3 assigns directly.
    public var apiVersion: Int16
    public init(groupID: String, memberID: String, groupInstanceID: String? = nil, sessionTimeoutMs: Int32,
                rebalanceTimeoutMs: Int32, protocolType: String, protocols: [(name: String, metadata: [UInt8])],
                clientID: String, clientHost: String, apiVersion: Int16) {
        self.groupID = groupID
        self.memberID = memberID
        self.groupInstanceID = groupInstanceID
        self.sessionTimeoutMs = sessionTimeoutMs
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.protocolType = protocolType
        self.protocols = protocols
        self.clientID = clientID
        self.clientHost = clientHost
        self.apiVersion = apiVersion
    }
}

public struct SyncGroupRequest: Sendable {
    public var groupID: String
    public var generationID: Int32
    public var memberID: String
    public var groupInstanceID: String?
    /// v5+; nil when absent.
    public var protocolType: String?
    public var protocolName: String?
    /// Only the leader sends assignments.
    public var assignments: [(memberID: String, assignment: [UInt8])]
    public init(groupID: String, generationID: Int32, memberID: String, groupInstanceID: String? = nil,
                protocolType: String? = nil, protocolName: String? = nil,
                assignments: [(memberID: String, assignment: [UInt8])]) {
        self.groupID = groupID
        self.generationID = generationID
        self.memberID = memberID
        self.groupInstanceID = groupInstanceID
        self.protocolType = protocolType
        self.protocolName = protocolName
        self.assignments = assignments
    }
}

public struct HeartbeatRequest: Sendable {
    public var groupID: String
    public var generationID: Int32
    public var memberID: String
    public var groupInstanceID: String?
    public init(groupID: String, generationID: Int32, memberID: String, groupInstanceID: String? = nil) {
        self.groupID = groupID
        self.generationID = generationID
        self.memberID = memberID
        self.groupInstanceID = groupInstanceID
    }
}

/// LeaveGroup: v0-2 carry one member id (pass it as one identity without instance id); v3+ a batch.
public struct LeaveGroupRequest: Sendable {
    public var groupID: String
    public var members: [(memberID: String, groupInstanceID: String?)]
    public init(groupID: String, members: [(memberID: String, groupInstanceID: String?)]) {
        self.groupID = groupID
        self.members = members
    }
}

/// OffsetCommit. For classic groups `generationIDOrMemberEpoch` is the generation (-1 = a "simple"
/// commit from a client that does not use group management, whatever its member id); for KIP-848
/// groups (v9+) it is the member epoch. The shell answers UNKNOWN_TOPIC_OR_PARTITION for unknown
/// topics itself before calling the coordinator (Kafka's KafkaApis does the same).
public struct OffsetCommitRequest: Sendable {
    public var groupID: String
    public var generationIDOrMemberEpoch: Int32
    public var memberID: String
    public var groupInstanceID: String?
    public var offsets: [(TopicPartition, CommittedOffset)]
    public init(groupID: String, generationIDOrMemberEpoch: Int32 = -1, memberID: String = "",
                groupInstanceID: String? = nil, offsets: [(TopicPartition, CommittedOffset)]) {
        self.groupID = groupID
        self.generationIDOrMemberEpoch = generationIDOrMemberEpoch
        self.memberID = memberID
        self.groupInstanceID = groupInstanceID
        self.offsets = offsets
    }
}

/// What a client commits for one partition.
public struct CommittedOffset: Hashable, Sendable {
    public var offset: Offset
    public var leaderEpoch: LeaderEpoch
    public var metadata: String
    public init(offset: Offset, leaderEpoch: LeaderEpoch = .none, metadata: String = "") {
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
    }
}

/// OffsetFetch for one group (v8+ batches groups: the shell calls once per group, or passes a
/// list to `offsetFetch(_:)`). `topics == nil` means all committed partitions of the group.
/// `memberID`/`memberEpoch` (v9+) are validated against KIP-848 groups unless both are absent
/// (nil, -1), as Kafka does.
public struct OffsetFetchGroup: Sendable {
    public var groupID: String
    public var memberID: String?
    public var memberEpoch: Int32
    public var topics: [(topic: TopicName, partitions: [PartitionID])]?
    public init(groupID: String, memberID: String? = nil, memberEpoch: Int32 = -1,
                topics: [(topic: TopicName, partitions: [PartitionID])]?) {
        self.groupID = groupID
        self.memberID = memberID
        self.memberEpoch = memberEpoch
        self.topics = topics
    }
}

public struct OffsetDeleteRequest: Sendable {
    public var groupID: String
    public var partitions: [TopicPartition]
    public init(groupID: String, partitions: [TopicPartition]) {
        self.groupID = groupID
        self.partitions = partitions
    }
}

/// ConsumerGroupHeartbeat v1 (KIP-848). Nil / -1 fields mean "unchanged since the last heartbeat".
public struct ConsumerGroupHeartbeatRequest: Sendable {
    public var groupID: String
    /// Generated by the client in v1 (a UUID string); never empty.
    public var memberID: String
    /// 0 = join, -1 = leave, -2 = static member leaving temporarily, else the current epoch.
    public var memberEpoch: Int32
    public var instanceID: String?
    public var rackID: String?
    public var rebalanceTimeoutMs: Int32
    public var subscribedTopicNames: [TopicName]?
    /// Subscription by regex (whole topic names, D33); "" clears it, nil leaves it unchanged. One
    /// that does not compile is answered with INVALID_REGULAR_EXPRESSION (128).
    public var subscribedTopicRegex: String?
    public var serverAssignor: String?
    /// The partitions the member owns now.
    public var topicPartitions: [TopicIDPartitions]?
    public var clientID: String
    public var clientHost: String
    public init(groupID: String, memberID: String, memberEpoch: Int32, instanceID: String? = nil,
                rackID: String? = nil, rebalanceTimeoutMs: Int32 = -1, subscribedTopicNames: [TopicName]? = nil,
                subscribedTopicRegex: String? = nil, serverAssignor: String? = nil,
                topicPartitions: [TopicIDPartitions]? = nil, clientID: String = "", clientHost: String = "") {
        self.groupID = groupID
        self.memberID = memberID
        self.memberEpoch = memberEpoch
        self.instanceID = instanceID
        self.rackID = rackID
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.subscribedTopicNames = subscribedTopicNames
        self.subscribedTopicRegex = subscribedTopicRegex
        self.serverAssignor = serverAssignor
        self.topicPartitions = topicPartitions
        self.clientID = clientID
        self.clientHost = clientHost
    }
}
