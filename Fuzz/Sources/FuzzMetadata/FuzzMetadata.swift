import ClusterMetadata
import FuzzMessages
import FuzzSupport
import KafkaMessages
import NIOCore
import Replication
import RunnelCore

/// What the controller quorum and the coordinators read back from their own logs and peers:
/// metadata records, record batches (a Raft entry's data) and snapshots, RunnelRaft messages,
/// the KRaft and group-coordinator record schemas (`__consumer_offsets` keys and values,
/// snapshot header/footer, voters), and a partition's `leader-epoch-checkpoint`.
///
/// Input: `kind` byte, then
/// - 0: one metadata record (`MetadataRecord.decode`);
/// - 1: a record batch (`MetadataRecord.decodeBatch`), then applied to an empty image;
/// - 2: a snapshot (`MetadataImage.decodeSnapshot`);
/// - 3: checkpoint text (`LeaderEpochCache(checkpointText:)`);
/// - 4: `schema` byte (an index into `dataSchemas`), `version` int16, then the message bytes;
/// - 5: `version` int16, then a RunnelRaft request body; 6: the same for the response.
///
/// Whatever decodes must survive encode → decode unchanged (generated schemas: encode → decode →
/// encode gives the same bytes).
@main
enum FuzzMetadata {
    static let dataSchemas: [any KafkaMessage.Type] = [
        ConsumerGroupCurrentMemberAssignmentKey.self, ConsumerGroupCurrentMemberAssignmentValue.self,
        ConsumerGroupMemberMetadataKey.self, ConsumerGroupMemberMetadataValue.self,
        ConsumerGroupMetadataKey.self, ConsumerGroupMetadataValue.self,
        ConsumerGroupPartitionMetadataKey.self, ConsumerGroupPartitionMetadataValue.self,
        ConsumerGroupTargetAssignmentMemberKey.self, ConsumerGroupTargetAssignmentMemberValue.self,
        ConsumerGroupTargetAssignmentMetadataKey.self, ConsumerGroupTargetAssignmentMetadataValue.self,
        ConsumerProtocolAssignment.self, ConsumerProtocolSubscription.self,
        GroupMetadataKey.self, GroupMetadataValue.self,
        KRaftVersionRecord.self, LeaderChangeMessage.self,
        OffsetCommitKey.self, OffsetCommitValue.self, ProducerSnapshot.self,
        SnapshotFooterRecord.self, SnapshotHeaderRecord.self,
        TransactionLogKey.self, TransactionLogValue.self, VotersRecord.self,
    ]

    static func main() {
        FuzzMain.run("FuzzMetadata", seeds: seeds) { bytes in
            var input = FuzzInput(bytes)
            switch input.byte() % 7 {
            case 0:
                guard let record = try? MetadataRecord.decode(Array(input.rest())) else { return }
                fuzzCheck(try? MetadataRecord.decode(record.encode()) == record, "metadata record round trip: \(record)")
            case 1:
                guard let records = try? MetadataRecord.decodeBatch(Array(input.rest())) else { return }
                fuzzCheck(try? MetadataRecord.decodeBatch(MetadataRecord.encodeBatch(records)) == records, "batch round trip")
                _ = try? MetadataImage().applying(records)
            case 2:
                guard let image = try? MetadataImage.decodeSnapshot(Array(input.rest())) else { return }
                fuzzCheck(try? MetadataImage.decodeSnapshot(image.encodeSnapshot()) == image, "snapshot round trip")
            case 3:
                let text = String(decoding: input.rest(), as: UTF8.self)
                guard let cache = try? LeaderEpochCache(checkpointText: text) else { return }
                fuzzCheck(try? LeaderEpochCache(checkpointText: cache.checkpointText) == cache, "epoch checkpoint round trip")
            case 4:
                let schema = dataSchemas[Int(input.byte()) % dataSchemas.count]
                let version = Int16(bitPattern: input.uint16())
                roundTrip(schema, ByteBuffer(bytes: input.rest()), version: version)
            case 5:
                let version = Int16(bitPattern: input.uint16())
                roundTrip(RunnelRaftRequest.self, ByteBuffer(bytes: input.rest()), version: version)
            default:
                let version = Int16(bitPattern: input.uint16())
                roundTrip(RunnelRaftResponse.self, ByteBuffer(bytes: input.rest()), version: version)
            }
        }
    }

    /// Records, batches and snapshots built with the production encoders; an epoch checkpoint as
    /// the cache writes it; RunnelRaft messages and the stored-record schemas at every version,
    /// with every field at its default.
    static func seeds() -> [(name: String, bytes: [UInt8])] {
        let topic = TopicID(high: 0x0123_4567_89AB_CDEF, low: 0x0FED_CBA9_8765_4321)
        let records: [MetadataRecord] = [
            .topic(name: TopicName("orders"), id: topic),
            .partition(PartitionState(topicID: topic, partition: PartitionID(0), replicas: [BrokerID(1), BrokerID(2), BrokerID(3)],
                                      isr: [BrokerID(1), BrokerID(2)], leader: BrokerID(1), leaderEpoch: LeaderEpoch(4),
                                      partitionEpoch: 7)),
            .config(topic: TopicName("orders"), key: "retention.ms", value: "1000"),
            .config(topic: TopicName("orders"), key: "cleanup.policy", value: nil),
            .producerIDs(nextProducerID: 1000),
            .registerBroker(BrokerRegistration(id: BrokerID(1), incarnation: topic, epoch: 12,
                                               listeners: [.init(name: "PLAINTEXT", host: "localhost", port: 9092)],
                                               rack: "r1", fenced: false, inControlledShutdown: false)),
            .brokerChange(id: BrokerID(1), epoch: 12, fenced: true, inControlledShutdown: nil),
            .unregisterBroker(id: BrokerID(2), epoch: 3),
            .brokerConfig(resourceName: "", key: "log.retention.ms", value: "60000"),
            .brokerConfig(resourceName: "1", key: "message.max.bytes", value: nil),
            .acl(id: topic, binding: AclBinding(resourceType: .topic, resourceName: "ord", patternType: .prefixed,
                                                principal: "User:alice", host: "*", operation: .read, permission: .allow)),
            .removeTopic(id: topic),
        ]
        var seeds: [(name: String, bytes: [UInt8])] = []
        for (i, record) in records.enumerated() { seeds.append(("record-\(i)", [0] + record.encode())) }
        seeds.append(("record-remove-acl", [0] + MetadataRecord.removeAcl(id: topic).encode()))
        let batch = Array(records.dropLast())
        seeds.append(("batch", [1] + MetadataRecord.encodeBatch(batch)))
        if let image = try? MetadataImage().applying(batch) {
            seeds.append(("snapshot", [2] + image.encodeSnapshot()))
        }
        seeds.append(("epoch-checkpoint", [3] + Array("0\n3\n0 0\n2 150\n5 3000\n".utf8)))
        for (index, schema) in dataSchemas.enumerated() {
            seeds.append(("schema-\(index)-\(schema)", [4, UInt8(index)] + encodedDefault(schema)))
        }
        seeds.append(("raft-request", [5] + encodedDefault(RunnelRaftRequest.self)))
        seeds.append(("raft-response", [6] + encodedDefault(RunnelRaftResponse.self)))
        return seeds
    }

    /// Version int16 + the default message at the newest valid version.
    static func encodedDefault<Message: KafkaMessage>(_: Message.Type) -> [UInt8] {
        let version = Message.validVersions.upperBound
        var buffer = ByteBuffer()
        buffer.writeInteger(version)
        Message().encode(into: &buffer, version: version)
        return Array(buffer.readableBytesView)
    }
}
