import Foundation
import KafkaMessages
import RunnelCore
import Testing
@testable import RunnelServer

@Suite struct AdminTests {
    func create(_ h: BrokerHarness, _ topics: [CreateTopicsRequest.CreatableTopic], validateOnly: Bool = false,
                version: Int16 = 7) throws -> [CreateTopicsResponse.CreatableTopicResult] {
        var r = CreateTopicsRequest(topics: topics)
        r.validateOnly = validateOnly
        return try #require(try h.send(r, version: version)).topics
    }

    @Test func createTopicsReportsWhatItCreatedAndRefusesWithReasons() throws {
        let h = try BrokerHarness()
        var t = CreateTopicsRequest.CreatableTopic(name: "orders", numPartitions: 3, replicationFactor: 1)
        t.configs = [.init(name: "retention.ms", value: "60000")]
        let created = try create(h, [t])
        #expect(created[0].errorCode == 0 && created[0].numPartitions == 3 && created[0].topicId != .zero)
        #expect(created[0].configs?.first { $0.name == "retention.ms" }?.value == "60000")
        #expect(try create(h, [t])[0].errorCode == 36)
        let rf3 = try create(h, [.init(name: "x", numPartitions: 1, replicationFactor: 3)])[0]
        #expect(rf3.errorCode == 38 && rf3.errorMessage?.contains("Replication factor 3") == true)
        var badConfig = CreateTopicsRequest.CreatableTopic(name: "y", numPartitions: 1, replicationFactor: 1)
        badConfig.configs = [.init(name: "cleanup.policy", value: "compress")]
        #expect(try create(h, [badConfig])[0].errorCode == 40)
        #expect(try create(h, [.init(name: "bad name", numPartitions: 1, replicationFactor: 1)])[0].errorCode == 17)
        let defaults = try create(h, [.init(name: "dflt", numPartitions: -1, replicationFactor: -1)])[0]
        #expect(defaults.errorCode == 0 && defaults.numPartitions == 1)
    }

    @Test func validateOnlyCreatesNothing() throws {
        let h = try BrokerHarness()
        let r = try create(h, [.init(name: "dry", numPartitions: 2, replicationFactor: 1)], validateOnly: true)
        #expect(r[0].errorCode == 0 && r[0].numPartitions == 2)
        #expect(try h.onLoop { $0.image.topic(TopicName("dry")) } == nil)
        #expect(try h.onLoop { $0.partitions.isEmpty })
    }

    @Test func deleteTopicsRemovesTheData() throws {
        let h = try BrokerHarness()
        _ = try create(h, [.init(name: "gone", numPartitions: 2, replicationFactor: 1)])
        let dir = h.directory.path + "/gone-0"
        #expect(FileManager.default.fileExists(atPath: dir))
        let r = try #require(try h.send(DeleteTopicsRequest(topicNames: ["gone", "never"]), version: 4))
        #expect(r.responses.map(\.errorCode) == [0, 3])
        #expect(!FileManager.default.fileExists(atPath: dir))
        #expect(!FileManager.default.fileExists(atPath: h.directory.path + "/gone-1"))
        try h.close()
        try h.open()
        #expect(try h.onLoop { $0.image.topic(TopicName("gone")) } == nil)
    }

    @Test func deleteByTopicID() throws {
        let h = try BrokerHarness()
        let id = try create(h, [.init(name: "byid", numPartitions: 1, replicationFactor: 1)])[0].topicId
        let r = try #require(try h.send(DeleteTopicsRequest(topics: [.init(name: nil, topicId: id)]), version: 6))
        #expect(r.responses[0].errorCode == 0 && r.responses[0].name == "byid")
    }

    @Test func createPartitionsGrowsATopic() throws {
        let h = try BrokerHarness()
        _ = try create(h, [.init(name: "grow", numPartitions: 1, replicationFactor: 1)])
        let r = try #require(try h.send(CreatePartitionsRequest(topics: [.init(name: "grow", count: 4, assignments: nil)]), version: 3))
        #expect(r.results[0].errorCode == 0)
        let shrink = try #require(try h.send(CreatePartitionsRequest(topics: [.init(name: "grow", count: 2, assignments: nil)]), version: 3))
        #expect(shrink.results[0].errorCode == 37)
        #expect(try h.onLoop { $0.image.topic(TopicName("grow"))?.partitions.count } == 4)
        #expect(FileManager.default.fileExists(atPath: h.directory.path + "/grow-3"))
    }

    @Test func describeConfigsShowsSourcesForTopicsAndBroker() throws {
        let h = try BrokerHarness(overrides: ["log.retention.hours=5"])
        var t = CreateTopicsRequest.CreatableTopic(name: "c", numPartitions: 1, replicationFactor: 1)
        t.configs = [.init(name: "segment.bytes", value: "1048576")]
        _ = try create(h, [t])
        var request = DescribeConfigsRequest(resources: [
            .init(resourceType: 2, resourceName: "c", configurationKeys: nil),
            .init(resourceType: 4, resourceName: "1", configurationKeys: ["log.retention.hours", "num.partitions"]),
            .init(resourceType: 2, resourceName: "missing", configurationKeys: nil),
        ])
        request.includeSynonyms = true
        let r = try #require(try h.send(request, version: 4))
        let topic = Dictionary(uniqueKeysWithValues: r.results[0].configs.map { ($0.name, $0) })
        #expect(topic["segment.bytes"]?.value == "1048576" && topic["segment.bytes"]?.configSource == 1)
        #expect(topic["retention.ms"]?.value == String(5 * 3_600_000) && topic["retention.ms"]?.configSource == 4)
        #expect(topic["max.message.bytes"]?.configSource == 5)
        let broker = Dictionary(uniqueKeysWithValues: r.results[1].configs.map { ($0.name, $0) })
        #expect(broker.count == 2)
        #expect(broker["log.retention.hours"]?.value == "5" && broker["num.partitions"]?.configSource == 5)
        #expect(r.results[2].errorCode == 3)
    }
}
