import KafkaWire
import ClusterMetadata
import GroupCoordinator
import KafkaMessages
import RunnelCore

// Classic consumer-group protocol (keys 11-14). The broker decodes, the pure coordinator decides
// (GroupCoordinator module), and these map between the two. Versions: JoinGroup 0-9 (v4+ answers
// an empty member id with MEMBER_ID_REQUIRED; v5+ static membership; v9 skip_assignment),
// SyncGroup 0-5, Heartbeat 0-4, LeaveGroup 0-5 (v3+ batched members). With ACLs on, each needs
// READ on the group, else GROUP_AUTHORIZATION_FAILED (30) before anything else is looked at.
extension Broker {
    func handleJoinGroup(_ request: KafkaMessages.JoinGroupRequest, _ context: RequestContext,
                         _ respond: Responder<KafkaMessages.JoinGroupResponse>) {
        if let error = groupAuthorizationError(.read, request.groupId, context) ?? groups.unavailable(group: request.groupId) {
            var r = KafkaMessages.JoinGroupResponse()
            r.errorCode = error.rawValue
            r.memberId = request.memberId
            respond.send(r)
            return
        }
        let join = GroupCoordinator.JoinGroupRequest(
            groupID: request.groupId, memberID: request.memberId, groupInstanceID: request.groupInstanceId,
            sessionTimeoutMs: request.sessionTimeoutMs,
            rebalanceTimeoutMs: context.version >= 1 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs,
            protocolType: request.protocolType, protocols: request.protocols.map { ($0.name, $0.metadata) },
            clientID: context.header.clientId ?? "", clientHost: context.connection.host, apiVersion: context.version)
        groups.submit(group: request.groupId, respond: { response in
            guard case .joinGroup(let j) = response else { return respond.send(.init(errorCode: KafkaErrorCode.notCoordinator.rawValue)) }
            var r = KafkaMessages.JoinGroupResponse()
            r.errorCode = j.error.rawValue
            r.generationId = j.generationID
            r.protocolType = j.protocolType
            r.protocolName = j.protocolName
            r.leader = j.leader
            r.skipAssignment = j.skipAssignment
            r.memberId = j.memberID
            r.members = j.members.map { .init(memberId: $0.memberID, groupInstanceId: $0.groupInstanceID, metadata: $0.metadata) }
            respond.send(r)
        }) { coordinator, token, now in coordinator.joinGroup(join, token: token, now: now) }
    }

    func handleSyncGroup(_ request: KafkaMessages.SyncGroupRequest, _ context: RequestContext,
                         _ respond: Responder<KafkaMessages.SyncGroupResponse>) {
        if let error = groupAuthorizationError(.read, request.groupId, context) ?? groups.unavailable(group: request.groupId) {
            return respond.send(.init(errorCode: error.rawValue))
        }
        let sync = GroupCoordinator.SyncGroupRequest(
            groupID: request.groupId, generationID: request.generationId, memberID: request.memberId,
            groupInstanceID: request.groupInstanceId, protocolType: request.protocolType, protocolName: request.protocolName,
            assignments: request.assignments.map { ($0.memberId, $0.assignment) })
        groups.submit(group: request.groupId, respond: { response in
            guard case .syncGroup(let s) = response else { return respond.send(.init(errorCode: KafkaErrorCode.notCoordinator.rawValue)) }
            respond.send(.init(errorCode: s.error.rawValue, protocolType: s.protocolType, protocolName: s.protocolName,
                               assignment: s.assignment))
        }) { coordinator, token, now in coordinator.syncGroup(sync, token: token, now: now) }
    }

    func handleHeartbeat(_ request: KafkaMessages.HeartbeatRequest, _ context: RequestContext,
                         _ respond: Responder<KafkaMessages.HeartbeatResponse>) {
        if let error = groupAuthorizationError(.read, request.groupId, context) ?? groups.unavailable(group: request.groupId) {
            return respond.send(.init(errorCode: error.rawValue))
        }
        let beat = GroupCoordinator.HeartbeatRequest(groupID: request.groupId, generationID: request.generationId,
                                                     memberID: request.memberId, groupInstanceID: request.groupInstanceId)
        groups.submit(group: request.groupId, respond: { response in
            guard case .heartbeat(let error) = response else { return respond.send(.init(errorCode: KafkaErrorCode.notCoordinator.rawValue)) }
            respond.send(.init(errorCode: error.rawValue))
        }) { coordinator, token, now in coordinator.heartbeat(beat, token: token, now: now) }
    }

    func handleLeaveGroup(_ request: KafkaMessages.LeaveGroupRequest, _ context: RequestContext,
                          _ respond: Responder<KafkaMessages.LeaveGroupResponse>) {
        if let error = groupAuthorizationError(.read, request.groupId, context) ?? groups.unavailable(group: request.groupId) {
            return respond.send(.init(errorCode: error.rawValue))
        }
        let members: [(memberID: String, groupInstanceID: String?)] = context.version >= 3
            ? request.members.map { ($0.memberId, $0.groupInstanceId) }
            : [(request.memberId, nil)]
        let leave = GroupCoordinator.LeaveGroupRequest(groupID: request.groupId, members: members)
        let version = context.version
        groups.submit(group: request.groupId, respond: { response in
            guard case .leaveGroup(let l) = response else { return respond.send(.init(errorCode: KafkaErrorCode.notCoordinator.rawValue)) }
            var r = KafkaMessages.LeaveGroupResponse()
            r.errorCode = l.error.rawValue
            if version >= 3 {
                r.members = l.members.map { .init(memberId: $0.memberID, groupInstanceId: $0.groupInstanceID, errorCode: $0.error.rawValue) }
            } else if let only = l.members.first, l.error == .none {
                r.errorCode = only.error.rawValue   // v0-2: the single member's error is the answer
            }
            respond.send(r)
        }) { coordinator, token, now in coordinator.leaveGroup(leave, token: token, now: now) }
    }
}
