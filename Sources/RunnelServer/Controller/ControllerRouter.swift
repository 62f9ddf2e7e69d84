import KafkaMessages
import KafkaWire
import Logging
import NIOCore
import RaftCore

/// The CONTROLLER listener: what controller nodes answer to the other nodes of the cluster
/// (never to clients). Requests run on the quorum's loop.
///
/// | key  | API          | versions | notes |
/// |------|--------------|----------|-------|
/// | 18   | ApiVersions  | 0-4      | lists this table |
/// | 1000 | RunnelRaft   | 0        | Raft messages (Runnel's own API, `specs/kraft-protocol`) |
final class ControllerRouter: RequestDispatcher {
    static let advertised: [(apiKey: Int16, min: Int16, max: Int16)] = [
        (ApiKey.apiVersions.rawValue, 0, 4),
        (ApiKey.runnelRaft.rawValue, 0, 0),
    ]

    private let quorum: MetadataQuorum
    private let logger: Logger
    private let allocator = ByteBufferAllocator()

    init(quorum: MetadataQuorum, logger: Logger) {
        self.quorum = quorum
        self.logger = logger
    }

    func dispatch(frame: ByteBuffer, connection: ConnectionInfo, completion: @escaping (DispatchResult) -> Void) {
        quorum.loop.execute { self.route(frame: frame, connection: connection, done: completion) }
    }

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
        default:
            done(.close(reason: "controller listener: no handler for \(apiKey)"))
        }
    }

    private func handleRaft(_ request: RunnelRaftRequest) -> RunnelRaftResponse {
        var response = RunnelRaftResponse()
        guard request.clusterId == quorum.options.clusterID else {
            logger.warning("raft: refusing messages from cluster \(request.clusterId) (this is \(quorum.options.clusterID))")
            response.errorCode = 104  // INCONSISTENT_CLUSTER_ID
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
            response.errorCode = 42  // INVALID_REQUEST: messages for another node
            return response
        }
        quorum.receive(messages)
        return response
    }
}
