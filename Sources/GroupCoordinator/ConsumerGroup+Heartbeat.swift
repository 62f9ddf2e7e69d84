import RunnelCore

// ConsumerGroupHeartbeat (KIP-848, v1) and member reconciliation.
extension ConsumerGroup {
    typealias Response = ConsumerGroupHeartbeatResponse

    func errorResponse(_ error: GroupErrorCode, _ r: ConsumerGroupHeartbeatRequest, _ ctx: GroupContext, message: String? = nil) -> Response {
        Response(error: error, errorMessage: message, memberID: r.memberID, memberEpoch: -1,
                 heartbeatIntervalMs: ctx.config.consumerHeartbeatIntervalMs, assignment: nil)
    }

    mutating func heartbeat(_ r: ConsumerGroupHeartbeatRequest, topics: [TopicName: TopicInfo], _ ctx: inout GroupContext) -> Response {
        if r.memberEpoch < 0 { return leave(r, topics: topics, &ctx) }
        var member: Member
        var bump: Bool
        switch findMember(r, &ctx) {
        case .success(let found): (member, bump) = (found.member, found.isNew)
        case .failure(let error): return errorResponse(error.code, r, ctx)
        }
        let previous = members[member.memberID]
        bump = apply(r, to: &member) || bump
        put(member, recordAssignment: false, &ctx)
        if member.subscribedTopicRegex != previous?.subscribedTopicRegex { resolveRegexes(topics: topics, all: false) }
        bump = refreshSubscriptionMetadata(topics: topics, &ctx) || bump
        if bump { bumpGroupEpoch(&ctx) }
        if groupEpoch > assignmentEpoch { updateTargetAssignment(&ctx) }
        let owned = r.memberEpoch == 0 ? PartitionAssignment() : r.topicPartitions.map(PartitionAssignment.init)
        member = reconcile(members[member.memberID]!, owned: owned, ctx)
        member.sessionDeadline = ctx.after(Int64(ctx.config.consumerSessionTimeoutMs))
        put(member, recordAssignment: false, &ctx)
        if previous?.assignmentValue != member.assignmentValue {
            ctx.fx.records.append(.consumerGroupCurrentMemberAssignment(group: groupID, memberID: member.memberID, member.assignmentValue))
        }
        let sendAssignment = r.memberEpoch == 0 || r.topicPartitions != nil || previous?.assigned != member.assigned
        return Response(error: .none, errorMessage: nil, memberID: member.memberID, memberEpoch: member.memberEpoch,
                        heartbeatIntervalMs: ctx.config.consumerHeartbeatIntervalMs,
                        assignment: sendAssignment ? member.assigned.topics : nil)
    }

    struct Failure: Error { var code: GroupErrorCode }

    /// The member the heartbeat speaks for: created or reset on join (epoch 0), taken over from a
    /// static member that left temporarily, or an existing member whose epoch must match.
    /// `isNew` when the member did not exist (which bumps the group epoch); a static member
    /// taking over an old id is not new.
    private mutating func findMember(_ r: ConsumerGroupHeartbeatRequest, _ ctx: inout GroupContext)
        -> Result<(member: Member, isNew: Bool), Failure> {
        if r.memberEpoch == 0 {
            if let instance = r.instanceID, let oldID = staticMembers[instance], oldID != r.memberID {
                guard let old = members[oldID], old.memberEpoch == -2 else { return .failure(Failure(code: .unreleasedInstanceID)) }
                return .success((takeOver(old, newID: r.memberID, &ctx), false))
            }
            if var existing = members[r.memberID] {
                if existing.memberEpoch == -2 { existing.memberEpoch = existing.previousMemberEpoch; return .success((existing, false)) }
                existing.assigned = PartitionAssignment()
                existing.pendingRevocation = PartitionAssignment()
                existing.memberEpoch = 0
                existing.state = .stable
                return .success((existing, false))
            }
            guard members.count < min(ctx.config.consumerMaxSize, GroupLimits.membersPerGroupMax) else {
                return .failure(Failure(code: .groupMaxSizeReached))
            }
            return .success((Member(memberID: r.memberID, instanceID: r.instanceID, rackID: r.rackID, clientID: r.clientID,
                                    clientHost: r.clientHost, rebalanceTimeoutMs: r.rebalanceTimeoutMs,
                                    sessionDeadline: ctx.after(Int64(ctx.config.consumerSessionTimeoutMs))), true))
        }
        guard let member = members[r.memberID] else { return .failure(Failure(code: .unknownMemberID)) }
        if r.memberEpoch != member.memberEpoch {
            let owned = r.topicPartitions.map(PartitionAssignment.init) ?? member.assigned
            // A lost response: the member may retry with its previous epoch as long as it owns
            // nothing it was not given.
            guard r.memberEpoch == member.previousMemberEpoch && r.memberEpoch < member.memberEpoch,
                  owned.isSubset(of: member.assigned) else { return .failure(Failure(code: .fencedMemberEpoch)) }
        }
        return .success((member, false))
    }

    /// A static member rejoining under a new member id inherits the old one's epoch and
    /// partitions (no rebalance); the old id disappears.
    private mutating func takeOver(_ old: Member, newID: String, _ ctx: inout GroupContext) -> Member {
        var member = old
        member.memberID = newID
        member.memberEpoch = old.previousMemberEpoch
        let target = targetAssignment[old.memberID]
        remove(old.memberID, bumpEpoch: false, topics: [:], &ctx)
        if let target {
            targetAssignment[newID] = target
            ctx.fx.records.append(.consumerGroupTargetAssignmentMember(group: groupID, memberID: newID, target))
        }
        return member
    }

    /// Copies the changed request fields into the member; true when the subscription changed
    /// (names or regex; an empty regex clears it, as librdkafka sends one with no patterns).
    private func apply(_ r: ConsumerGroupHeartbeatRequest, to member: inout Member) -> Bool {
        if let v = r.instanceID { member.instanceID = v }
        if let v = r.rackID { member.rackID = v }
        if r.rebalanceTimeoutMs >= 0 { member.rebalanceTimeoutMs = r.rebalanceTimeoutMs }
        if let v = r.serverAssignor { member.serverAssignor = v }
        if !r.clientID.isEmpty { member.clientID = r.clientID }
        if !r.clientHost.isEmpty { member.clientHost = r.clientHost }
        var changed = false
        if let regex = r.subscribedTopicRegex {
            let new = regex.isEmpty ? nil : regex
            changed = new != member.subscribedTopicRegex
            member.subscribedTopicRegex = new
        }
        if let names = r.subscribedTopicNames {
            let sorted = Array(Set(names)).sorted()
            changed = changed || sorted != member.subscribedTopicNames
            member.subscribedTopicNames = sorted
        }
        return changed
    }

    private mutating func leave(_ r: ConsumerGroupHeartbeatRequest, topics: [TopicName: TopicInfo], _ ctx: inout GroupContext) -> Response {
        guard var member = members[r.memberID] else { return errorResponse(.unknownMemberID, r, ctx) }
        if r.memberEpoch == -2 && member.instanceID != nil {
            // Temporary leave: keep the partitions for the instance, fence the epoch (-2).
            member.previousMemberEpoch = member.memberEpoch
            member.memberEpoch = -2
            put(member, &ctx)
        } else {
            remove(r.memberID, bumpEpoch: true, topics: topics, &ctx)
        }
        return Response(error: .none, errorMessage: nil, memberID: r.memberID, memberEpoch: r.memberEpoch,
                        heartbeatIntervalMs: ctx.config.consumerHeartbeatIntervalMs, assignment: nil)
    }

    /// Moves a member toward its target (Kafka's CurrentAssignmentBuilder). `owned` is what the
    /// member reported (nil: not reported this time).
    func reconcile(_ member: Member, owned: PartitionAssignment?, _ ctx: GroupContext) -> Member {
        switch member.state {
        case .stable where member.memberEpoch == assignmentEpoch:
            return member
        case .unrevokedPartitions:
            guard let owned, owned.intersection(member.pendingRevocation).isEmpty else { return member }
            return nextAssignment(member, ctx)
        default:
            return nextAssignment(member, ctx)
        }
    }

    private func nextAssignment(_ member: Member, _ ctx: GroupContext) -> Member {
        let target = targetAssignment[member.memberID] ?? PartitionAssignment()
        var next = member
        let revoke = member.assigned.subtracting(target)
        if !revoke.isEmpty {
            next.state = .unrevokedPartitions
            next.assigned = member.assigned.intersection(target)
            next.pendingRevocation = revoke
            next.revocationDeadline = member.revocationDeadline(startingAt: ctx)
            return next
        }
        let free = target.filter { t, p in
            let owner = owners[Owned(topic: t, partition: p)]
            return owner == nil || owner == member.memberID
        }
        if member.memberEpoch != assignmentEpoch { next.previousMemberEpoch = member.memberEpoch }
        next.memberEpoch = assignmentEpoch
        next.assigned = free
        next.pendingRevocation = PartitionAssignment()
        next.revocationDeadline = nil
        next.state = free == target ? .stable : .unreleasedPartitions
        return next
    }

    /// Session and revocation deadlines: the member is fenced (removed) when either passes.
    mutating func tick(topics: [TopicName: TopicInfo], _ ctx: inout GroupContext) {
        for id in members.keys.sorted() {
            guard let m = members[id] else { continue }
            if m.sessionDeadline <= ctx.now || (m.revocationDeadline.map { $0 <= ctx.now } ?? false) {
                remove(id, bumpEpoch: true, topics: topics, &ctx)
            }
        }
    }

    /// OffsetCommit's check for KIP-848 groups (Kafka's ConsumerGroup.validateOffsetCommit). A
    /// negative epoch is a commit from outside group management — an admin tool, or a consumer
    /// using assign(), which librdkafka's KIP-848 consumer sends with its own member id: accepted
    /// while the group has no members, whatever the member id. Otherwise the member must exist
    /// and speak for its current epoch.
    func validateCommit(memberID: String, memberEpoch: Int32) -> GroupErrorCode {
        if memberEpoch < 0 && members.isEmpty { return .none }
        return validateMemberEpoch(memberID: memberID, memberEpoch: memberEpoch)
    }

    /// OffsetFetch's check (Kafka's ConsumerGroup.validateOffsetFetch): skipped only when the
    /// request names no member and no epoch (admin clients, and librdkafka always); a member id
    /// given with any epoch must be a member of that epoch.
    func validateFetch(memberID: String?, memberEpoch: Int32) -> GroupErrorCode {
        if memberID == nil && memberEpoch < 0 { return .none }
        return validateMemberEpoch(memberID: memberID ?? "", memberEpoch: memberEpoch)
    }

    /// Any other epoch than the member's is STALE_MEMBER_EPOCH for offset requests (Kafka answers
    /// FENCED_MEMBER_EPOCH only to heartbeats).
    private func validateMemberEpoch(memberID: String, memberEpoch: Int32) -> GroupErrorCode {
        guard let member = members[memberID] else { return .unknownMemberID }
        return memberEpoch == member.memberEpoch ? .none : .staleMemberEpoch
    }

    /// Topics changed in the cluster (created, deleted, partitions added): regexes resolve
    /// again, and a change in what the members subscribe to bumps the epoch (reassignment).
    mutating func topicsChanged(topics: [TopicName: TopicInfo], _ ctx: inout GroupContext) {
        resolveRegexes(topics: topics, all: true)
        guard !members.isEmpty, refreshSubscriptionMetadata(topics: topics, &ctx) else { return }
        bumpGroupEpoch(&ctx)
    }
}
