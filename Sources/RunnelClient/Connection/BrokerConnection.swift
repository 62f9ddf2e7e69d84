import KafkaMessages
import KafkaWire
import NIOCore
import NIOPosix
import NIOSSL
import RunnelCore

/// One TCP connection to one broker: frames requests, pipelines them (any number may be
/// outstanding; responses are matched in order by `KafkaClientHandler`), applies a per-request
/// timeout, and knows the broker's API versions (negotiated with ApiVersions when connecting).
///
/// A request that times out fails the whole connection: a late response would otherwise be
/// matched to the wrong request, and Kafka clients do the same. Owners drop a failed connection
/// and connect again.
///
/// The broker uses it too, for its connections to other nodes (the controller quorum, and the
/// active controller), with explicit versions of the APIs it sends.
///
/// Thread-safety: `send` may be called from any thread; the correlation counter and the
/// handler's queue are touched only on the channel's event loop.
public final class BrokerConnection: @unchecked Sendable {
    // @unchecked: `versions` is written once before the connection is published (through a
    // future); the correlation counter is loop-only; the rest is immutable.
    public let address: BrokerAddress
    let channel: any Channel
    let clientId: String
    let requestTimeoutMs: Int64
    private let handler: KafkaClientHandler
    /// Written once during negotiation (on the event loop), before the connection is handed out.
    private(set) var versions = ApiVersionTable(broker: [:])
    /// Loop-only.
    private var nextCorrelationId: Int32 = 1

    public var eventLoop: any EventLoop { channel.eventLoop }
    public var isActive: Bool { channel.isActive }
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    private init(address: BrokerAddress, channel: any Channel, handler: KafkaClientHandler, clientId: String,
                 requestTimeoutMs: Int64) {
        self.address = address
        self.channel = channel
        self.handler = handler
        self.clientId = clientId
        self.requestTimeoutMs = requestTimeoutMs
    }

    /// Connects and negotiates API versions. Fails with `KafkaClientError.brokerUnreachable`
    /// when no TCP connection can be made, or with the negotiation's error. With `tls`, the
    /// connection runs inside TLS (a failed handshake fails the negotiation).
    public static func connect(to address: BrokerAddress, on eventLoop: any EventLoop, clientId: String,
                        connectTimeoutMs: Int64, requestTimeoutMs: Int64,
                        frameBytesMax: Int, tls: ClientTLS? = nil,
                        sasl: SaslClientConfig? = nil) -> EventLoopFuture<BrokerConnection> {
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.milliseconds(connectTimeoutMs))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(try tls.makeHandler(host: address.host))
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(KafkaFrameDecoder(.responses, frameBytesMax: frameBytesMax)))
                    try channel.pipeline.syncOperations.addHandler(KafkaClientHandler(address: address))
                }
            }
        return bootstrap.connect(host: address.host, port: address.port)
            .flatMapErrorThrowing { error in
                throw KafkaClientError.brokerUnreachable(address: address.description,
                                                         reason: ConnectErrorText.describe(error))
            }
            .flatMap { channel in
                let handler: KafkaClientHandler
                do {
                    handler = try channel.pipeline.syncOperations.handler(type: KafkaClientHandler.self)
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
                let connection = BrokerConnection(address: address, channel: channel, handler: handler,
                                                  clientId: clientId, requestTimeoutMs: requestTimeoutMs)
                return connection.negotiate(version: ApiVersionTable.client[.apiVersions]!.upperBound)
                    .flatMap { sasl.map { connection.authenticate($0) } ?? channel.eventLoop.makeSucceededVoidFuture() }
                    .map { connection }
                    .flatMapError { error in
                        channel.close(promise: nil)
                        return channel.eventLoop.makeFailedFuture(error)
                    }
            }
    }

    /// ApiVersions at `version`; on UNSUPPORTED_VERSION the broker answers with a v0 body that
    /// names the versions of ApiVersions it does support, and we retry at its max (once).
    private func negotiate(version: Int16) -> EventLoopFuture<Void> {
        let request = ApiVersionsRequest(clientSoftwareName: "runnel", clientSoftwareVersion: RunnelVersion.current)
        let frame = Self.encodeFrame(request, version: version, clientId: clientId, allocator: channel.allocator)
        return sendFrame(frame, apiKey: .apiVersions, version: version, expectsResponse: true, timeoutMs: requestTimeoutMs)
            .flatMapThrowing { body -> Int16? in
                var body = body!
                let errorCode = body.getInteger(at: body.readerIndex, as: Int16.self) ?? 0
                if errorCode == KafkaErrorCode.unsupportedVersion.rawValue {
                    let fallback = try? ApiVersionsResponse(from: &body, version: 0)
                    let brokerMax = fallback?.apiKeys.first { $0.apiKey == ApiKey.apiVersions.rawValue }?.maxVersion ?? 0
                    guard brokerMax < version else {
                        throw KafkaClientError.protocolViolation(address: self.address.description,
                                                                 detail: "ApiVersions v\(version) refused although the broker advertises up to v\(brokerMax)")
                    }
                    return brokerMax
                }
                let response: ApiVersionsResponse
                do {
                    response = try ApiVersionsResponse(from: &body, version: version)
                } catch {
                    throw KafkaClientError.protocolViolation(address: self.address.description,
                                                             detail: "cannot decode ApiVersions v\(version) response: \(error)")
                }
                guard response.errorCode == 0 else {
                    throw KafkaClientError.kafka(code: KafkaErrorCode(response.errorCode), message: nil,
                                                 context: "ApiVersions to \(self.address)")
                }
                self.versions = ApiVersionTable(response)
                return nil
            }
            .flatMap { retryVersion in
                guard let retryVersion else { return self.eventLoop.makeSucceededVoidFuture() }
                return self.negotiate(version: retryVersion)
            }
    }

    /// The version this connection uses for `api`, or an `unsupportedAPI` error.
    func version(for api: ApiKey) throws -> Int16 {
        guard let version = versions.version(for: api) else {
            throw KafkaClientError.unsupportedAPI(address: address.description, api: api.name,
                                                  brokerVersions: versions.brokerRange(for: api))
        }
        return version
    }

    /// Sends `request` and decodes its response. `version` defaults to the negotiated one.
    public func send<R: KafkaRequest>(_ request: R, version requested: Int16? = nil, timeoutMs: Int64? = nil) -> EventLoopFuture<R.Response> {
        let version: Int16
        do {
            version = try explicitOrNegotiated(requested, for: R.apiKey)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let frame = Self.encodeFrame(request, version: version, clientId: clientId, allocator: channel.allocator)
        let address = self.address
        return sendFrame(frame, apiKey: R.apiKey, version: version, expectsResponse: true,
                         timeoutMs: timeoutMs ?? requestTimeoutMs)
            .flatMapThrowing { body in
                var body = body!
                do {
                    return try R.Response(from: &body, version: version)
                } catch {
                    throw KafkaClientError.protocolViolation(address: address.description,
                                                             detail: "cannot decode \(R.apiKey.name) v\(version) response: \(error)")
                }
            }
    }

    /// Sends a request the broker does not answer (Produce with acks=0). Succeeds once written.
    func sendWithoutResponse<R: KafkaRequest>(_ request: R, version requested: Int16? = nil) -> EventLoopFuture<Void> {
        let version: Int16
        do {
            version = try explicitOrNegotiated(requested, for: R.apiKey)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let frame = Self.encodeFrame(request, version: version, clientId: clientId, allocator: channel.allocator)
        return sendFrame(frame, apiKey: R.apiKey, version: version, expectsResponse: false, timeoutMs: requestTimeoutMs)
            .map { _ in () }
    }

    public func close() {
        channel.close(promise: nil)
    }

    private func explicitOrNegotiated(_ version: Int16?, for api: ApiKey) throws -> Int16 {
        if let version { return version }
        return try self.version(for: api)
    }

    /// Encodes size placeholder, header (correlation id 0, set at send time) and body.
    static func encodeFrame<R: KafkaRequest>(_ request: R, version: Int16, clientId: String,
                                             allocator: ByteBufferAllocator) -> ByteBuffer {
        var frame = allocator.buffer(capacity: 256)
        frame.writeInteger(Int32(0))
        let header = RequestHeader(apiKey: R.apiKey.rawValue, apiVersion: version, correlationId: 0, clientId: clientId)
        header.encode(into: &frame, headerVersion: R.apiKey.requestHeaderVersion(apiVersion: version))
        request.encode(into: &frame, version: version)
        frame.setInteger(Int32(frame.readableBytes - 4), at: frame.readerIndex)
        return frame
    }

    /// Offset of the correlation id in an encoded frame: size(4) + apiKey(2) + apiVersion(2).
    private static let correlationIdOffset = 8

    private func sendFrame(_ frame: ByteBuffer, apiKey: ApiKey, version: Int16, expectsResponse: Bool,
                           timeoutMs: Int64) -> EventLoopFuture<ByteBuffer?> {
        if eventLoop.inEventLoop {
            return sendFrameOnLoop(frame, apiKey: apiKey, version: version, expectsResponse: expectsResponse,
                                   timeoutMs: timeoutMs)
        }
        return eventLoop.flatSubmit {
            self.sendFrameOnLoop(frame, apiKey: apiKey, version: version, expectsResponse: expectsResponse,
                                 timeoutMs: timeoutMs)
        }
    }

    private func sendFrameOnLoop(_ frame: ByteBuffer, apiKey: ApiKey, version: Int16, expectsResponse: Bool,
                                 timeoutMs: Int64) -> EventLoopFuture<ByteBuffer?> {
        eventLoop.preconditionInEventLoop()
        if let failure = handler.failure { return eventLoop.makeFailedFuture(failure) }
        guard channel.isActive else {
            return eventLoop.makeFailedFuture(KafkaClientError.connectionClosed(address: address.description,
                                                                                reason: "connection is closed"))
        }
        var frame = frame
        let correlationId = nextCorrelationId
        nextCorrelationId = nextCorrelationId == Int32.max ? 1 : nextCorrelationId + 1
        frame.setInteger(correlationId, at: frame.readerIndex + Self.correlationIdOffset)

        guard expectsResponse else {
            let written = eventLoop.makePromise(of: Void.self)
            channel.writeAndFlush(frame, promise: written)
            let address = self.address
            return written.futureResult
                .flatMapErrorThrowing { error in
                    throw KafkaClientError.connectionClosed(address: address.description,
                                                            reason: ConnectErrorText.describe(error))
                }
                .map { nil }
        }

        let promise = eventLoop.makePromise(of: ByteBuffer.self)
        handler.expect(.init(correlationId: correlationId,
                             responseHeaderVersion: apiKey.responseHeaderVersion(apiVersion: version),
                             promise: promise))
        channel.writeAndFlush(frame, promise: nil)
        let timeout = eventLoop.scheduleTask(in: .milliseconds(timeoutMs)) { [weak self] in
            guard let self else { return }
            let error = KafkaClientError.requestTimedOut(address: self.address.description, api: apiKey.name,
                                                         timeoutMs: timeoutMs)
            self.handler.failAll(error)
            self.channel.close(promise: nil)
        }
        promise.futureResult.whenComplete { _ in timeout.cancel() }
        return promise.futureResult.map { Optional($0) }
    }
}
