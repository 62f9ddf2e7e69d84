import Foundation
import KafkaWire
import NIOCore
import RunnelClient
import RunnelCore
import RunnelTesting
import Testing

/// RunnelClient against a real broker process.
@Suite(.enabled(if: RunnelBinary.exists, "needs the runnel binary (RUNNEL_BIN or .build/debug/runnel)"))
struct ClientIntegrationTests {
    @Test func adminRoundTrip() async throws {
        try await withBroker { broker in
            try await withClient(broker) { client in
                let topic = uniqueTopic("admin")
                let created = try await client.createTopic(topic, partitions: 3, replicationFactor: 1,
                                                           configs: ["retention.ms": "3600000"])
                #expect(created.partitions == 3)
                #expect(try await client.listTopics().map(\.name.rawValue).contains(topic))

                let description = try await client.describeTopic(topic)
                #expect(description.metadata.partitions.map(\.id.rawValue) == [0, 1, 2])
                for partition in description.metadata.partitions {
                    #expect(partition.leader != nil)
                    #expect(partition.replicas.count == 1)
                    #expect(partition.isr == partition.replicas)
                }
                let retention = description.configs.first { $0.name == "retention.ms" }
                #expect(retention?.value == "3600000")
                #expect(retention?.isDefault == false)

                do {
                    try await client.createTopic(topic, partitions: 1)
                    Issue.record("creating an existing topic succeeded")
                } catch let error as KafkaClientError {
                    #expect(error.kafkaCode == .topicAlreadyExists)
                }

                try await client.createPartitions(topic, totalCount: 4)
                #expect(try await client.topicMetadata(topic, refresh: true).partitionCount == 4)

                try await client.deleteTopics([topic])
                do {
                    _ = try await client.describeTopic(topic)
                    Issue.record("describing a deleted topic succeeded")
                } catch let error as KafkaClientError {
                    #expect(error == .unknownTopicOrPartition(topic: topic, partition: nil))
                }
            }
        }
    }

    @Test func keyedGzipRecordsLandOnMurmurPartitionsAndRoundTrip() async throws {
        try await withBroker { broker in
            try await withClient(broker) { client in
                let topic = uniqueTopic("keyed")
                try await client.createTopic(topic, partitions: 3, replicationFactor: 1)
                var config = ProducerConfig()
                config.compression = .gzip
                config.acks = .all
                let producer = try await KafkaProducer(client: client, config: config)
                var handles: [(String, DeliveryHandle)] = []
                for index in 0..<300 {
                    let key = "key-\(index % 17)"
                    let handle = try await producer.send(topic: topic, key: ByteBuffer(string: key),
                                                         value: ByteBuffer(string: "value-\(index)"),
                                                         headers: [RecordHeader(key: "i", bytes: Array("\(index)".utf8))])
                    handles.append((key, handle))
                }
                try await producer.close()
                var perPartition: [PartitionID: Int] = [:]
                for (key, handle) in handles {
                    let metadata = try await handle.get()
                    let expected = Array(key.utf8).withUnsafeBytes { Partitioner.partition(forKey: $0, partitionCount: 3) }
                    #expect(metadata.partition.rawValue == expected)
                    #expect(metadata.offset != nil)
                    perPartition[metadata.partition, default: 0] += 1
                }

                let consumer = KafkaConsumer(client: client)
                try await consumer.assign(topic: topic, at: .beginning)
                var seen: [String: String] = [:]
                var offsets: [PartitionID: [Int64]] = [:]
                var polls = 0
                while seen.count < 300 && polls < 50 {
                    polls += 1
                    for record in try await consumer.poll() {
                        let value = String(buffer: record.value!)
                        seen[value] = String(buffer: record.key!)
                        offsets[record.partition, default: []].append(record.offset.rawValue)
                        #expect(record.headers.first?.key == "i")
                    }
                }
                #expect(seen.count == 300)
                #expect(seen["value-20"] == "key-3")
                for (partition, list) in offsets {
                    #expect(list == Array(0..<Int64(perPartition[partition] ?? 0)), "partition \(partition)")
                }
            }
        }
    }

    @Test(arguments: [Acks.none, Acks.leader, Acks.all])
    func everyAcksSettingDelivers(acks: Acks) async throws {
        try await withBroker { broker in
            try await withClient(broker) { client in
                let topic = uniqueTopic("acks")
                try await client.createTopic(topic, partitions: 1, replicationFactor: 1)
                var config = ProducerConfig()
                config.acks = acks
                config.batchBytes = 1024  // several batches, pipelined
                let producer = try await KafkaProducer(client: client, config: config)
                var last: DeliveryHandle?
                for index in 0..<500 {
                    last = try await producer.send(topic: topic, key: nil, value: ByteBuffer(string: "record-\(index)"))
                }
                try await producer.close()
                let delivered = try await last!.get()
                #expect(delivered.offset == (acks == .none ? nil : Offset(499)))
                // acks=all is answered once the high watermark passed the records; with 0 and 1
                // the answer comes first and the records are readable once fsynced (D64).
                var end = try await client.listOffsets(topic: topic, spec: .latest)
                let deadline = ContinuousClock.now + .seconds(10)
                while acks != .all, end.map(\.offset) != [Offset(500)], ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                    end = try await client.listOffsets(topic: topic, spec: .latest)
                }
                #expect(end.map(\.offset) == [Offset(500)])
            }
        }
    }

    @Test func idempotentProducerWritesContiguousOffsets() async throws {
        try await withBroker { broker in
            try await withClient(broker) { client in
                let topic = uniqueTopic("idem")
                try await client.createTopic(topic, partitions: 1, replicationFactor: 1)
                var config = ProducerConfig()
                config.idempotent = true
                config.batchBytes = 512
                let producer = try await KafkaProducer(client: client, config: config)
                var handles: [DeliveryHandle] = []
                for index in 0..<200 {
                    handles.append(try await producer.send(topic: topic, key: nil, value: ByteBuffer(string: "r\(index)")))
                }
                try await producer.close()
                var offsets: [Int64] = []
                for handle in handles { offsets.append(try await handle.get().offset!.rawValue) }
                #expect(offsets == Array(0..<200))
            }
        }
    }

    @Test func consumerStartsAtTimestamp() async throws {
        try await withBroker { broker in
            try await withClient(broker) { client in
                let topic = uniqueTopic("time")
                try await client.createTopic(topic, partitions: 1, replicationFactor: 1)
                let producer = try await KafkaProducer(client: client)
                for index in 0..<10 {
                    try await producer.send(topic: topic, key: nil, value: ByteBuffer(string: "v\(index)"),
                                            timestamp: TimestampMs(1_000_000 + Int64(index) * 1000))
                }
                try await producer.close()
                let listed = try await client.listOffsets(topic: topic, spec: .timestamp(TimestampMs(1_004_500)))
                #expect(listed.first?.offset == Offset(5))
                let consumer = KafkaConsumer(client: client)
                try await consumer.assign(topic: topic, at: .timestamp(TimestampMs(1_007_000)))
                var values: [String] = []
                for _ in 0..<10 where values.count < 3 {
                    values += try await consumer.poll().map { String(buffer: $0.value!) }
                }
                #expect(values == ["v7", "v8", "v9"])
                #expect(consumer.isAtEnd)
            }
        }
    }

    @Test func outOfRangeOffsetResetsToTheEnd() async throws {
        try await withBroker { broker in
            try await withClient(broker) { client in
                let topic = uniqueTopic("range")
                try await client.createTopic(topic, partitions: 1, replicationFactor: 1)
                let producer = try await KafkaProducer(client: client)
                for index in 0..<3 { try await producer.send(topic: topic, key: nil, value: ByteBuffer(string: "v\(index)")) }
                try await producer.close()
                var config = ConsumerConfig()
                config.offsetReset = .latest
                config.maxWaitMs = 50
                let consumer = KafkaConsumer(client: client, config: config)
                try await consumer.assign(topic: topic, at: .offset(Offset(1000)))
                #expect(try await consumer.poll().isEmpty)
                #expect(consumer.position(topic: topic, partition: PartitionID(0)) == Offset(3))
            }
        }
    }

    @Test func unreachableBrokerIsNamedWithItsCause() async throws {
        let port = try freeLoopbackPort()
        let client = try KafkaClient(bootstrapServers: "127.0.0.1:\(port)")
        defer { Task { await client.shutdown() } }
        do {
            _ = try await client.listTopics()
            Issue.record("listTopics succeeded without a broker")
        } catch let error as KafkaClientError {
            #expect(error.description == "broker unreachable: 127.0.0.1:\(port) (connection refused)")
        }
    }

    @Test func unknownTopicIsReportedByProducerAndConsumer() async throws {
        try await withBroker { broker in
            try await withClient(broker) { client in
                let producer = try await KafkaProducer(client: client)
                await #expect(throws: KafkaClientError.unknownTopicOrPartition(topic: "missing", partition: nil)) {
                    try await producer.send(topic: "missing", key: nil, value: ByteBuffer(string: "x"))
                }
                let consumer = KafkaConsumer(client: client)
                await #expect(throws: KafkaClientError.unknownTopicOrPartition(topic: "missing", partition: nil)) {
                    try await consumer.assign(topic: "missing", at: .beginning)
                }
            }
        }
    }
}
