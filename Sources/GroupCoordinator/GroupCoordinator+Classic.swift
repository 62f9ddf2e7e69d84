public import RunnelCore

// Classic-protocol requests: JoinGroup (11), SyncGroup (14), Heartbeat (12), LeaveGroup (13).
extension GroupCoordinatorStateMachine {
    /// JoinGroup. The response usually comes in a later event's actions (when the rebalance
    /// completes); MEMBER_ID_REQUIRED and errors come at once.
    public mutating func joinGroup(_ r: JoinGroupRequest, token: RequestToken, now: TimestampMs) -> [GroupAction] {
        if let refused = refusal(token, { .joinGroup(JoinGroupResponse(error: $0, memberID: r.memberID)) }) { return refused }
        return run(now: now) { sm, ctx in
            func fail(_ e: GroupErrorCode) { ctx.fx.respond(token, .joinGroup(JoinGroupResponse(error: e, memberID: r.memberID))) }
            if r.groupID.isEmpty { return fail(.invalidGroupID) }
            if r.sessionTimeoutMs < ctx.config.minSessionTimeoutMs || r.sessionTimeoutMs > ctx.config.maxSessionTimeoutMs {
                return fail(.invalidSessionTimeout)
            }
            if r.protocolType.isEmpty || r.protocols.isEmpty || r.protocols.count > GroupLimits.protocolsPerMemberMax {
                return fail(.inconsistentGroupProtocol)
            }
            switch sm.groups[r.groupID] {
            case .consumer(let g)? where !g.members.isEmpty: return fail(.inconsistentGroupProtocol)
            case .consumer(let g)?:
                // An empty consumer-protocol group becomes a classic group (its offsets stay).
                ctx.fx.records += g.deletionRecords()
                sm.groups[r.groupID] = .classic(ClassicGroup(groupID: r.groupID, now: ctx.now))
            case nil:
                guard sm.hasRoomForGroup else { return fail(.coordinatorNotAvailable) }
                sm.groups[r.groupID] = .classic(ClassicGroup(groupID: r.groupID, now: ctx.now))
            case .classic?: break
            }
            ctx.fx.touched.insert(r.groupID)
            sm.withClassic(r.groupID) { $0.join(r, token: token, &ctx) }
        }
    }

    /// SyncGroup. Followers' responses wait for the leader's; the leader's assignment is
    /// persisted (`.append`) before any of them is sent.
    public mutating func syncGroup(_ r: SyncGroupRequest, token: RequestToken, now: TimestampMs) -> [GroupAction] {
        let fail: (GroupErrorCode) -> GroupResponse = { .syncGroup(SyncGroupResponse(error: $0, protocolType: nil, protocolName: nil, assignment: [])) }
        if let refused = refusal(token, fail) { return refused }
        return run(now: now) { sm, ctx in
            ctx.fx.touched.insert(r.groupID)
            if sm.withClassic(r.groupID, { $0.sync(r, token: token, &ctx) }) == nil { ctx.fx.respond(token, fail(.unknownMemberID)) }
        }
    }

    public mutating func heartbeat(_ r: HeartbeatRequest, token: RequestToken, now: TimestampMs) -> [GroupAction] {
        if let refused = refusal(token, { .heartbeat($0) }) { return refused }
        return run(now: now) { sm, ctx in
            ctx.fx.touched.insert(r.groupID)
            let error = sm.withClassic(r.groupID) { $0.heartbeat(r, &ctx) } ?? .unknownMemberID
            ctx.fx.respond(token, .heartbeat(error))
        }
    }

    /// LeaveGroup: each identity is answered on its own; an unknown group answers
    /// UNKNOWN_MEMBER_ID per member with a top-level NONE (Kafka).
    public mutating func leaveGroup(_ r: LeaveGroupRequest, token: RequestToken, now: TimestampMs) -> [GroupAction] {
        if let refused = refusal(token, { .leaveGroup(LeaveGroupResponse(error: $0, members: [])) }) { return refused }
        return run(now: now) { sm, ctx in
            ctx.fx.touched.insert(r.groupID)
            let response = sm.withClassic(r.groupID) { $0.leave(r, &ctx) } ?? LeaveGroupResponse(
                error: .none,
                members: r.members.map { LeaveGroupMemberResult(memberID: $0.memberID, groupInstanceID: $0.groupInstanceID, error: .unknownMemberID) })
            ctx.fx.respond(token, .leaveGroup(response))
        }
    }
}

// KIP-848: ConsumerGroupHeartbeat (68).
extension GroupCoordinatorStateMachine {
    public mutating func consumerGroupHeartbeat(_ r: ConsumerGroupHeartbeatRequest, token: RequestToken, now: TimestampMs) -> [GroupAction] {
        let interval = config.consumerHeartbeatIntervalMs
        func failure(_ e: GroupErrorCode, _ message: String? = nil) -> GroupResponse {
            .consumerGroupHeartbeat(ConsumerGroupHeartbeatResponse(error: e, errorMessage: message, memberID: r.memberID, memberEpoch: -1,
                                                                   heartbeatIntervalMs: interval, assignment: nil))
        }
        if let refused = refusal(token, { failure($0) }) { return refused }
        return run(now: now) { sm, ctx in
            if let (error, message) = sm.validate(r) { return ctx.fx.respond(token, failure(error, message)) }
            switch sm.groups[r.groupID] {
            case .classic(let g)? where !g.members.isEmpty: return ctx.fx.respond(token, failure(.inconsistentGroupProtocol))
            case .classic?, nil:
                guard r.memberEpoch == 0 else { return ctx.fx.respond(token, failure(.unknownMemberID)) }
                guard sm.hasRoomForGroup else { return ctx.fx.respond(token, failure(.coordinatorNotAvailable)) }
                if case .classic? = sm.groups[r.groupID] { ctx.fx.records.append(.groupMetadata(group: r.groupID, nil)) }
                sm.groups[r.groupID] = .consumer(ConsumerGroup(groupID: r.groupID, now: ctx.now))
            case .consumer?: break
            }
            ctx.fx.touched.insert(r.groupID)
            let topics = sm.topics
            let response = sm.withConsumer(r.groupID) { $0.heartbeat(r, topics: topics, &ctx) }!
            ctx.fx.respond(token, .consumerGroupHeartbeat(response))
        }
    }

    /// Request checks that do not need the group (Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid).
    func validate(_ r: ConsumerGroupHeartbeatRequest) -> (GroupErrorCode, String)? {
        if r.groupID.isEmpty { return (.invalidRequest, "GroupId can't be empty.") }
        if r.memberID.isEmpty { return (.invalidRequest, "MemberId can't be empty.") }
        if r.memberEpoch < -2 { return (.invalidRequest, "MemberEpoch is invalid.") }
        if r.memberEpoch == -2 && r.instanceID == nil { return (.invalidRequest, "InstanceId can't be null.") }
        if let regex = r.subscribedTopicRegex, !regex.isEmpty {
            do { _ = try TopicRegex(regex) } catch {
                return (.invalidRegularExpression, "SubscribedTopicRegex `\(regex)` is not a valid regular expression: \(error.reason).")
            }
        }
        if r.memberEpoch == 0 && r.subscribedTopicNames == nil && r.subscribedTopicRegex == nil {
            return (.invalidRequest, "SubscribedTopicNames or SubscribedTopicRegex must be set in first request.")
        }
        if (r.subscribedTopicNames?.count ?? 0) > GroupLimits.subscribedTopicsPerMemberMax { return (.invalidRequest, "Too many subscribed topics.") }
        if let name = r.serverAssignor, !config.consumerAssignors.contains(where: { $0.rawValue == name }) {
            return (.unsupportedAssignor, "ServerAssignor \(name) is not supported. Supported assignors: "
                + config.consumerAssignors.map(\.rawValue).joined(separator: ", ") + ".")
        }
        return nil
    }
}
