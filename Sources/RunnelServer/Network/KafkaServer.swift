#if canImport(Glibc)
import Glibc
#endif
import Logging
import KafkaWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import RunnelClient
import RunnelCore

/// The listening side: binds every configured listener and wires each accepted connection to the
/// dispatcher through the frame decoder and the connection handler.
final class KafkaServer {
    private let group: any EventLoopGroup
    private let dispatcher: any RequestDispatcher
    private let logger: Logger
    private let frameBytesMax: Int
    /// The SASL settings for connections of SASL_PLAINTEXT and SASL_SSL listeners; set before
    /// binding.
    var saslSettings: SaslSettings?
    private var channels: [any Channel] = []
    private var nextConnectionID: UInt64 = 0
    private let idLock = NIOLock()

    /// The TLS contexts of the SSL and SASL_SSL listeners, and each listener's protocol.
    private let tls: BrokerTLS
    private let protocols: [String: SecurityProtocol]

    init(group: any EventLoopGroup, dispatcher: any RequestDispatcher, frameBytesMax: Int, logger: Logger,
         tls: BrokerTLS = .none, protocols: [String: SecurityProtocol] = [:]) {
        self.tls = tls
        self.protocols = protocols
        self.group = group
        self.dispatcher = dispatcher
        self.frameBytesMax = frameBytesMax
        self.logger = logger
    }

    /// Binds `listener`; returns the bound address (the port is the real one when 0 was asked).
    /// Throws `ListenerBindError`, which names the listener and the address.
    func bind(_ listener: Listener) throws -> SocketAddress {
        let host = listener.host.isEmpty ? "0.0.0.0" : listener.host
        do {
            return try bind(listener, host: host)
        } catch {
            throw ListenerBindError(listener: listener.name, host: host, port: listener.port, cause: error)
        }
    }

    private func bind(_ listener: Listener, host: String) throws -> SocketAddress {
        let securityProtocol = protocols[listener.name] ?? .plaintext
        let tlsServer = tls.servers[listener.name]
        precondition(tlsServer != nil || !securityProtocol.usesTLS, "listener \(listener.name) has no TLS context")
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            // Produce requests are up to a few MB: reads of up to 1 MiB (NIO's default stops at
            // 64 KiB) mean fewer syscalls, fewer ACK round trips through loopback softirq work
            // done on this thread, and fewer partial frames merged by the frame decoder. The
            // allocator adapts back down for connections that only send small requests.
            .childChannelOption(.recvAllocator,
                                value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16 * 1024, maximum: 1 << 20))
            .childChannelInitializer { [self] channel in
                let id = idLock.withLock { () -> UInt64 in nextConnectionID += 1; return nextConnectionID }
                var info = ConnectionInfo(id: id, remote: channel.remoteAddress?.description ?? "unknown",
                                          host: "/" + (channel.remoteAddress?.ipAddress ?? "unknown"),
                                          listenerName: listener.name, securityProtocol: securityProtocol)
                if let saslSettings, securityProtocol.usesSASL {
                    info.sasl = SaslSession(settings: saslSettings)
                }
                let decoder = ByteToMessageHandler(KafkaFrameDecoder(.requests, frameBytesMax: frameBytesMax))
                let handler = KafkaConnectionHandler(dispatcher: dispatcher, info: info, logger: logger,
                                                     inFlightMax: Limits.inFlightRequestsPerConnectionMax)
                return channel.eventLoop.makeCompletedFuture {
                    if let tlsServer {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsServer.context))
                        try channel.pipeline.syncOperations.addHandler(TLSPrincipalHandler(listener: listener.name, logger: logger))
                    }
                    try channel.pipeline.syncOperations.addHandler(decoder)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .bind(host: host, port: listener.port).wait()
        channels.append(channel)
        return channel.localAddress!
    }

    /// Stops accepting connections (existing ones stay open so in-flight requests can finish).
    func stopAccepting() {
        for channel in channels { try? channel.close().wait() }
        channels.removeAll()
    }
}

/// A listener that could not be bound, e.g. "listener PLAINTEXT cannot bind to 127.0.0.1:9092:
/// address already in use (errno 98)". NIO's own text for this names the syscall and carries a
/// stray parenthesis, and says nothing of which listener failed.
public struct ListenerBindError: Error, CustomStringConvertible {
    public let listener: String
    public let host: String
    public let port: Int
    public let cause: any Error

    public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public var reason: String {
        guard let error = cause as? IOError else { return "\(cause)" }
        let text = String(cString: strerror(error.errnoCode))
        return "\(text.prefix(1).lowercased() + text.dropFirst()) (errno \(error.errnoCode))"
    }

    public var description: String { "listener \(listener) cannot bind to \(address): \(reason)" }
}
