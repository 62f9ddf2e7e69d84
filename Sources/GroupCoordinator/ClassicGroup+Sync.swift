import RunnelCore

// SyncGroup, Heartbeat and LeaveGroup for classic groups.
extension ClassicGroup {
    /// Kafka's validateMember, shared by every request of a known member (JoinGroup, SyncGroup,
    /// Heartbeat, LeaveGroup, OffsetCommit). A static member is checked by its instance id first:
    /// an instance id that now belongs to another member id means this member was replaced by a
    /// newer instance of itself (FENCED_INSTANCE_ID, which makes the client stop instead of
    /// rejoining and replacing its successor in turn); an unknown instance id is UNKNOWN_MEMBER_ID.
    func validateMember(_ memberID: String, instanceID: String?) -> GroupErrorCode {
        if let instance = instanceID {
            guard let known = staticMembers[instance] else { return .unknownMemberID }
            if known != memberID { return .fencedInstanceID }
        }
        return members[memberID] == nil ? .unknownMemberID : .none
    }

    /// `validateMember`, then the generation (SyncGroup, Heartbeat).
    func validateMember(_ memberID: String, instanceID: String?, generation: Int32) -> GroupErrorCode {
        let error = validateMember(memberID, instanceID: instanceID)
        guard error == .none else { return error }
        return generation == generationID ? .none : .illegalGeneration
    }

    mutating func sync(_ r: SyncGroupRequest, token: RequestToken, _ ctx: inout GroupContext) {
        func reply(_ error: GroupErrorCode, _ assignment: [UInt8] = []) {
            ctx.fx.respond(token, .syncGroup(SyncGroupResponse(error: error, protocolType: protocolType,
                                                               protocolName: protocolName, assignment: assignment)))
        }
        var error = validateMember(r.memberID, instanceID: r.groupInstanceID, generation: r.generationID)
        if error == .none, let t = r.protocolType, t != protocolType { error = .inconsistentGroupProtocol }
        if error == .none, let n = r.protocolName, n != protocolName { error = .inconsistentGroupProtocol }
        guard error == .none else { return reply(error) }
        members[r.memberID]!.heartbeatDeadline = ctx.after(Int64(members[r.memberID]!.sessionTimeoutMs))
        switch state {
        case .empty: reply(.unknownMemberID)
        case .preparingRebalance: reply(.rebalanceInProgress)
        case .stable: reply(.none, members[r.memberID]!.assignment)
        case .completingRebalance:
            if let superseded = members[r.memberID]!.pendingSync {
                ctx.fx.respond(superseded, .syncGroup(SyncGroupResponse(error: .rebalanceInProgress, protocolType: protocolType, protocolName: protocolName, assignment: [])))
            }
            members[r.memberID]!.pendingSync = token
            if r.memberID == leaderID { completeSync(r.assignments, &ctx) }
        }
    }

    /// The leader's assignment arrived: persist the generation, then answer every parked sync
    /// (the responses follow the record in the action list, so they wait for it).
    private mutating func completeSync(_ assignments: [(memberID: String, assignment: [UInt8])], _ ctx: inout GroupContext) {
        var byMember: [String: [UInt8]] = [:]
        for a in assignments { byMember[a.memberID] = a.assignment }
        for id in memberOrder { members[id]!.assignment = byMember[id] ?? [] }
        state = .stable
        stateTimestamp = ctx.now
        ctx.fx.records.append(metadataRecord())
        for id in memberOrder {
            guard let t = members[id]!.pendingSync else { continue }
            ctx.fx.respond(t, .syncGroup(SyncGroupResponse(error: .none, protocolType: protocolType, protocolName: protocolName,
                                                           assignment: members[id]!.assignment)))
            members[id]!.pendingSync = nil
        }
    }

    mutating func heartbeat(_ r: HeartbeatRequest, _ ctx: inout GroupContext) -> GroupErrorCode {
        let error = validateMember(r.memberID, instanceID: r.groupInstanceID, generation: r.generationID)
        guard error == .none else { return error }
        if state == .empty { return .unknownMemberID }
        members[r.memberID]!.heartbeatDeadline = ctx.after(Int64(members[r.memberID]!.sessionTimeoutMs))
        return state == .preparingRebalance ? .rebalanceInProgress : .none
    }

    mutating func leave(_ r: LeaveGroupRequest, _ ctx: inout GroupContext) -> LeaveGroupResponse {
        let results = r.members.map { identity in
            LeaveGroupMemberResult(memberID: identity.memberID, groupInstanceID: identity.groupInstanceID,
                                   error: leaveOne(memberID: identity.memberID, instanceID: identity.groupInstanceID, &ctx))
        }
        return LeaveGroupResponse(error: .none, members: results)
    }

    /// Kafka's rules per identity: an empty member id removes the static member by its instance
    /// id (the admin tools' way); a pending member id is dropped; any other member id must pass
    /// `validateMember` (a replaced static instance is fenced).
    private mutating func leaveOne(memberID: String, instanceID: String?, _ ctx: inout GroupContext) -> GroupErrorCode {
        if memberID.isEmpty {
            guard let instance = instanceID, let known = staticMembers[instance] else { return .unknownMemberID }
            removeMemberAndUpdate(known, &ctx)
            return .none
        }
        if pendingMembers.removeValue(forKey: memberID) != nil {
            tryCompleteJoin(&ctx)
            return .none
        }
        let error = validateMember(memberID, instanceID: instanceID)
        guard error == .none else { return error }
        removeMemberAndUpdate(memberID, &ctx)
        return .none
    }

    /// OffsetCommit's group check (Kafka's validateOffsetCommit for classic groups). A negative
    /// generation is a commit from outside group management (an admin tool, or a consumer using
    /// assign() — which may still send a member id of its own): accepted while the group is
    /// Empty, whatever the member id. Anything else must be a current member of this generation.
    func validateCommit(_ r: OffsetCommitRequest) -> GroupErrorCode {
        let generation = r.generationIDOrMemberEpoch
        if generation < 0 && state == .empty { return .none }
        if generation >= 0 || !r.memberID.isEmpty || r.groupInstanceID != nil {
            let error = validateMember(r.memberID, instanceID: r.groupInstanceID, generation: generation)
            guard error == .none else { return error }
        } else {
            // No member id and no generation (OffsetCommit v0): only an Empty group takes it.
            return .unknownMemberID
        }
        return state == .completingRebalance ? .rebalanceInProgress : .none
    }

    /// Topics the live members subscribe to, decoded from their "consumer" protocol metadata
    /// (OffsetDelete refuses to delete offsets of those). nil when the group is not a consumer
    /// group or a member's metadata cannot be decoded (then every topic counts as subscribed).
    func subscribedTopics() -> Set<String>? {
        guard protocolType == "consumer" else { return nil }
        var topics: Set<String> = []
        for m in members.values {
            guard let decoded = ConsumerProtocolSubscription.topics(m.metadata(for: protocolName ?? m.protocols.first?.name))
            else { return nil }
            topics.formUnion(decoded)
        }
        return topics
    }
}
