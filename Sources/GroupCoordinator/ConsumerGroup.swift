import RunnelCore

/// A KIP-848 consumer-protocol group (ConsumerGroupHeartbeat, server-side assignment).
///
/// Epochs: the group epoch bumps on every membership, subscription or subscribed-topic metadata
/// change; the next heartbeat then computes a target assignment for that epoch (assignment
/// epoch). Each member converges to its target incrementally (`reconcile`): partitions it must
/// give up are revoked first (it acks by heartbeating without them), partitions still owned by
/// another member are withheld until released, and its member epoch advances to the target
/// epoch. `owners` maps every partition to the single member that owns it or is revoking it,
/// which is what keeps a partition from ever being owned by two members.
///
/// Persistence (replayed in this order by `load`): ConsumerGroupMetadata (group epoch),
/// PartitionMetadata (subscribed topics), MemberMetadata, TargetAssignmentMember and
/// TargetAssignmentMetadata, CurrentMemberAssignment. Removal writes the tombstones in reverse.
struct ConsumerGroup {
    struct Member: Equatable {
        var memberID: String
        var instanceID: String?
        var rackID: String?
        var clientID: String
        var clientHost: String
        var subscribedTopicNames: [TopicName] = []
        /// KIP-848 SubscribedTopicRegex; nil when the member has none (an empty one clears it).
        var subscribedTopicRegex: String?
        var rebalanceTimeoutMs: Int32
        var serverAssignor: String?
        var memberEpoch: Int32 = 0
        var previousMemberEpoch: Int32 = 0
        var state: ConsumerMemberState = .stable
        var assigned = PartitionAssignment()
        var pendingRevocation = PartitionAssignment()
        var sessionDeadline: TimestampMs
        /// Set while the member must revoke: missing it fences the member.
        var revocationDeadline: TimestampMs?

        var metadataValue: ConsumerMemberMetadataValue {
            ConsumerMemberMetadataValue(
                instanceID: instanceID, rackID: rackID, clientID: clientID, clientHost: clientHost,
                subscribedTopicNames: subscribedTopicNames, subscribedTopicRegex: subscribedTopicRegex,
                rebalanceTimeoutMs: rebalanceTimeoutMs, serverAssignor: serverAssignor)
        }

        /// The revocation deadline for a revocation that starts at `ctx.now`: the member's
        /// rebalance timeout later. A timeout of -1 (none sent) counts as 0, so the deadline is
        /// never in the past.
        func revocationDeadline(startingAt ctx: GroupContext) -> TimestampMs {
            ctx.after(Int64(max(rebalanceTimeoutMs, 0)))
        }

        var assignmentValue: CurrentMemberAssignmentValue {
            CurrentMemberAssignmentValue(memberEpoch: memberEpoch, previousMemberEpoch: previousMemberEpoch, state: state,
                                         assignedPartitions: assigned, partitionsPendingRevocation: pendingRevocation)
        }
    }

    /// A partition key for the ownership map.
    struct Owned: Hashable {
        var topic: TopicID
        var partition: PartitionID
    }

    let groupID: String
    var groupEpoch: Int32 = 0
    var assignmentEpoch: Int32 = 0
    var members: [String: Member] = [:]
    var staticMembers: [String: String] = [:]
    var targetAssignment: [String: PartitionAssignment] = [:]
    /// The subscribed topics' metadata as of the last epoch bump (PartitionMetadata record).
    var subscriptionMetadata: [TopicInfo] = []
    /// Every regex a member subscribes with → the topics whose names it matches now. Derived from
    /// the members and the cluster's topics (`resolveRegexes`), never persisted: a reload
    /// resolves again from the topics of that moment.
    var resolvedRegexes: [String: [TopicName]] = [:]
    var owners: [Owned: String] = [:]
    var assignorName: ServerAssignorName = .uniform
    /// When the last member left (offsets and the group itself expire counted from it).
    var emptySince: TimestampMs?

    init(groupID: String, now: TimestampMs) {
        self.groupID = groupID
        self.emptySince = now
    }

    /// Kafka's ConsumerGroupState names.
    var stateName: String {
        if members.isEmpty { return "Empty" }
        if groupEpoch > assignmentEpoch { return "Assigning" }
        if members.values.contains(where: { $0.memberEpoch != assignmentEpoch || $0.state != .stable }) { return "Reconciling" }
        return "Stable"
    }

    var nextDeadline: TimestampMs? {
        members.values.flatMap { [$0.sessionDeadline, $0.revocationDeadline].compactMap { $0 } }.min()
    }

    /// Every topic some member subscribes to, by name or by regex.
    var subscribedTopicNames: Set<TopicName> {
        members.values.reduce(into: Set<TopicName>()) { $0.formUnion(subscription(of: $1)) }
    }

    /// The topics `member` subscribes to: its names and what its regex resolves to now.
    func subscription(of member: Member) -> Set<TopicName> {
        var topics = Set(member.subscribedTopicNames)
        if let regex = member.subscribedTopicRegex { topics.formUnion(resolvedRegexes[regex] ?? []) }
        return topics
    }

    /// Resolves the members' regexes against `topics`: every one when `all` (the topics
    /// changed), else only those not resolved yet (a member subscribed with a new one). Regexes
    /// no member uses any more are dropped. A pattern that no longer compiles (it was accepted
    /// by another version) matches nothing.
    mutating func resolveRegexes(topics: [TopicName: TopicInfo], all: Bool) {
        let used = Set(members.values.compactMap(\.subscribedTopicRegex))
        resolvedRegexes = resolvedRegexes.filter { used.contains($0.key) }
        for pattern in used.sorted() where all || resolvedRegexes[pattern] == nil {
            resolvedRegexes[pattern] = (try? TopicRegex(pattern))?.matching(topics.keys) ?? []
        }
    }

    /// Replaces the member's ownership entries with its assigned + pending-revocation partitions.
    mutating func setOwnership(_ old: Member?, _ new: Member?) {
        if let old {
            for (t, p) in old.assigned.union(old.pendingRevocation).pairs where owners[Owned(topic: t, partition: p)] == old.memberID {
                owners[Owned(topic: t, partition: p)] = nil
            }
        }
        if let new {
            for (t, p) in new.assigned.union(new.pendingRevocation).pairs { owners[Owned(topic: t, partition: p)] = new.memberID }
        }
    }

    /// Stores a member, keeping ownership, static ids and the records in step.
    mutating func put(_ member: Member, recordAssignment: Bool = true, _ ctx: inout GroupContext) {
        let old = members[member.memberID]
        setOwnership(old, member)
        members[member.memberID] = member
        if let instance = member.instanceID { staticMembers[instance] = member.memberID }
        if old?.metadataValue != member.metadataValue {
            ctx.fx.records.append(.consumerGroupMemberMetadata(group: groupID, memberID: member.memberID, member.metadataValue))
        }
        if recordAssignment && old?.assignmentValue != member.assignmentValue {
            ctx.fx.records.append(.consumerGroupCurrentMemberAssignment(group: groupID, memberID: member.memberID, member.assignmentValue))
        }
        emptySince = nil
    }

    /// Removes a member (left, expired, fenced or replaced): tombstones, freed partitions, and a
    /// group epoch bump when `bumpEpoch` (a replaced static member keeps the epoch).
    mutating func remove(_ memberID: String, bumpEpoch: Bool, topics: [TopicName: TopicInfo], _ ctx: inout GroupContext) {
        guard let member = members.removeValue(forKey: memberID) else { return }
        setOwnership(member, nil)
        if let instance = member.instanceID, staticMembers[instance] == memberID { staticMembers[instance] = nil }
        ctx.fx.records.append(.consumerGroupCurrentMemberAssignment(group: groupID, memberID: memberID, nil))
        if targetAssignment.removeValue(forKey: memberID) != nil {
            ctx.fx.records.append(.consumerGroupTargetAssignmentMember(group: groupID, memberID: memberID, nil))
        }
        ctx.fx.records.append(.consumerGroupMemberMetadata(group: groupID, memberID: memberID, nil))
        if members.isEmpty { emptySince = ctx.now }
        guard bumpEpoch else { return }
        refreshSubscriptionMetadata(topics: topics, &ctx)
        bumpGroupEpoch(&ctx)
    }

    mutating func bumpGroupEpoch(_ ctx: inout GroupContext) {
        groupEpoch += 1
        ctx.fx.records.append(.consumerGroupMetadata(group: groupID, epoch: groupEpoch))
    }

    /// Recomputes the metadata of the subscribed topics; true (and a record) when it changed.
    @discardableResult
    mutating func refreshSubscriptionMetadata(topics: [TopicName: TopicInfo], _ ctx: inout GroupContext) -> Bool {
        let current = subscribedTopicNames.sorted().compactMap { topics[$0] }
        guard current != subscriptionMetadata else { return false }
        subscriptionMetadata = current
        ctx.fx.records.append(.consumerGroupPartitionMetadata(group: groupID, current))
        return true
    }

    /// The assignor the group uses: the one most members ask for, else the configured default.
    func preferredAssignor(_ config: GroupConfig) -> ServerAssignorName {
        var votes: [ServerAssignorName: Int] = [:]
        for m in members.values {
            if let name = m.serverAssignor.flatMap(ServerAssignorName.init(rawValue:)) { votes[name, default: 0] += 1 }
        }
        let order = config.consumerAssignors
        return order.filter { votes[$0] != nil }.max { votes[$0]! != votes[$1]! ? votes[$0]! < votes[$1]! : order.firstIndex(of: $0)! > order.firstIndex(of: $1)! }
            ?? order.first ?? .uniform
    }

    /// Computes the target assignment for the current group epoch and records what changed.
    mutating func updateTargetAssignment(_ ctx: inout GroupContext) {
        assignorName = preferredAssignor(ctx.config)
        let byName = Dictionary(subscriptionMetadata.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let inputs = members.keys.sorted().map { id in
            AssignorMember(memberID: id, subscribedTopics: Set(subscription(of: members[id]!).compactMap { byName[$0]?.id }),
                           current: targetAssignment[id] ?? PartitionAssignment())
        }
        let result = Assignors.assign(assignorName, members: inputs, topics: subscriptionMetadata)
        for id in members.keys.sorted() where targetAssignment[id] != result[id] {
            targetAssignment[id] = result[id]
            ctx.fx.records.append(.consumerGroupTargetAssignmentMember(group: groupID, memberID: id, result[id]))
        }
        assignmentEpoch = groupEpoch
        ctx.fx.records.append(.consumerGroupTargetAssignmentMetadata(group: groupID, assignmentEpoch: assignmentEpoch))
    }

    /// Tombstones for the whole group (DeleteGroups, expiry of an empty group).
    func deletionRecords() -> [GroupRecord] {
        var records: [GroupRecord] = []
        for id in members.keys.sorted() {
            records.append(.consumerGroupCurrentMemberAssignment(group: groupID, memberID: id, nil))
            records.append(.consumerGroupTargetAssignmentMember(group: groupID, memberID: id, nil))
            records.append(.consumerGroupMemberMetadata(group: groupID, memberID: id, nil))
        }
        records.append(.consumerGroupTargetAssignmentMetadata(group: groupID, assignmentEpoch: nil))
        records.append(.consumerGroupPartitionMetadata(group: groupID, nil))
        records.append(.consumerGroupMetadata(group: groupID, epoch: nil))
        return records
    }
}
