import KafkaMessages
import NIOCore
@testable import RunnelClient
import RunnelCore
import Testing

// Pure parts of the group client: the KIP-848 member state machine, assignment bookkeeping,
// lag rows and the classic protocol's byte formats. No broker needed.

private let topicA = TopicID(high: 1, low: 1)
private let topicB = TopicID(high: 2, low: 2)

private func member(assignor: String? = "uniform") -> ConsumerGroupMember {
    ConsumerGroupMember(groupId: "g", memberId: "m-1",
                        subscription: .init(topics: ["orders", "audit", "orders"], serverAssignor: assignor,
                                            rebalanceTimeoutMs: 300_000))
}

private func response(epoch: Int32, intervalMs: Int32 = 3_000, assignment: [TopicID: [Int32]]? = nil,
                      error: KafkaErrorCode = .none, message: String? = nil) -> ConsumerGroupHeartbeatResponse {
    var response = ConsumerGroupHeartbeatResponse()
    response.errorCode = error.rawValue
    response.errorMessage = message
    response.memberId = "m-1"
    response.memberEpoch = epoch
    response.heartbeatIntervalMs = intervalMs
    response.assignment = assignment.map { partitions in
        ConsumerGroupHeartbeatResponse.Assignment(topicPartitions: partitions.map {
            ConsumerGroupHeartbeatResponse.TopicPartitions(topicId: $0.key, partitions: $0.value)
        })
    }
    return response
}

/// A member that joined (epoch 1) and took partitions 0 and 1 of topic A.
private func joinedMember() -> ConsumerGroupMember {
    var m = member()
    _ = m.nextHeartbeat()
    _ = m.received(response(epoch: 1, assignment: [topicA: [0, 1]]))
    m.took([topicA: [0, 1]])
    _ = m.nextHeartbeat()  // reports the ownership
    return m
}

private func isFull(_ request: ConsumerGroupHeartbeatRequest) -> Bool {
    request.rebalanceTimeoutMs == 300_000 && request.subscribedTopicNames == ["audit", "orders"]
        && request.serverAssignor == "uniform" && request.topicPartitions != nil
}

@Test func joinCarriesEveryFieldAndAnEmptyOwnedList() {
    var m = member()
    let join = m.nextHeartbeat()
    #expect(join.groupId == "g")
    #expect(join.memberId == "m-1")
    #expect(join.memberEpoch == 0)
    #expect(isFull(join))
    #expect(join.topicPartitions == [])
    #expect(join.instanceId == nil)
}

@Test func laterHeartbeatsSendOnlyWhatChanged() {
    var m = member()
    _ = m.nextHeartbeat()
    let joined = m.received(response(epoch: 1, intervalMs: 2_500, assignment: [topicA: [1, 0]]))
    #expect(joined == .accepted(reconcile: true))
    #expect(m.memberEpoch == 1)
    #expect(m.heartbeatIntervalMs == 2_500)
    #expect(m.target == [topicA: [0, 1]])

    // Nothing taken yet: nothing changed since the join.
    let idle = m.nextHeartbeat()
    #expect(idle.memberEpoch == 1)
    #expect(idle.rebalanceTimeoutMs == -1)
    #expect(idle.subscribedTopicNames == nil)
    #expect(idle.serverAssignor == nil)
    #expect(idle.topicPartitions == nil)

    let tookAll = m.took([topicA: [0, 1]])
    #expect(tookAll)
    #expect(m.target == nil)
    let ack = m.nextHeartbeat()
    #expect(ack.topicPartitions == [.init(topicId: topicA, partitions: [0, 1])])
    #expect(ack.subscribedTopicNames == nil)

    let unchanged = m.nextHeartbeat()
    #expect(unchanged.topicPartitions == nil)

    m.subscription = .init(topics: ["orders"], serverAssignor: "uniform", rebalanceTimeoutMs: 300_000)
    let resubscribed = m.nextHeartbeat()
    #expect(resubscribed.subscribedTopicNames == ["orders"])
    #expect(resubscribed.topicPartitions == nil)
    #expect(resubscribed.rebalanceTimeoutMs == -1)
}

@Test(arguments: [KafkaErrorCode.notCoordinator, .coordinatorNotAvailable, .coordinatorLoadInProgress])
func aRetriableErrorMakesTheNextHeartbeatCarryEverything(code: KafkaErrorCode) {
    var m = joinedMember()
    let outcome = m.received(response(epoch: 0, error: code))
    #expect(outcome == .retry(code))
    #expect(m.memberEpoch == 1)
    let next = m.nextHeartbeat()
    #expect(next.memberEpoch == 1)
    #expect(isFull(next))
    #expect(next.topicPartitions == [.init(topicId: topicA, partitions: [0, 1])])
}

@Test func aFailedRequestMakesTheNextHeartbeatCarryEverything() {
    var m = joinedMember()
    let next = m.nextHeartbeat()
    #expect(next.topicPartitions == nil)
    m.requestFailed()
    #expect(isFull(m.nextHeartbeat()))
}

@Test(arguments: [KafkaErrorCode.fencedMemberEpoch, .unknownMemberID])
func aFencedMemberDropsItsPartitionsAndRejoinsWithEpochZero(code: KafkaErrorCode) {
    var m = joinedMember()
    let outcome = m.received(response(epoch: 0, error: code))
    #expect(outcome == .rejoin(code))
    #expect(m.memberEpoch == 0)
    #expect(m.owned.isEmpty)
    #expect(m.target == nil)
    let rejoin = m.nextHeartbeat()
    #expect(rejoin.memberEpoch == 0)
    #expect(rejoin.memberId == "m-1")  // KIP-1082: the member keeps its id
    #expect(isFull(rejoin))
    #expect(rejoin.topicPartitions == [])
}

@Test func unrecoverableErrorsAreFatalWithTheBrokersMessage() {
    var m = member()
    _ = m.nextHeartbeat()
    let refused = m.received(response(epoch: 0, error: .unsupportedAssignor, message: "no such assignor"))
    #expect(refused == .fatal(.unsupportedAssignor, "no such assignor"))
    let full = m.received(response(epoch: 0, error: .groupMaxSizeReached))
    #expect(full == .fatal(.groupMaxSizeReached, nil))
}

@Test func anAssignmentEqualToWhatIsOwnedNeedsNoReconciliation() {
    var m = joinedMember()
    let same = m.received(response(epoch: 2, assignment: [topicA: [1, 0]]))
    #expect(same == .accepted(reconcile: false))
    #expect(m.target == nil)
    #expect(m.memberEpoch == 2)
    // A null assignment means "unchanged".
    let nullAssignment = m.received(response(epoch: 2))
    #expect(nullAssignment == .accepted(reconcile: false))
    #expect(m.owned == [topicA: [0, 1]])
}

@Test func aPartlyTakenTargetStaysPending() {
    var m = joinedMember()
    let outcome = m.received(response(epoch: 2, assignment: [topicA: [0], topicB: [3]]))
    #expect(outcome == .accepted(reconcile: true))
    let tookPart = m.took([topicA: [0]])  // topic B not resolvable yet
    #expect(tookPart)
    #expect(m.target == [topicA: [0], topicB: [3]])
    let partial = m.nextHeartbeat()
    #expect(partial.topicPartitions == [.init(topicId: topicA, partitions: [0])])
    let tookAgain = m.took([topicA: [0]])
    #expect(!tookAgain)
    let tookWhole = m.took([topicA: [0], topicB: [3]])
    #expect(tookWhole)
    #expect(m.target == nil)
}

@Test func leavingSendsEpochMinusOneAndNothingElse() {
    var m = joinedMember()
    let leave = m.leaveHeartbeat()
    #expect(leave.memberEpoch == -1)
    #expect(leave.memberId == "m-1")
    #expect(leave.groupId == "g")
    #expect(leave.subscribedTopicNames == nil)
    #expect(leave.topicPartitions == nil)
    #expect(leave.rebalanceTimeoutMs == -1)
    #expect(m.state == .leaving)
}

@Test func heartbeatNullsSurviveTheWire() throws {
    var m = joinedMember()
    for request in [m.nextHeartbeat(), { m.requestFailed(); return m.nextHeartbeat() }()] {
        var buffer = ByteBuffer()
        request.encode(into: &buffer, version: 1)
        let decoded = try ConsumerGroupHeartbeatRequest(from: &buffer, version: 1)
        #expect(decoded == request)
        #expect(buffer.readableBytes == 0)
    }
}

@Test func assignmentChangeRevokesAddsAndWaitsForUnknownTopicIds() {
    let owned: Set<RunnelClient.TopicPartition> = [RunnelClient.TopicPartition(topic: "a", partition: PartitionID(0)),
                                      RunnelClient.TopicPartition(topic: "a", partition: PartitionID(1)),
                                      RunnelClient.TopicPartition(topic: "b", partition: PartitionID(0))]
    let change = AssignmentChange.between(owned: owned, target: [topicA: [1, 2], topicB: [5]], names: [topicA: "a"])
    #expect(change.revoked == [RunnelClient.TopicPartition(topic: "a", partition: PartitionID(0)),
                               RunnelClient.TopicPartition(topic: "b", partition: PartitionID(0))])
    #expect(change.added == [RunnelClient.TopicPartition(topic: "a", partition: PartitionID(2))])
    #expect(change.unresolved == [topicB])

    let none = AssignmentChange.between(owned: owned, target: [topicA: [0, 1], topicB: [0]], names: [topicA: "a", topicB: "b"])
    #expect(none == AssignmentChange(revoked: [], added: [], unresolved: []))
}

@Test func lagRowsCoverCommittedAndOwnedPartitions() {
    let p = { PartitionID($0) }
    let committed = [CommittedOffset(topic: "t", partition: p(0), offset: Offset(5)),
                     CommittedOffset(topic: "t", partition: p(1), offset: Offset(10)),
                     CommittedOffset(topic: "gone", partition: p(0), offset: Offset(7))]
    let owner = GroupMemberDescription(memberId: "m1", clientId: "c1", clientHost: "/10.0.0.1",
                                       assignment: ["t": [p(0), p(2)]])
    let rows = GroupPartitionLag.rows(committed: committed, logEndOffsets: ["t": [p(0): Offset(8), p(1): Offset(10), p(2): Offset(3)]],
                                      members: [owner])
    #expect(rows.map { "\($0.topic)[\($0.partition)]" } == ["gone[0]", "t[0]", "t[1]", "t[2]"])
    #expect(rows[0].currentOffset == Offset(7) && rows[0].logEndOffset == nil && rows[0].lag == nil && rows[0].memberId == nil)
    #expect(rows[1].lag == 3 && rows[1].memberId == "m1" && rows[1].clientHost == "/10.0.0.1")
    #expect(rows[2].lag == 0 && rows[2].memberId == nil)
    #expect(rows[3].currentOffset == nil && rows[3].logEndOffset == Offset(3) && rows[3].lag == nil && rows[3].memberId == "m1")
    // A log truncated below the commit: Kafka shows the negative lag as is.
    #expect(GroupPartitionLag(topic: "t", partition: p(0), currentOffset: Offset(9), logEndOffset: Offset(4)).lag == -5)
}

@Test func classicConsumerProtocolBytesDecode() {
    var assignment = ConsumerProtocolAssignment()
    assignment.assignedPartitions = [.init(topic: "t", partitions: [2, 0]), .init(topic: "u", partitions: [1])]
    var buffer = ByteBuffer()
    buffer.writeInteger(Int16(1))
    assignment.encode(into: &buffer, version: 1)
    #expect(ConsumerProtocolBytes.assignment(Array(buffer.readableBytesView))
            == ["t": [PartitionID(0), PartitionID(2)], "u": [PartitionID(1)]])

    var subscription = ConsumerProtocolSubscription()
    subscription.topics = ["z", "a"]
    var subscriptionBytes = ByteBuffer()
    subscriptionBytes.writeInteger(Int16(0))
    subscription.encode(into: &subscriptionBytes, version: 0)
    #expect(ConsumerProtocolBytes.subscribedTopics(Array(subscriptionBytes.readableBytesView)) == ["a", "z"])

    #expect(ConsumerProtocolBytes.assignment([0, 1, 0xFF]).isEmpty)
    #expect(ConsumerProtocolBytes.assignment([]).isEmpty)
}

@Test func groupApiVersionsAreNegotiated() {
    let table = ApiVersionTable(broker: [10: 0...6, 68: 0...1, 8: 0...9, 9: 0...9, 69: 0...1])
    #expect(table.version(for: .findCoordinator) == 3)       // v4+ batches keys
    #expect(table.version(for: .consumerGroupHeartbeat) == 1)
    #expect(table.version(for: .offsetCommit) == 9)
    #expect(table.version(for: .offsetFetch) == 9)
    #expect(table.version(for: .consumerGroupDescribe) == 0)
    // ConsumerGroupHeartbeat v0 (coordinator-chosen member ids) is not spoken.
    #expect(ApiVersionTable(broker: [68: 0...0]).version(for: .consumerGroupHeartbeat) == nil)
}

@Test func coordinatorAndMembershipErrorClasses() {
    #expect(KafkaErrorCode.notCoordinator.isCoordinatorError)
    #expect(KafkaErrorCode.coordinatorLoadInProgress.isCoordinatorError)
    #expect(!KafkaErrorCode.unknownMemberID.isCoordinatorError)
    #expect(KafkaErrorCode.staleMemberEpoch.isGroupMembershipError)
    #expect(!KafkaErrorCode.notCoordinator.isGroupMembershipError)
    #expect(KafkaErrorCode.staleMemberEpoch.name == "STALE_MEMBER_EPOCH")
}

@Test func groupConsumerRefusesBadConfiguration() throws {
    let client = try KafkaClient(bootstrapServers: "127.0.0.1:1")
    defer { Task { await client.shutdown() } }
    #expect(throws: KafkaClientError.invalidArgument("group id is empty")) {
        try GroupConsumer(client: client, config: GroupConsumerConfig(groupId: "", topics: ["t"]))
    }
    #expect(throws: KafkaClientError.invalidArgument("no topics or pattern to subscribe to")) {
        try GroupConsumer(client: client, config: GroupConsumerConfig(groupId: "g", topics: []))
    }
    let consumer = try GroupConsumer(client: client, config: GroupConsumerConfig(groupId: "g", topics: ["t"]))
    #expect(consumer.memberId.count == 22)  // a random UUID in Kafka's base64 form
    #expect(consumer.memberEpoch == 0)
    #expect(consumer.assignment.isEmpty)
}

@Test func patternIsSentOnJoinAndWhenItChanges() {
    var m = ConsumerGroupMember(groupId: "g", memberId: "m-1",
                                subscription: .init(topics: [], topicRegex: "^orders-.*", serverAssignor: nil,
                                                    rebalanceTimeoutMs: 300_000))
    let join = m.nextHeartbeat()
    #expect(join.subscribedTopicRegex == "^orders-.*")
    #expect(join.subscribedTopicNames == [])
    _ = m.received(response(epoch: 1))
    #expect(m.nextHeartbeat().subscribedTopicRegex == nil)
    m.subscription.topicRegex = nil
    #expect(m.nextHeartbeat().subscribedTopicRegex == "")  // "" clears it
}

@Test func namesOnlyJoinSendsNoPattern() {
    var m = member()
    #expect(m.nextHeartbeat().subscribedTopicRegex == nil)
}
