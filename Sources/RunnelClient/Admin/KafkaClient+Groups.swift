import KafkaMessages
import NIOCore
import RunnelCore

/// Group admin calls: list (ListGroups, every broker), describe (ConsumerGroupDescribe for
/// KIP-848 groups, DescribeGroups for classic ones), delete (DeleteGroups). Offsets are in
/// `KafkaClient+GroupOffsets`.
extension KafkaClient {
    /// Every group the cluster's brokers coordinate, sorted by id. `states` and `types` filter
    /// on the broker (ListGroups v4+ and v5+; ignored by older brokers).
    public func listGroups(states: [String] = [], types: [String] = []) async throws -> [GroupListing] {
        if metadata.brokers.isEmpty { _ = try await refreshMetadata(topics: []) }
        let brokers = metadata.brokers.keys.sorted()
        var byId: [String: GroupListing] = [:]
        for broker in brokers {
            let listed = try await withRetries {
                let (response, _) = try await send(.broker(broker)) { version in
                    ListGroupsRequest(statesFilter: version >= 4 ? states : [], typesFilter: version >= 5 ? types : [])
                }
                let code = KafkaErrorCode(response.errorCode)
                guard code == .none else {
                    throw KafkaClientError.kafka(code: code, message: nil, context: "list groups on broker \(broker)")
                }
                return response.groups
            }
            for group in listed {
                byId[group.groupId] = GroupListing(groupId: group.groupId, state: group.groupState,
                                                   protocolType: group.protocolType, type: group.groupType)
            }
        }
        return byId.values.sorted { $0.groupId < $1.groupId }
    }

    /// A group's state, protocol and members with their partitions. A group the coordinator
    /// does not know comes back with state "Dead" (`exists` false), as Kafka reports it.
    public func describeGroup(_ groupId: String) async throws -> GroupDescription {
        let offersConsumer = try await coordinatorOffers(.consumerGroupDescribe, group: groupId)
        if offersConsumer, let described = try await describeConsumerGroup(groupId) {
            return described
        }
        // A broker with only the KIP-848 APIs: not a consumer group means no group at all.
        if offersConsumer, !(try await coordinatorOffers(.describeGroups, group: groupId)) {
            return GroupDescription(groupId: groupId, state: "Dead", groupProtocol: .consumer, protocolType: "",
                                    assignor: "", members: [])
        }
        return try await describeClassicGroup(groupId)
    }

    /// Deletes groups (which must be empty: NON_EMPTY_GROUP otherwise) with their committed
    /// offsets. Throws the first group's error, naming the group.
    public func deleteGroups(_ groupIds: [String]) async throws {
        for groupId in groupIds {
            let context = "delete group \(groupId)"
            try await withCoordinatorRetries(group: groupId, context: context) {
                let (response, _) = try await sendToCoordinator(group: groupId) { _ in
                    DeleteGroupsRequest(groupsNames: [groupId])
                }
                guard let result = response.results.first(where: { $0.groupId == groupId }) else {
                    throw KafkaClientError.protocolViolation(address: "coordinator of group \(groupId)",
                                                             detail: "DeleteGroups response does not name group \(groupId)")
                }
                let code = KafkaErrorCode(result.errorCode)
                try checkCoordinatorError(code, group: groupId, context: context)
                guard code == .none else { throw KafkaClientError.kafka(code: code, message: nil, context: context) }
            }
        }
    }

    /// true when the coordinator of `group` advertises a version of `api` this client speaks.
    func coordinatorOffers(_ api: ApiKey, group: String) async throws -> Bool {
        try await withCoordinatorRetries(group: group, context: "find coordinator of group \(group)") {
            let id = try await coordinator(for: group)
            let connection = try await self.connection(to: id).get()
            return connection.versions.version(for: api) != nil
        }
    }

    /// ConsumerGroupDescribe; nil when the group is not a consumer-protocol group (Kafka
    /// answers GROUP_ID_NOT_FOUND for classic and unknown groups alike).
    private func describeConsumerGroup(_ groupId: String) async throws -> GroupDescription? {
        let context = "describe group \(groupId)"
        return try await withCoordinatorRetries(group: groupId, context: context) {
            let (response, _) = try await sendToCoordinator(group: groupId) { _ in
                ConsumerGroupDescribeRequest(groupIds: [groupId], includeAuthorizedOperations: false)
            }
            guard let group = response.groups.first(where: { $0.groupId == groupId }) ?? response.groups.first else {
                throw KafkaClientError.protocolViolation(address: "coordinator of group \(groupId)",
                                                         detail: "ConsumerGroupDescribe response names no group")
            }
            let code = KafkaErrorCode(group.errorCode)
            try checkCoordinatorError(code, group: groupId, message: group.errorMessage, context: context)
            if code == .groupIDNotFound { return nil }
            guard code == .none else { throw KafkaClientError.kafka(code: code, message: group.errorMessage, context: context) }
            return GroupDescription(consumerGroup: group)
        }
    }

    private func describeClassicGroup(_ groupId: String) async throws -> GroupDescription {
        let context = "describe group \(groupId)"
        return try await withCoordinatorRetries(group: groupId, context: context) {
            let (response, _) = try await sendToCoordinator(group: groupId) { _ in
                DescribeGroupsRequest(groups: [groupId], includeAuthorizedOperations: false)
            }
            guard let group = response.groups.first(where: { $0.groupId == groupId }) ?? response.groups.first else {
                throw KafkaClientError.protocolViolation(address: "coordinator of group \(groupId)",
                                                         detail: "DescribeGroups response names no group")
            }
            let code = KafkaErrorCode(group.errorCode)
            try checkCoordinatorError(code, group: groupId, context: context)
            if code == .groupIDNotFound {
                return GroupDescription(groupId: groupId, state: "Dead", groupProtocol: .classic, protocolType: "",
                                        assignor: "", members: [])
            }
            guard code == .none else { throw KafkaClientError.kafka(code: code, message: nil, context: context) }
            return GroupDescription(classicGroup: group)
        }
    }
}

extension GroupDescription {
    init(consumerGroup group: ConsumerGroupDescribeResponse.DescribedGroup) {
        func byName(_ assignment: ConsumerGroupDescribeResponse.Assignment) -> [String: [PartitionID]] {
            var result: [String: [PartitionID]] = [:]
            for topic in assignment.topicPartitions {
                result[topic.topicName, default: []] += topic.partitions.map { PartitionID($0) }
            }
            return result.mapValues { Array(Set($0)).sorted() }
        }
        let members = group.members.map { member in
            GroupMemberDescription(memberId: member.memberId, instanceId: member.instanceId, clientId: member.clientId,
                                   clientHost: member.clientHost, memberEpoch: member.memberEpoch,
                                   subscribedTopics: member.subscribedTopicNames.sorted(),
                                   assignment: byName(member.assignment), targetAssignment: byName(member.targetAssignment))
        }.sorted { $0.memberId < $1.memberId }
        self.init(groupId: group.groupId, state: group.groupState, groupProtocol: .consumer, protocolType: "consumer",
                  assignor: group.assignorName, groupEpoch: group.groupEpoch, assignmentEpoch: group.assignmentEpoch,
                  members: members)
    }

    init(classicGroup group: DescribeGroupsResponse.DescribedGroup) {
        let isConsumer = group.protocolType == "consumer"
        let members = group.members.map { member in
            GroupMemberDescription(
                memberId: member.memberId, instanceId: member.groupInstanceId, clientId: member.clientId,
                clientHost: member.clientHost,
                subscribedTopics: isConsumer ? ConsumerProtocolBytes.subscribedTopics(member.memberMetadata) : [],
                assignment: isConsumer ? ConsumerProtocolBytes.assignment(member.memberAssignment) : [:])
        }.sorted { $0.memberId < $1.memberId }
        self.init(groupId: group.groupId, state: group.groupState, groupProtocol: .classic, protocolType: group.protocolType,
                  assignor: group.protocolData, members: members)
    }
}

/// The classic "consumer" protocol's member metadata and assignment bytes: an int16 version,
/// then ConsumerProtocolSubscription / ConsumerProtocolAssignment at that version. Bytes that
/// do not decode give nothing (describe shows the member without partitions).
enum ConsumerProtocolBytes {
    static func assignment(_ bytes: [UInt8]) -> [String: [PartitionID]] {
        guard let decoded: ConsumerProtocolAssignment = decode(bytes) else { return [:] }
        var result: [String: [PartitionID]] = [:]
        for topic in decoded.assignedPartitions {
            result[topic.topic, default: []] += topic.partitions.map { PartitionID($0) }
        }
        return result.mapValues { Array(Set($0)).sorted() }
    }

    static func subscribedTopics(_ bytes: [UInt8]) -> [String] {
        guard let decoded: ConsumerProtocolSubscription = decode(bytes) else { return [] }
        return decoded.topics.sorted()
    }

    private static func decode<M: KafkaMessage>(_ bytes: [UInt8]) -> M? {
        guard bytes.count >= 2 else { return nil }
        var buffer = ByteBuffer(bytes: bytes)
        guard let version = buffer.readInteger(as: Int16.self) else { return nil }
        // Newer versions only append fields: read them as the newest one we know.
        let readable = min(version, M.validVersions.upperBound)
        guard readable >= M.validVersions.lowerBound else { return nil }
        return try? M(from: &buffer, version: readable)
    }
}
