import RunnelCore

// SyncGroup, Heartbeat and LeaveGroup for classic groups.
extension ClassicGroup {
    /// The checks SyncGroup, Heartbeat and OffsetCommit share: the member exists, its instance id
    /// is not fenced, and it speaks for the current generation.
    func validateMember(_ memberID: String, instanceID: String?, generation: Int32) -> GroupErrorCode {
        guard members[memberID] != nil else { return .unknownMemberID }
        if let instance = instanceID, staticMembers[instance] != memberID { return .fencedInstanceID }
        if generation != generationID { return .illegalGeneration }
        return .none
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
        if state == .empty { return .unknownMemberID }
        let error = validateMember(r.memberID, instanceID: r.groupInstanceID, generation: r.generationID)
        guard error == .none else { return error }
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

    private mutating func leaveOne(memberID: String, instanceID: String?, _ ctx: inout GroupContext) -> GroupErrorCode {
        var id = memberID
        if let instance = instanceID {
            guard let known = staticMembers[instance] else { return .unknownMemberID }
            if !memberID.isEmpty && memberID != known { return .fencedInstanceID }
            id = known
        } else if pendingMembers.removeValue(forKey: memberID) != nil {
            tryCompleteJoin(&ctx)
            return .none
        }
        guard members[id] != nil else { return .unknownMemberID }
        removeMemberAndUpdate(id, &ctx)
        return .none
    }

    /// OffsetCommit's group check (Kafka's validateOffsetCommit for classic groups).
    func validateCommit(_ r: OffsetCommitRequest) -> GroupErrorCode {
        if r.generationIDOrMemberEpoch < 0 && r.memberID.isEmpty && state == .empty { return .none }
        if let instance = r.groupInstanceID, let known = staticMembers[instance], known != r.memberID { return .fencedInstanceID }
        if state == .completingRebalance && members[r.memberID] != nil && r.generationIDOrMemberEpoch == generationID {
            return .rebalanceInProgress
        }
        guard members[r.memberID] != nil else { return .unknownMemberID }
        return r.generationIDOrMemberEpoch == generationID ? .none : .illegalGeneration
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
