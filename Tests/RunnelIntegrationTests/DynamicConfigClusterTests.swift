import Foundation
import KafkaMessages
import NIOCore
import RunnelClient
import RunnelCore
import RunnelTesting
import Testing

/// Issue 13, "Configuration at runtime", on a real three-node cluster: a config altered through
/// one node is described by the others and kept across a restart; DeleteRecords holds on the
/// replicas that lead after it. (Extends `ClusterTests`, whose suite runs serialized.)
extension ClusterTests {
    func config(_ client: KafkaClient, _ target: ConfigTarget, _ key: String) async throws -> ConfigEntry? {
        try await client.describeConfigs(target).first { $0.name == key }
    }

    @Test func configsAlteredThroughOneNodeAreSeenByEveryNodeAndKeptAcrossARestart() async throws {
        try await withCluster(extra: ["log.retention.check.interval.ms=200"]) { cluster in
            let (topic, _) = try await createTopicWithLeader(cluster, "alter")
            let admin = try client(cluster.bootstrap)
            defer { Task { await admin.shutdown() } }

            // Retention on a cluster, without a restart: 1 KiB segments of hour-old records,
            // then retention.ms of a minute; the leader drops the sealed segments at its next
            // check, and the log start moves.
            try await admin.alterConfigs(.topic(topic), [.set("segment.bytes", "1024")])
            let producer = try await KafkaProducer(client: admin)
            let old = TimestampMs(Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000)
            for i in 0..<30 {
                _ = try await producer.send(topic: topic, partition: PartitionID(0), key: nil,
                                            value: ByteBuffer(string: String(repeating: "x", count: 100) + "\(i)"), timestamp: old)
                try await producer.flush()
            }
            try await producer.close()
            #expect(try await admin.listOffsets(topic: topic, spec: .earliest).first?.offset == Offset(0))
            try await admin.alterConfigs(.topic(topic), [.set("retention.ms", "60000"), .delete("segment.bytes")])
            try await eventually("retention to delete the hour-old segments") {
                (try await admin.listOffsets(topic: topic, spec: .earliest).first?.offset ?? .zero) > Offset(0)
            }

            // Through node 2 and node 3, whichever is the active controller (the others forward).
            let topicAlter = try runCLI(["topic", "alter", topic, "-c", "retention.ms=3600000", "-c", "segment.ms=600000",
                                         "-b", cluster.node(2).bootstrap])
            #expect(topicAlter.status == 0, "\(topicAlter.stderr)")
            #expect(topicAlter.stdout == "altered topic \(topic): retention.ms=3600000, segment.ms=600000\n")
            let defaultsAlter = try runCLI(["config", "alter", "--broker-defaults", "-c", "log.retention.bytes=1073741824",
                                            "-b", cluster.node(3).bootstrap])
            #expect(defaultsAlter.status == 0, "\(defaultsAlter.stderr)")
            let brokerAlter = try runCLI(["config", "alter", "--broker", "2", "-c", "message.max.bytes=2000000",
                                          "-b", cluster.node(3).bootstrap])
            #expect(brokerAlter.status == 0, "\(brokerAlter.stderr)")

            for node in cluster.nodes {
                let c = try client(node.bootstrap)
                defer { Task { await c.shutdown() } }
                try await eventually("node \(node.bootstrap) to describe the altered topic") {
                    let retention = try await config(c, .topic(topic), "retention.ms")
                    let bytes = try await config(c, .topic(topic), "retention.bytes")
                    return retention?.value == "3600000" && retention?.source == 1
                        && bytes?.value == "1073741824" && bytes?.source == 3
                }
            }
            let describe = try runCLI(["config", "describe", "--broker", "2", "-b", cluster.node(1).bootstrap])
            #expect(describe.stdout.contains("message.max.bytes=2000000\t(dynamic-broker)\n"), "\(describe.stdout)")
            #expect(describe.stdout.contains("log.retention.bytes=1073741824\t(dynamic-default-broker)\n"))
            let node1 = try runCLI(["config", "describe", "--broker", "1", "-b", cluster.node(1).bootstrap])
            #expect(node1.stdout.contains("message.max.bytes=1048588\t(default)\n"), "\(node1.stdout)")

            // A bad value: one line naming the key, the value and the allowed range; exit 1.
            let bad = try runCLI(["topic", "alter", topic, "-c", "segment.bytes=12", "-b", cluster.node(1).bootstrap])
            #expect(bad.status == 1)
            #expect(bad.stderr.split(separator: "\n").count == 1 && bad.stderr.contains("segment.bytes")
                    && bad.stderr.contains("'12'") && bad.stderr.contains("1024"), "\(bad.stderr)")
            let fixed = try runCLI(["config", "alter", "--broker-defaults", "-c", "num.partitions=3", "-b", cluster.node(1).bootstrap])
            #expect(fixed.status == 1 && fixed.stderr.contains("num.partitions"), "\(fixed.stderr)")

            // Node 1 restarts: the metadata log brings every change back.
            #expect(cluster.node(1).stop() == 0)
            try cluster.node(1).start(timeoutSeconds: 30)
            let c = try client(cluster.node(1).bootstrap)
            defer { Task { await c.shutdown() } }
            try await eventually("the restarted node to describe the changes") {
                let retention = try await config(c, .topic(topic), "retention.ms")
                let segment = try await config(c, .topic(topic), "segment.ms")
                let bytes = try await config(c, .brokerDefaults, "log.retention.bytes")
                return retention?.value == "3600000" && segment?.value == "600000" && bytes?.value == "1073741824"
            }
            // Deleting the override falls back to the dynamic default (retention.bytes) or the
            // static one (retention.ms).
            let deleted = try runCLI(["topic", "alter", topic, "--delete-config", "retention.ms", "-b", cluster.node(1).bootstrap])
            #expect(deleted.status == 0, "\(deleted.stderr)")
            try await eventually("the override to be gone") {
                try await config(c, .topic(topic), "retention.ms")?.source == 5
            }
        }
    }

    /// Followers' fetches park for up to 10 s here (replica.fetch.wait.max.ms): without the wait
    /// for the ISR (D132) the leader could stop before any follower learnt the new log start.
    @Test func deleteRecordsHoldsOnTheReplicasThatLeadAfterIt() async throws {
        try await withCluster(extra: ["replica.fetch.wait.max.ms=10000"]) { cluster in
            let (topic, md) = try await createTopicWithLeader(cluster, "delrec")
            let first = try #require(leader(md, topic, 0))
            let admin = try client(cluster.bootstrap)
            defer { Task { await admin.shutdown() } }
            var config = ProducerConfig()
            config.acks = .all
            let producer = try await KafkaProducer(client: admin, config: config)
            for i in 0..<10 { _ = try await producer.send(topic: topic, partition: PartitionID(0), key: nil, value: ByteBuffer(string: "r\(i)")) }
            try await producer.flush()

            let deleted = try await admin.deleteRecords(topic: topic, before: [(PartitionID(0), 6)])
            #expect(deleted.map(\.partition) == [PartitionID(0)] && deleted.map(\.lowWatermark) == [Offset(6)])
            do {
                _ = try await admin.deleteRecords(topic: topic, before: [(PartitionID(0), 11)])
                Issue.record("DeleteRecords above the high watermark was accepted")
            } catch let error as KafkaClientError {
                #expect(error.kafkaCode == .offsetOutOfRange)
            }
            // The answer came once every ISR member reported the new log start (D132), so the
            // leader may go at once.
            try await producer.close()

            var leaders: Set<Int32> = [first]
            var stopped = Int(first)
            for round in 1...2 {
                // The leader stops cleanly (controlled shutdown); another replica leads.
                #expect(cluster.node(stopped).stop() == 0)
                let witness = cluster.nodes[(stopped) % 3]
                var now: Int32 = -1
                try await eventually("round \(round): another replica to lead") {
                    now = leader(try await metadata(of: witness, topics: [topic]), topic, 0) ?? -1
                    return now > 0 && now != Int32(stopped)
                }
                leaders.insert(now)
                let c = try client(witness.bootstrap)
                defer { Task { await c.shutdown() } }
                try await eventually("round \(round): the new leader to answer ListOffsets") {
                    try await c.listOffsets(topic: topic, spec: .earliest).first?.offset == Offset(6)
                }
                let consumed = try runCLI(["consume", topic, "-o", "beginning", "-n", "1", "-f", "%o\n", "-b", witness.bootstrap])
                #expect(consumed.stdout == "6\n", "round \(round), leader \(now): \(consumed.stdout) \(consumed.stderr)")
                try cluster.node(stopped).start(timeoutSeconds: 30)
                let back = Int32(stopped)
                try await eventually("round \(round): the restarted node to rejoin the ISR") {
                    try await metadata(of: witness, topics: [topic]).topics[0].partitions[0].isrNodes.contains(back)
                }
                stopped = Int(now)
            }
            #expect(leaders.count >= 2, "leaders \(leaders)")
        }
    }
}
