@testable import GroupCoordinator
import RunnelCore
import Testing

struct CoordinatorTests {
    static let t1 = TopicInfo(name: TopicName("t1"), id: TopicID(high: 1, low: 1), partitionCount: 6)

    /// A loaded, empty coordinator.
    func active(_ config: GroupConfig = GroupConfig()) -> GroupCoordinatorStateMachine {
        var sm = GroupCoordinatorStateMachine(config: config, seed: 1)
        _ = sm.finishLoading(now: TimestampMs(0))
        return sm
    }

    func records(_ actions: [GroupAction]) -> [GroupRecord] {
        actions.flatMap { action -> [GroupRecord] in
            if case .append(let r) = action { return r }
            return []
        }
    }

    func responses(_ actions: [GroupAction]) -> [RequestToken: GroupResponse] {
        var out: [RequestToken: GroupResponse] = [:]
        for case .respond(let t, let r) in actions { out[t] = r }
        return out
    }

    func join(_ member: String, client: String, instance: String? = nil) -> JoinGroupRequest {
        JoinGroupRequest(groupID: "g", memberID: member, groupInstanceID: instance, sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000,
                         protocolType: "consumer", protocols: [(name: "range", metadata: [1, 2])], clientID: client,
                         clientHost: "h", apiVersion: 3)
    }

    @Test func requestsWhileLoadingAreAnsweredWithLoadInProgressAndAfterUnloadWithNotCoordinator() {
        var sm = GroupCoordinatorStateMachine(seed: 1)
        let loading = sm.heartbeat(HeartbeatRequest(groupID: "g", generationID: 1, memberID: "m"), token: RequestToken(1), now: TimestampMs(0))
        #expect(loading == [.respond(RequestToken(1), .heartbeat(.coordinatorLoadInProgress))])
        _ = sm.finishLoading(now: TimestampMs(0))
        let parked = sm.joinGroup(join("", client: "c"), token: RequestToken(2), now: TimestampMs(0))
        #expect(responses(parked).isEmpty)  // waits for the initial rebalance delay
        let unloaded = sm.unload()
        guard case .respond(RequestToken(2), .joinGroup(let j))? = unloaded.first else { Issue.record("no answer"); return }
        #expect(j.error == .notCoordinator)
        let after = sm.offsetFetch([OffsetFetchGroup(groupID: "g", topics: nil)], token: RequestToken(3), now: TimestampMs(0))
        guard case .respond(_, .offsetFetch(let groups))? = after.first else { Issue.record("no answer"); return }
        #expect(groups.first?.error == .notCoordinator)
    }

    @Test func recordsComeBeforeTheResponsesThatDependOnThem() {
        var sm = active()
        let actions = sm.offsetCommit(OffsetCommitRequest(groupID: "s", offsets: [(TopicPartition(topic: TopicName("t"), partition: PartitionID(0)), CommittedOffset(offset: Offset(5)))]),
                                      token: RequestToken(1), now: TimestampMs(10))
        guard case .append(let recs) = actions.first, case .respond = actions[1] else { Issue.record("order: \(actions)"); return }
        #expect(recs.count == 1)
    }

    @Test func groupSizeIsBounded() {
        var config = GroupConfig()
        config.maxSize = 2
        var sm = active(config)
        _ = sm.joinGroup(join("", client: "a"), token: RequestToken(1), now: TimestampMs(0))
        _ = sm.joinGroup(join("", client: "b"), token: RequestToken(2), now: TimestampMs(0))
        let third = sm.joinGroup(join("", client: "c"), token: RequestToken(3), now: TimestampMs(0))
        guard case .joinGroup(let j)? = responses(third)[RequestToken(3)] else { Issue.record("no answer"); return }
        #expect(j.error == .groupMaxSizeReached)
    }

    @Test func memberIDsAreDeterministicForASeed() {
        func firstID() -> String {
            var sm = active()
            var r = join("", client: "client")
            r.apiVersion = 5
            guard case .joinGroup(let j)? = responses(sm.joinGroup(r, token: RequestToken(1), now: TimestampMs(0)))[RequestToken(1)] else { return "" }
            return j.memberID
        }
        let id = firstID()
        #expect(id == firstID())
        #expect(id.hasPrefix("client-"))
        #expect(id.count == "client-".count + 36)
    }

    @Test func subscriptionDecoding() {
        #expect(ConsumerProtocolSubscription.topics(ConsumerProtocolSubscription.encode(topics: ["a", "bc"])) == ["a", "bc"])
        #expect(ConsumerProtocolSubscription.topics([0, 0, 0x7F, 0xFF, 0xFF, 0xFF]) == nil)  // count larger than the bytes
        #expect(ConsumerProtocolSubscription.topics([0, 1, 0, 0, 0, 1, 0, 5, 0x61]) == nil)  // truncated string
        #expect(ConsumerProtocolSubscription.topics([]) == nil)
    }

    @Test func failedResponsesCarryTheError() {
        let ok = GroupResponse.offsetCommit([PartitionResult(topicPartition: TopicPartition(topic: TopicName("t"), partition: PartitionID(1)), error: .none)])
        guard case .offsetCommit(let ps) = ok.failed(with: .notCoordinator) else { Issue.record("case changed"); return }
        #expect(ps.map(\.error) == [.notCoordinator])
    }

    /// Runs a KIP-848 group and a classic group, replays the records into a fresh coordinator and
    /// compares what both describe.
    @Test func replayRebuildsAnEquivalentState() {
        var sm = active()
        var log: [GroupRecord] = []
        var now: Int64 = 0
        func step(_ actions: [GroupAction]) { log += records(actions) }
        step(sm.topicsChanged([Self.t1], now: TimestampMs(now)))
        for m in ["m1", "m2", "m3"] {
            step(sm.consumerGroupHeartbeat(ConsumerGroupHeartbeatRequest(groupID: "k", memberID: m, memberEpoch: 0, rebalanceTimeoutMs: 30000,
                                                                          subscribedTopicNames: [TopicName("t1")]), token: RequestToken(1), now: TimestampMs(now)))
        }
        step(sm.consumerGroupHeartbeat(ConsumerGroupHeartbeatRequest(groupID: "k", memberID: "m1", memberEpoch: 1), token: RequestToken(2), now: TimestampMs(now)))
        step(sm.joinGroup(join("", client: "a", instance: "i"), token: RequestToken(3), now: TimestampMs(now)))
        now += 3000
        step(sm.tick(now: TimestampMs(now)))
        let leader = sm.describe("g").members[0].memberID
        step(sm.syncGroup(SyncGroupRequest(groupID: "g", generationID: 1, memberID: leader, assignments: [(leader, [9])]), token: RequestToken(4), now: TimestampMs(now)))
        step(sm.offsetCommit(OffsetCommitRequest(groupID: "g", generationIDOrMemberEpoch: 1, memberID: leader,
                                                 offsets: [(TopicPartition(topic: TopicName("t1"), partition: PartitionID(2)), CommittedOffset(offset: Offset(42), metadata: "x"))]),
                             token: RequestToken(5), now: TimestampMs(now)))

        // A rack change rewrites only the member metadata: after compaction it then follows
        // the member's assignment record.
        for _ in 0..<2 {
            for m in sm.describeConsumerGroup("k").members {
                var r = ConsumerGroupHeartbeatRequest(groupID: "k", memberID: m.memberID, memberEpoch: m.memberEpoch)
                r.rackID = "rack-\(m.memberEpoch)-\(log.count)"
                step(sm.consumerGroupHeartbeat(r, token: RequestToken(6), now: TimestampMs(now)))
            }
        }
        // The full log, and the log as compaction leaves it (the latest record of each key, in
        // offset order), must both rebuild the same state.
        for replay in [log, Self.compacted(log)] {
            var fresh = GroupCoordinatorStateMachine(seed: 2)
            for r in replay { fresh.load(r) }
            _ = fresh.topicsChanged([Self.t1], now: TimestampMs(now))
            _ = fresh.finishLoading(now: TimestampMs(now))
            #expect(fresh.groupIDs == sm.groupIDs)
            #expect(fresh.describe("g") == sm.describe("g"))
            #expect(fresh.describeConsumerGroup("k") == sm.describeConsumerGroup("k"))
            #expect(fresh.committedOffsets("g").map(\.1) == sm.committedOffsets("g").map(\.1))
        }
        #expect(Self.compacted(log).count < log.count)
        #expect(sm.describeConsumerGroup("k").members.count == 3)
    }

    /// Keeps the last record of every key, in log order (what log compaction converges to).
    static func compacted(_ log: [GroupRecord]) -> [GroupRecord] {
        func key(_ r: GroupRecord) -> String {
            switch r {
            case .offsetCommit(let g, let tp, _): "1/\(g)/\(tp)"
            case .consumerGroupMemberMetadata(let g, let m, _), .consumerGroupTargetAssignmentMember(let g, let m, _),
                 .consumerGroupCurrentMemberAssignment(let g, let m, _):
                "\(r.keyVersion)/\(g)/\(m)"
            default: "\(r.keyVersion)/\(r.groupID)"
            }
        }
        var last: [String: Int] = [:]
        for (i, r) in log.enumerated() { last[key(r)] = i }
        return log.enumerated().filter { last[key($0.element)] == $0.offset }.map(\.element)
    }

    /// Random heartbeats from members that obey the protocol (they report exactly what they were
    /// last given), with joins and leaves: no partition is ever owned by two members, and once
    /// everyone is quiet the group converges to its target.
    @Test(arguments: [UInt64(1), 2, 3, 4, 5])
    func aPartitionIsNeverOwnedByTwoMembers(seed: UInt64) {
        var sm = active()
        _ = sm.topicsChanged([Self.t1, TopicInfo(name: TopicName("t2"), id: TopicID(high: 2, low: 2), partitionCount: 5)], now: TimestampMs(0))
        var random = SeededRandom(seed: seed)
        var epochs: [String: Int32] = [:]
        var owned: [String: [TopicIDPartitions]] = [:]
        var token: UInt64 = 0
        func beat(_ m: String, _ epoch: Int32) {
            token += 1
            let join = epoch == 0
            let actions = sm.consumerGroupHeartbeat(ConsumerGroupHeartbeatRequest(
                groupID: "g", memberID: m, memberEpoch: epoch, rebalanceTimeoutMs: join ? 60000 : -1,
                subscribedTopicNames: join ? [TopicName("t1"), TopicName("t2")] : nil, topicPartitions: join ? nil : owned[m]),
                token: RequestToken(token), now: TimestampMs(0))
            guard case .consumerGroupHeartbeat(let r)? = responses(actions)[RequestToken(token)] else { return }
            if epoch == -1 { epochs[m] = nil; owned[m] = nil; return }
            #expect(r.error == .none)
            epochs[m] = r.memberEpoch
            if let a = r.assignment { owned[m] = a }
        }
        for _ in 0..<300 {
            let names = ["a", "b", "c", "d"]
            let m = names[Int(random.next() % 4)]
            switch (epochs[m], random.next() % 10) {
            case (nil, _): beat(m, 0)
            case (let e?, 0): _ = e; beat(m, -1)
            case (let e?, _): beat(m, e)
            }
            var seen = PartitionAssignment()
            for a in owned.values.map(PartitionAssignment.init) {
                #expect(seen.intersection(a).isEmpty, "a partition is owned twice")
                seen = seen.union(a)
            }
        }
        for _ in 0..<4 { for m in epochs.keys.sorted() { beat(m, epochs[m]!) } }
        let described = sm.describeConsumerGroup("g")
        #expect(described.state == "Stable" || described.members.isEmpty)
        #expect(owned.values.map { PartitionAssignment($0).count }.reduce(0, +) == (epochs.isEmpty ? 0 : 11))
    }
}
