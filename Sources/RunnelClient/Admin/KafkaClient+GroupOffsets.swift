import KafkaMessages
import RunnelCore

/// A group's committed offsets: read (OffsetFetch), set (OffsetCommit), delete (OffsetDelete),
/// and compared with the partitions' ends (lag). `GroupConsumer` commits through the same
/// calls with its member id and epoch.
extension KafkaClient {
    /// The committed offsets of `group`: of every partition it has committed when `topics`
    /// is nil, else of every partition of those topics (partitions without a commit are left
    /// out). Sorted by topic and partition.
    public func committedOffsets(group: String, topics: [String]? = nil) async throws -> [CommittedOffset] {
        var partitions: [String: [PartitionID]]?
        if let topics {
            var named: [String: [PartitionID]] = [:]
            for topic in topics { named[topic] = try await topicPartitions(topic, nil) }
            partitions = named
        }
        return try await fetchCommittedOffsets(group: group, partitions: partitions, member: nil)
    }

    /// Sets committed offsets as an administrator would (OffsetCommit with generation / member
    /// epoch -1 and no member id). Kafka accepts this only while the group has no members;
    /// otherwise the coordinator refuses (UNKNOWN_MEMBER_ID, or REBALANCE_IN_PROGRESS /
    /// ILLEGAL_GENERATION for classic groups). A group that does not exist is created holding
    /// only these offsets.
    public func alterOffsets(group: String, offsets: [String: [PartitionID: Offset]]) async throws {
        try await commitOffsets(group: group, memberId: "", generationIdOrMemberEpoch: -1, offsets: offsets)
    }

    /// Deletes the committed offsets of `topic` (all its partitions when `partitions` is nil)
    /// from `group`. Kafka refuses (GROUP_SUBSCRIBED_TO_TOPIC) while a member subscribes to it.
    public func deleteOffsets(group: String, topic: String, partitions: [PartitionID]? = nil) async throws {
        let partitions = try await topicPartitions(topic, partitions)
        let context = "delete offsets of \(topic) from group \(group)"
        try await withCoordinatorRetries(group: group, context: context) {
            let (response, _) = try await sendToCoordinator(group: group) { _ in
                OffsetDeleteRequest(groupId: group, topics: [
                    OffsetDeleteRequest.OffsetDeleteRequestTopic(
                        name: topic, partitions: partitions.map { OffsetDeleteRequest.OffsetDeleteRequestPartition(partitionIndex: $0.rawValue) }),
                ])
            }
            let code = KafkaErrorCode(response.errorCode)
            try checkCoordinatorError(code, group: group, context: context)
            guard code == .none else { throw KafkaClientError.kafka(code: code, message: nil, context: context) }
            for topicResult in response.topics {
                for partition in topicResult.partitions where partition.errorCode != 0 {
                    throw KafkaClientError.kafka(code: KafkaErrorCode(partition.errorCode), message: nil,
                                                 context: "\(context) (\(topicResult.name)[\(partition.partitionIndex)])")
                }
            }
        }
    }

    /// Committed offset, end offset and lag of every partition `description`'s group has
    /// committed or its members own (see `GroupPartitionLag.rows`). Topics that no longer
    /// exist get no end offset.
    public func groupLag(_ description: GroupDescription) async throws -> [GroupPartitionLag] {
        let committed = try await committedOffsets(group: description.groupId)
        var partitionsByTopic: [String: Set<PartitionID>] = [:]
        for entry in committed { partitionsByTopic[entry.topic, default: []].insert(entry.partition) }
        for member in description.members {
            for (topic, partitions) in member.assignment { partitionsByTopic[topic, default: []].formUnion(partitions) }
        }
        var ends: [String: [PartitionID: Offset]] = [:]
        for (topic, partitions) in partitionsByTopic.sorted(by: { $0.key < $1.key }) {
            do {
                let existing = try await topicMetadata(topic).partitions.map(\.id)
                let asked = partitions.filter { existing.contains($0) }.sorted()
                guard !asked.isEmpty else { continue }
                for listed in try await listOffsets(topic: topic, partitions: asked, spec: .latest) {
                    if let offset = listed.offset { ends[topic, default: [:]][listed.partition] = offset }
                }
            } catch let error as KafkaClientError where error.kafkaCode == .unknownTopicOrPartition {
                continue
            }
        }
        return GroupPartitionLag.rows(committed: committed, logEndOffsets: ends, members: description.members)
    }

    // MARK: Shared with GroupConsumer

    /// OffsetFetch. `partitions` nil: everything the group committed. With `member` (a
    /// KIP-848 member's id and epoch) it needs OffsetFetch v9, which the coordinator checks
    /// against the member's epoch (STALE_MEMBER_EPOCH when behind).
    func fetchCommittedOffsets(group: String, partitions: [String: [PartitionID]]?,
                               member: (id: String, epoch: Int32)?) async throws -> [CommittedOffset] {
        let context = "fetch committed offsets of group \(group)"
        let topicNames = partitions.map { $0.keys.sorted() }
        return try await withCoordinatorRetries(group: group, context: context) {
            let (response, version) = try await sendToCoordinator(group: group) { version in
                if member != nil && version < 9 {
                    throw KafkaClientError.unsupportedAPI(address: "coordinator of group \(group)", api: "OffsetFetch v9",
                                                          brokerVersions: "up to v\(version)")
                }
                var request = OffsetFetchRequest()
                if version >= 8 {
                    request.groupId = ""
                    request.topics = []
                    request.groups = [OffsetFetchRequest.OffsetFetchRequestGroup(
                        groupId: group, memberId: member?.id, memberEpoch: member?.epoch ?? -1,
                        topics: topicNames.map { names in
                            names.map { OffsetFetchRequest.OffsetFetchRequestTopics(name: $0, partitionIndexes: partitions![$0]!.map(\.rawValue)) }
                        })]
                } else {
                    request.groupId = group
                    request.topics = topicNames.map { names in
                        names.map { OffsetFetchRequest.OffsetFetchRequestTopic(name: $0, partitionIndexes: partitions![$0]!.map(\.rawValue)) }
                    }
                }
                return request
            }
            var entries: [(String, Int32, Int64, Int32, String?, Int16)] = []
            if version >= 8 {
                guard let result = response.groups.first(where: { $0.groupId == group }) ?? response.groups.first else {
                    throw KafkaClientError.protocolViolation(address: "coordinator of group \(group)",
                                                             detail: "OffsetFetch response names no group")
                }
                let code = KafkaErrorCode(result.errorCode)
                try checkCoordinatorError(code, group: group, context: context)
                guard code == .none else { throw KafkaClientError.kafka(code: code, message: nil, context: context) }
                for topic in result.topics {
                    for p in topic.partitions {
                        entries.append((topic.name, p.partitionIndex, p.committedOffset, p.committedLeaderEpoch, p.metadata, p.errorCode))
                    }
                }
            } else {
                let code = KafkaErrorCode(response.errorCode)
                try checkCoordinatorError(code, group: group, context: context)
                guard code == .none else { throw KafkaClientError.kafka(code: code, message: nil, context: context) }
                for topic in response.topics {
                    for p in topic.partitions {
                        entries.append((topic.name, p.partitionIndex, p.committedOffset, p.committedLeaderEpoch, p.metadata, p.errorCode))
                    }
                }
            }
            var offsets: [CommittedOffset] = []
            for (topic, partition, offset, epoch, metadata, errorCode) in entries {
                let code = KafkaErrorCode(errorCode)
                try checkCoordinatorError(code, group: group, context: context)
                guard code == .none else {
                    throw KafkaClientError.kafka(code: code, message: nil, context: "\(context) (\(topic)[\(partition)])")
                }
                guard offset >= 0 else { continue }  // -1: nothing committed
                offsets.append(CommittedOffset(topic: topic, partition: PartitionID(partition), offset: Offset(offset),
                                               leaderEpoch: LeaderEpoch(epoch), metadata: metadata))
            }
            return offsets.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
        }
    }

    /// OffsetCommit. A KIP-848 member passes its member id and epoch (needs v9); an admin
    /// passes "" and -1. The first partition error is thrown (STALE_MEMBER_EPOCH,
    /// UNKNOWN_MEMBER_ID, … as `.kafka`); coordinator errors are retried.
    func commitOffsets(group: String, memberId: String, generationIdOrMemberEpoch: Int32,
                       offsets: [String: [PartitionID: Offset]], requireMemberEpochs: Bool = false) async throws {
        guard offsets.values.contains(where: { !$0.isEmpty }) else { return }
        let context = "commit offsets of group \(group)"
        try await withCoordinatorRetries(group: group, context: context) {
            let (response, _) = try await sendToCoordinator(group: group) { version in
                if requireMemberEpochs && version < 9 {
                    throw KafkaClientError.unsupportedAPI(address: "coordinator of group \(group)", api: "OffsetCommit v9",
                                                          brokerVersions: "up to v\(version)")
                }
                var request = OffsetCommitRequest(groupId: group, generationIdOrMemberEpoch: generationIdOrMemberEpoch,
                                                  memberId: memberId, groupInstanceId: nil)
                request.topics = offsets.keys.sorted().compactMap { topic in
                    let partitions = offsets[topic]!.sorted { $0.key < $1.key }
                    guard !partitions.isEmpty else { return nil }
                    return OffsetCommitRequest.OffsetCommitRequestTopic(name: topic, partitions: partitions.map { partition, offset in
                        OffsetCommitRequest.OffsetCommitRequestPartition(partitionIndex: partition.rawValue,
                                                                          committedOffset: offset.rawValue,
                                                                          committedLeaderEpoch: -1, committedMetadata: "")
                    })
                }
                return request
            }
            for topic in response.topics {
                for partition in topic.partitions where partition.errorCode != 0 {
                    let code = KafkaErrorCode(partition.errorCode)
                    try checkCoordinatorError(code, group: group, context: context)
                    throw KafkaClientError.kafka(code: code, message: nil, context: "\(context) (\(topic.name)[\(partition.partitionIndex)])")
                }
            }
        }
    }
}
