import Testing
import RunnelCore
@testable import ClusterMetadata

@Suite struct MetadataTests {
    let controller = MetadataController(brokers: [BrokerID(1)])

    func apply(_ records: [MetadataRecord], to image: MetadataImage) throws -> MetadataImage {
        var image = image
        for r in records {
            // Every record survives its own encoding.
            #expect(try MetadataRecord.decode(r.encode()) == r)
            image = try image.applying(r)
        }
        return image
    }

    @Test func createTopicAssignsStableIDAndPartitions() throws {
        var ids = SeededRandom(seed: 1)
        let records = try controller.createTopic(name: "orders", partitions: 3, replicationFactor: 1,
                                                 configs: ["retention.ms": "1000"], in: MetadataImage(), ids: &ids).get()
        let image = try apply(records, to: MetadataImage())
        let topic = try #require(image.topic(TopicName("orders")))
        #expect(topic.partitions.map(\.partition) == [PartitionID(0), PartitionID(1), PartitionID(2)])
        #expect(topic.partitions.allSatisfy { $0.leader == BrokerID(1) && $0.isr == [BrokerID(1)] })
        #expect(topic.configs == ["retention.ms": "1000"])
        #expect(image.topic(id: topic.id)?.name == TopicName("orders"))
        #expect(topic.id != .zero)
    }

    @Test func refusals() throws {
        var ids = SeededRandom(seed: 2)
        let image = try apply(controller.createTopic(name: "t", partitions: 1, replicationFactor: 1, configs: [:],
                                                     in: MetadataImage(), ids: &ids).get(), to: MetadataImage())
        #expect(controller.createTopic(name: "t", partitions: 1, replicationFactor: 1, configs: [:], in: image, ids: &ids)
            .failureCode == 36)
        #expect(controller.createTopic(name: "bad name", partitions: 1, replicationFactor: 1, configs: [:], in: image, ids: &ids)
            .failureCode == 17)
        #expect(controller.createTopic(name: "u", partitions: 0, replicationFactor: 1, configs: [:], in: image, ids: &ids)
            .failureCode == 37)
        #expect(controller.createTopic(name: "u", partitions: 1, replicationFactor: 3, configs: [:], in: image, ids: &ids)
            .failureCode == 38)
        #expect(controller.createPartitions(topic: "t", totalCount: 1, in: image, random: &ids).failureCode == 37)
        #expect(controller.deleteTopic(name: "nope", in: image).failureCode == 3)
    }

    @Test func createPartitionsAndDelete() throws {
        var ids = SeededRandom(seed: 3)
        var image = try apply(controller.createTopic(name: "t", partitions: 1, replicationFactor: 1, configs: [:],
                                                     in: MetadataImage(), ids: &ids).get(), to: MetadataImage())
        image = try apply(controller.createPartitions(topic: "t", totalCount: 4, in: image, random: &ids).get(), to: image)
        #expect(image.topic(TopicName("t"))?.partitions.count == 4)
        let id = try #require(image.topic(TopicName("t"))?.id)
        image = try apply(controller.deleteTopic(name: "t", in: image).get(), to: image)
        #expect(image.topic(TopicName("t")) == nil)
        #expect(image.topic(id: id) == nil)
    }

    @Test func producerIDsNeverRepeat() throws {
        var image = MetadataImage()
        let (first, record) = controller.allocateProducerIDs(count: 1, in: image)
        image = try image.applying(record)
        let (second, _) = controller.allocateProducerIDs(count: 1, in: image)
        #expect(first == 0 && second == 1)
    }

    /// Metadata logs written before partition epochs existed (version 0 partition records) still
    /// replay: the partition epoch reads as 0.
    @Test func versionZeroPartitionRecordsStillDecode() throws {
        let state = PartitionState(topicID: TopicID(high: 1, low: 2), partition: PartitionID(3), replicas: [BrokerID(1)],
                                   isr: [BrokerID(1)], leader: BrokerID(1), leaderEpoch: LeaderEpoch(4), partitionEpoch: 9)
        var v0 = MetadataRecord.partition(state).encode()
        #expect(v0[1] == 1)
        v0[1] = 0
        v0.removeLast(4)   // version 0 had no partition epoch
        var expected = state
        expected.partitionEpoch = 0
        #expect(try MetadataRecord.decode(v0) == .partition(expected))
        var v2 = MetadataRecord.partition(state).encode()
        v2[1] = 2
        #expect(throws: MetadataDecodeError.self) { try MetadataRecord.decode(v2) }
    }

    @Test func brokerChangeForAnEarlierRegistrationIsVoid() throws {
        let endpoint = BrokerRegistration.Endpoint(name: "PLAINTEXT", host: "h", port: 1)
        var image = try MetadataImage().applying(.registerBroker(BrokerRegistration(
            id: BrokerID(1), incarnation: TopicID(high: 0, low: 1), epoch: 5, listeners: [endpoint], rack: nil)))
        image = try image.applying(.brokerChange(id: BrokerID(1), epoch: 4, fenced: false, inControlledShutdown: nil))
        #expect(image.broker(BrokerID(1))?.fenced == true)
        image = try image.applying(.brokerChange(id: BrokerID(1), epoch: 5, fenced: false, inControlledShutdown: nil))
        #expect(image.broker(BrokerID(1))?.fenced == false)
        #expect(image.usableBrokers == [BrokerID(1)])
    }

    @Test func corruptRecordsAreErrorsNotCrashes() {
        let good = MetadataRecord.config(topic: TopicName("t"), key: "k", value: "v").encode()
        for cut in 0..<good.count {
            #expect(throws: MetadataDecodeError.self) { try MetadataRecord.decode(Array(good[0..<cut])) }
        }
        #expect(throws: MetadataDecodeError.self) { try MetadataRecord.decode([99, 0]) }
    }

    /// Found by FuzzMetadata (Fuzz/corpus/FuzzMetadata/regression-negative-partition): a partition
    /// record with partition -1, in a metadata log batch or a snapshot, trapped with an index out
    /// of range while the image was rebuilt at start. It is an error now, like every other
    /// inconsistent record.
    @Test func partitionRecordWithNegativePartitionIsAnError() throws {
        let id = TopicID(high: 1, low: 2)
        let partition = PartitionState(topicID: id, partition: PartitionID(-1), replicas: [BrokerID(1)], isr: [BrokerID(1)],
                                       leader: BrokerID(1), leaderEpoch: LeaderEpoch(0))
        let batch = MetadataRecord.encodeBatch([.topic(name: TopicName("t"), id: id), .partition(partition)])
        let records = try MetadataRecord.decodeBatch(batch)
        #expect(throws: MetadataDecodeError.self) { try MetadataImage().applying(records) }
        var snapshot: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 9]  // taken at metadata offset 9
        snapshot += batch
        #expect(throws: MetadataDecodeError.self) { try MetadataImage.decodeSnapshot(snapshot) }
    }
}

extension Result where Failure == MetadataController.Refusal {
    var failureCode: Int16? { if case .failure(let r) = self { return r.code.rawValue } else { return nil } }
}
