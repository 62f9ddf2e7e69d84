import ClusterMetadata
import KafkaMessages
import KafkaWire
import Logging
import NIOCore
import RaftCore
import RunnelCore

/// The CONTROLLER listener: what controller nodes answer to the other nodes of the cluster
/// (never to clients). Requests run on the quorum's loop.
///
/// | key  | API                | versions | notes |
/// |------|--------------------|----------|-------|
/// | 18   | ApiVersions        | 0-4      | lists this table |
/// | 19   | CreateTopics       | 0-7      | forwarded by brokers; answered by this node's broker handlers |
/// | 20   | DeleteTopics       | 0-6      | likewise |
/// | 22   | InitProducerId     | 0-4      | likewise (producer-id blocks come from the controller) |
/// | 37   | CreatePartitions   | 0-3      | likewise |
/// | 43   | ElectLeaders       | 0-2      | likewise |
/// | 30   | CreateAcls         | 1-3      | likewise |
/// | 31   | DeleteAcls         | 1-3      | likewise |
/// | 55   | DescribeQuorum     | 0-2      | answered from this node's `MetadataQuorum` (NOT_LEADER_OR_FOLLOWER unless it leads) |
/// | 62   | BrokerRegistration | 0-4      | |
/// | 63   | BrokerHeartbeat    | 0-1      | |
/// | 1000 | RunnelRaft         | 0        | Raft messages (Runnel's own API, `specs/kraft-protocol`) |
///
/// A forwarded admin request that reaches a node which is not (or no longer) the active
/// controller is answered per item with NOT_CONTROLLER (41), never forwarded again.
final class ControllerRouter: RequestDispatcher {
    static let advertised: [(apiKey: Int16, min: Int16, max: Int16)] = [
        (ApiKey.apiVersions.rawValue, 0, 4),
        (ApiKey.createTopics.rawValue, 0, 7),
        (ApiKey.deleteTopics.rawValue, 0, 6),
        (ApiKey.initProducerId.rawValue, 0, 4),
        (ApiKey.createPartitions.rawValue, 0, 3),
        (ApiKey.electLeaders.rawValue, 0, 2),
        (ApiKey.createAcls.rawValue, 1, 3),
        (ApiKey.deleteAcls.rawValue, 1, 3),
        (ApiKey.describeQuorum.rawValue, 0, 2),
        (ApiKey.brokerRegistration.rawValue, 0, 4),
        (ApiKey.brokerHeartbeat.rawValue, 0, 1),
        (ApiKey.alterPartition.rawValue, 0, 1),
        (ApiKey.alterUserScramCredentials.rawValue, 0, 0),
        (ApiKey.runnelRaft.rawValue, 0, 0),
    ]

    private let quorum: MetadataQuorum
    private let controllerService: ControllerService?
    /// Where forwarded admin requests go: this node's broker handlers (nil: none are served).
    private weak var admin: (any RequestDispatcher)?
    private let logger: Logger
    private let allocator = ByteBufferAllocator()

    init(quorum: MetadataQuorum, controllerService: ControllerService? = nil, admin: (any RequestDispatcher)? = nil,
         logger: Logger) {
        self.quorum = quorum
        self.controllerService = controllerService
        self.admin = admin
        self.logger = logger
    }

    func dispatch(frame: ByteBuffer, connection: ConnectionInfo, completion: @escaping (DispatchResult) -> Void) {
        // Admin requests forwarded by other brokers run through this node's broker handlers,
        // which act as the controller (or answer NOT_CONTROLLER) for requests of this listener.
        if let admin, let key = try? RequestHeader.Prefix.peek(frame).apiKey,
           Self.brokerHandled.contains(key), Self.advertised.contains(where: { $0.apiKey == key }) {
            admin.dispatch(frame: frame, connection: connection, completion: completion)
            return
        }
        quorum.loop.execute { self.route(frame: frame, connection: connection, done: completion) }
    }

    private static let brokerHandled: Set<Int16> = [ApiKey.createTopics.rawValue, ApiKey.deleteTopics.rawValue,
                                                    ApiKey.initProducerId.rawValue, ApiKey.createPartitions.rawValue,
                                                    ApiKey.electLeaders.rawValue, ApiKey.createAcls.rawValue,
                                                    ApiKey.deleteAcls.rawValue, ApiKey.alterUserScramCredentials.rawValue]

    private func route(frame: ByteBuffer, connection: ConnectionInfo, done: @escaping (DispatchResult) -> Void) {
        var body = frame
        let header: RequestHeader
        let apiKey: ApiKey
        do {
            let prefix = try RequestHeader.Prefix.peek(frame)
            guard let key = ApiKey(rawValue: prefix.apiKey),
                  let range = Self.advertised.first(where: { $0.apiKey == prefix.apiKey }),
                  (range.min...range.max).contains(prefix.apiVersion) else {
                done(.close(reason: "controller listener: unsupported API \(prefix.apiKey) v\(prefix.apiVersion)"))
                return
            }
            apiKey = key
            header = try RequestHeader(from: &body, headerVersion: key.requestHeaderVersion(apiVersion: prefix.apiVersion))
        } catch {
            done(.close(reason: "controller listener: malformed request header: \(error)"))
            return
        }
        let context = RequestContext(header: header, connection: connection)
        switch apiKey {
        case .apiVersions:
            RequestRouter.serve(ApiVersionsRequest.self, &body, context, allocator: allocator, done) { _, _, respond in
                var response = ApiVersionsResponse()
                response.apiKeys = Self.advertised.map { .init(apiKey: $0.apiKey, minVersion: $0.min, maxVersion: $0.max) }
                respond.send(response)
            }
        case .runnelRaft:
            RequestRouter.serve(RunnelRaftRequest.self, &body, context, allocator: allocator, done) { request, _, respond in
                respond.send(self.handleRaft(request))
            }
        case .describeQuorum:
            RequestRouter.serve(DescribeQuorumRequest.self, &body, context, allocator: allocator, done) { request, context, respond in
                respond.send(self.quorum.answer(request, version: context.version, now: Clock.now().rawValue))
            }
        case .brokerRegistration:
            RequestRouter.serve(BrokerRegistrationRequest.self, &body, context, allocator: allocator, done) { request, _, respond in
                self.handleRegistration(request, respond)
            }
        case .brokerHeartbeat:
            RequestRouter.serve(BrokerHeartbeatRequest.self, &body, context, allocator: allocator, done) { request, _, respond in
                self.handleHeartbeat(request, respond)
            }
        case .alterPartition:
            RequestRouter.serve(AlterPartitionRequest.self, &body, context, allocator: allocator, done) { request, _, respond in
                self.handleAlterPartition(request, respond)
            }
        default:
            done(.close(reason: "controller listener: no handler for \(apiKey)"))
        }
    }

    private func handleRegistration(_ request: BrokerRegistrationRequest, _ respond: Responder<BrokerRegistrationResponse>) {
        var response = BrokerRegistrationResponse()
        guard let controllerService else {
            response.errorCode = KafkaErrorCode.notController.rawValue
            return respond.send(response)
        }
        guard request.clusterId == quorum.options.clusterID else {
            response.errorCode = KafkaErrorCode.inconsistentClusterID.rawValue
            return respond.send(response)
        }
        let registration = MetadataController.RegistrationRequest(
            id: BrokerID(request.brokerId), incarnation: request.incarnationId,
            listeners: request.listeners.map { .init(name: $0.name, host: $0.host, port: Int32($0.port), securityProtocol: $0.securityProtocol) },
            rack: request.rack)
        controllerService.register(registration, now: Clock.now().rawValue).whenSuccess { result in
            switch result {
            case .success(let epoch): response.brokerEpoch = epoch
            case .failure(let refusal): response.errorCode = refusal.code.rawValue
            }
            respond.send(response)
        }
    }

    /// AlterPartition (key 56, v0-1: topics by name): a leader's ISR changes, each checked
    /// against the partition's current leader epoch and partition epoch, answered after commit
    /// with the partition's state (or a per-partition error; NOT_CONTROLLER at the top).
    private func handleAlterPartition(_ request: AlterPartitionRequest, _ respond: Responder<AlterPartitionResponse>) {
        var response = AlterPartitionResponse()
        guard let controllerService else {
            response.errorCode = KafkaErrorCode.notController.rawValue
            return respond.send(response)
        }
        var changes: [MetadataController.ISRChange] = []
        for topic in request.topics {
            for p in topic.partitions {
                changes.append(.init(topic: TopicName(topic.topicName), partition: PartitionID(p.partitionIndex),
                                     leaderEpoch: LeaderEpoch(p.leaderEpoch), partitionEpoch: p.partitionEpoch,
                                     newISR: p.newIsr.map { BrokerID($0) }))
            }
        }
        controllerService.alterPartition(changes, from: BrokerID(request.brokerId), brokerEpoch: request.brokerEpoch)
            .whenSuccess { outcomes in
                if outcomes.allSatisfy({ if case .failure(let r) = $0, r.code == .notController { true } else { false } }), !outcomes.isEmpty {
                    response.errorCode = KafkaErrorCode.notController.rawValue
                    return respond.send(response)
                }
                for (change, outcome) in zip(changes, outcomes) {
                    var result = AlterPartitionResponse.PartitionData()
                    result.partitionIndex = change.partition.rawValue
                    switch outcome {
                    case .success(let state):
                        result.leaderId = state.leader.rawValue
                        result.leaderEpoch = state.leaderEpoch.rawValue
                        result.isr = state.isr.map(\.rawValue)
                        result.partitionEpoch = state.partitionEpoch
                    case .failure(let refusal):
                        result.errorCode = refusal.code.rawValue
                    }
                    if let t = response.topics.firstIndex(where: { $0.topicName == change.topic.rawValue }) {
                        response.topics[t].partitions.append(result)
                    } else {
                        var topic = AlterPartitionResponse.TopicData()
                        topic.topicName = change.topic.rawValue
                        topic.partitions = [result]
                        response.topics.append(topic)
                    }
                }
                respond.send(response)
            }
    }

    private func handleHeartbeat(_ request: BrokerHeartbeatRequest, _ respond: Responder<BrokerHeartbeatResponse>) {
        var response = BrokerHeartbeatResponse()
        guard let controllerService else {
            response.errorCode = KafkaErrorCode.notController.rawValue
            return respond.send(response)
        }
        let heartbeat = MetadataController.Heartbeat(id: BrokerID(request.brokerId), epoch: request.brokerEpoch,
                                                     metadataOffset: request.currentMetadataOffset,
                                                     wantFence: request.wantFence, wantShutDown: request.wantShutDown)
        controllerService.heartbeat(heartbeat, now: Clock.now().rawValue).whenSuccess { result in
            switch result {
            case .success(let reply):
                response.isCaughtUp = reply.isCaughtUp
                response.isFenced = reply.isFenced
                response.shouldShutDown = reply.shouldShutDown
            case .failure(let refusal):
                response.errorCode = refusal.code.rawValue
            }
            respond.send(response)
        }
    }

    private func handleRaft(_ request: RunnelRaftRequest) -> RunnelRaftResponse {
        var response = RunnelRaftResponse()
        guard request.clusterId == quorum.options.clusterID else {
            logger.warning("raft: refusing messages from cluster \(request.clusterId) (this is \(quorum.options.clusterID))")
            response.errorCode = KafkaErrorCode.inconsistentClusterID.rawValue
            return response
        }
        var messages: [RaftMessage] = []
        for data in request.messages {
            do {
                messages.append(try RaftWire.decode(data))
            } catch {
                logger.warning("raft: dropping a message that does not decode: \(error)")
            }
        }
        guard messages.allSatisfy({ $0.to == quorum.options.nodeID }) else {
            response.errorCode = KafkaErrorCode.invalidRequest.rawValue  // messages for another node
            return response
        }
        quorum.receive(messages)
        return response
    }
}
