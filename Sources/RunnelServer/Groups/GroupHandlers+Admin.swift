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
// order.
extension Broker {
    /// Runs `event` once per coordinator partition holding one of `groupIDs` and returns the
    /// responses, in partition order, to `done`. Groups whose coordinator is unavailable are
    /// reported through `unavailable`.
    private func fanOut(groupIDs: [String], unavailable: (String, GroupErrorCode) -> Void,
                        event: @escaping ([String], inout GroupCoordinatorStateMachine, RequestToken, TimestampMs) -> [GroupAction],
                        done: @escaping ([GroupResponse]) -> Void) {
        var byPartition: [Int32: [String]] = [:]
        for id in groupIDs {
            if let error = groups.unavailable(group: id) { unavailable(id, error); continue }
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
        fanOut(groupIDs: request.groups, unavailable: { id, error in
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
                        d.authorizedOperations = self.authorizer.authorizedOperations(.group, name: g.groupID, context: context)
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
        var listed: [ListGroupsResponse.ListedGroup] = []
        var pending = partitions.count
        if pending == 0 { return respond.send(.init()) }
        for p in partitions {
            groups.submit(partition: p, respond: { response in
                if case .listGroups(let gs) = response {
                    listed += gs.map { .init(groupId: $0.groupID, protocolType: $0.protocolType, groupState: $0.state, groupType: $0.type) }
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
        fanOut(groupIDs: request.groupsNames, unavailable: { id, error in results[id] = error.rawValue },
               event: { ids, c, token, now in c.deleteGroups(ids, token: token, now: now) }) { responses in
            for case .deleteGroups(let rs) in responses { for r in rs { results[r.groupID] = r.error.rawValue } }
            var r = DeleteGroupsResponse()
            r.results = request.groupsNames.map { .init(groupId: $0, errorCode: results[$0] ?? KafkaErrorCode.notCoordinator.rawValue) }
            respond.send(r)
        }
    }

    func handleOffsetDelete(_ request: KafkaMessages.OffsetDeleteRequest, _ context: RequestContext,
                            _ respond: Responder<KafkaMessages.OffsetDeleteResponse>) {
        if let error = groups.unavailable(group: request.groupId) {
            return respond.send(.init(errorCode: error.rawValue))
        }
        let partitions = request.topics.flatMap { t in
            t.partitions.map { TopicPartition(topic: TopicName(t.name), partition: PartitionID($0.partitionIndex)) }
        }
        let delete = GroupCoordinator.OffsetDeleteRequest(groupID: request.groupId, partitions: partitions)
        groups.submit(group: request.groupId, respond: { response in
            guard case .offsetDelete(let d) = response else { return respond.send(.init(errorCode: KafkaErrorCode.notCoordinator.rawValue)) }
            var errors: [TopicPartition: Int16] = [:]
            for p in d.partitions { errors[p.topicPartition] = p.error.rawValue }
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
