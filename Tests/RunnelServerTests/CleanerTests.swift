// The log cleaner's shell (Broker/LogCleaner.swift, Broker+Cleaner.swift; D151–D153).
import Foundation
import KafkaMessages
import KafkaWire
import NIOCore
import RunnelCore
import Testing
@testable import RunnelServer

@Suite struct CleanerThrottleTests {
    /// 1 MB/s: 300 kB charged in 3 steps take about 0.3 s (no credit is saved before the first
    /// charge); unlimited returns at once; a stopped throttle no longer sleeps.
    @Test func theBudgetIsSleptOffAndStopEndsTheWait() {
        let limited = CleanerThrottle(bytesPerSecond: 1_000_000)
        let start = Date()
        for _ in 0..<3 { limited.charge(100_000) }
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed >= 0.25 && elapsed < 2, "took \(elapsed) s")

        let unlimited = CleanerThrottle(bytesPerSecond: .infinity)
        let quick = Date()
        unlimited.charge(1 << 30)
        #expect(Date().timeIntervalSince(quick) < 0.05)

        // A new rate applies to the next charge: 1 kB/s would take 1000 s, unlimited none.
        let changed = CleanerThrottle(bytesPerSecond: 1_000)
        changed.set(bytesPerSecond: .infinity)
        let later = Date()
        changed.charge(1_000_000)
        #expect(Date().timeIntervalSince(later) < 0.05 && changed.isUnlimited)

        let stopped = CleanerThrottle(bytesPerSecond: 1_000)
        stopped.stop()
        let now = Date()
        stopped.charge(1_000_000)  // 1000 s of budget
        #expect(Date().timeIntervalSince(now) < 0.5)
    }
}

/// A compacted topic on an in-process broker: the cleaner thread finds it, compacts it, records
/// the checkpoint, and the log reopens compacted (D151–D152).
@Suite struct CleanerBrokerTests {
    func createTopic(_ h: BrokerHarness, _ name: String, configs: [String: String]) throws {
        var t = CreateTopicsRequest.CreatableTopic(name: name, numPartitions: 1, replicationFactor: 1)
        t.configs = configs.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value) }
        let r = try #require(try h.send(CreateTopicsRequest(topics: [t]), version: 7))
        #expect(r.topics.first?.errorCode == 0, "\(r.topics.first?.errorMessage ?? "")")
    }

    /// One batch of keyed records (nil value: a tombstone), acks=all.
    func produce(_ h: BrokerHarness, _ topic: String, _ records: [(String, String?)], timestamp: Int64 = 0) throws {
        var b = RecordBatchBuilder()
        let now = timestamp > 0 ? timestamp : Int64(Date().timeIntervalSince1970 * 1000)
        for (key, value) in records {
            b.append(timestamp: TimestampMs(now), key: ByteBuffer(string: key), value: value.map { ByteBuffer(string: $0) })
        }
        let request = ProduceRequest(transactionalId: nil, acks: -1, timeoutMs: 5000, topicData: [
            .init(name: topic, partitionData: [.init(index: 0, records: b.finish())]),
        ])
        let answer = try #require(try h.send(request, version: 9)?.responses.first?.partitionResponses.first)
        #expect(answer.errorCode == 0)
    }

    /// Every record of the partition, as a consumer reads it from the log start (earliest).
    func readAll(_ h: BrokerHarness, _ topic: String) throws -> [(offset: Int64, key: String, value: String?)] {
        var result: [(Int64, String, String?)] = []
        var offset = try h.onLoop { $0.partitions[TopicPartition(TopicName(topic), PartitionID(0))]!.logStartOffset.rawValue }
        for _ in 0..<10_000 {
            var request = FetchRequest()
            request.topics = [.init(topic: topic, partitions: [.init(partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20)])]
            let data = try #require(try h.send(request, version: 12)?.responses.first?.partitions.first)
            #expect(data.errorCode == 0)
            guard let records = data.records?.buffer, records.readableBytes > 0 else { break }
            for batch in try RecordBatchDecoder.decodeAll(records, decompressedBytesMax: 1 << 20) {
                for record in batch.records where record.offset.rawValue >= offset {
                    result.append((record.offset.rawValue, record.key.map { String(buffer: $0) } ?? "-", record.value.map { String(buffer: $0) }))
                }
                offset = max(offset, batch.lastOffset.rawValue + 1)
            }
            if offset >= data.highWatermark { break }
        }
        return result
    }

    /// IncrementalAlterConfigs SET of topic keys.
    func alter(_ h: BrokerHarness, _ topic: String, _ values: [String: String]) throws -> IncrementalAlterConfigsResponse.AlterConfigsResourceResponse {
        var resource = IncrementalAlterConfigsRequest.AlterConfigsResource()
        resource.resourceType = 2
        resource.resourceName = topic
        resource.configs = values.sorted { $0.key < $1.key }.map { .init(name: $0.key, configOperation: 0, value: $0.value) }
        var request = IncrementalAlterConfigsRequest()
        request.resources = [resource]
        return try #require(try h.send(request, version: 1)?.responses.first)
    }

    static func view(_ records: [(offset: Int64, key: String, value: String?)]) -> [String: String?] {
        var view: [String: String?] = [:]
        for record in records { view[record.key] = record.value }
        return view
    }

    func state(_ h: BrokerHarness, _ topic: String) throws -> (active: Int64, checkpoint: Int64?, stats: CleanerStats) {
        try h.onLoop { broker in
            let key = TopicPartition(TopicName(topic), PartitionID(0))
            let p = broker.partitions[key]!
            return (p.segmentBaseOffsets.last!.rawValue, broker.cleanerCheckpoints[key]?.rawValue, broker.cleanerStats)
        }
    }

    @Test func theCleanerCompactsATopicAndTheLogReopensCompacted() throws {
        let h = try BrokerHarness(overrides: ["log.cleaner.backoff.ms=20"])
        // Written as a delete topic, then switched to compact (IncrementalAlterConfigs).
        try createTopic(h, "cfg", configs: ["cleanup.policy": "delete", "segment.bytes": "1024"])
        var newest: [String: String?] = [:]
        for i in 0..<150 {
            let key = "key-\(i % 9)"
            let value: String? = i % 11 == 5 ? nil : "value-\(i)"
            newest[key] = value
            try produce(h, "cfg", [(key, value)])
        }
        let produced = try readAll(h, "cfg")
        #expect(produced.count == 150)
        #expect(try state(h, "cfg").stats.cleans == 0)
        let answer = try alter(h, "cfg", ["cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.01",
                                          "delete.retention.ms": "3600000"])
        #expect(answer.errorCode == 0, "\(answer.errorMessage ?? "")")
        // Bounded wait for a clean that reached the active segment (the cleaner polls every 20 ms).
        let deadline = Date().addingTimeInterval(30)
        var last = try state(h, "cfg")
        while Date() < deadline, last.checkpoint != last.active {
            Thread.sleep(forTimeInterval: 0.05)
            last = try state(h, "cfg")
        }
        #expect(last.checkpoint == last.active, "checkpoint \(String(describing: last.checkpoint)), active segment at \(last.active)")
        #expect(last.stats.cleans >= 1 && last.stats.failed == 0)
        let cleaned = try readAll(h, "cfg")
        #expect(Self.view(cleaned) == newest)
        #expect(cleaned.count < produced.count)
        let belowActive = cleaned.filter { $0.offset < last.active }.map(\.key)
        #expect(Set(belowActive).count == belowActive.count, "a key appears twice below the active segment")
        for record in cleaned { #expect(produced.contains { $0 == record }) }

        // The checkpoint file, in Kafka's format, and the log after a restart.
        try h.close()
        let text = try String(contentsOfFile: h.directory.path + "/cleaner-offset-checkpoint", encoding: .utf8)
        #expect(text == "0\n1\ncfg 0 \(last.active)\n")
        try h.open()
        #expect(try readAll(h, "cfg").map(\.offset) == cleaned.map(\.offset))
        #expect(try state(h, "cfg").checkpoint == last.active)
    }

    /// compact alone never deletes by time; compact,delete does (retention runs as for delete);
    /// IncrementalAlterConfigs switches a topic to compact.
    @Test func compactDeleteRunsRetentionAndCompactAloneDoesNot() throws {
        let h = try BrokerHarness(overrides: ["log.cleaner.enable=false"])
        let old: Int64 = 1_000  // 1970: older than any retention
        for (name, policy) in [("c", "compact"), ("cd", "compact,delete"), ("d", "delete")] {
            try createTopic(h, name, configs: ["cleanup.policy": policy, "segment.bytes": "1024", "retention.ms": "60000"])
            for i in 0..<40 { try produce(h, name, [("k\(i % 3)", "v\(i)")], timestamp: old) }
        }
        try h.onLoop { $0.applyRetention() }
        let starts = try h.onLoop { broker in
            ["c", "cd", "d"].map { broker.partitions[TopicPartition(TopicName($0), PartitionID(0))]!.logStartOffset.rawValue }
        }
        #expect(starts[0] == 0)
        #expect(starts[1] > 0 && starts[2] > 0)

        let answer = try alter(h, "d", ["cleanup.policy": "compact"])
        #expect(answer.errorCode == 0, "\(answer.errorMessage ?? "")")
        let policy = try h.onLoop { broker in LogConfigs.cleanupPolicy(broker.image.topic(TopicName("d"))!.configs, broker: broker.config) }
        #expect(policy.compact && !policy.delete)
    }
    /// D151: DeleteRecords on a log being cleaned stops the clean (nothing swapped, no file left,
    /// no checkpoint), and a truncation below the checkpoint lowers it in the file.
    @Test func aLogThatShrinksStopsItsCleanAndATruncationLowersTheCheckpoint() throws {
        // 100 kB/s: the clean of ~150 kB of log takes seconds.
        let h = try BrokerHarness(overrides: ["log.cleaner.backoff.ms=20", "log.cleaner.io.max.bytes.per.second=100000"])
        try createTopic(h, "slow", configs: ["cleanup.policy": "delete", "segment.bytes": "4096"])
        for i in 0..<150 { try produce(h, "slow", [("key-\(i % 4)", String(repeating: "v", count: 900))]) }
        let before = try readAll(h, "slow")
        let answer = try alter(h, "slow", ["cleanup.policy": "compact"])
        #expect(answer.errorCode == 0)
        let key = TopicPartition(TopicName("slow"), PartitionID(0))
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, try h.onLoop({ $0.cleaner?.busy.contains(key) }) != true { Thread.sleep(forTimeInterval: 0.01) }
        #expect(try h.onLoop { $0.cleaner?.busy.contains(key) } == true, "the clean never started")
        // DeleteRecords moves the log start past the first segment while the clean runs.
        let cut = before[20].offset
        try h.onLoop { broker in _ = try broker.partitions[key]!.moveLogStart(to: Offset(cut)) }
        while Date() < deadline, try h.onLoop({ $0.cleanerStats.aborted + $0.cleanerStats.cleans }) == 0 {
            Thread.sleep(forTimeInterval: 0.01)
        }
        let stats = try h.onLoop { $0.cleanerStats }
        #expect(stats.aborted == 1 && stats.cleans == 0 && stats.failed == 0, "\(stats)")
        #expect(try h.onLoop { $0.cleanerCheckpoints[key] } == nil)
        let partitionDir = try h.onLoop { $0.partitions[key]!.directory }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: partitionDir).filter { $0.hasSuffix(".cleaned") || $0.hasSuffix(".swap") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        #expect(try readAll(h, "slow").map(\.offset) == before.map(\.offset).filter { $0 >= cut })

        // A truncation below the checkpoint lowers it, in memory and in the file.
        try h.onLoop { broker in
            broker.cleanerCheckpoints[key] = Offset(120)
            broker.logShrunk(key, to: Offset(100))
        }
        #expect(try h.onLoop { $0.cleanerCheckpoints[key] } == Offset(100))
        let text = try String(contentsOfFile: h.directory.path + "/cleaner-offset-checkpoint", encoding: .utf8)
        #expect(text == "0\n1\nslow 0 100\n")
    }
}

