import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// Sent down a connection's pipeline once it knows who the client is (a verified client
/// certificate now; SASL may send it too); `KafkaConnectionHandler` takes it as the principal.
struct ConnectionAuthenticated {
    let principal: KafkaPrincipal
}

/// Sits behind the TLS handler of an SSL or SASL_SSL listener. When the handshake completes with
/// a client certificate (which the TLS handler has verified against the truststore), the
/// connection's principal becomes `User:<subject>` (D164), and one log line says so. It stays in
/// the pipeline to take TLS errors: a failed handshake is logged, an unclean close is not.
final class TLSPrincipalHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let listener: String
    private let logger: Logger

    init(listener: String, logger: Logger) {
        self.listener = listener
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case .handshakeCompleted? = event as? TLSUserEvent else {
            return context.fireUserInboundEventTriggered(event)
        }
        context.fireUserInboundEventTriggered(event)
        let remote = context.channel.remoteAddress?.description ?? "unknown"
        let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
        let version = tls?.tlsVersion.map { "\($0)" } ?? "?"
        if let certificate = tls?.peerCertificate {
            do {
                let subject = try CertificateSubject.rfc2253(certificateDER: try certificate.toDERBytes())
                let principal = KafkaPrincipal(name: subject)
                logger.info("TLS connection from \(remote) on listener \(listener) (\(version)) authenticated as \(principal)")
                context.fireUserInboundEventTriggered(ConnectionAuthenticated(principal: principal))
            } catch {
                logger.notice("TLS connection from \(remote) on listener \(listener): cannot read the client certificate's subject; closing")
                context.close(promise: nil)
                return
            }
        } else {
            logger.debug("TLS connection from \(remote) on listener \(listener) (\(version)) without a client certificate")
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Kafka clients close the socket without a TLS close_notify; Kafka's framing already
        // detects a truncated request, so this is an ordinary close, not worth a log line.
        if case .uncleanShutdown? = error as? NIOSSLError {
            context.close(promise: nil)
            return
        }
        // A refused client (no certificate, an expired or untrusted one, not TLS at all): one line.
        if error is NIOSSLError || error is BoringSSLError {
            logger.notice("TLS handshake with \(context.channel.remoteAddress?.description ?? "unknown") on listener \(listener) failed: \(error)")
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }
}
