import RunnelCore

/// One group as ListGroups reports it.
public struct GroupListing: Sendable, Equatable {
    public var groupId: String
    /// Kafka's state name ("Stable", "Empty", …); "" from brokers before ListGroups v4.
    public var state: String
    /// "consumer" for consumer groups of either protocol; "" for a group that only holds
    /// committed offsets (e.g. set by `alterOffsets`).
    public var protocolType: String
    /// "classic" or "consumer" (ListGroups v5+); "" from older brokers.
    public var type: String

    public init(groupId: String, state: String, protocolType: String, type: String) {
        self.groupId = groupId
        self.state = state
        self.protocolType = protocolType
        self.type = type
    }
}

/// Which rebalance protocol a group uses.
public enum GroupProtocol: String, Sendable, Equatable {
    /// JoinGroup/SyncGroup/Heartbeat, client-side assignment.
    case classic
    /// KIP-848 ConsumerGroupHeartbeat, server-side assignment.
    case consumer
}

/// One member of a described group.
public struct GroupMemberDescription: Sendable, Equatable {
    public var memberId: String
    public var instanceId: String?
    public var clientId: String
    public var clientHost: String
    /// Consumer protocol only.
    public var memberEpoch: Int32?
    /// Sorted. For classic groups, from the member's subscription metadata when it uses the
    /// "consumer" protocol type (else empty).
    public var subscribedTopics: [String]
    /// The partitions the member owns now, by topic; partitions sorted.
    public var assignment: [String: [PartitionID]]
    /// Consumer protocol only: what the coordinator wants the member to own once it has
    /// reconciled (equal to `assignment` in a stable group).
    public var targetAssignment: [String: [PartitionID]]?

    public init(memberId: String, instanceId: String? = nil, clientId: String, clientHost: String,
                memberEpoch: Int32? = nil, subscribedTopics: [String] = [], assignment: [String: [PartitionID]],
                targetAssignment: [String: [PartitionID]]? = nil) {
        self.memberId = memberId
        self.instanceId = instanceId
        self.clientId = clientId
        self.clientHost = clientHost
        self.memberEpoch = memberEpoch
        self.subscribedTopics = subscribedTopics
        self.assignment = assignment
        self.targetAssignment = targetAssignment
    }
}

/// A group as DescribeGroups (classic) or ConsumerGroupDescribe (consumer) reports it.
public struct GroupDescription: Sendable, Equatable {
    public var groupId: String
    /// Classic: Empty, PreparingRebalance, CompletingRebalance, Stable, Dead. Consumer: Empty,
    /// Assigning, Reconciling, Stable, Dead. "Dead" also means "no such group".
    public var state: String
    public var groupProtocol: GroupProtocol
    /// Classic: the members' protocol type ("consumer" for consumers, "" for an offsets-only
    /// group). Consumer groups: "consumer".
    public var protocolType: String
    /// Consumer: the server assignor. Classic: the chosen protocol, i.e. the client-side
    /// assignor ("range", "cooperative-sticky", …).
    public var assignor: String
    /// Consumer protocol only.
    public var groupEpoch: Int32?
    public var assignmentEpoch: Int32?
    /// Sorted by member id.
    public var members: [GroupMemberDescription]

    /// false when the coordinator knows no such group (state "Dead").
    public var exists: Bool { state != "Dead" }

    public init(groupId: String, state: String, groupProtocol: GroupProtocol, protocolType: String, assignor: String,
                groupEpoch: Int32? = nil, assignmentEpoch: Int32? = nil, members: [GroupMemberDescription]) {
        self.groupId = groupId
        self.state = state
        self.groupProtocol = groupProtocol
        self.protocolType = protocolType
        self.assignor = assignor
        self.groupEpoch = groupEpoch
        self.assignmentEpoch = assignmentEpoch
        self.members = members
    }
}

/// A group's committed offset for one partition (OffsetFetch).
public struct CommittedOffset: Sendable, Equatable {
    public var topic: String
    public var partition: PartitionID
    /// The next offset the group will consume.
    public var offset: Offset
    public var leaderEpoch: LeaderEpoch
    public var metadata: String?

    public init(topic: String, partition: PartitionID, offset: Offset, leaderEpoch: LeaderEpoch = .none,
                metadata: String? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
    }
}

/// One row of `runnel group describe`: a partition the group has committed or a member owns,
/// like a row of `kafka-consumer-groups --describe`.
public struct GroupPartitionLag: Sendable, Equatable {
    public var topic: String
    public var partition: PartitionID
    /// The committed offset; nil when the group has none for this partition.
    public var currentOffset: Offset?
    /// The partition's end (high watermark); nil when it could not be read.
    public var logEndOffset: Offset?
    /// logEndOffset − currentOffset; nil when either is unknown. Negative when the log was
    /// truncated below the committed offset (Kafka prints it as is).
    public var lag: Int64?
    /// The member that owns the partition now, if any.
    public var memberId: String?
    public var clientId: String?
    public var clientHost: String?

    public init(topic: String, partition: PartitionID, currentOffset: Offset?, logEndOffset: Offset?,
                memberId: String? = nil, clientId: String? = nil, clientHost: String? = nil) {
        self.topic = topic
        self.partition = partition
        self.currentOffset = currentOffset
        self.logEndOffset = logEndOffset
        if let currentOffset, let logEndOffset { lag = logEndOffset - currentOffset } else { lag = nil }
        self.memberId = memberId
        self.clientId = clientId
        self.clientHost = clientHost
    }

    /// Rows for every partition that has a committed offset or an owner, sorted by topic and
    /// partition. `logEndOffsets` maps topic → partition → end offset.
    public static func rows(committed: [CommittedOffset], logEndOffsets: [String: [PartitionID: Offset]],
                            members: [GroupMemberDescription]) -> [GroupPartitionLag] {
        struct Key: Hashable { var topic: String; var partition: PartitionID }
        var owners: [Key: GroupMemberDescription] = [:]
        for member in members {
            for (topic, partitions) in member.assignment {
                for partition in partitions { owners[Key(topic: topic, partition: partition)] = member }
            }
        }
        var offsets: [Key: Offset] = [:]
        for entry in committed { offsets[Key(topic: entry.topic, partition: entry.partition)] = entry.offset }
        let keys = Set(owners.keys).union(offsets.keys).sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
        return keys.map { key in
            let owner = owners[key]
            return GroupPartitionLag(topic: key.topic, partition: key.partition, currentOffset: offsets[key],
                                     logEndOffset: logEndOffsets[key.topic]?[key.partition],
                                     memberId: owner?.memberId, clientId: owner?.clientId, clientHost: owner?.clientHost)
        }
    }
}
