import ClusterMetadata
import Foundation
import KafkaMessages
import KafkaWire
import NIOCore
import RunnelCore
import Testing
@testable import RunnelServer

/// Issue 13, "Configuration at runtime", on one in-process broker through the wire format:
/// IncrementalAlterConfigs/AlterConfigs for topics and brokers, DescribeConfigs sources and
/// synonyms, changes taking effect on the logs without a restart and surviving one;
/// DeleteRecords, ListOffsets v7/v8 and DescribeLogDirs.
@Suite struct DynamicConfigTests {

    /// The cleaner's I/O budget is a dynamic broker key, as in Kafka: a running broker's throttle
    /// takes the new rate, and deleting the key goes back to the static value (D151, D103).
    @Test func theCleanersBudgetChangesAtRunTime() throws {
        let h = try BrokerHarness(overrides: ["log.cleaner.io.max.bytes.per.second=1000000"])
        #expect(try h.onLoop { $0.cleaner?.throttle.bytesPerSecond } == 1_000_000)
        #expect(try alter(h, type: 4, "", [("log.cleaner.io.max.bytes.per.second", 0, "2.5E7")]).errorCode == 0)
        #expect(try h.onLoop { $0.cleaner?.throttle.bytesPerSecond } == 25_000_000)
        #expect(try alter(h, type: 4, "", [("log.cleaner.io.max.bytes.per.second", 1, nil)]).errorCode == 0)
        #expect(try h.onLoop { $0.cleaner?.throttle.bytesPerSecond } == 1_000_000)
        // The other cleaner keys stay static.
        #expect(try alter(h, type: 4, "", [("log.cleaner.threads", 0, "2")]).errorCode == KafkaErrorCode.invalidRequest.rawValue)
    }
    static let invalidConfig: Int16 = 40
    static let invalidRequest: Int16 = 42

    // MARK: Helpers

    func createTopic(_ h: BrokerHarness, _ name: String, configs: [String: String] = [:]) throws {
        var t = CreateTopicsRequest.CreatableTopic(name: name, numPartitions: 1, replicationFactor: 1)
        t.configs = configs.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value) }
        let r = try #require(try h.send(CreateTopicsRequest(topics: [t]), version: 7))
        #expect(r.topics.first?.errorCode == 0, "\(r.topics.first?.errorMessage ?? "")")
    }

    /// One IncrementalAlterConfigs resource; ops are (key, operation, value).
    func alter(_ h: BrokerHarness, type: Int8, _ name: String, _ ops: [(String, Int8, String?)],
               validateOnly: Bool = false) throws -> IncrementalAlterConfigsResponse.AlterConfigsResourceResponse {
        var resource = IncrementalAlterConfigsRequest.AlterConfigsResource()
        resource.resourceType = type
        resource.resourceName = name
        resource.configs = ops.map { .init(name: $0.0, configOperation: $0.1, value: $0.2) }
        var request = IncrementalAlterConfigsRequest()
        request.resources = [resource]
        request.validateOnly = validateOnly
        return try #require(try h.send(request, version: 1)?.responses.first)
    }

    func describe(_ h: BrokerHarness, type: Int8, _ name: String) throws -> [String: DescribeConfigsResponse.DescribeConfigsResourceResult] {
        var request = DescribeConfigsRequest(resources: [.init(resourceType: type, resourceName: name, configurationKeys: nil)])
        request.includeSynonyms = true
        let result = try #require(try h.send(request, version: 4)).results[0]
        #expect(result.errorCode == 0, "\(result.errorMessage ?? "")")
        return Dictionary(uniqueKeysWithValues: result.configs.map { ($0.name, $0) })
    }

    func synonyms(_ entry: DescribeConfigsResponse.DescribeConfigsResourceResult?) -> [String] {
        entry?.synonyms.map { "\($0.name)=\($0.value ?? "null")/\($0.source)" } ?? []
    }

    func produce(_ h: BrokerHarness, _ topic: String, timestamp: Int64, values: [String] = ["v"]) throws -> Int64 {
        var b = RecordBatchBuilder()
        for v in values { b.append(timestamp: TimestampMs(timestamp), key: nil, value: ByteBuffer(string: v)) }
        let request = ProduceRequest(transactionalId: nil, acks: -1, timeoutMs: 5000, topicData: [
            .init(name: topic, partitionData: [.init(index: 0, records: b.finish())]),
        ])
        let answer = try #require(try h.send(request, version: 9)?.responses.first?.partitionResponses.first)
        #expect(answer.errorCode == 0)
        return answer.baseOffset
    }

    func partitionState(_ h: BrokerHarness, _ topic: String) throws -> (start: Int64, segments: Int, end: Int64) {
        try h.onLoop { broker in
            let p = broker.partitions[TopicPartition(TopicName(topic), PartitionID(0))]!
            return (p.logStartOffset.rawValue, p.segmentCount, p.logEndOffset.rawValue)
        }
    }

    func listOffset(_ h: BrokerHarness, _ topic: String, timestamp: Int64, version: Int16) throws -> ListOffsetsResponse.ListOffsetsPartitionResponse {
        var request = ListOffsetsRequest()
        request.replicaId = -1
        request.topics = [.init(name: topic, partitions: [.init(partitionIndex: 0, timestamp: timestamp)])]
        return try #require(try h.send(request, version: version)?.topics.first?.partitions.first)
    }

    func deleteRecords(_ h: BrokerHarness, _ topic: String, before offset: Int64) throws -> DeleteRecordsResponse.DeleteRecordsPartitionResult {
        var request = DeleteRecordsRequest()
        request.topics = [.init(name: topic, partitions: [.init(partitionIndex: 0, offset: offset)])]
        request.timeoutMs = 5000
        return try #require(try h.send(request, version: 2)?.topics.first?.partitions.first)
    }

    /// Polls `condition` every 50 ms for at most `seconds`.
    func eventually(seconds: Double = 15, _ condition: () throws -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return try condition()
    }

    static var nowMs: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: Resolution (no broker)

    @Test func dynamicLayersComeBeforeTheStaticOnesInKafkaOrder() throws {
        let c = try BrokerConfig(overrides: ["log.retention.hours=5"])
            .withDynamic(broker: ["log.retention.ms": "1000"], defaults: ["log.retention.ms": "2000", "message.max.bytes": "4096"])
        let chain = BrokerKeys.chain(of: "log.retention.ms")
        #expect(c.synonymValues(chain).map { "\($0.synonym.name)=\($0.value)/\($0.source.rawValue)" }
                == ["log.retention.ms=1000/dynamic", "log.retention.ms=2000/dynamic default",
                    "log.retention.hours=5/override", "log.retention.hours=168/default"])
        #expect(c.resolve(chain) == "1000")
        #expect(c.int("message.max.bytes") == 4096)
        #expect(LogConfigs.forTopic([:], broker: c).retentionMs == 1000)
        // A topic override still wins.
        #expect(LogConfigs.forTopic(["retention.ms": "5"], broker: c).retentionMs == 5)
    }

    @Test func onlyThePrimaryBrokerSynonymsOfTopicKeysAreDynamic() {
        let dynamic = ConfigAlteration.dynamicBrokerKeys
        for key in ["log.retention.ms", "log.retention.bytes", "log.segment.bytes", "log.roll.ms", "message.max.bytes",
                    "min.insync.replicas", "unclean.leader.election.enable", "compression.type"] {
            #expect(dynamic.contains(key), "\(key) should be dynamic")
        }
        for key in ["log.retention.hours", "num.partitions", "node.id", "listeners", "log.dirs", "log.message.format.version"] {
            #expect(!dynamic.contains(key), "\(key) should be static")
        }
    }

    @Test func incrementalChangesAndTheirRefusals() throws {
        let c = try BrokerConfig()
        let t = ConfigResource.topic(TopicName("t"))
        #expect(ConfigAlteration.target(t, current: ["retention.ms": "1"], changes: [("segment.ms", .set("100")), ("retention.ms", .delete)],
                                        replace: false, broker: c) == .success(["segment.ms": "100"]))
        #expect(ConfigAlteration.target(t, current: ["retention.ms": "1"], changes: [("segment.ms", .set("100"))],
                                        replace: true, broker: c) == .success(["segment.ms": "100"]))
        // APPEND/SUBTRACT on a list key, from its effective value.
        #expect(ConfigAlteration.target(t, current: [:], changes: [("leader.replication.throttled.replicas", .append("0:1"))],
                                        replace: false, broker: c) == .success(["leader.replication.throttled.replicas": "0:1"]))
        guard case .failure(let notList) = ConfigAlteration.target(t, current: [:], changes: [("retention.ms", .append("5"))],
                                                                   replace: false, broker: c) else { Issue.record("APPEND on a number"); return }
        #expect(notList.code == .invalidConfig && notList.message.contains("retention.ms"))
        guard case .failure(let twice) = ConfigAlteration.target(t, current: [:], changes: [("retention.ms", .set("5")), ("retention.ms", .delete)],
                                                                 replace: false, broker: c) else { Issue.record("duplicate key"); return }
        #expect(twice.code == .invalidRequest)
        guard case .failure(let bad) = ConfigAlteration.target(.broker(nil), current: [:], changes: [("log.segment.bytes", .set("12"))],
                                                               replace: false, broker: c) else { Issue.record("bad value"); return }
        #expect(bad.code == .invalidConfig && bad.message.contains("log.segment.bytes") && bad.message.contains("'12'")
                && bad.message.contains("1024"), "\(bad.message)")
    }

    // MARK: One broker, through the wire

    @Test func topicChangesTakeEffectOnTheLogWithoutARestart() throws {
        let h = try BrokerHarness(overrides: ["log.retention.check.interval.ms=100"])
        try createTopic(h, "r")
        let base = Self.nowMs - 60_000
        _ = try produce(h, "r", timestamp: base)
        // segment.ms from the default (7 days) to 1 ms: every later batch, 10 ms of record time
        // apart, rolls a segment.
        #expect(try alter(h, type: 2, "r", [("segment.ms", 0, "1")]).errorCode == 0)
        for i in 1...4 { _ = try produce(h, "r", timestamp: base + Int64(i) * 10) }
        #expect(try partitionState(h, "r").segments == 5)
        // Retention from 7 days to 1 s: the sealed segments (a minute old) go at the next check.
        #expect(try alter(h, type: 2, "r", [("retention.ms", 0, "1000")]).errorCode == 0)
        #expect(try eventually { try partitionState(h, "r").start == 4 })
        #expect(try partitionState(h, "r").segments == 1)
        let described = try describe(h, type: 2, "r")
        #expect(described["retention.ms"]?.value == "1000" && described["retention.ms"]?.configSource == 1)
        #expect(synonyms(described["retention.ms"]).first == "retention.ms=1000/1")

        // max.message.bytes takes effect on the next produce.
        #expect(try alter(h, type: 2, "r", [("max.message.bytes", 0, "100")]).errorCode == 0)
        var b = RecordBatchBuilder()
        b.append(timestamp: TimestampMs(Self.nowMs), key: nil, value: ByteBuffer(string: String(repeating: "x", count: 500)))
        let request = ProduceRequest(transactionalId: nil, acks: -1, timeoutMs: 5000, topicData: [
            .init(name: "r", partitionData: [.init(index: 0, records: b.finish())]),
        ])
        #expect(try h.send(request, version: 9)?.responses.first?.partitionResponses.first?.errorCode == KafkaErrorCode.messageTooLarge.rawValue)
    }

    @Test func brokerConfigsResolveAndSurviveARestart() throws {
        let h = try BrokerHarness()
        try createTopic(h, "b")
        #expect(try alter(h, type: 4, "", [("log.retention.ms", 0, "7200000")]).errorCode == 0)
        var topic = try describe(h, type: 2, "b")
        #expect(topic["retention.ms"]?.value == "7200000" && topic["retention.ms"]?.configSource == 3)
        #expect(synonyms(topic["retention.ms"]) == ["log.retention.ms=7200000/3", "log.retention.hours=168/5"])

        #expect(try alter(h, type: 4, "1", [("log.retention.ms", 0, "3600000"), ("message.max.bytes", 0, "2048")]).errorCode == 0)
        topic = try describe(h, type: 2, "b")
        #expect(topic["retention.ms"]?.value == "3600000" && topic["retention.ms"]?.configSource == 2)
        #expect(synonyms(topic["retention.ms"]) == ["log.retention.ms=3600000/2", "log.retention.ms=7200000/3", "log.retention.hours=168/5"])
        #expect(topic["max.message.bytes"]?.value == "2048" && topic["max.message.bytes"]?.configSource == 2)

        let defaults = try describe(h, type: 4, "")
        #expect(defaults.keys.sorted() == ["log.retention.ms"])
        #expect(defaults["log.retention.ms"]?.configSource == 3 && defaults["log.retention.ms"]?.readOnly == false)
        var broker = try describe(h, type: 4, "1")
        #expect(broker["log.retention.ms"]?.value == "3600000" && broker["log.retention.ms"]?.configSource == 2)
        #expect(broker["log.retention.ms"]?.readOnly == false && broker["num.partitions"]?.readOnly == true)
        #expect(try h.onLoop { $0.config.int("message.max.bytes") } == 2048)

        try h.close()
        try h.open()
        broker = try describe(h, type: 4, "1")
        #expect(broker["log.retention.ms"]?.value == "3600000" && broker["log.retention.ms"]?.configSource == 2)
        #expect(try describe(h, type: 2, "b")["retention.ms"]?.value == "3600000")
        #expect(try h.onLoop { broker in
            broker.partitions[TopicPartition(TopicName("b"), PartitionID(0))]!.logConfigForTests.retentionMs
        } == 3_600_000)

        // Deleting the per-broker value falls back to the cluster-wide one.
        #expect(try alter(h, type: 4, "1", [("log.retention.ms", 1, nil)]).errorCode == 0)
        #expect(try describe(h, type: 2, "b")["retention.ms"]?.configSource == 3)
    }

    @Test func badChangesAreRefusedPerResourceAndValidateOnlyChangesNothing() throws {
        let h = try BrokerHarness()
        try createTopic(h, "v")
        let bad = try alter(h, type: 2, "v", [("retention.ms", 0, "-7")])
        #expect(bad.errorCode == Self.invalidConfig)
        #expect(bad.errorMessage?.contains("retention.ms") == true && bad.errorMessage?.contains("'-7'") == true
                && bad.errorMessage?.contains("-1") == true, "\(bad.errorMessage ?? "")")
        let unknown = try alter(h, type: 2, "v", [("retention.hours", 0, "1")])
        #expect(unknown.errorCode == Self.invalidConfig && unknown.errorMessage?.contains("retention.hours") == true)
        let static_ = try alter(h, type: 4, "1", [("num.partitions", 0, "3")])
        #expect(static_.errorCode == Self.invalidRequest && static_.errorMessage?.contains("num.partitions") == true)
        let missing = try alter(h, type: 2, "nope", [("retention.ms", 0, "1")])
        #expect(missing.errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        let badBroker = try alter(h, type: 4, "x", [("log.retention.ms", 0, "1")])
        #expect(badBroker.errorCode == Self.invalidRequest)

        #expect(try alter(h, type: 2, "v", [("retention.ms", 0, "5000")], validateOnly: true).errorCode == 0)
        #expect(try describe(h, type: 2, "v")["retention.ms"]?.configSource != 1)
        #expect(try alter(h, type: 2, "v", [("retention.ms", 0, "-7")], validateOnly: true).errorCode == Self.invalidConfig)

        // AlterConfigs replaces the whole set; one bad resource does not stop the other.
        #expect(try alter(h, type: 2, "v", [("retention.ms", 0, "5000"), ("segment.ms", 0, "60000")]).errorCode == 0)
        var request = AlterConfigsRequest()
        request.resources = [
            .init(resourceType: 2, resourceName: "v", configs: [.init(name: "segment.ms", value: "120000")]),
            .init(resourceType: 4, resourceName: "1", configs: [.init(name: "message.max.bytes", value: "ten")]),
        ]
        let answers = try #require(try h.send(request, version: 2)).responses
        #expect(answers.map(\.errorCode) == [0, Self.invalidConfig])
        let topic = try describe(h, type: 2, "v")
        #expect(topic["segment.ms"]?.value == "120000" && topic["segment.ms"]?.configSource == 1)
        #expect(topic["retention.ms"]?.configSource != 1)
    }

    @Test func deleteRecordsMovesTheLogStartAndKeepsItAcrossARestart() throws {
        let h = try BrokerHarness()
        try createTopic(h, "d", configs: ["segment.ms": "1"])
        let base = Self.nowMs
        for i in 0..<5 { _ = try produce(h, "d", timestamp: base + Int64(i) * 10, values: ["a", "b"]) }
        #expect(try partitionState(h, "d").segments == 5)
        let moved = try deleteRecords(h, "d", before: 5)
        #expect(moved.errorCode == 0 && moved.lowWatermark == 5)
        // The segments wholly below offset 5 (offsets 0-1 and 2-3) are gone.
        #expect(try partitionState(h, "d") == (5, 3, 10))
        #expect(try listOffset(h, "d", timestamp: -2, version: 7).offset == 5)
        // Below the current start: no change; above the high watermark: OFFSET_OUT_OF_RANGE.
        #expect(try deleteRecords(h, "d", before: 2).lowWatermark == 5)
        #expect(try deleteRecords(h, "d", before: 11).errorCode == KafkaErrorCode.offsetOutOfRange.rawValue)
        try h.close()
        try h.open()
        #expect(try partitionState(h, "d").start == 5)
        // -1 is the high watermark.
        #expect(try deleteRecords(h, "d", before: -1).lowWatermark == 10)
        #expect(try listOffset(h, "d", timestamp: -2, version: 7).offset == 10)
    }

    @Test func listOffsetsMaxTimestampAndEarliestLocal() throws {
        let h = try BrokerHarness()
        try createTopic(h, "m")
        #expect(try listOffset(h, "m", timestamp: -3, version: 7).offset == -1)
        _ = try produce(h, "m", timestamp: 5_000)
        _ = try produce(h, "m", timestamp: 9_000, values: ["x", "y"])
        _ = try produce(h, "m", timestamp: 7_000)
        let max = try listOffset(h, "m", timestamp: -3, version: 7)
        #expect(max.errorCode == 0 && max.offset == 1 && max.timestamp == 9_000)
        #expect(try listOffset(h, "m", timestamp: -4, version: 8).offset == 0)
        _ = try deleteRecords(h, "m", before: 3)
        #expect(try listOffset(h, "m", timestamp: -4, version: 8).offset == 3)
        #expect(try h.send(ApiVersionsRequest(), version: 3)?.apiKeys.first { $0.apiKey == 2 }?.maxVersion == 8)
    }

    @Test func describeLogDirsReportsEachPartitionsSize() throws {
        let h = try BrokerHarness()
        try createTopic(h, "s")
        _ = try produce(h, "s", timestamp: Self.nowMs, values: ["one", "two", "three"])
        var all = DescribeLogDirsRequest()
        all.topics = nil
        for version: Int16 in [1, 4] {
            let answer = try #require(try h.send(all, version: version))
            let dir = try #require(answer.results.first)
            #expect(answer.results.count == 1 && dir.errorCode == 0)
            #expect(dir.logDir == URL(fileURLWithPath: h.directory.path).standardizedFileURL.path)
            let partition = try #require(dir.topics.first { $0.name == "s" }?.partitions.first)
            let size = try h.onLoop { $0.partitions[TopicPartition(TopicName("s"), PartitionID(0))]!.sizeBytes }
            #expect(size > 0 && partition.partitionSize == Int64(size) && partition.offsetLag == 0)
            if version >= 4 { #expect(dir.totalBytes > 0 && dir.usableBytes >= 0) }
        }
        var only = DescribeLogDirsRequest()
        only.topics = [.init(topic: "absent", partitions: [0])]
        #expect(try h.send(only, version: 4)?.results.first?.topics.isEmpty == true)
    }
}
