import KafkaWire
import ClusterMetadata
import GroupCoordinator
import KafkaMessages
import RunnelCore

// OffsetCommit (key 8, versions 0-9; v9 carries the KIP-848 member epoch in place of the
// generation) and OffsetFetch (key 9, versions 0-9; v8+ several groups per request, answered
// group by group from their coordinators and merged). Commits to unknown topics or partitions
// get UNKNOWN_TOPIC_OR_PARTITION here, before the coordinator sees them, as Kafka does.
// With ACLs on: OffsetCommit needs READ on the group (else GROUP_AUTHORIZATION_FAILED for every
// partition) and READ on each topic (else TOPIC_AUTHORIZATION_FAILED); OffsetFetch needs DESCRIBE
// on the group and on each topic (see gatherOffsetFetch).
extension Broker {
    func handleOffsetCommit(_ request: KafkaMessages.OffsetCommitRequest, _ context: RequestContext,
                            _ respond: Responder<KafkaMessages.OffsetCommitResponse>) {
        func answer(_ errors: [TopicPartition: Int16]) {
            var r = KafkaMessages.OffsetCommitResponse()
            r.topics = request.topics.map { t in
                .init(name: t.name, partitions: t.partitions.map { p in
                    .init(partitionIndex: p.partitionIndex,
                          errorCode: errors[TopicPartition(topic: TopicName(t.name), partition: PartitionID(p.partitionIndex))] ?? 0)
                })
            }
            respond.send(r)
        }
        var errors: [TopicPartition: Int16] = [:]
        var offsets: [(TopicPartition, CommittedOffset)] = []
        let groupDenied = groupAuthorizationError(.read, request.groupId, context)
        for t in request.topics {
            let topic = image.topic(TopicName(t.name))
            let topicDenied = groupDenied == nil && !authorize(.read, .topic, t.name, context)
            for p in t.partitions {
                let tp = TopicPartition(topic: TopicName(t.name), partition: PartitionID(p.partitionIndex))
                if let groupDenied {
                    errors[tp] = groupDenied.rawValue
                    continue
                }
                if topicDenied {
                    errors[tp] = KafkaErrorCode.topicAuthorizationFailed.rawValue
                    continue
                }
                guard let topic, p.partitionIndex >= 0, Int(p.partitionIndex) < topic.partitions.count else {
                    errors[tp] = KafkaErrorCode.unknownTopicOrPartition.rawValue
                    continue
                }
                offsets.append((tp, CommittedOffset(offset: Offset(p.committedOffset), leaderEpoch: LeaderEpoch(p.committedLeaderEpoch),
                                                    metadata: p.committedMetadata ?? "")))
            }
        }
        if let error = groups.unavailable(group: request.groupId) {
            for (tp, _) in offsets { errors[tp] = error.rawValue }
            return answer(errors)
        }
        if offsets.isEmpty { return answer(errors) }
        let commit = GroupCoordinator.OffsetCommitRequest(
            groupID: request.groupId, generationIDOrMemberEpoch: context.version >= 1 ? request.generationIdOrMemberEpoch : -1,
            memberID: request.memberId, groupInstanceID: request.groupInstanceId, offsets: offsets)
        groups.submit(group: request.groupId, respond: { response in
            if case .offsetCommit(let results) = response {
                for result in results { errors[result.topicPartition] = result.error.rawValue }
            } else {
                for (tp, _) in offsets { errors[tp] = KafkaErrorCode.notCoordinator.rawValue }
            }
            answer(errors)
        }) { coordinator, token, now in coordinator.offsetCommit(commit, token: token, now: now) }
    }

    func handleOffsetFetch(_ request: KafkaMessages.OffsetFetchRequest, _ context: RequestContext,
                           _ respond: Responder<KafkaMessages.OffsetFetchResponse>) {
        let version = context.version
        let wanted: [OffsetFetchGroup]
        if version >= 8 {
            wanted = request.groups.map { g in
                OffsetFetchGroup(groupID: g.groupId, memberID: g.memberId, memberEpoch: g.memberEpoch,
                                 topics: g.topics.map { $0.map { (TopicName($0.name), $0.partitionIndexes.map { PartitionID($0) }) } })
            }
        } else {
            wanted = [OffsetFetchGroup(groupID: request.groupId,
                                       topics: request.topics.map { $0.map { (TopicName($0.name), $0.partitionIndexes.map { PartitionID($0) }) } })]
        }
        gatherOffsetFetch(wanted, context) { results in
            var r = KafkaMessages.OffsetFetchResponse()
            if version >= 8 {
                r.groups = results.map { g in
                    .init(groupId: g.groupID, topics: Self.byTopic(g.partitions).map { name, parts in
                        .init(name: name.rawValue, partitions: parts.map {
                            .init(partitionIndex: $0.topicPartition.partition.rawValue, committedOffset: $0.offset.rawValue,
                                  committedLeaderEpoch: $0.leaderEpoch.rawValue, metadata: $0.metadata, errorCode: $0.error.rawValue)
                        })
                    }, errorCode: g.error.rawValue)
                }
            } else if let g = results.first {
                r.errorCode = g.error.rawValue
                r.topics = Self.byTopic(g.partitions).map { name, parts in
                    .init(name: name.rawValue, partitions: parts.map {
                        .init(partitionIndex: $0.topicPartition.partition.rawValue, committedOffset: $0.offset.rawValue,
                              committedLeaderEpoch: $0.leaderEpoch.rawValue, metadata: $0.metadata, errorCode: $0.error.rawValue)
                    })
                }
            }
            respond.send(r)
        }
    }

    /// Asks each group's coordinator and calls `done` with the results in request order.
    /// With ACLs on, a group the principal may not DESCRIBE gets GROUP_AUTHORIZATION_FAILED
    /// without asking its coordinator, and a topic it may not DESCRIBE is left out of an
    /// all-topics answer or answered TOPIC_AUTHORIZATION_FAILED when named (Kafka's rules).
    private func gatherOffsetFetch(_ wanted: [OffsetFetchGroup], _ context: RequestContext,
                                   done: @escaping ([OffsetFetchGroupResult]) -> Void) {
        var results = [OffsetFetchGroupResult?](repeating: nil, count: wanted.count)
        var pending = wanted.count
        func finish(_ i: Int, _ result: OffsetFetchGroupResult) {
            var result = result
            if authorizer.isEnabled {
                var mayDescribe: [TopicName: Bool] = [:]
                func may(_ t: TopicName) -> Bool {
                    if let known = mayDescribe[t] { return known }
                    let answer = authorize(.describe, .topic, t.rawValue, context)
                    mayDescribe[t] = answer
                    return answer
                }
                if wanted[i].topics == nil {
                    result.partitions = result.partitions.filter { may($0.topicPartition.topic) }
                } else {
                    for j in result.partitions.indices where !may(result.partitions[j].topicPartition.topic) {
                        result.partitions[j].offset = Offset(-1)
                        result.partitions[j].leaderEpoch = LeaderEpoch(-1)
                        result.partitions[j].metadata = ""
                        result.partitions[j].error = .topicAuthorizationFailed
                    }
                }
            }
            results[i] = result
            pending -= 1
            if pending == 0 { done(results.map { $0! }) }
        }
        if wanted.isEmpty { return done([]) }
        for (i, group) in wanted.enumerated() {
            if let error = groupAuthorizationError(.describe, group.groupID, context) ?? groups.unavailable(group: group.groupID) {
                finish(i, OffsetFetchGroupResult(groupID: group.groupID, error: error, partitions: []))
                continue
            }
            groups.submit(group: group.groupID, respond: { response in
                if case .offsetFetch(let r) = response, let first = r.first {
                    finish(i, first)
                } else {
                    finish(i, OffsetFetchGroupResult(groupID: group.groupID, error: .notCoordinator, partitions: []))
                }
            }) { coordinator, token, now in coordinator.offsetFetch([group], token: token, now: now) }
        }
    }

    static func byTopic(_ partitions: [OffsetFetchPartition]) -> [(TopicName, [OffsetFetchPartition])] {
        var order: [TopicName] = []
        var grouped: [TopicName: [OffsetFetchPartition]] = [:]
        for p in partitions {
            if grouped[p.topicPartition.topic] == nil { order.append(p.topicPartition.topic) }
            grouped[p.topicPartition.topic, default: []].append(p)
        }
        return order.map { ($0, grouped[$0]!) }
    }
}
