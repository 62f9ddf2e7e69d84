import KafkaWire
import ClusterMetadata
import GroupCoordinator
import KafkaMessages
import RunnelCore

// The KIP-848 consumer protocol: ConsumerGroupHeartbeat (key 68, version 1 only: the client
// generates its member id; librdkafka asks for exactly v1) and ConsumerGroupDescribe (key 69,
// version 0). Assignments travel as topic ids; the describe answer adds topic names from the
// metadata image. SubscribedTopicRegex is resolved by the coordinator against the user topics
// (D33); topic creation and deletion reach it through `GroupService.topicsChanged`. With ACLs on,
// the heartbeat needs READ and the describe DESCRIBE on the group (else GROUP_AUTHORIZATION_FAILED),
// and subscribed topic names DESCRIBE on each (else TOPIC_AUTHORIZATION_FAILED, as Kafka 4); a
// regex subscription is not filtered by ACLs (D183).
extension Broker {
    func handleConsumerGroupHeartbeat(_ request: KafkaMessages.ConsumerGroupHeartbeatRequest, _ context: RequestContext,
                                      _ respond: Responder<KafkaMessages.ConsumerGroupHeartbeatResponse>) {
        if let error = groupAuthorizationError(.read, request.groupId, context) ?? groups.unavailable(group: request.groupId) {
            var r = KafkaMessages.ConsumerGroupHeartbeatResponse()
            r.errorCode = error.rawValue
            return respond.send(r)
        }
        // Kafka 4: a subscription naming a topic the member may not DESCRIBE is refused whole.
        if let names = request.subscribedTopicNames, names.contains(where: { !authorize(.describe, .topic, $0, context) }) {
            var r = KafkaMessages.ConsumerGroupHeartbeatResponse()
            r.errorCode = KafkaErrorCode.topicAuthorizationFailed.rawValue
            return respond.send(r)
        }
        let beat = GroupCoordinator.ConsumerGroupHeartbeatRequest(
            groupID: request.groupId, memberID: request.memberId, memberEpoch: request.memberEpoch,
            instanceID: request.instanceId, rackID: request.rackId, rebalanceTimeoutMs: request.rebalanceTimeoutMs,
            subscribedTopicNames: request.subscribedTopicNames.map { $0.map { TopicName($0) } },
            subscribedTopicRegex: request.subscribedTopicRegex, serverAssignor: request.serverAssignor,
            topicPartitions: request.topicPartitions.map { $0.map {
                TopicIDPartitions(topicID: $0.topicId, partitions: $0.partitions.map { PartitionID($0) })
            } },
            clientID: context.header.clientId ?? "", clientHost: context.connection.host)
        groups.submit(group: request.groupId, respond: { response in
            var r = KafkaMessages.ConsumerGroupHeartbeatResponse()
            guard case .consumerGroupHeartbeat(let h) = response else {
                r.errorCode = KafkaErrorCode.notCoordinator.rawValue
                return respond.send(r)
            }
            r.errorCode = h.error.rawValue
            r.errorMessage = h.errorMessage
            r.memberId = h.memberID
            r.memberEpoch = h.memberEpoch
            r.heartbeatIntervalMs = h.heartbeatIntervalMs
            r.assignment = h.assignment.map { topics in
                .init(topicPartitions: topics.map { .init(topicId: $0.topicID, partitions: $0.partitions.map(\.rawValue)) })
            }
            respond.send(r)
        }) { coordinator, token, now in coordinator.consumerGroupHeartbeat(beat, token: token, now: now) }
    }

    func handleConsumerGroupDescribe(_ request: ConsumerGroupDescribeRequest, _ context: RequestContext,
                                     _ respond: Responder<ConsumerGroupDescribeResponse>) {
        var described: [String: ConsumerGroupDescribeResponse.DescribedGroup] = [:]
        var byPartition: [Int32: [String]] = [:]
        for id in request.groupIds {
            if let error = groupAuthorizationError(.describe, id, context) ?? groups.unavailable(group: id) {
                var d = ConsumerGroupDescribeResponse.DescribedGroup()
                d.groupId = id
                d.errorCode = error.rawValue
                described[id] = d
                continue
            }
            byPartition[groups.partition(forGroup: id), default: []].append(id)
        }
        var pending = byPartition.count
        let finish = {
            var r = ConsumerGroupDescribeResponse()
            r.groups = request.groupIds.compactMap { described[$0] }
            respond.send(r)
        }
        if pending == 0 { return finish() }
        for (p, ids) in byPartition.sorted(by: { $0.key < $1.key }) {
            groups.submit(partition: p, respond: { [self] response in
                if case .consumerGroupDescribe(let gs) = response {
                    for g in gs {
                        var d = describedConsumerGroup(g)
                        if request.includeAuthorizedOperations && d.errorCode == 0 {
                            d.authorizedOperations = authorizedOperations(.group, name: g.groupID, context: context)
                        }
                        described[g.groupID] = d
                    }
                }
                pending -= 1
                if pending == 0 { finish() }
            }) { coordinator, token, now in coordinator.consumerGroupDescribe(ids, token: token, now: now) }
        }
    }

    private func describedConsumerGroup(_ g: ConsumerGroupDescription) -> ConsumerGroupDescribeResponse.DescribedGroup {
        func assignment(_ topics: [TopicIDPartitions]) -> ConsumerGroupDescribeResponse.Assignment {
            .init(topicPartitions: topics.map {
                .init(topicId: $0.topicID, topicName: image.topic(id: $0.topicID)?.name.rawValue ?? "",
                      partitions: $0.partitions.map(\.rawValue))
            })
        }
        var d = ConsumerGroupDescribeResponse.DescribedGroup()
        d.groupId = g.groupID
        d.errorCode = g.error.rawValue
        d.errorMessage = nil
        d.groupState = g.state
        d.groupEpoch = g.groupEpoch
        d.assignmentEpoch = g.assignmentEpoch
        d.assignorName = g.assignorName
        d.members = g.members.map { m in
            var out = ConsumerGroupDescribeResponse.Member()
            out.memberId = m.memberID
            out.instanceId = m.instanceID
            out.rackId = m.rackID
            out.memberEpoch = m.memberEpoch
            out.clientId = m.clientID
            out.clientHost = m.clientHost
            out.subscribedTopicNames = m.subscribedTopicNames.map(\.rawValue)
            out.subscribedTopicRegex = m.subscribedTopicRegex
            out.assignment = assignment(m.assignment)
            out.targetAssignment = assignment(m.targetAssignment)
            return out
        }
        return d
    }
}
