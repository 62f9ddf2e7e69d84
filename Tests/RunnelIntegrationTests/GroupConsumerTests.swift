import Foundation
import KafkaMessages
import RunnelClient
import RunnelCore
import Testing

/// GroupConsumer against `FakeGroupBroker` (in process, no runnel binary): joining, splitting
/// partitions by revocation, committing before revoking, starting from committed offsets,
/// re-joining after being fenced, leaving; plus describe and lag through the admin calls.
@Suite struct GroupConsumerTests {
    private func withFake<T>(partitions: Int32 = 6, _ body: (FakeGroupBroker, KafkaClient) async throws -> T) async throws -> T {
        let fake = try FakeGroupBroker(topic: "orders", partitions: partitions, group: "g")
        defer { fake.shutdown() }
        var config = try KafkaClientConfig(bootstrapServers: fake.bootstrap)
        config.requestTimeoutMs = 5_000
        let client = KafkaClient(config: config)
        do {
            let result = try await body(fake, client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    private func consumer(_ client: KafkaClient, memberId: String) throws -> GroupConsumer {
        var config = GroupConsumerConfig(groupId: "g", topics: ["orders"])
        config.consumer.maxWaitMs = 20
        config.autoCommitIntervalMs = nil
        config.memberId = memberId
        return try GroupConsumer(client: client, config: config)
    }

    private func owned(_ consumer: GroupConsumer) -> [Int32] {
        (consumer.assignment["orders"] ?? []).map(\.rawValue)
    }

    @Test func membersSplitCommitBeforeRevokingAndStartFromCommits() async throws {
        try await withFake { fake, client in
            let first = try consumer(client, memberId: "member-a")
            _ = try await pollUntil([first], timeoutSeconds: 30, "member-a to own everything") { _ in owned(first).count == 6 }
            #expect(first.memberEpoch > 0)
            for partition in 0..<6 { first.seek(topic: "orders", partition: PartitionID(Int32(partition)), to: Offset(40 + Int64(partition))) }

            let second = try consumer(client, memberId: "member-b")
            _ = try await pollUntil([first, second], timeoutSeconds: 30, "a 3/3 split") { _ in
                owned(first).count == 3 && owned(second).count == 3
            }
            // The fake deals round-robin over sorted ids: a gets the even partitions.
            #expect(owned(first) == [0, 2, 4])
            #expect(owned(second) == [1, 3, 5])
            // member-a committed the partitions it gave up; member-b started from those commits.
            let committed = fake.withModel { $0.committed }
            #expect(committed == [1: 41, 3: 43, 5: 45])
            for partition: Int32 in [1, 3, 5] {
                #expect(second.position(topic: "orders", partition: PartitionID(partition)) == Offset(40 + Int64(partition)))
            }

            // Heartbeats after a join carry only changes: the subscription never again.
            let heartbeats = fake.withModel { $0.heartbeats }
            #expect(heartbeats.filter { $0.memberEpoch > 0 && $0.subscribedTopicNames != nil }.isEmpty)
            #expect(heartbeats.filter { $0.memberEpoch > 0 && $0.topicPartitions == nil }.count > 0)

            // Leaving commits and hands everything to the other member.
            try await first.close()
            #expect(fake.withModel { $0.committed[0] } == 40)
            _ = try await pollUntil([second], timeoutSeconds: 30, "member-b to own everything") { _ in owned(second).count == 6 }
            #expect(second.position(topic: "orders", partition: PartitionID(4)) == Offset(44))
            try await second.close()
            #expect(fake.withModel { $0.members.isEmpty })
        }
    }

    @Test func aFencedMemberLosesItsPartitionsAndRejoins() async throws {
        try await withFake(partitions: 2) { fake, client in
            let member = try consumer(client, memberId: "member-a")
            _ = try await pollUntil([member], timeoutSeconds: 30, "the join") { _ in owned(member).count == 2 }
            let epoch = member.memberEpoch
            member.seek(topic: "orders", partition: PartitionID(0), to: Offset(7))
            fake.withModel { _ = $0.toFence.insert("member-a") }
            _ = try await pollUntil([member], timeoutSeconds: 30, "the re-join") { _ in
                member.memberEpoch > epoch && owned(member).count == 2
            }
            // Fenced: the position was not committed (the epoch was void), so it starts over.
            #expect(fake.withModel { $0.committed[0] } == nil)
            #expect(member.position(topic: "orders", partition: PartitionID(0)) == Offset(0))
            #expect(member.memberId == "member-a")
            let rejoin = fake.withModel { $0.heartbeats }.filter { $0.memberEpoch == 0 }
            #expect(rejoin.count == 2)
            #expect(rejoin.allSatisfy { $0.topicPartitions == [] && $0.subscribedTopicNames == ["orders"] })

            member.seek(topic: "orders", partition: PartitionID(1), to: Offset(3))
            try await member.commit()
            #expect(fake.withModel { $0.committed } == [0: 0, 1: 3])
            try await member.close()
        }
    }

    @Test func describeAndLagThroughTheAdminCalls() async throws {
        try await withFake(partitions: 2) { fake, client in
            let member = try consumer(client, memberId: "member-a")
            _ = try await pollUntil([member], timeoutSeconds: 30, "the join") { _ in owned(member).count == 2 }
            try await member.commit()

            let listed = try await client.listGroups()
            #expect(listed == [GroupListing(groupId: "g", state: "Stable", protocolType: "consumer", type: "consumer")])
            let description = try await client.describeGroup("g")
            #expect(description.groupProtocol == .consumer)
            #expect(description.members.map(\.memberId) == ["member-a"])
            #expect(description.members.first?.assignment == ["orders": [PartitionID(0), PartitionID(1)]])
            let lag = try await client.groupLag(description)
            #expect(lag.map(\.lag) == [0, 0])
            #expect(lag.allSatisfy { $0.memberId == "member-a" })

            do {
                try await client.alterOffsets(group: "g", offsets: ["orders": [PartitionID(0): Offset(5)]])
                Issue.record("an admin commit to a live group succeeded")
            } catch let error as KafkaClientError {
                #expect(error.kafkaCode == .unknownMemberID)
            }
            try await member.close()
            try await client.alterOffsets(group: "g", offsets: ["orders": [PartitionID(0): Offset(5)]])
            #expect(try await client.committedOffsets(group: "g").map(\.offset) == [Offset(5), Offset(0)])
            _ = fake
        }
    }
}
