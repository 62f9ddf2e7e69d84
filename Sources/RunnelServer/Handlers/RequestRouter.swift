import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

/// What a handler knows about the request it serves.
struct RequestContext {
    let header: RequestHeader
    let connection: ConnectionInfo
    var version: Int16 { header.apiVersion }
}

/// How a handler answers: exactly one of `send` or `noResponse`, once, on the owner loop.
struct Responder<Response: KafkaResponse> {
    let sendEncoded: (Response, Int) -> Void
    let noResponse: () -> Void

    /// Encodes and sends the response. `reservingCapacity` sizes the output buffer up front (a
    /// Fetch knows its size, and a buffer that grows is copied each time it does).
    func send(_ response: Response, reservingCapacity capacity: Int = 256) {
        sendEncoded(response, capacity)
    }
}

/// Frame → handler. Reads the header prefix, applies the version rules, decodes the request
/// with the generated type, runs the handler and encodes its response under the right header
/// version.
///
/// Version rules (PROTOCOL.md §3): an ApiVersions request at a version we do not support gets
/// error 35 with a v0 body listing ApiVersions' own range; any other unknown key or
/// unsupported version closes the connection, as Kafka does. A request that does not decode
/// closes its connection with one log line; no other connection is affected.
enum RequestRouter {
    static func route(frame: ByteBuffer, connection: ConnectionInfo, broker: Broker,
                      done: @escaping (DispatchResult) -> Void) {
        var connection = connection
        let prefix: RequestHeader.Prefix
        do {
            prefix = try RequestHeader.Prefix.peek(frame)
        } catch {
            done(.close(reason: "malformed request header: \(error)"))
            return
        }
        guard let apiKey = ApiKey(rawValue: prefix.apiKey) else {
            done(.close(reason: "unknown API key \(prefix.apiKey)"))
            return
        }
        // SASL listeners: only ApiVersions and the SASL requests until authenticated (D171).
        if saslGate(prefix: prefix, apiKey: apiKey, frame: frame, connection: &connection, broker: broker, done: done) {
            return
        }
        guard ApiSupport.supports(apiKey: prefix.apiKey, version: prefix.apiVersion) else {
            if apiKey == .apiVersions {
                done(.respond(unsupportedApiVersions(correlationId: prefix.correlationId, allocator: broker.allocator)))
            } else {
                done(.close(reason: "unsupported version \(prefix.apiVersion) of \(apiKey)"))
            }
            return
        }
        var body = frame
        let header: RequestHeader
        do {
            header = try RequestHeader(from: &body, headerVersion: apiKey.requestHeaderVersion(apiVersion: prefix.apiVersion))
        } catch {
            done(.close(reason: "malformed \(apiKey) v\(prefix.apiVersion) request header: \(error)"))
            return
        }
        let context = RequestContext(header: header, connection: connection)
        let controlPlane = broker.controlPlane
        switch apiKey {
        case .produce: serve(ProduceRequest.self, &body, context, broker, done, broker.handleProduce)
        case .fetch: serve(FetchRequest.self, &body, context, broker, done, broker.handleFetch)
        case .listOffsets: serve(ListOffsetsRequest.self, &body, context, broker, done, broker.handleListOffsets)
        case .metadata: serve(MetadataRequest.self, &body, context, broker, done, broker.handleMetadata)
        case .offsetForLeaderEpoch: serve(OffsetForLeaderEpochRequest.self, &body, context, broker, done, broker.handleOffsetForLeaderEpoch)
        case .apiVersions: serve(ApiVersionsRequest.self, &body, context, broker, done, broker.handleApiVersions)
        case .createTopics: serve(CreateTopicsRequest.self, &body, context, broker, done, broker.gated(Broker.gateCreateTopics, controlPlane.viaActiveController(broker.handleCreateTopics)))
        case .deleteTopics: serve(DeleteTopicsRequest.self, &body, context, broker, done, broker.gated(Broker.gateDeleteTopics, controlPlane.viaActiveController(broker.handleDeleteTopics)))
        case .initProducerId: serve(InitProducerIdRequest.self, &body, context, broker, done, broker.gated(Broker.gateInitProducerId, controlPlane.viaActiveController(broker.handleInitProducerId)))
        case .describeConfigs: serve(DescribeConfigsRequest.self, &body, context, broker, done, broker.handleDescribeConfigs)
        case .alterConfigs: serve(AlterConfigsRequest.self, &body, context, broker, done, broker.gated(Broker.gateAlterConfigs, controlPlane.viaActiveController(broker.handleAlterConfigs)))
        case .incrementalAlterConfigs:
            serve(IncrementalAlterConfigsRequest.self, &body, context, broker, done, broker.gated(Broker.gateIncrementalAlterConfigs, controlPlane.viaActiveController(broker.handleIncrementalAlterConfigs)))
        case .deleteRecords: serve(DeleteRecordsRequest.self, &body, context, broker, done, broker.handleDeleteRecords)
        case .describeLogDirs: serve(DescribeLogDirsRequest.self, &body, context, broker, done, broker.handleDescribeLogDirs)
        case .createPartitions: serve(CreatePartitionsRequest.self, &body, context, broker, done, broker.gated(Broker.gateCreatePartitions, controlPlane.viaActiveController(broker.handleCreatePartitions)))
        case .electLeaders: serve(ElectLeadersRequest.self, &body, context, broker, done, broker.gated(Broker.gateElectLeaders, controlPlane.viaActiveController(broker.handleElectLeaders)))
        case .describeAcls: serve(DescribeAclsRequest.self, &body, context, broker, done, broker.handleDescribeAcls)
        case .createAcls:
            serve(CreateAclsRequest.self, &body, context, broker, done, broker.gated(Broker.gateCreateAcls, controlPlane.viaActiveController(broker.handleCreateAcls)))
        case .deleteAcls:
            serve(DeleteAclsRequest.self, &body, context, broker, done, broker.gated(Broker.gateDeleteAcls, controlPlane.viaActiveController(broker.handleDeleteAcls)))
        case .describeQuorum: serve(DescribeQuorumRequest.self, &body, context, broker, done, broker.handleDescribeQuorum)
        case .describeCluster: serve(DescribeClusterRequest.self, &body, context, broker, done, broker.handleDescribeCluster)
        case .describeUserScramCredentials:
            serve(DescribeUserScramCredentialsRequest.self, &body, context, broker, done, broker.handleDescribeUserScramCredentials)
        case .alterUserScramCredentials:
            serve(AlterUserScramCredentialsRequest.self, &body, context, broker, done,
                  controlPlane.viaActiveController(broker.handleAlterUserScramCredentials))
        case .findCoordinator: serve(FindCoordinatorRequest.self, &body, context, broker, done, broker.handleFindCoordinator)
        case .joinGroup: serve(KafkaMessages.JoinGroupRequest.self, &body, context, broker, done, broker.handleJoinGroup)
        case .syncGroup: serve(KafkaMessages.SyncGroupRequest.self, &body, context, broker, done, broker.handleSyncGroup)
        case .heartbeat: serve(KafkaMessages.HeartbeatRequest.self, &body, context, broker, done, broker.handleHeartbeat)
        case .leaveGroup: serve(KafkaMessages.LeaveGroupRequest.self, &body, context, broker, done, broker.handleLeaveGroup)
        case .offsetCommit: serve(KafkaMessages.OffsetCommitRequest.self, &body, context, broker, done, broker.handleOffsetCommit)
        case .offsetFetch: serve(OffsetFetchRequest.self, &body, context, broker, done, broker.handleOffsetFetch)
        case .describeGroups: serve(DescribeGroupsRequest.self, &body, context, broker, done, broker.handleDescribeGroups)
        case .listGroups: serve(ListGroupsRequest.self, &body, context, broker, done, broker.handleListGroups)
        case .deleteGroups: serve(DeleteGroupsRequest.self, &body, context, broker, done, broker.handleDeleteGroups)
        case .offsetDelete: serve(KafkaMessages.OffsetDeleteRequest.self, &body, context, broker, done, broker.handleOffsetDelete)
        case .consumerGroupHeartbeat:
            serve(KafkaMessages.ConsumerGroupHeartbeatRequest.self, &body, context, broker, done, broker.handleConsumerGroupHeartbeat)
        case .consumerGroupDescribe:
            serve(ConsumerGroupDescribeRequest.self, &body, context, broker, done, broker.handleConsumerGroupDescribe)
        default:
            // ApiSupport and this switch list the same keys; a key advertised without a handler
            // is a programmer error, but the client only loses its connection.
            done(.close(reason: "no handler for \(apiKey)"))
        }
    }

    private static func serve<Request: KafkaRequest>(
        _ type: Request.Type, _ body: inout ByteBuffer, _ context: RequestContext, _ broker: Broker,
        _ done: @escaping (DispatchResult) -> Void,
        _ handler: (Request, RequestContext, Responder<Request.Response>) -> Void
    ) {
        serve(type, &body, context, allocator: broker.allocator, done, handler)
    }

    /// Decodes the request, runs `handler` with a responder that encodes its answer once.
    static func serve<Request: KafkaRequest>(
        _: Request.Type, _ body: inout ByteBuffer, _ context: RequestContext, allocator: ByteBufferAllocator,
        _ done: @escaping (DispatchResult) -> Void,
        _ handler: (Request, RequestContext, Responder<Request.Response>) -> Void
    ) {
        let request: Request
        do {
            request = try Request(from: &body, version: context.version)
        } catch {
            done(.close(reason: "malformed \(Request.apiKey) v\(context.version) request: \(error)"))
            return
        }
        var answered = false
        let responder = Responder<Request.Response>(
            sendEncoded: { response, capacity in
                precondition(!answered, "\(Request.apiKey) answered twice")
                answered = true
                done(.respond(encode(response, context: context, allocator: allocator, capacity: capacity)))
            },
            noResponse: {
                precondition(!answered, "\(Request.apiKey) answered twice")
                answered = true
                done(.noResponse)
            })
        handler(request, context, responder)
    }

    static func encode<Response: KafkaResponse>(_ response: Response, context: RequestContext,
                                                allocator: ByteBufferAllocator, capacity: Int = 256) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: capacity)
        let apiKey = Response.apiKey
        ResponseHeader(correlationId: context.header.correlationId)
            .encode(into: &buffer, headerVersion: apiKey.responseHeaderVersion(apiVersion: context.version))
        response.encode(into: &buffer, version: context.version)
        return buffer
    }

    /// Error 35 in a v0 ApiVersions body (header v0), listing ApiVersions' own range so the
    /// client can retry with a version we speak (KIP-511).
    static func unsupportedApiVersions(correlationId: Int32, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 32)
        ResponseHeader(correlationId: correlationId).encode(into: &buffer, headerVersion: 0)
        var response = ApiVersionsResponse()
        response.errorCode = KafkaErrorCode.unsupportedVersion.rawValue
        let range = ApiSupport.ranges[ApiKey.apiVersions.rawValue]!
        response.apiKeys = [ApiVersionsResponse.ApiVersion(apiKey: ApiKey.apiVersions.rawValue,
                                                           minVersion: range.lowerBound, maxVersion: range.upperBound)]
        response.encode(into: &buffer, version: 0)
        return buffer
    }
}

/// Runs `step` for each element in order, each after the previous one called its continuation,
/// then `done`. For handlers whose per-item work completes later (controller changes): their
/// results keep the request's order.
func forEachInOrder<Item>(_ items: [Item], _ step: @escaping (Item, @escaping () -> Void) -> Void,
                          done: @escaping () -> Void) {
    var remaining = items[...]
    func next() {
        guard let item = remaining.popFirst() else { return done() }
        step(item, next)
    }
    next()
}
