public import RunnelCore

/// A response the shell encodes for the request identified by the `RequestToken` next to it.
public enum GroupResponse: Hashable, Sendable {
    case joinGroup(JoinGroupResponse)
    case syncGroup(SyncGroupResponse)
    case heartbeat(GroupErrorCode)
    case leaveGroup(LeaveGroupResponse)
    case offsetCommit([PartitionResult])
    case offsetFetch([OffsetFetchGroupResult])
    case describeGroups([DescribedGroup])
    case listGroups([ListedGroup])
    case deleteGroups([DeleteGroupResult])
    case offsetDelete(OffsetDeleteResponse)
    case consumerGroupHeartbeat(ConsumerGroupHeartbeatResponse)
    case consumerGroupDescribe([ConsumerGroupDescription])
}

/// One partition's outcome (OffsetCommit, OffsetDelete).
public struct PartitionResult: Hashable, Sendable {
    public var topicPartition: TopicPartition
    public var error: GroupErrorCode
}

public struct DeleteGroupResult: Hashable, Sendable {
    public var groupID: String
    public var error: GroupErrorCode
}

public struct JoinGroupResponse: Hashable, Sendable {
    public var error: GroupErrorCode
    public var generationID: Int32 = -1
    public var protocolType: String?
    public var protocolName: String?
    public var leader: String = ""
    /// v9+: the leader of a Stable group that a static member rejoined need not reassign.
    public var skipAssignment: Bool = false
    public var memberID: String
    /// Non-empty only for the leader: every member's metadata for the selected protocol.
    public var members: [JoinGroupResponseMember] = []

    public init(error: GroupErrorCode, memberID: String) {
        self.error = error
        self.memberID = memberID
    }
}

public struct JoinGroupResponseMember: Hashable, Sendable {
    public var memberID: String
    public var groupInstanceID: String?
    public var metadata: [UInt8]
}

public struct SyncGroupResponse: Hashable, Sendable {
    public var error: GroupErrorCode
    public var protocolType: String?
    public var protocolName: String?
    public var assignment: [UInt8]
}

public struct LeaveGroupResponse: Hashable, Sendable {
    /// Top-level error; v0-2 clients see the single member's error here (the shell picks it).
    public var error: GroupErrorCode
    public var members: [LeaveGroupMemberResult]
}

public struct LeaveGroupMemberResult: Hashable, Sendable {
    public var memberID: String
    public var groupInstanceID: String?
    public var error: GroupErrorCode
}

public struct OffsetFetchGroupResult: Hashable, Sendable {
    public var groupID: String
    public var error: GroupErrorCode
    public var partitions: [OffsetFetchPartition]
    public init(groupID: String, error: GroupErrorCode, partitions: [OffsetFetchPartition]) {
        self.groupID = groupID
        self.error = error
        self.partitions = partitions
    }
}

/// A partition with nothing committed has offset -1, leader epoch -1 and empty metadata.
public struct OffsetFetchPartition: Hashable, Sendable {
    public var topicPartition: TopicPartition
    public var offset: Offset
    public var leaderEpoch: LeaderEpoch
    public var metadata: String
    public var error: GroupErrorCode
}

/// DescribeGroups entry. An unknown group (or a KIP-848 group) is described as state "Dead" with
/// `exists == false`; the shell answers NONE for v0-5 and GROUP_ID_NOT_FOUND (69) for v6+.
public struct DescribedGroup: Hashable, Sendable {
    public var groupID: String
    public var error: GroupErrorCode
    public var exists: Bool
    public var state: String
    public var protocolType: String
    public var protocolData: String
    public var members: [DescribedMember]
}

public struct DescribedMember: Hashable, Sendable {
    public var memberID: String
    public var groupInstanceID: String?
    public var clientID: String
    public var clientHost: String
    public var metadata: [UInt8]
    public var assignment: [UInt8]
}

public struct ListedGroup: Hashable, Sendable {
    public var groupID: String
    public var protocolType: String
    public var state: String
    /// "classic" or "consumer" (ListGroups v5 GroupType).
    public var type: String
}

public struct OffsetDeleteResponse: Hashable, Sendable {
    public var error: GroupErrorCode
    public var partitions: [PartitionResult]
}

public struct ConsumerGroupHeartbeatResponse: Hashable, Sendable {
    public var error: GroupErrorCode
    public var errorMessage: String?
    public var memberID: String?
    public var memberEpoch: Int32
    public var heartbeatIntervalMs: Int32
    /// nil = unchanged since the last response.
    public var assignment: [TopicIDPartitions]?
}

public struct ConsumerGroupDescription: Hashable, Sendable {
    public var groupID: String
    /// GROUP_ID_NOT_FOUND for unknown or classic groups.
    public var error: GroupErrorCode
    /// "Empty", "Assigning", "Reconciling", "Stable" (Kafka's ConsumerGroupState names), or "Dead".
    public var state: String
    public var groupEpoch: Int32
    public var assignmentEpoch: Int32
    public var assignorName: String
    public var members: [ConsumerGroupMemberDescription]
}

public struct ConsumerGroupMemberDescription: Hashable, Sendable {
    public var memberID: String
    public var instanceID: String?
    public var rackID: String?
    public var memberEpoch: Int32
    public var clientID: String
    public var clientHost: String
    public var subscribedTopicNames: [TopicName]
    public var subscribedTopicRegex: String?
    /// Topic names are resolved by the shell from the ids (the response carries both).
    public var assignment: [TopicIDPartitions]
    public var targetAssignment: [TopicIDPartitions]
}

extension GroupResponse {
    /// The same response carrying `error` everywhere: what the shell sends for the responses that
    /// follow an `.append` it could not make durable (NOT_COORDINATOR after a failed write).
    public func failed(with error: GroupErrorCode) -> GroupResponse {
        switch self {
        case .joinGroup(let r): return .joinGroup(JoinGroupResponse(error: error, memberID: r.memberID))
        case .syncGroup(let r): return .syncGroup(SyncGroupResponse(error: error, protocolType: r.protocolType, protocolName: r.protocolName, assignment: []))
        case .heartbeat: return .heartbeat(error)
        case .leaveGroup(let r): return .leaveGroup(LeaveGroupResponse(error: error, members: r.members))
        case .offsetCommit(let ps): return .offsetCommit(ps.map { PartitionResult(topicPartition: $0.topicPartition, error: error) })
        case .offsetFetch(let gs): return .offsetFetch(gs.map { OffsetFetchGroupResult(groupID: $0.groupID, error: error, partitions: []) })
        case .describeGroups, .listGroups, .consumerGroupDescribe: return self
        case .deleteGroups(let gs): return .deleteGroups(gs.map { DeleteGroupResult(groupID: $0.groupID, error: error) })
        case .offsetDelete: return .offsetDelete(OffsetDeleteResponse(error: error, partitions: []))
        case .consumerGroupHeartbeat(let r):
            return .consumerGroupHeartbeat(ConsumerGroupHeartbeatResponse(
                error: error, memberID: r.memberID, memberEpoch: -1, heartbeatIntervalMs: r.heartbeatIntervalMs))
        }
    }
}
