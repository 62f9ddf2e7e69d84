import KafkaWire
import ClusterMetadata
import GroupCoordinator
import KafkaMessages
import RunnelCore

// Group administration: DescribeGroups (key 15, 0-5; authorized operations v3+ when asked for, on
// groups described without error), ListGroups (16, 0-5; states filter v4+,
// types filter v5), DeleteGroups (42, 0-2; NON_EMPTY_GROUP with members, GROUP_ID_NOT_FOUND when
// unknown), OffsetDelete (47, 0; GROUP_SUBSCRIBED_TO_TOPIC while a member subscribes). Requests
// naming several groups are split by coordinator partition and the answers merged in request
// order. With ACLs on: DescribeGroups needs DESCRIBE and DeleteGroups DELETE on each group (else
// GROUP_AUTHORIZATION_FAILED for that group); ListGroups lists every group with DESCRIBE on the
// cluster, otherwise only those the principal may describe; OffsetDelete needs DELETE on the
// group and READ on each topic (else TOPIC_AUTHORIZATION_FAILED for its partitions).
extension Broker {
    /// Runs `event` once per coordinator partition holding one of `groupIDs` and returns the
    /// responses, in partition order, to `done`. Groups whose coordinator is unavailable are
    /// reported through `unavailable`.
    private func fanOut(groupIDs: [String], operation: AclOperation, _ context: RequestContext,
                        unavailable: (String, GroupErrorCode) -> Void,
                        event: @escaping ([String], inout GroupCoordinatorStateMachine, RequestToken, TimestampMs) -> [GroupAction],
                        done: @escaping ([GroupResponse]) -> Void) {
        var byPartition: [Int32: [String]] = [:]
        for id in groupIDs {
            if let error = groupAuthorizationError(operation, id, context) ?? groups.unavailable(group: id) {
                unavailable(id, error)
                continue
            }
            byPartition[groups.partition(forGroup: id), default: []].append(id)
        }
        var responses: [GroupResponse] = []
        var pending = byPartition.count
        if pending == 0 { return done([]) }
        for (p, ids) in byPartition.sorted(by: { $0.key < $1.key }) {
            groups.submit(partition: p, respond: { response in
                responses.append(response)
                pending -= 1
                if pending == 0 { done(responses) }
            }) { coordinator, token, now in event(ids, &coordinator, token, now) }
        }
    }

    func handleDescribeGroups(_ request: DescribeGroupsRequest, _ context: RequestContext, _ respond: Responder<DescribeGroupsResponse>) {
        var described: [String: DescribeGroupsResponse.DescribedGroup] = [:]
        let version = context.version
        fanOut(groupIDs: request.groups, operation: .describe, context, unavailable: { id, error in
            described[id] = .init(errorCode: error.rawValue, groupId: id, groupState: "", protocolType: "", protocolData: "", members: [])
        }, event: { ids, c, token, now in c.describeGroups(ids, token: token, now: now) }) { responses in
            for case .describeGroups(let groups) in responses {
                for g in groups {
                    var d = DescribeGroupsResponse.DescribedGroup()
                    d.groupId = g.groupID
                    d.errorCode = !g.exists && version >= 6 ? 69 : g.error.rawValue
                    d.groupState = g.state
                    d.protocolType = g.protocolType
                    d.protocolData = g.protocolData
                    d.members = g.members.map {
                        .init(memberId: $0.memberID, groupInstanceId: $0.groupInstanceID, clientId: $0.clientID,
                              clientHost: $0.clientHost, memberMetadata: $0.metadata, memberAssignment: $0.assignment)
                    }
                    if version >= 3 && request.includeAuthorizedOperations && d.errorCode == 0 {
                        d.authorizedOperations = self.authorizedOperations(.group, name: g.groupID, context: context)
                    }
                    described[g.groupID] = d
                }
            }
            var r = DescribeGroupsResponse()
            r.groups = request.groups.compactMap { described[$0] }
            respond.send(r)
        }
    }

    func handleListGroups(_ request: ListGroupsRequest, _ context: RequestContext, _ respond: Responder<ListGroupsResponse>) {
        if let _ = groups.ensureReady() {
            return respond.send(.init(errorCode: KafkaErrorCode.coordinatorNotAvailable.rawValue))
        }
        let partitions = groups.coordinators.keys.sorted()
        // Kafka: DESCRIBE on the cluster lists every group, otherwise those the principal may describe.
        let listsAll = authorizeCluster(.describe, context)
        var listed: [ListGroupsResponse.ListedGroup] = []
        var pending = partitions.count
        if pending == 0 { return respond.send(.init()) }
        for p in partitions {
            groups.submit(partition: p, respond: { response in
                if case .listGroups(let gs) = response {
                    listed += gs.filter { listsAll || self.authorize(.describe, .group, $0.groupID, context) }.map {
                        .init(groupId: $0.groupID, protocolType: $0.protocolType, groupState: $0.state, groupType: $0.type)
                    }
                }
                pending -= 1
                if pending == 0 {
                    var r = ListGroupsResponse()
                    r.groups = listed.sorted { $0.groupId < $1.groupId }
                    respond.send(r)
                }
            }) { c, token, now in
                c.listGroups(statesFilter: request.statesFilter, typesFilter: request.typesFilter, token: token, now: now)
            }
        }
    }

    func handleDeleteGroups(_ request: DeleteGroupsRequest, _ context: RequestContext, _ respond: Responder<DeleteGroupsResponse>) {
        var results: [String: Int16] = [:]
        fanOut(groupIDs: request.groupsNames, operation: .delete, context, unavailable: { id, error in results[id] = error.rawValue },
               event: { ids, c, token, now in c.deleteGroups(ids, token: token, now: now) }) { responses in
            for case .deleteGroups(let rs) in responses { for r in rs { results[r.groupID] = r.error.rawValue } }
            var r = DeleteGroupsResponse()
            r.results = request.groupsNames.map { .init(groupId: $0, errorCode: results[$0] ?? KafkaErrorCode.notCoordinator.rawValue) }
            respond.send(r)
        }
    }

    func handleOffsetDelete(_ request: KafkaMessages.OffsetDeleteRequest, _ context: RequestContext,
                            _ respond: Responder<KafkaMessages.OffsetDeleteResponse>) {
        if let error = groupAuthorizationError(.delete, request.groupId, context) ?? groups.unavailable(group: request.groupId) {
            return respond.send(.init(errorCode: error.rawValue))
        }
        let deniedTopics = Set(request.topics.map(\.name).filter { !authorize(.read, .topic, $0, context) })
        let partitions = request.topics.filter { !deniedTopics.contains($0.name) }.flatMap { t in
            t.partitions.map { TopicPartition(topic: TopicName(t.name), partition: PartitionID($0.partitionIndex)) }
        }
        let delete = GroupCoordinator.OffsetDeleteRequest(groupID: request.groupId, partitions: partitions)
        groups.submit(group: request.groupId, respond: { response in
            guard case .offsetDelete(let d) = response else { return respond.send(.init(errorCode: KafkaErrorCode.notCoordinator.rawValue)) }
            var errors: [TopicPartition: Int16] = [:]
            for p in d.partitions { errors[p.topicPartition] = p.error.rawValue }
            for t in request.topics where deniedTopics.contains(t.name) {
                for p in t.partitions {
                    errors[TopicPartition(topic: TopicName(t.name), partition: PartitionID(p.partitionIndex))] =
                        KafkaErrorCode.topicAuthorizationFailed.rawValue
                }
            }
            var r = KafkaMessages.OffsetDeleteResponse()
            r.errorCode = d.error.rawValue
            r.topics = request.topics.map { t in
                .init(name: t.name, partitions: t.partitions.map {
                    .init(partitionIndex: $0.partitionIndex,
                          errorCode: errors[TopicPartition(topic: TopicName(t.name), partition: PartitionID($0.partitionIndex))] ?? 0)
                })
            }
            respond.send(r)
        }) { coordinator, token, now in coordinator.offsetDelete(delete, token: token, now: now) }
    }
}
