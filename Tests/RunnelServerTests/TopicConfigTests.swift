import Foundation
import KafkaMessages
import RunnelCore
import Testing
@testable import RunnelServer

/// Issue 15, items 2 and 4: every Kafka topic configuration is accepted with Kafka's types and
/// ranges, stored across restarts and described back; every described key has a value, with
/// Kafka's sources and synonyms. Driven through the wire format only.
@Suite struct TopicConfigTests {
    /// A non-default value for every topic key of Kafka 3.x/4.x, as an admin script or an
    /// infrastructure-as-code provider would send them.
    static let standardSet: [String: String] = [
        "cleanup.policy": "delete",
        "compression.type": "zstd",
        "compression.gzip.level": "6",
        "compression.lz4.level": "10",
        "compression.zstd.level": "-5",
        "delete.retention.ms": "3600000",
        "file.delete.delay.ms": "30000",
        "flush.messages": "10000",
        "flush.ms": "1000",
        "follower.replication.throttled.replicas": "0:1,1:1",
        "leader.replication.throttled.replicas": "*",
        "index.interval.bytes": "8192",
        "local.retention.bytes": "-2",
        "local.retention.ms": "-2",
        "max.compaction.lag.ms": "86400000",
        "max.message.bytes": "2097152",
        "message.downconversion.enable": "false",
        "message.format.version": "3.0-IV1",
        "message.timestamp.after.max.ms": "3600000",
        "message.timestamp.before.max.ms": "86400000",
        "message.timestamp.difference.max.ms": "86400000",
        "message.timestamp.type": "LogAppendTime",
        "min.cleanable.dirty.ratio": "0.25",
        "min.compaction.lag.ms": "60000",
        "min.insync.replicas": "1",
        "preallocate": "true",
        "remote.storage.enable": "false",
        "remote.log.copy.disable": "true",
        "remote.log.delete.on.disable": "true",
        "remote.copy.lag.ms": "-1",
        "remote.copy.lag.bytes": "1048576",
        "retention.bytes": "1073741824",
        "retention.ms": "86400000",
        "segment.bytes": "536870912",
        "segment.index.bytes": "5242880",
        "segment.jitter.ms": "1000",
        "segment.ms": "3600000",
        "unclean.leader.election.enable": "false",
    ]

    func create(_ h: BrokerHarness, _ name: String, _ configs: [String: String],
                validateOnly: Bool = false) throws -> CreateTopicsResponse.CreatableTopicResult {
        var topic = CreateTopicsRequest.CreatableTopic(name: name, numPartitions: 1, replicationFactor: 1)
        topic.configs = configs.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value) }
        var request = CreateTopicsRequest(topics: [topic])
        request.validateOnly = validateOnly
        return try #require(try h.send(request, version: 7)).topics[0]
    }

    func describe(_ h: BrokerHarness, type: Int8, _ name: String) throws -> [String: DescribeConfigsResponse.DescribeConfigsResourceResult] {
        var request = DescribeConfigsRequest(resources: [.init(resourceType: type, resourceName: name, configurationKeys: nil)])
        request.includeSynonyms = true
        request.includeDocumentation = true
        let result = try #require(try h.send(request, version: 4)).results[0]
        #expect(result.errorCode == 0, "\(result.errorMessage ?? "")")
        return Dictionary(uniqueKeysWithValues: result.configs.map { ($0.name, $0) })
    }

    @Test func everyKafkaTopicConfigIsAcceptedStoredAndDescribedAcrossARestart() throws {
        let h = try BrokerHarness()
        let dry = try create(h, "standard", Self.standardSet, validateOnly: true)
        #expect(dry.errorCode == 0, "\(dry.errorMessage ?? "")")
        let created = try create(h, "standard", Self.standardSet)
        #expect(created.errorCode == 0, "\(created.errorMessage ?? "")")
        let echoed = Dictionary(uniqueKeysWithValues: (created.configs ?? []).map { ($0.name, $0.value) })
        for (key, value) in Self.standardSet { #expect(echoed[key] == value, "CreateTopics echo of \(key)") }
        for round in ["before", "after"] {
            let described = try describe(h, type: 2, "standard")
            for (key, value) in Self.standardSet {
                #expect(described[key]?.value == value, "\(key) \(round) the restart")
                #expect(described[key]?.configSource == 1, "\(key) source")
                #expect(described[key]?.synonyms.first?.name == key && described[key]?.synonyms.first?.source == 1)
            }
            try h.close()
            try h.open()
        }
    }

    @Test func everyDescribedTopicAndBrokerKeyHasAValue() throws {
        let h = try BrokerHarness()
        #expect(try create(h, "plain", [:]).errorCode == 0)
        let topic = try describe(h, type: 2, "plain")
        #expect(topic.count >= Self.standardSet.count)
        for key in Self.standardSet.keys { #expect(topic[key] != nil, "DescribeConfigs lacks \(key)") }
        for (name, entry) in topic {
            #expect(entry.value != nil, "topic key \(name) has a null value")
            #expect(entry.isSensitive == false && entry.configSource == 5, "topic key \(name)")
        }
        #expect(topic["flush.ms"]?.value == "9223372036854775807")
        #expect(topic["flush.ms"]?.synonyms.map(\.name) == ["log.flush.scheduler.interval.ms"])
        #expect(topic["compression.type"]?.value == "producer")
        #expect(topic["min.cleanable.dirty.ratio"]?.value == "0.5" && topic["min.cleanable.dirty.ratio"]?.configType == 6)
        #expect(topic["segment.jitter.ms"]?.value == "0")
        #expect(topic["local.retention.ms"]?.value == "-2")
        // Kafka: a key without a broker synonym has no synonyms.
        #expect(topic["remote.storage.enable"]?.value == "false" && topic["remote.storage.enable"]?.synonyms.isEmpty == true)
        #expect(topic["segment.jitter.ms"]?.documentation?.contains("not yet in effect") == true)
        #expect(topic["compression.type"]?.documentation?.contains("not yet in effect") == false)

        let broker = try describe(h, type: 4, "1")
        for (name, entry) in broker {
            // Kafka's PASSWORD keys never have a value, and say they are sensitive.
            if SSLKeys.sensitive.contains(name) {
                #expect(entry.value == nil && entry.isSensitive, "broker key \(name)")
                continue
            }
            #expect(entry.value != nil, "broker key \(name) has a null value")
            // The harness sets log.dirs and listeners; log.dir and advertised.listeners fall back to them.
            let explicit = ["log.dirs", "listeners", "log.dir", "advertised.listeners"].contains(name)
            #expect(entry.configSource == (explicit ? 4 : 5), "broker key \(name) source \(entry.configSource)")
        }
        #expect(broker["log.flush.interval.ms"]?.value == "9223372036854775807")
        #expect(broker["log.retention.ms"]?.value == String(168 * 3_600_000))
        #expect(broker["log.retention.minutes"]?.value == String(168 * 60))
        #expect(broker["log.roll.ms"]?.value == String(168 * 3_600_000))
        #expect(broker["log.retention.ms"]?.synonyms.map(\.name) == ["log.retention.hours"])
    }

    /// Topic override → broker keys set by the operator → broker defaults, with Kafka's source codes.
    @Test func synonymsRunFromTheOverrideThroughTheBrokerKeysToTheDefault() throws {
        let h = try BrokerHarness(overrides: ["log.retention.hours=5", "compression.type=gzip"])
        #expect(try create(h, "over", ["retention.ms": "60000"]).errorCode == 0)
        let topic = try describe(h, type: 2, "over")
        let retention = try #require(topic["retention.ms"])
        #expect(retention.value == "60000" && retention.configSource == 1)
        #expect(retention.synonyms.map { "\($0.name)=\($0.value ?? "null")/\($0.source)" }
                == ["retention.ms=60000/1", "log.retention.hours=5/4", "log.retention.hours=168/5"])
        let compression = try #require(topic["compression.type"])
        #expect(compression.value == "gzip" && compression.configSource == 4)
        #expect(compression.synonyms.map { "\($0.name)=\($0.value ?? "null")/\($0.source)" }
                == ["compression.type=gzip/4", "compression.type=producer/5"])
        #expect(topic["segment.ms"]?.synonyms.map(\.name) == ["log.roll.hours"] && topic["segment.ms"]?.configSource == 5)

        // v0 has is_default instead of a source.
        var v0 = DescribeConfigsRequest(resources: [.init(resourceType: 2, resourceName: "over", configurationKeys: nil)])
        v0.includeSynonyms = false
        let old = try #require(try h.send(v0, version: 0)).results[0].configs
        #expect(old.first { $0.name == "retention.ms" }?.isDefault == false)
        #expect(old.first { $0.name == "compression.type" }?.isDefault == false)
        #expect(old.first { $0.name == "flush.ms" }.map { $0.isDefault && $0.value == "9223372036854775807" } == true)

        let broker = try describe(h, type: 4, "1")
        #expect(broker["log.retention.ms"]?.value == String(5 * 3_600_000) && broker["log.retention.ms"]?.configSource == 4)
        #expect(broker["log.retention.hours"]?.value == "5" && broker["log.retention.hours"]?.configSource == 4)
        #expect(broker["log.retention.hours"]?.synonyms.map(\.source) == [4, 5])
    }

    /// A bad value gets INVALID_CONFIG with a message naming the key, the value and what is allowed.
    @Test(arguments: [
        ("compression.type", "brotli", "zstd"),
        ("compression.gzip.level", "10", "1...9 or -1"),
        ("compression.lz4.level", "0", "1...17"),
        ("compression.zstd.level", "23", "-131072...22"),
        ("delete.retention.ms", "-1", ">= 0"),
        ("min.cleanable.dirty.ratio", "1.5", "0.0...1.0"),
        ("min.cleanable.dirty.ratio", "half", "a number"),
        ("preallocate", "yes", "true or false"),
        ("leader.replication.throttled.replicas", "0-1", "partition:broker"),
        ("message.format.version", "banana", "3.0-IV1"),
        ("local.retention.ms", "-3", ">= -2"),
        ("max.compaction.lag.ms", "0", ">= 1"),
        ("remote.copy.lag.ms", "-2", ">= -1"),
        ("segment.jitter.ms", "soon", "integer"),
        ("message.timestamp.type", "Now", "CreateTime, LogAppendTime"),
        ("unclean.leader.election.enable", "maybe", "true or false"),
    ])
    func badValuesAreRefusedWithTheirReason(key: String, value: String, allowed: String) throws {
        let h = try BrokerHarness()
        let result = try create(h, "bad", [key: value])
        #expect(result.errorCode == 40)
        for part in [key, value, allowed] {
            #expect(result.errorMessage?.contains(part) == true, "'\(result.errorMessage ?? "")' lacks '\(part)'")
        }
        #expect(try h.onLoop { $0.image.topic(TopicName("bad")) } == nil)
    }

    @Test func tieredStorageAndConflictingLagsAreRefused() throws {
        let h = try BrokerHarness()
        for policy in ["compact", "compact,delete"] {
            let r = try create(h, "c\(policy.count)", ["cleanup.policy": policy])
            #expect(r.errorCode == 0, "\(policy): \(r.errorMessage ?? "")")
        }
        let shred = try create(h, "c", ["cleanup.policy": "compact,shred"])
        #expect(shred.errorCode == 40 && shred.errorMessage?.contains("'shred' is not one of compact, delete") == true)
        let remote = try create(h, "c", ["remote.storage.enable": "true"])
        #expect(remote.errorCode == 40 && remote.errorMessage?.contains("tiered storage is not implemented") == true)
        let lags = try create(h, "c", ["min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"])
        #expect(lags.errorCode == 40 && lags.errorMessage?.contains("max.compaction.lag.ms") == true)
        let unknown = try create(h, "c", ["retention.hours": "1"])
        #expect(unknown.errorCode == 40 && unknown.errorMessage?.contains("retention.hours") == true)
    }
}
