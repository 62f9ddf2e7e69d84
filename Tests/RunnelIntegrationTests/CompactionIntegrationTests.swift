import Foundation
import NIOCore
import RunnelClient
import RunnelCore
import RunnelTesting
import Testing

/// Compacted topics on real `runnel broker` processes (issue 13; docs/decisions.md D150–D152):
/// a broker killed with -9 while its cleaner is swapping cleaned segments in reopens with the
/// newest value of every key; on a three-node cluster a follower compacts its own log and a
/// consumer reading from it once it leads still sees the newest value of every key.
@Suite(.serialized, .enabled(if: RunnelBinary.exists, "needs the runnel binary (RUNNEL_BIN or .build/debug/runnel)"))
struct CompactionIntegrationTests {
    func client(_ bootstrap: String) throws -> KafkaClient {
        var config = try KafkaClientConfig(bootstrapServers: bootstrap)
        config.requestTimeoutMs = 10_000
        return KafkaClient(config: config)
    }

    /// `rounds` × `keys` records of `valueBytes` each (acks=all), every key overwritten each
    /// round, and every seventh key deleted by a tombstone in every fifth round (written again
    /// later). Returns the newest value of each key (nil: deleted) and the count written.
    func writeOverwrites(_ bootstrap: String, topic: String, keys: Int, rounds: Int,
                         valueBytes: Int) async throws -> ([String: String?], Int) {
        let client = try client(bootstrap)
        var config = ProducerConfig()
        config.batchBytes = 8 * 1024  // batches well under segment.bytes
        let producer = try await KafkaProducer(client: client, config: config)
        var newest: [String: String?] = [:]
        var written = 0
        let padding = String(repeating: "x", count: valueBytes)
        for round in 0..<rounds {
            for k in 0..<keys {
                let key = "key-\(k)"
                let value: String? = (round % 5 == 4 && k % 7 == round % 7) ? nil : "\(key)-round-\(round)-\(padding)"
                newest[key] = value
                _ = try await producer.send(topic: topic, partition: PartitionID(0), key: ByteBuffer(string: key),
                                            value: value.map { ByteBuffer(string: $0) })
                written += 1
            }
        }
        try await producer.flush()
        try await producer.close()
        await client.shutdown()
        return (newest, written)
    }

    /// Every record of partition 0 from the log start to the end offset, as (offset, key, value).
    func readAll(_ bootstrap: String, topic: String) async throws -> [(Int64, String, String?)] {
        let client = try client(bootstrap)
        defer { Task { await client.shutdown() } }
        let end = try #require(try await client.listOffsets(topic: topic, spec: .latest).first?.offset)
        let consumer = KafkaConsumer(client: client)
        try await consumer.assign(topic: topic, partitions: [PartitionID(0)], at: .beginning)
        var got: [(Int64, String, String?)] = []
        let deadline = Date().addingTimeInterval(60)
        while (consumer.position(topic: topic, partition: PartitionID(0)) ?? .zero) < end, Date() < deadline {
            for record in try await consumer.poll() {
                got.append((record.offset.rawValue, record.key.map { String(buffer: $0) } ?? "-",
                            record.value.map { String(buffer: $0) }))
            }
        }
        #expect((consumer.position(topic: topic, partition: PartitionID(0)) ?? .zero) >= end, "read stopped before \(end)")
        return got
    }

    /// A one-partition compacted topic cleaned once a tenth of it is dirty.
    func createCompactedTopic(_ bootstrap: String, _ prefix: String, replicationFactor: Int16, segmentBytes: Int) async throws -> String {
        let topic = uniqueTopic(prefix)
        let admin = try client(bootstrap)
        defer { Task { await admin.shutdown() } }
        _ = try await admin.createTopic(topic, partitions: 1, replicationFactor: replicationFactor,
                                        configs: ["cleanup.policy": "compact", "segment.bytes": "\(segmentBytes)",
                                                  "min.cleanable.dirty.ratio": "0.1"])
        return topic
    }

    static func view(_ records: [(Int64, String, String?)]) -> [String: String?] {
        var view: [String: String?] = [:]
        for (_, key, value) in records { view[key] = value }
        return view
    }

    /// Polls `condition` every 50 ms for at most `seconds`.
    func eventually(_ what: String, seconds: Double, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if (try? await condition()) == true { return }
            guard Date() < deadline else { throw CompactionTestTimeout(description: "timed out after \(seconds) s waiting for \(what)") }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
    }

    @Test func aBrokerKilledWhileItsCleanerSwapsReopensWithTheNewestValueOfEveryKey() async throws {
        // 1. Written with the cleaner off: ~4 MB over ~32 segments of 128 KiB.
        let first = try BrokerProcess(overrides: ["log.cleaner.enable=false"])
        let data = first.dataDirectory
        defer { data.remove() }
        try first.start()
        let topic = try await createCompactedTopic(first.bootstrap, "compacted", replicationFactor: 1, segmentBytes: 131_072)
        let (newest, written) = try await writeOverwrites(first.bootstrap, topic: topic, keys: 100, rounds: 40, valueBytes: 1000)
        #expect(first.stop() == 0)

        // 2. The cleaner on, held to 2 MB/s so the clean takes seconds; kill -9 right after its
        // first swap, with groups still to come.
        let cleaning = try BrokerProcess(overrides: ["log.cleaner.backoff.ms=50", "log.cleaner.io.max.bytes.per.second=2000000"],
                                         dataDirectory: data, port: first.port)
        defer { cleaning.stop(signal: SIGKILL) }
        try cleaning.start()
        try await eventually("the cleaner's first swap", seconds: 60) { cleaning.log.contains("cleaner: swapped in") }
        cleaning.kill9()
        let logAtKill = cleaning.log
        #expect(!logAtKill.contains("cleaner: cleaned \(topic)-0"), "the clean had finished before the kill")

        // 3. Reopened (cleaner off, so what we read is what the crash left): the newest value of
        // every key, fewer records than written, no temporary file of the clean left.
        let reopened = try BrokerProcess(overrides: ["log.cleaner.enable=false"], dataDirectory: data, port: first.port)
        defer { reopened.stop() }
        try reopened.start()
        let afterCrash = try await readAll(reopened.bootstrap, topic: topic)
        #expect(Self.view(afterCrash) == newest)
        #expect(afterCrash.count < written, "\(afterCrash.count) of \(written): nothing was compacted before the kill")
        let partitionDir = data.file("data") + "/\(topic)-0"
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: partitionDir)
            .filter { $0.hasSuffix(".cleaned") || $0.hasSuffix(".swap") || $0.hasSuffix(".deleted") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        #expect(reopened.stop() == 0)

        // 4. The cleaner finishes the job on the next start; still the newest value of each key.
        let finishing = try BrokerProcess(overrides: ["log.cleaner.backoff.ms=50"], dataDirectory: data, port: first.port)
        defer { finishing.stop() }
        try finishing.start()
        try await eventually("a clean to finish", seconds: 60) { finishing.log.contains("cleaner: cleaned \(topic)-0") }
        let final = try await readAll(finishing.bootstrap, topic: topic)
        #expect(Self.view(final) == newest)
        #expect(final.count <= afterCrash.count)
    }

    /// `runnel bench produce --keys N` (the load of Benchmarks/cleaner.sh) gives records the keys
    /// key-0 … key-(N-1) in turn; the cleaner then leaves about one record per key.
    @Test func benchProduceWithKeysFeedsACompactedTopic() async throws {
        try await withBroker(overrides: ["log.cleaner.backoff.ms=50"]) { broker in
            let b = ["-b", broker.bootstrap]
            let topic = try await createCompactedTopic(broker.bootstrap, "bench-keys", replicationFactor: 1, segmentBytes: 16_384)
            let produce = try runCLI(["bench", "produce", "--topic", topic, "--records", "3000", "--record-size", "100",
                                      "--keys", "5", "--batch-bytes", "4000", "--acks", "1"] + b)
            #expect(produce.status == 0, "\(produce.stderr)")
            try await eventually("a clean", seconds: 30) { broker.log.contains("cleaner: cleaned \(topic)-0") }
            let consumed = try runCLI(["consume", topic, "-o", "beginning", "-e", "-f", "%o %k\n"] + b)
            #expect(consumed.status == 0, "\(consumed.stderr)")
            let lines = consumed.stdoutLines.map { $0.split(separator: " ") }
            #expect(Set(lines.map { String($0[1]) }) == Set((0..<5).map { "key-\($0)" }))
            #expect(lines.count < 3000, "\(lines.count) records: nothing was compacted")
            // The last five records are the last five sent: key-0 … key-4 in turn, as sent.
            #expect(lines.suffix(5).map { String($0[1]) } == (0..<5).map { "key-\($0)" })
        }
    }

    @Test func aFollowerCompactsItsOwnLogAndServesTheNewestValuesOnceItLeads() async throws {
        let cluster = try TestCluster(size: 3, overrides: ["broker.heartbeat.interval.ms=300", "broker.session.timeout.ms=2000",
                                                           "auto.leader.rebalance.enable=false", "log.cleaner.backoff.ms=100"])
        defer { cluster.stop() }
        do {
            try cluster.start()
            try await eventually("three registered brokers", seconds: 30) {
                let c = try client(cluster.node(1).bootstrap)
                defer { Task { await c.shutdown() } }
                return try await c.refreshMetadata(topics: []).brokers.count == 3
            }
            let topic = try await createCompactedTopic(cluster.bootstrap, "compacted-rf3", replicationFactor: 3, segmentBytes: 16_384)
            for node in cluster.nodes {
                try await eventually("node on port \(node.port) to know the topic's leader", seconds: 20) {
                    let c = try client(node.bootstrap)
                    defer { Task { await c.shutdown() } }
                    return try await c.topicMetadata(topic, refresh: true).partition(PartitionID(0))?.leader != nil
                }
            }
            let (newest, written) = try await writeOverwrites(cluster.bootstrap, topic: topic, keys: 30, rounds: 30, valueBytes: 200)

            // The leader, and followers whose own cleaner-offset-checkpoint shows their clean
            // (each replica compacts its own log; either may lead next).
            let c = try client(cluster.node(1).bootstrap)
            let leader = try #require(try await c.topicMetadata(topic, refresh: true).partition(PartitionID(0))?.leader)
            await c.shutdown()
            let followers = cluster.nodes.enumerated().filter { $0.offset + 1 != Int(leader.rawValue) }.map(\.element)
            #expect(followers.count == 2)
            for follower in followers {
                let checkpointFile = follower.dataDirectory.file("data") + "/cleaner-offset-checkpoint"
                try await eventually("follower on port \(follower.port) to compact its own log", seconds: 60) {
                    let text = (try? String(contentsOfFile: checkpointFile, encoding: .utf8)) ?? ""
                    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("\(topic) 0 ") }),
                          let offset = Int(line.split(separator: " ")[2]) else { return false }
                    return offset > written / 2
                }
                #expect(follower.log.contains("cleaner: cleaned \(topic)-0"))
            }
            let follower = followers[0]

            // The leader goes (kill -9); another replica leads; a consumer reads it all.
            cluster.nodes[Int(leader.rawValue) - 1].kill9()
            try await eventually("a new leader", seconds: 15) {
                let c = try client(follower.bootstrap)
                defer { Task { await c.shutdown() } }
                let now = try await c.topicMetadata(topic, refresh: true).partition(PartitionID(0))?.leader
                return now != nil && now != leader
            }
            let got = try await readAll(follower.bootstrap, topic: topic)
            #expect(Self.view(got) == newest)
            #expect(got.count < written, "\(got.count) of \(written) records: the new leader's log is not compacted")
        } catch {
            print("cluster logs:\n\(cluster.logs)")
            throw error
        }
    }
}

struct CompactionTestTimeout: Error, CustomStringConvertible {
    let description: String
}
