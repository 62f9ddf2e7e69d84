import Testing
import RunnelCore
@testable import ClusterMetadata

/// Dynamic config records (topic overrides and broker configs): the controller's diff, the
/// image they build, their encoding and their place in snapshots.
@Suite struct ConfigRecordTests {
    let controller = MetadataController(brokers: [BrokerID(1)])

    func withTopic(_ configs: [String: String] = [:]) throws -> MetadataImage {
        var ids = SeededRandom(seed: 7)
        let records = try controller.createTopic(name: "t", partitions: 1, replicationFactor: 1, configs: configs,
                                                 in: MetadataImage(), ids: &ids).get()
        return try MetadataImage().applying(records)
    }

    @Test func brokerConfigRecordRoundTripsItsEncoding() throws {
        let records: [MetadataRecord] = [
            .brokerConfig(resourceName: "", key: "log.retention.ms", value: "60000"),
            .brokerConfig(resourceName: "2", key: "message.max.bytes", value: nil),
        ]
        for record in records { #expect(try MetadataRecord.decode(record.encode()) == record) }
        #expect(try MetadataRecord.decodeBatch(MetadataRecord.encodeBatch(records)) == records)
        // Type 9, version 0, then the resource name.
        #expect(Array(records[0].encode().prefix(4)) == [9, 0, 0, 0])
    }

    @Test func setConfigsWritesOnlyTheKeysThatChange() throws {
        let image = try withTopic(["retention.ms": "1000", "segment.ms": "5000"])
        let records = try controller.setConfigs(.topic(TopicName("t")), to: ["retention.ms": "2000", "segment.ms": "5000",
                                                                              "max.message.bytes": "100"], in: image).get()
        #expect(records == [.config(topic: TopicName("t"), key: "max.message.bytes", value: "100"),
                            .config(topic: TopicName("t"), key: "retention.ms", value: "2000")])
        // Removing a key writes a null value, and the image forgets it.
        let removal = try controller.setConfigs(.topic(TopicName("t")), to: ["retention.ms": "1000"], in: image).get()
        #expect(removal == [.config(topic: TopicName("t"), key: "segment.ms", value: nil)])
        #expect(try image.applying(removal).topic(TopicName("t"))?.configs == ["retention.ms": "1000"])
        // No change, no record.
        #expect(try controller.setConfigs(.topic(TopicName("t")), to: image.topic(TopicName("t"))!.configs, in: image).get() == [])
    }

    @Test func unknownTopicIsRefused() throws {
        let result = controller.setConfigs(.topic(TopicName("nope")), to: ["retention.ms": "1"], in: MetadataImage())
        #expect(result == .failure(.init(.unknownTopicOrPartition, "Topic 'nope' does not exist.")))
    }

    @Test func brokerConfigsPerBrokerAndClusterDefault() throws {
        var image = MetadataImage()
        image = try image.applying(controller.setConfigs(.broker(nil), to: ["log.retention.ms": "1000"], in: image).get())
        image = try image.applying(controller.setConfigs(.broker(BrokerID(2)), to: ["message.max.bytes": "2048"], in: image).get())
        #expect(image.dynamicBrokerConfigs(for: BrokerID(2)).broker == ["message.max.bytes": "2048"])
        #expect(image.dynamicBrokerConfigs(for: BrokerID(2)).defaults == ["log.retention.ms": "1000"])
        #expect(image.dynamicBrokerConfigs(for: BrokerID(1)).broker == [:])
        // Deleting the last key of a resource drops the resource.
        image = try image.applying(controller.setConfigs(.broker(BrokerID(2)), to: [:], in: image).get())
        #expect(image.brokerConfigs.keys.sorted() == [""])
    }

    @Test func brokerConfigForANonBrokerResourceIsAnError() {
        #expect(throws: MetadataDecodeError.self) {
            try MetadataImage().applying(.brokerConfig(resourceName: "orders", key: "k", value: "v"))
        }
    }

    @Test func snapshotsKeepDynamicConfigs() throws {
        var image = try withTopic(["retention.ms": "1000"])
        image = try image.applying([.brokerConfig(resourceName: "", key: "min.insync.replicas", value: "2"),
                                    .brokerConfig(resourceName: "1", key: "log.segment.bytes", value: "1048576")])
        let restored = try MetadataImage.decodeSnapshot(image.encodeSnapshot())
        #expect(restored == image)
        #expect(restored.brokerConfigs == ["": ["min.insync.replicas": "2"], "1": ["log.segment.bytes": "1048576"]])
    }

    @Test func uncleanElectionFollowsTheClusterDefault() throws {
        let image = try withTopic()
        #expect(!controller.uncleanAllowed(image.topic(TopicName("t")), image: image))
        let on = try image.applying(.brokerConfig(resourceName: "", key: "unclean.leader.election.enable", value: "true"))
        #expect(controller.uncleanAllowed(on.topic(TopicName("t")), image: on))
        // A topic override wins over the cluster default.
        let off = try on.applying(.config(topic: TopicName("t"), key: "unclean.leader.election.enable", value: "false"))
        #expect(!controller.uncleanAllowed(off.topic(TopicName("t")), image: off))
    }
}
