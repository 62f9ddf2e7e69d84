import RunnelCore

// JoinGroup and the rebalance it drives (Kafka's GroupCoordinator.handleJoinGroup and
// onCompleteJoin). Request-level validation (group id, session timeout bounds, protocol type)
// happens in the coordinator before a group is touched.
extension ClassicGroup {
    mutating func join(_ r: JoinGroupRequest, token: RequestToken, _ ctx: inout GroupContext) {
        let protocols = r.protocols.map { SupportedProtocol(name: $0.name, metadata: $0.metadata) }
        if !members.isEmpty && !supports(protocolType: r.protocolType, protocols: protocols) {
            return ctx.fx.respond(token, .joinGroup(JoinGroupResponse(error: .inconsistentGroupProtocol, memberID: r.memberID)))
        }
        if r.memberID.isEmpty {
            joinUnknownMember(r, protocols: protocols, token: token, &ctx)
        } else {
            joinKnownMember(r, protocols: protocols, token: token, &ctx)
        }
    }

    private mutating func joinUnknownMember(_ r: JoinGroupRequest, protocols: [SupportedProtocol], token: RequestToken,
                                            _ ctx: inout GroupContext) {
        let newID = "\(r.clientID)-\(ctx.uuidString())"
        if let instance = r.groupInstanceID, let oldID = staticMembers[instance] {
            return replaceStaticMember(oldID: oldID, newID: newID, r, protocols: protocols, token: token, &ctx)
        }
        guard size < min(ctx.config.maxSize, GroupLimits.membersPerGroupMax) else {
            return ctx.fx.respond(token, .joinGroup(JoinGroupResponse(error: .groupMaxSizeReached, memberID: "")))
        }
        if r.groupInstanceID == nil && r.apiVersion >= 4 {
            // KIP-394: the client must come back with this id, so that a join whose response got
            // lost does not leave an orphan member behind.
            pendingMembers[newID] = ctx.after(Int64(r.sessionTimeoutMs))
            return ctx.fx.respond(token, .joinGroup(JoinGroupResponse(error: .memberIDRequired, memberID: newID)))
        }
        addMemberAndRebalance(newID, r, protocols: protocols, token: token, &ctx)
    }

    private mutating func joinKnownMember(_ r: JoinGroupRequest, protocols: [SupportedProtocol], token: RequestToken,
                                          _ ctx: inout GroupContext) {
        if pendingMembers.removeValue(forKey: r.memberID) != nil {
            return addMemberAndRebalance(r.memberID, r, protocols: protocols, token: token, &ctx)
        }
        let error = validateMember(r.memberID, instanceID: r.groupInstanceID)
        guard error == .none, var member = members[r.memberID] else {
            return ctx.fx.respond(token, .joinGroup(JoinGroupResponse(error: error, memberID: r.memberID)))
        }
        let unchanged = member.protocols == protocols
        switch state {
        case .completingRebalance where unchanged, .stable where unchanged && leaderID != r.memberID:
            member.heartbeatDeadline = ctx.after(Int64(member.sessionTimeoutMs))
            members[r.memberID] = member
            ctx.fx.respond(token, .joinGroup(joinResponse(for: r.memberID)))
        case .empty:
            ctx.fx.respond(token, .joinGroup(JoinGroupResponse(error: .unknownMemberID, memberID: r.memberID)))
        default:
            updateMemberAndRebalance(r, protocols: protocols, token: token, &ctx)
        }
    }

    private mutating func addMemberAndRebalance(_ memberID: String, _ r: JoinGroupRequest, protocols: [SupportedProtocol],
                                                token: RequestToken, _ ctx: inout GroupContext) {
        members[memberID] = Member(
            memberID: memberID, groupInstanceID: r.groupInstanceID, clientID: r.clientID, clientHost: r.clientHost,
            rebalanceTimeoutMs: r.rebalanceTimeoutMs, sessionTimeoutMs: r.sessionTimeoutMs, protocols: protocols,
            pendingJoin: token, heartbeatDeadline: ctx.after(Int64(r.sessionTimeoutMs)))
        memberOrder.append(memberID)
        if let instance = r.groupInstanceID { staticMembers[instance] = memberID }
        if leaderID == nil { leaderID = memberID }
        if protocolType == nil { protocolType = r.protocolType }
        if initialDelay != nil { initialDelay!.newMemberJoined = true }
        maybePrepareRebalance(&ctx)
        tryCompleteJoin(&ctx)
    }

    private mutating func updateMemberAndRebalance(_ r: JoinGroupRequest, protocols: [SupportedProtocol], token: RequestToken,
                                                   _ ctx: inout GroupContext) {
        var member = members[r.memberID]!
        if let superseded = member.pendingJoin {
            ctx.fx.respond(superseded, .joinGroup(JoinGroupResponse(error: .rebalanceInProgress, memberID: r.memberID)))
        }
        member.protocols = protocols
        member.rebalanceTimeoutMs = r.rebalanceTimeoutMs
        member.sessionTimeoutMs = r.sessionTimeoutMs
        member.pendingJoin = token
        members[r.memberID] = member
        maybePrepareRebalance(&ctx)
        tryCompleteJoin(&ctx)
    }

    /// KIP-345: a known group.instance.id joining with an empty member id takes over the old
    /// member: the old id is fenced, and a Stable group keeps its generation when the selected
    /// protocol would not change.
    private mutating func replaceStaticMember(oldID: String, newID: String, _ r: JoinGroupRequest, protocols: [SupportedProtocol],
                                              token: RequestToken, _ ctx: inout GroupContext) {
        var member = members.removeValue(forKey: oldID)!
        if let t = member.pendingJoin { ctx.fx.respond(t, .joinGroup(JoinGroupResponse(error: .fencedInstanceID, memberID: oldID))) }
        if let t = member.pendingSync {
            ctx.fx.respond(t, .syncGroup(SyncGroupResponse(error: .fencedInstanceID, protocolType: protocolType, protocolName: protocolName, assignment: [])))
        }
        member.memberID = newID
        member.pendingJoin = nil
        member.pendingSync = nil
        member.clientID = r.clientID
        member.clientHost = r.clientHost
        member.sessionTimeoutMs = r.sessionTimeoutMs
        member.rebalanceTimeoutMs = r.rebalanceTimeoutMs
        member.heartbeatDeadline = ctx.after(Int64(r.sessionTimeoutMs))
        member.protocols = protocols
        members[newID] = member
        memberOrder = memberOrder.map { $0 == oldID ? newID : $0 }
        staticMembers[r.groupInstanceID!] = newID
        let wasLeader = leaderID == oldID
        if wasLeader { leaderID = newID }
        switch state {
        case .stable where selectProtocol() == protocolName:
            ctx.fx.records.append(metadataRecord())
            var response = joinResponse(for: newID)
            response.skipAssignment = wasLeader
            ctx.fx.respond(token, .joinGroup(response))
        case .preparingRebalance:
            members[newID]!.pendingJoin = token
            tryCompleteJoin(&ctx)
        default:
            members[newID]!.pendingJoin = token
            prepareRebalance(&ctx)
            tryCompleteJoin(&ctx)
        }
    }

    /// The JoinGroup answer for the current generation; only the leader sees the members.
    func joinResponse(for memberID: String) -> JoinGroupResponse {
        var response = JoinGroupResponse(error: .none, memberID: memberID)
        response.generationID = generationID
        response.protocolType = protocolType
        response.protocolName = protocolName
        response.leader = leaderID ?? ""
        if memberID == leaderID {
            response.members = orderedMembers.map {
                JoinGroupResponseMember(memberID: $0.memberID, groupInstanceID: $0.groupInstanceID,
                                        metadata: $0.metadata(for: protocolName))
            }
        }
        return response
    }

    mutating func maybePrepareRebalance(_ ctx: inout GroupContext) {
        if state != .preparingRebalance { prepareRebalance(&ctx) }
    }

    mutating func prepareRebalance(_ ctx: inout GroupContext) {
        if state == .completingRebalance { failPendingSyncs(.rebalanceInProgress, &ctx) }
        if state == .empty {
            let delay = ctx.config.initialRebalanceDelayMs
            initialDelay = InitialDelay(remainingMs: max(maxRebalanceTimeoutMs - delay, 0))
            joinDeadline = ctx.after(delay)
        } else {
            joinDeadline = ctx.after(maxRebalanceTimeoutMs)
        }
        state = .preparingRebalance
        stateTimestamp = ctx.now
    }

    mutating func failPendingSyncs(_ error: GroupErrorCode, _ ctx: inout GroupContext) {
        for id in memberOrder {
            guard let t = members[id]?.pendingSync else { continue }
            ctx.fx.respond(t, .syncGroup(SyncGroupResponse(error: error, protocolType: protocolType, protocolName: protocolName, assignment: [])))
            members[id]!.pendingSync = nil
        }
    }

    /// Completes the join phase once every known member has rejoined and no handed-out member
    /// id is outstanding (never during the initial delay, which only its deadline ends).
    mutating func tryCompleteJoin(_ ctx: inout GroupContext) {
        guard state == .preparingRebalance, initialDelay == nil, pendingMembers.isEmpty,
              members.values.allSatisfy({ $0.pendingJoin != nil }) else { return }
        completeJoin(&ctx)
    }

    /// The join deadline passed: extend the initial delay or complete with whoever rejoined.
    mutating func joinDeadlinePassed(_ ctx: inout GroupContext) {
        if let delay = initialDelay, delay.newMemberJoined, delay.remainingMs > 0 {
            let step = min(ctx.config.initialRebalanceDelayMs, delay.remainingMs)
            initialDelay = InitialDelay(remainingMs: delay.remainingMs - step)
            joinDeadline = ctx.after(step)
            return
        }
        completeJoin(&ctx)
    }

    mutating func completeJoin(_ ctx: inout GroupContext) {
        for id in memberOrder where members[id]?.pendingJoin == nil { removeMember(id, error: .unknownMemberID, &ctx) }
        joinDeadline = nil
        initialDelay = nil
        generationID += 1
        stateTimestamp = ctx.now
        if members.isEmpty {
            state = .empty
            protocolName = nil
            leaderID = nil
            ctx.fx.records.append(metadataRecord())
            return
        }
        state = .completingRebalance
        protocolName = selectProtocol()
        if leaderID.map({ members[$0] == nil }) ?? true { leaderID = memberOrder.first }
        for id in memberOrder {
            ctx.fx.respond(members[id]!.pendingJoin!, .joinGroup(joinResponse(for: id)))
            members[id]!.pendingJoin = nil
            members[id]!.heartbeatDeadline = ctx.after(Int64(members[id]!.sessionTimeoutMs))
        }
    }

    /// Drops a member, answering its parked requests with `error`.
    mutating func removeMember(_ id: String, error: GroupErrorCode, _ ctx: inout GroupContext) {
        guard let member = members.removeValue(forKey: id) else { return }
        if let t = member.pendingJoin { ctx.fx.respond(t, .joinGroup(JoinGroupResponse(error: error, memberID: id))) }
        if let t = member.pendingSync {
            ctx.fx.respond(t, .syncGroup(SyncGroupResponse(error: error, protocolType: protocolType, protocolName: protocolName, assignment: [])))
        }
        memberOrder.removeAll { $0 == id }
        if let instance = member.groupInstanceID, staticMembers[instance] == id { staticMembers[instance] = nil }
        if leaderID == id { leaderID = memberOrder.first }
    }

    /// Removes a member that left or expired and moves the group on (Kafka's
    /// removeMemberAndUpdateGroup).
    mutating func removeMemberAndUpdate(_ id: String, _ ctx: inout GroupContext) {
        removeMember(id, error: .unknownMemberID, &ctx)
        switch state {
        case .stable, .completingRebalance:
            prepareRebalance(&ctx)
            tryCompleteJoin(&ctx)
        case .preparingRebalance:
            tryCompleteJoin(&ctx)
        case .empty:
            break
        }
    }

    /// Session and rebalance deadlines (called from the coordinator's tick).
    mutating func tick(_ ctx: inout GroupContext) {
        for (id, deadline) in pendingMembers where deadline <= ctx.now {
            pendingMembers[id] = nil
            tryCompleteJoin(&ctx)
        }
        for id in memberOrder {
            guard let m = members[id], m.pendingJoin == nil, m.pendingSync == nil, m.heartbeatDeadline <= ctx.now else { continue }
            removeMemberAndUpdate(id, &ctx)
        }
        if state == .preparingRebalance, let d = joinDeadline, d <= ctx.now { joinDeadlinePassed(&ctx) }
    }
}
