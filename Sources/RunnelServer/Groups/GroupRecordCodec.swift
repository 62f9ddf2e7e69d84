import ClusterMetadata
import GroupCoordinator
import KafkaWire
import KafkaMessages
import NIOCore
import RunnelCore

/// Maps the coordinator's `GroupRecord`s onto Kafka's `__consumer_offsets` record format and back,
/// with the generated internal-topic types: key = int16 key version + key struct, value = int16
/// value version + value struct, or a null value for a tombstone (the table is in
/// GroupRecord.swift). The bytes are what Kafka writes, so tools that read the topic (and a
/// later compaction) see Kafka's records.
enum GroupRecordCodec {
    struct Encoded {
        var key: ByteBuffer
        var value: ByteBuffer?
    }

    enum DecodeError: Error, CustomStringConvertible {
        case unknownKeyVersion(Int16)
        case missingKey
        var description: String {
            switch self {
            case .unknownKeyVersion(let v): return "unknown __consumer_offsets key version \(v)"
            case .missingKey: return "__consumer_offsets record without a key"
            }
        }
    }

    static func encode(_ record: GroupRecord) -> Encoded {
        var key = ByteBuffer()
        key.writeInteger(record.keyVersion)
        var value: ByteBuffer? = nil
        func writeValue<M: KafkaMessage>(_ message: M, version: Int16) {
            var v = ByteBuffer()
            v.writeInteger(version)
            message.encode(into: &v, version: version)
            value = v
        }
        switch record {
        case .offsetCommit(let group, let tp, let commit):
            OffsetCommitKey(group: group, topic: tp.topic.rawValue, partition: tp.partition.rawValue).encode(into: &key, version: 1)
            if let c = commit {
                writeValue(OffsetCommitValue(offset: c.offset.rawValue, leaderEpoch: c.leaderEpoch.rawValue, metadata: c.metadata,
                                             commitTimestamp: c.commitTimestamp.rawValue), version: 3)
            }
        case .groupMetadata(let group, let meta):
            GroupMetadataKey(group: group).encode(into: &key, version: 2)
            if let m = meta {
                var v = GroupMetadataValue()
                v.protocolType = m.protocolType
                v.generation = m.generation
                v.protocol = m.protocol_
                v.leader = m.leader
                v.currentStateTimestamp = m.currentStateTimestamp.rawValue
                v.members = m.members.map {
                    GroupMetadataValue.MemberMetadata(memberId: $0.memberID, groupInstanceId: $0.groupInstanceID, clientId: $0.clientID,
                                                      clientHost: $0.clientHost, rebalanceTimeout: $0.rebalanceTimeoutMs,
                                                      sessionTimeout: $0.sessionTimeoutMs, subscription: $0.subscription,
                                                      assignment: $0.assignment)
                }
                writeValue(v, version: 3)
            }
        case .consumerGroupMetadata(let group, let epoch):
            ConsumerGroupMetadataKey(groupId: group).encode(into: &key, version: 3)
            if let epoch { writeValue(ConsumerGroupMetadataValue(epoch: epoch), version: 0) }
        case .consumerGroupPartitionMetadata(let group, let topics):
            ConsumerGroupPartitionMetadataKey(groupId: group).encode(into: &key, version: 4)
            if let topics {
                writeValue(ConsumerGroupPartitionMetadataValue(topics: topics.map {
                    ConsumerGroupPartitionMetadataValue.TopicMetadata(topicId: $0.id, topicName: $0.name.rawValue,
                                                                      numPartitions: $0.partitionCount, partitionMetadata: [])
                }), version: 0)
            }
        case .consumerGroupMemberMetadata(let group, let member, let meta):
            ConsumerGroupMemberMetadataKey(groupId: group, memberId: member).encode(into: &key, version: 5)
            if let m = meta {
                var v = ConsumerGroupMemberMetadataValue()
                v.instanceId = m.instanceID
                v.rackId = m.rackID
                v.clientId = m.clientID
                v.clientHost = m.clientHost
                v.subscribedTopicNames = m.subscribedTopicNames.map(\.rawValue)
                v.subscribedTopicRegex = m.subscribedTopicRegex
                v.rebalanceTimeoutMs = m.rebalanceTimeoutMs
                v.serverAssignor = m.serverAssignor
                writeValue(v, version: 0)
            }
        case .consumerGroupTargetAssignmentMetadata(let group, let epoch):
            ConsumerGroupTargetAssignmentMetadataKey(groupId: group).encode(into: &key, version: 6)
            if let epoch { writeValue(ConsumerGroupTargetAssignmentMetadataValue(assignmentEpoch: epoch), version: 0) }
        case .consumerGroupTargetAssignmentMember(let group, let member, let assignment):
            ConsumerGroupTargetAssignmentMemberKey(groupId: group, memberId: member).encode(into: &key, version: 7)
            if let a = assignment {
                writeValue(ConsumerGroupTargetAssignmentMemberValue(topicPartitions: a.topics.map {
                    .init(topicId: $0.topicID, partitions: $0.partitions.map(\.rawValue))
                }), version: 0)
            }
        case .consumerGroupCurrentMemberAssignment(let group, let member, let current):
            ConsumerGroupCurrentMemberAssignmentKey(groupId: group, memberId: member).encode(into: &key, version: 8)
            if let c = current {
                func wire(_ a: PartitionAssignment) -> [ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions] {
                    a.topics.map { .init(topicId: $0.topicID, partitions: $0.partitions.map(\.rawValue)) }
                }
                writeValue(ConsumerGroupCurrentMemberAssignmentValue(
                    memberEpoch: c.memberEpoch, previousMemberEpoch: c.previousMemberEpoch, state: c.state.rawValue,
                    assignedPartitions: wire(c.assignedPartitions),
                    partitionsPendingRevocation: wire(c.partitionsPendingRevocation)), version: 0)
            }
        }
        return Encoded(key: key, value: value)
    }

    static func decode(key: ByteBuffer?, value: ByteBuffer?) throws -> GroupRecord {
        guard var key else { throw DecodeError.missingKey }
        let keyVersion = try key.readKafkaInt16(field: "keyVersion")
        var value = value
        var valueVersion: Int16 = 0
        if value != nil { valueVersion = try value!.readKafkaInt16(field: "valueVersion") }
        func decodeValue<M: KafkaMessage>(_: M.Type) throws -> M? {
            guard value != nil else { return nil }
            return try M(from: &value!, version: valueVersion)
        }
        func assignment(_ topics: [(TopicID, [Int32])]) -> PartitionAssignment {
            PartitionAssignment(topics.map { TopicIDPartitions(topicID: $0.0, partitions: $0.1.map { PartitionID($0) }) })
        }
        switch keyVersion {
        case 0, 1:
            let k = try OffsetCommitKey(from: &key, version: keyVersion)
            let v = try decodeValue(OffsetCommitValue.self)
            return .offsetCommit(group: k.group, TopicPartition(topic: TopicName(k.topic), partition: PartitionID(k.partition)),
                                 v.map { .init(offset: Offset($0.offset), leaderEpoch: LeaderEpoch($0.leaderEpoch),
                                               metadata: $0.metadata, commitTimestamp: TimestampMs($0.commitTimestamp)) })
        case 2:
            let k = try GroupMetadataKey(from: &key, version: 2)
            let v = try decodeValue(GroupMetadataValue.self)
            return .groupMetadata(group: k.group, v.map { v in
                .init(protocolType: v.protocolType, generation: v.generation, protocol_: v.protocol, leader: v.leader,
                      currentStateTimestamp: TimestampMs(v.currentStateTimestamp), members: v.members.map {
                          .init(memberID: $0.memberId, groupInstanceID: $0.groupInstanceId, clientID: $0.clientId,
                                clientHost: $0.clientHost, rebalanceTimeoutMs: $0.rebalanceTimeout,
                                sessionTimeoutMs: $0.sessionTimeout, subscription: $0.subscription, assignment: $0.assignment)
                      })
            })
        case 3:
            let k = try ConsumerGroupMetadataKey(from: &key, version: 3)
            return .consumerGroupMetadata(group: k.groupId, epoch: try decodeValue(ConsumerGroupMetadataValue.self)?.epoch)
        case 4:
            let k = try ConsumerGroupPartitionMetadataKey(from: &key, version: 4)
            let v = try decodeValue(ConsumerGroupPartitionMetadataValue.self)
            return .consumerGroupPartitionMetadata(group: k.groupId, v.map { v in
                v.topics.map { TopicInfo(name: TopicName($0.topicName), id: $0.topicId, partitionCount: $0.numPartitions) }
            })
        case 5:
            let k = try ConsumerGroupMemberMetadataKey(from: &key, version: 5)
            let v = try decodeValue(ConsumerGroupMemberMetadataValue.self)
            return .consumerGroupMemberMetadata(group: k.groupId, memberID: k.memberId, v.map { v in
                .init(instanceID: v.instanceId, rackID: v.rackId, clientID: v.clientId, clientHost: v.clientHost,
                      subscribedTopicNames: v.subscribedTopicNames.map { TopicName($0) }, subscribedTopicRegex: v.subscribedTopicRegex,
                      rebalanceTimeoutMs: v.rebalanceTimeoutMs, serverAssignor: v.serverAssignor)
            })
        case 6:
            let k = try ConsumerGroupTargetAssignmentMetadataKey(from: &key, version: 6)
            return .consumerGroupTargetAssignmentMetadata(
                group: k.groupId, assignmentEpoch: try decodeValue(ConsumerGroupTargetAssignmentMetadataValue.self)?.assignmentEpoch)
        case 7:
            let k = try ConsumerGroupTargetAssignmentMemberKey(from: &key, version: 7)
            let v = try decodeValue(ConsumerGroupTargetAssignmentMemberValue.self)
            return .consumerGroupTargetAssignmentMember(group: k.groupId, memberID: k.memberId,
                                                        v.map { assignment($0.topicPartitions.map { ($0.topicId, $0.partitions) }) })
        case 8:
            let k = try ConsumerGroupCurrentMemberAssignmentKey(from: &key, version: 8)
            let v = try decodeValue(ConsumerGroupCurrentMemberAssignmentValue.self)
            return .consumerGroupCurrentMemberAssignment(group: k.groupId, memberID: k.memberId, v.map { v in
                .init(memberEpoch: v.memberEpoch, previousMemberEpoch: v.previousMemberEpoch,
                      state: ConsumerMemberState(rawValue: v.state) ?? .stable,
                      assignedPartitions: assignment(v.assignedPartitions.map { ($0.topicId, $0.partitions) }),
                      partitionsPendingRevocation: assignment(v.partitionsPendingRevocation.map { ($0.topicId, $0.partitions) }))
            })
        default:
            throw DecodeError.unknownKeyVersion(keyVersion)
        }
    }
}
