public import RunnelCore

// Rebuilding the state from `__consumer_offsets` (replay in log order; later records win, a nil
// value deletes what its key names).
extension GroupCoordinatorStateMachine {
    /// Applies one record read back from the partition. Only while `.loading`.
    public mutating func load(_ record: GroupRecord) {
        precondition(phase == .loading, "load(_:) after finishLoading")
        switch record {
        case .offsetCommit(let g, let tp, let value):
            offsets[g, default: [:]][tp] = value
            if offsets[g]!.isEmpty { offsets[g] = nil }
            if value != nil && groups[g] == nil { groups[g] = .classic(ClassicGroup(groupID: g, now: value!.commitTimestamp)) }
        case .groupMetadata(let g, let value):
            groups[g] = value.map { .classic(ClassicGroup(groupID: g, record: $0)) }
        default:
            loadConsumerRecord(record)
        }
    }

    private mutating func loadConsumerRecord(_ record: GroupRecord) {
        let id = record.groupID
        if case .consumer? = groups[id] {} else { groups[id] = .consumer(ConsumerGroup(groupID: id, now: TimestampMs(0))) }
        withConsumer(id) { g in
            switch record {
            case .consumerGroupMetadata(_, let epoch): g.groupEpoch = epoch ?? -1
            case .consumerGroupPartitionMetadata(_, let topics): g.subscriptionMetadata = topics ?? []
            case .consumerGroupTargetAssignmentMetadata(_, let epoch): g.assignmentEpoch = epoch ?? 0
            case .consumerGroupTargetAssignmentMember(_, let m, let value): g.targetAssignment[m] = value
            case .consumerGroupMemberMetadata(_, let m, let value): g.loadMember(m, value)
            case .consumerGroupCurrentMemberAssignment(_, let m, let value): g.loadAssignment(m, value)
            case .offsetCommit, .groupMetadata: preconditionFailure("not a consumer group record")
            }
        }
        // The group's own tombstone (written last on deletion) removes it.
        if case .consumerGroupMetadata(_, nil) = record { groups[id] = nil }
    }

    /// Loading is done: the coordinator answers requests from now on. Members read back get a
    /// full session from `now`; clients that are gone expire like any silent member.
    public mutating func finishLoading(now: TimestampMs) -> [GroupAction] {
        precondition(phase == .loading, "finishLoading twice")
        phase = .active
        for id in offsets.keys where groups[id] == nil {
            let first = offsets[id]!.values.map(\.commitTimestamp).min() ?? now
            groups[id] = .classic(ClassicGroup(groupID: id, now: first))
        }
        return run(now: now) { sm, ctx in
            for id in sm.groups.keys.sorted() {
                ctx.fx.touched.insert(id)
                sm.withClassic(id) { $0.restartSessions(now: ctx.now) }
                let topics = sm.topics
                sm.withConsumer(id) { g in
                    g.resolveRegexes(topics: topics, all: true)
                    g.restartSessions(ctx)
                }
            }
        }
    }
}

extension ConsumerGroup {
    mutating func loadMember(_ id: String, _ value: ConsumerMemberMetadataValue?) {
        guard let value else {
            if let m = members.removeValue(forKey: id) { setOwnership(m, nil) }
            staticMembers = staticMembers.filter { $0.value != id }
            return
        }
        var member = members[id] ?? Member(memberID: id, clientID: value.clientID, clientHost: value.clientHost,
                                          rebalanceTimeoutMs: value.rebalanceTimeoutMs, sessionDeadline: TimestampMs(0))
        member.instanceID = value.instanceID
        member.rackID = value.rackID
        member.clientID = value.clientID
        member.clientHost = value.clientHost
        member.subscribedTopicNames = value.subscribedTopicNames
        member.subscribedTopicRegex = value.subscribedTopicRegex.flatMap { $0.isEmpty ? nil : $0 }
        member.rebalanceTimeoutMs = value.rebalanceTimeoutMs
        member.serverAssignor = value.serverAssignor
        members[id] = member
        if let instance = value.instanceID { staticMembers[instance] = id }
    }

    /// After compaction a member's assignment record may precede its metadata record (keys are
    /// kept at their latest offset), so either may create the member.
    mutating func loadAssignment(_ id: String, _ value: CurrentMemberAssignmentValue?) {
        guard let value else { return }
        var member = members[id] ?? Member(memberID: id, clientID: "", clientHost: "", rebalanceTimeoutMs: -1,
                                           sessionDeadline: TimestampMs(0))
        setOwnership(member, nil)
        member.memberEpoch = value.memberEpoch
        member.previousMemberEpoch = value.previousMemberEpoch
        member.state = value.state
        member.assigned = value.assignedPartitions
        member.pendingRevocation = value.partitionsPendingRevocation
        setOwnership(nil, member)
        members[id] = member
    }

    mutating func restartSessions(_ ctx: GroupContext) {
        assignorName = preferredAssignor(ctx.config)
        emptySince = members.isEmpty ? ctx.now : nil
        for id in members.keys {
            members[id]!.sessionDeadline = ctx.after(Int64(ctx.config.consumerSessionTimeoutMs))
            if members[id]!.state == .unrevokedPartitions {
                members[id]!.revocationDeadline = members[id]!.revocationDeadline(startingAt: ctx)
            }
        }
    }
}
