import Foundation
import KafkaMessages
import KafkaWire
import NIOCore
import NIOPosix
@testable import RunnelClient
import RunnelCore

/// A stand-in broker for the group client's tests while runnel's broker has no group APIs:
/// one node on a loopback port that is its own group coordinator, with one topic whose
/// partitions hold no records. It speaks just enough Kafka for a `GroupConsumer`: ApiVersions,
/// Metadata (v10+ topic ids), FindCoordinator, ListOffsets, Fetch (empty, after maxWaitMs),
/// ConsumerGroupHeartbeat, OffsetCommit, OffsetFetch, ConsumerGroupDescribe, ListGroups.
///
/// Its coordinator is a small model of KIP-848: the target assignment deals the partitions
/// round-robin over the members sorted by id; a member still owning partitions outside its
/// target is told to keep only the rest (epoch unchanged); once it reports that it let them
/// go it gets its free target partitions and the group epoch. It is not runnel's coordinator:
/// it exists to exercise the client's side of the protocol.
final class FakeGroupBroker: @unchecked Sendable {
    // @unchecked: `model` is behind `lock`; the channel and loop are set once in init.
    struct Member {
        var epoch: Int32
        var owned: Set<Int32> = []
        var lastSent: Set<Int32>?
        var clientId = "runnel"
    }

    struct Model {
        var groupEpoch: Int32 = 0
        var members: [String: Member] = [:]
        var committed: [Int32: Int64] = [:]
        var heartbeats: [ConsumerGroupHeartbeatRequest] = []
        /// Members whose next heartbeat is answered FENCED_MEMBER_EPOCH.
        var toFence: Set<String> = []

        func target(_ partitions: Int32) -> [String: Set<Int32>] {
            let ids = members.keys.sorted()
            var result: [String: Set<Int32>] = [:]
            for id in ids { result[id] = [] }
            guard !ids.isEmpty else { return result }
            for partition in 0..<partitions { result[ids[Int(partition) % ids.count]]!.insert(partition) }
            return result
        }
    }

    let topic: String
    let topicId = TopicID(high: 0x1234, low: 0x5678)
    let partitions: Int32
    let group: String
    let heartbeatIntervalMs: Int32 = 100
    private let loopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var channel: (any Channel)!
    private let lock = NSLock()
    private var model = Model()

    var port: Int { channel.localAddress!.port! }
    var bootstrap: String { "127.0.0.1:\(port)" }

    init(topic: String, partitions: Int32, group: String) throws {
        self.topic = topic
        self.partitions = partitions
        self.group = group
        channel = try ServerBootstrap(group: loopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [unowned self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder(.requests, frameBytesMax: 1 << 20)))
                    try channel.pipeline.syncOperations.addHandler(Handler(broker: self))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
    }

    func shutdown() {
        try? channel.close().wait()
        try? loopGroup.syncShutdownGracefully()
    }

    func withModel<T>(_ body: (inout Model) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&model)
    }

    // MARK: Requests

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let broker: FakeGroupBroker

        init(broker: FakeGroupBroker) { self.broker = broker }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var frame = unwrapInboundIn(data)
            do {
                let prefix = try RequestHeader.Prefix.peek(frame)
                guard let api = ApiKey(rawValue: prefix.apiKey) else { throw FakeError.unexpected("api \(prefix.apiKey)") }
                let header = try RequestHeader(from: &frame, headerVersion: api.requestHeaderVersion(apiVersion: prefix.apiVersion))
                let version = header.apiVersion
                let reply = { [broker] (response: any KafkaResponse, delayMs: Int64) in
                    var out = context.channel.allocator.buffer(capacity: 256)
                    out.writeInteger(Int32(0))
                    ResponseHeader(correlationId: header.correlationId)
                        .encode(into: &out, headerVersion: api.responseHeaderVersion(apiVersion: version))
                    response.encode(into: &out, version: version)
                    out.setInteger(Int32(out.readableBytes - 4), at: out.readerIndex)
                    _ = broker
                    if delayMs > 0 {
                        context.eventLoop.scheduleTask(in: .milliseconds(delayMs)) { context.writeAndFlush(NIOAny(out), promise: nil) }
                    } else {
                        context.writeAndFlush(NIOAny(out), promise: nil)
                    }
                }
                switch api {
                case .apiVersions: reply(broker.apiVersions(), 0)
                case .metadata: reply(broker.metadata(try MetadataRequest(from: &frame, version: version)), 0)
                case .findCoordinator: reply(broker.findCoordinator(), 0)
                case .listOffsets: reply(broker.listOffsets(try ListOffsetsRequest(from: &frame, version: version)), 0)
                case .fetch:
                    let request = try FetchRequest(from: &frame, version: version)
                    reply(broker.fetch(request), Int64(request.maxWaitMs))
                case .consumerGroupHeartbeat:
                    reply(broker.heartbeat(try ConsumerGroupHeartbeatRequest(from: &frame, version: version)), 0)
                case .offsetCommit: reply(broker.commit(try OffsetCommitRequest(from: &frame, version: version)), 0)
                case .offsetFetch: reply(broker.offsetFetch(try OffsetFetchRequest(from: &frame, version: version)), 0)
                case .consumerGroupDescribe: reply(broker.describe(), 0)
                case .listGroups: reply(broker.listGroups(), 0)
                default: throw FakeError.unexpected("api \(api.name)")
                }
            } catch {
                context.close(promise: nil)
            }
        }
    }

    enum FakeError: Error { case unexpected(String) }

    private func apiVersions() -> ApiVersionsResponse {
        var response = ApiVersionsResponse()
        let ranges: [(ApiKey, Int16, Int16)] = [(.apiVersions, 0, 3), (.metadata, 1, 12), (.listOffsets, 1, 7), (.fetch, 4, 12),
                                                (.findCoordinator, 0, 3), (.consumerGroupHeartbeat, 0, 1), (.offsetCommit, 2, 9),
                                                (.offsetFetch, 2, 9), (.consumerGroupDescribe, 0, 0), (.listGroups, 0, 5)]
        response.apiKeys = ranges.map { ApiVersionsResponse.ApiVersion(apiKey: $0.0.rawValue, minVersion: $0.1, maxVersion: $0.2) }
        return response
    }

    private func metadata(_ request: MetadataRequest) -> MetadataResponse {
        var response = MetadataResponse()
        response.brokers = [.init(nodeId: 1, host: "127.0.0.1", port: Int32(port), rack: nil)]
        response.clusterId = "fake"
        response.controllerId = 1
        let names = request.topics?.compactMap(\.name) ?? [topic]
        response.topics = names.map { name in
            var entry = MetadataResponse.MetadataResponseTopic()
            entry.name = name
            guard name == topic else {
                entry.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                return entry
            }
            entry.topicId = topicId
            entry.partitions = (0..<partitions).map { partition in
                var p = MetadataResponse.MetadataResponsePartition()
                p.partitionIndex = partition
                p.leaderId = 1
                p.leaderEpoch = 0
                p.replicaNodes = [1]
                p.isrNodes = [1]
                return p
            }
            return entry
        }
        return response
    }

    private func findCoordinator() -> FindCoordinatorResponse {
        var response = FindCoordinatorResponse()
        response.nodeId = 1
        response.host = "127.0.0.1"
        response.port = Int32(port)
        response.errorMessage = nil
        return response
    }

    private func listOffsets(_ request: ListOffsetsRequest) -> ListOffsetsResponse {
        var response = ListOffsetsResponse()
        response.topics = request.topics.map { topic in
            var entry = ListOffsetsResponse.ListOffsetsTopicResponse()
            entry.name = topic.name
            entry.partitions = topic.partitions.map { partition in
                var p = ListOffsetsResponse.ListOffsetsPartitionResponse()
                p.partitionIndex = partition.partitionIndex
                p.offset = 0
                return p
            }
            return entry
        }
        return response
    }

    private func fetch(_ request: FetchRequest) -> FetchResponse {
        var response = FetchResponse()
        response.responses = request.topics.map { topic in
            var entry = FetchResponse.FetchableTopicResponse()
            entry.topic = topic.topic
            entry.partitions = topic.partitions.map { partition in
                var p = FetchResponse.PartitionData()
                p.partitionIndex = partition.partition
                p.highWatermark = 0
                p.logStartOffset = 0
                p.records = ResponseRecords()
                return p
            }
            return entry
        }
        return response
    }

    private func heartbeat(_ request: ConsumerGroupHeartbeatRequest) -> ConsumerGroupHeartbeatResponse {
        withModel { model in
            model.heartbeats.append(request)
            var response = ConsumerGroupHeartbeatResponse()
            response.memberId = request.memberId
            response.heartbeatIntervalMs = heartbeatIntervalMs
            let id = request.memberId
            switch request.memberEpoch {
            case -1:
                model.members[id] = nil
                model.groupEpoch += 1
                response.memberEpoch = -1
                return response
            case 0:
                guard request.topicPartitions == [], request.subscribedTopicNames == [topic], request.rebalanceTimeoutMs > 0 else {
                    response.errorCode = KafkaErrorCode(42).rawValue
                    response.errorMessage = "a join must carry every field"
                    return response
                }
                model.groupEpoch += 1
                model.members[id] = Member(epoch: 0)
            default:
                guard var member = model.members[id] else {
                    response.errorCode = KafkaErrorCode.unknownMemberID.rawValue
                    return response
                }
                if model.toFence.remove(id) != nil || request.memberEpoch != member.epoch {
                    model.members[id] = nil
                    model.groupEpoch += 1
                    response.errorCode = KafkaErrorCode.fencedMemberEpoch.rawValue
                    return response
                }
                if let owned = request.topicPartitions {
                    member.owned = Set(owned.filter { $0.topicId == topicId }.flatMap(\.partitions))
                }
                model.members[id] = member
            }
            var member = model.members[id]!
            let mine = model.target(partitions)[id] ?? []
            let assignment: Set<Int32>
            if !member.owned.isSubset(of: mine) {
                assignment = member.owned.intersection(mine)  // revoke the rest first
            } else {
                let ownedByOthers = model.members.filter { $0.key != id }.values.reduce(Set<Int32>()) { $0.union($1.owned) }
                assignment = mine.subtracting(ownedByOthers)
                member.epoch = model.groupEpoch
            }
            response.memberEpoch = member.epoch
            if member.lastSent != assignment {
                member.lastSent = assignment
                response.assignment = .init(topicPartitions: assignment.isEmpty ? [] : [.init(topicId: topicId, partitions: assignment.sorted())])
            }
            model.members[id] = member
            return response
        }
    }

    /// nil when a member with this id and epoch (or an admin, while the group is empty) may
    /// commit or fetch, else the error Kafka answers.
    private func check(_ model: Model, memberId: String?, epoch: Int32) -> KafkaErrorCode? {
        guard let memberId, !memberId.isEmpty else {
            return epoch < 0 && (model.members.isEmpty || memberId == nil) ? nil : .unknownMemberID
        }
        guard let member = model.members[memberId] else { return .unknownMemberID }
        return member.epoch == epoch ? nil : .staleMemberEpoch
    }

    private func commit(_ request: OffsetCommitRequest) -> OffsetCommitResponse {
        withModel { model in
            let error = check(model, memberId: request.memberId, epoch: request.generationIdOrMemberEpoch)
            var response = OffsetCommitResponse()
            response.topics = request.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map { partition in
                    if error == nil { model.committed[partition.partitionIndex] = partition.committedOffset }
                    return .init(partitionIndex: partition.partitionIndex, errorCode: error?.rawValue ?? 0)
                })
            }
            return response
        }
    }

    private func offsetFetch(_ request: OffsetFetchRequest) -> OffsetFetchResponse {
        withModel { model in
            var response = OffsetFetchResponse()
            response.groups = request.groups.map { asked in
                var result = OffsetFetchResponse.OffsetFetchResponseGroup(groupId: asked.groupId)
                if let error = check(model, memberId: asked.memberId, epoch: asked.memberEpoch) {
                    result.errorCode = error.rawValue
                    return result
                }
                let wanted = asked.topics?.first { $0.name == topic }?.partitionIndexes ?? model.committed.keys.sorted()
                result.topics = [.init(name: topic, partitions: wanted.map {
                    .init(partitionIndex: $0, committedOffset: model.committed[$0] ?? -1, committedLeaderEpoch: -1, metadata: "")
                })]
                return result
            }
            return response
        }
    }

    private func describe() -> ConsumerGroupDescribeResponse {
        withModel { model in
            var described = ConsumerGroupDescribeResponse.DescribedGroup()
            described.groupId = group
            described.groupState = model.members.isEmpty ? "Empty" : "Stable"
            described.groupEpoch = model.groupEpoch
            described.assignorName = "uniform"
            described.members = model.members.sorted { $0.key < $1.key }.map { id, member in
                var m = ConsumerGroupDescribeResponse.Member()
                m.memberId = id
                m.memberEpoch = member.epoch
                m.clientId = member.clientId
                m.clientHost = "/127.0.0.1"
                m.subscribedTopicNames = [topic]
                m.assignment = .init(topicPartitions: [.init(topicId: topicId, topicName: topic, partitions: member.owned.sorted())])
                return m
            }
            var response = ConsumerGroupDescribeResponse()
            response.groups = [described]
            return response
        }
    }

    private func listGroups() -> ListGroupsResponse {
        withModel { model in
            ListGroupsResponse(groups: [.init(groupId: group, protocolType: "consumer",
                                              groupState: model.members.isEmpty ? "Empty" : "Stable", groupType: "consumer")])
        }
    }
}
