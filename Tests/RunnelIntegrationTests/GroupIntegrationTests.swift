import Foundation
import NIOCore
import RunnelClient
import RunnelCore
import RunnelTesting
import Testing

/// Whether the broker under test speaks the KIP-848 consumer group protocol. Asked once per
/// run, of a throwaway broker: group tests are skipped (with this reason) until the broker
/// advertises ConsumerGroupHeartbeat (API key 68), and run from then on.
enum GroupSupport {
    static let reason: Comment = "needs the runnel binary and a broker that advertises ConsumerGroupHeartbeat (API key 68)"

    private static let probe = Task<Bool, Never> {
        guard RunnelBinary.exists else { return false }
        do {
            return try await withBroker { broker in
                try await withClient(broker) { client in
                    let advertised = try await client.apiVersions().broker[68] != nil
                    if !advertised {
                        print("skipping consumer group tests: the broker does not advertise ConsumerGroupHeartbeat (API key 68)")
                    }
                    return advertised
                }
            }
        } catch {
            print("skipping consumer group tests: could not probe the broker: \(error)")
            return false
        }
    }

    static func available() async -> Bool { await probe.value }
}

/// Polls every consumer in turn until `done` holds (or fails after `timeoutSeconds`), and
/// returns the records each one got. KIP-848 rebalances take a few heartbeat intervals
/// (5 s by default), hence the generous bound; it is a safety net, not a speed assertion.
func pollUntil(_ consumers: [GroupConsumer], timeoutSeconds: Double = 90, _ what: String,
               _ done: (_ recordsSoFar: [[ConsumerRecord]]) -> Bool) async throws -> [[ConsumerRecord]] {
    var records = [[ConsumerRecord]](repeating: [], count: consumers.count)
    let deadline = Date().addingTimeInterval(timeoutSeconds)
    while !done(records) {
        guard Date() < deadline else {
            let state = consumers.map { "\($0.memberId) epoch \($0.memberEpoch) owns \($0.assignment)" }
            Issue.record("timed out waiting for \(what); \(state)")
            throw CancellationError()
        }
        for (index, consumer) in consumers.enumerated() {
            records[index] += try await consumer.poll()
        }
    }
    return records
}

func groupConsumer(_ client: KafkaClient, group: String, topic: String) throws -> GroupConsumer {
    var config = GroupConsumerConfig(groupId: group, topics: [topic])
    config.consumer.maxWaitMs = 100
    config.consumer.offsetReset = .earliest
    config.autoCommitIntervalMs = nil
    return try GroupConsumer(client: client, config: config)
}

/// Produces `perPartition` records to each partition; values are "p<partition>-<index>".
func produceToEveryPartition(_ client: KafkaClient, topic: String, partitions: Int32, perPartition: Int,
                             prefix: String = "") async throws -> Set<String> {
    let producer = try await KafkaProducer(client: client)
    var values = Set<String>()
    for partition in 0..<partitions {
        for index in 0..<perPartition {
            let value = "\(prefix)p\(partition)-\(index)"
            values.insert(value)
            _ = try await producer.send(topic: topic, partition: PartitionID(partition), key: nil, value: ByteBuffer(string: value))
        }
    }
    try await producer.close()
    return values
}

private func count(_ assignment: [String: [PartitionID]]) -> Int {
    assignment.values.reduce(0) { $0 + $1.count }
}

/// GroupConsumer and the group admin calls against a real broker.
@Suite(.enabled(GroupSupport.reason) { await GroupSupport.available() })
struct GroupIntegrationTests {
    @Test func twoConsumersSplitSixPartitionsAndCommittedOffsetsSurvive() async throws {
        try await withBroker { broker in
            try await withClient(broker) { client in
                let topic = uniqueTopic("split")
                let group = uniqueTopic("group")
                try await client.createTopic(topic, partitions: 6, replicationFactor: 1)
                let produced = try await produceToEveryPartition(client, topic: topic, partitions: 6, perPartition: 10)

                let first = try groupConsumer(client, group: group, topic: topic)
                var got = try await pollUntil([first], "the first member to own all 6 partitions") { _ in
                    count(first.assignment) == 6
                }[0]
                let second = try groupConsumer(client, group: group, topic: topic)
                let split = try await pollUntil([first, second], "a 3/3 split") { _ in
                    count(first.assignment) == 3 && count(second.assignment) == 3
                }
                got += split[0]
                var gotSecond = split[1]
                let owned = { (consumer: GroupConsumer) in Set(consumer.assignment[topic] ?? []) }
                #expect(owned(first).isDisjoint(with: owned(second)))
                #expect(owned(first).union(owned(second)).count == 6)

                let rest = try await pollUntil([first, second], "every record") { soFar in
                    got.count + gotSecond.count + soFar[0].count + soFar[1].count >= produced.count && first.isAtEnd && second.isAtEnd
                }
                got += rest[0]
                gotSecond += rest[1]
                let values = (got + gotSecond).map { String(buffer: $0.value!) }
                #expect(Set(values) == produced)
                #expect(values.count == produced.count, "a partition moved without its offset being committed")
                // After the split each member only reads its own partitions.
                #expect(Set(rest[1].map(\.partition)).isSubset(of: owned(second)))

                try await first.close()
                try await second.close()
                let committed = try await client.committedOffsets(group: group)
                #expect(committed.map(\.partition.rawValue) == Array(0..<6))
                #expect(committed.allSatisfy { $0.offset == Offset(10) })

                // A new member of the group starts where the others stopped.
                let third = try groupConsumer(client, group: group, topic: topic)
                let none = try await pollUntil([third], "the third member to reach the end") { _ in
                    count(third.assignment) == 6 && third.isAtEnd
                }[0]
                #expect(none.isEmpty)
                let more = try await produceToEveryPartition(client, topic: topic, partitions: 6, perPartition: 1, prefix: "more-")
                let after = try await pollUntil([third], "the new records") { $0[0].count >= more.count }[0]
                #expect(Set(after.map { String(buffer: $0.value!) }) == more)
                try await third.close()
            }
        }
    }

    @Test func listDescribeSeekAndDelete() async throws {
        try await withBroker { broker in
            try await withClient(broker) { client in
                let topic = uniqueTopic("admin")
                let group = uniqueTopic("group")
                try await client.createTopic(topic, partitions: 3, replicationFactor: 1)
                _ = try await produceToEveryPartition(client, topic: topic, partitions: 3, perPartition: 4)

                let consumer = try groupConsumer(client, group: group, topic: topic)
                _ = try await pollUntil([consumer], "all partitions read") { _ in count(consumer.assignment) == 3 && consumer.isAtEnd }
                try await consumer.commit()

                let listed = try await client.listGroups().first { $0.groupId == group }
                #expect(listed?.protocolType == "consumer")
                #expect(listed?.type == "consumer" || listed?.type == "")
                #expect(listed?.state == "Stable" || listed?.state == "Reconciling" || listed?.state == "Assigning")

                let live = try await client.describeGroup(group)
                #expect(live.groupProtocol == .consumer)
                #expect(live.members.map(\.memberId) == [consumer.memberId])
                #expect(live.members.first?.assignment == [topic: [PartitionID(0), PartitionID(1), PartitionID(2)]])
                let lag = try await client.groupLag(live)
                #expect(lag.count == 3)
                #expect(lag.allSatisfy { $0.currentOffset == Offset(4) && $0.logEndOffset == Offset(4) && $0.lag == 0 })
                #expect(lag.allSatisfy { $0.memberId == consumer.memberId })

                // An administrator cannot move the offsets of a group with members.
                do {
                    try await client.alterOffsets(group: group, offsets: [topic: [PartitionID(0): Offset(1)]])
                    Issue.record("alterOffsets on a live group succeeded")
                } catch let error as KafkaClientError {
                    #expect(error.kafkaCode?.isGroupMembershipError == true, "\(error)")
                }
                do {
                    try await client.deleteGroups([group])
                    Issue.record("deleting a live group succeeded")
                } catch let error as KafkaClientError {
                    #expect(error.kafkaCode == .nonEmptyGroup, "\(error)")
                }

                try await consumer.close()
                let empty = try await client.describeGroup(group)
                #expect(empty.state == "Empty")
                #expect(empty.members.isEmpty)

                try await client.alterOffsets(group: group, offsets: [topic: [PartitionID(0): Offset(1), PartitionID(2): Offset(3)]])
                let moved = try await client.committedOffsets(group: group)
                #expect(moved.map { "\($0.partition)=\($0.offset)" } == ["0=1", "1=4", "2=3"])

                try await client.deleteOffsets(group: group, topic: topic, partitions: [PartitionID(1)])
                #expect(try await client.committedOffsets(group: group).map(\.partition.rawValue) == [0, 2])

                try await client.deleteGroups([group])
                #expect(!(try await client.describeGroup(group)).exists)
                #expect(try await client.listGroups().allSatisfy { $0.groupId != group })
                #expect(try await client.committedOffsets(group: group).isEmpty)
            }
        }
    }
}
