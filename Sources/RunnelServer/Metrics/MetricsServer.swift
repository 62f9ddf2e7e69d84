import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// The HTTP listener of `runnel.metrics.listener`: GET /metrics (Prometheus text format 0.0.4)
/// and GET /health (200 "ok: …" when ready, 503 with the reason otherwise). Its own listener, not
/// the Kafka port; bound before the logs are opened, so /health answers 503 while the broker
/// starts. Anything else: 404, or 405 for another method.
final class MetricsServer: @unchecked Sendable {
    // @unchecked: `source` is guarded by `lock`; the channel is set once before use.
    private let lock = NIOLock()
    private var source: (any MetricsSource)?
    private var starting = "not ready: starting; opening the data directory and loading the partition logs"
    private var channel: (any Channel)?
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// The node whose metrics and health are served (nil: still starting, or stopped).
    func serve(_ node: (any MetricsSource)?) { lock.withLock { source = node } }

    /// Binds `listener`; returns the bound address (the real port when 0 was asked).
    func bind(_ listener: MetricsListener, group: any EventLoopGroup) throws -> SocketAddress {
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMap {
                    channel.pipeline.addHandler(MetricsHTTPHandler(server: self))
                }
            }
            .bind(host: listener.host, port: listener.port).wait()
        self.channel = channel
        return channel.localAddress!
    }

    func close() {
        serve(nil)
        lock.withLock { starting = "not ready: shutting down" }
        try? channel?.close().wait()
        channel = nil
    }

    fileprivate struct Answer {
        var status: HTTPResponseStatus
        var contentType: String
        var body: String
    }

    fileprivate func answer(method: HTTPMethod, path: String, on loop: any EventLoop) -> EventLoopFuture<Answer> {
        let route = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        guard route == "/metrics" || route == "/health" else {
            return loop.makeSucceededFuture(Answer(status: .notFound, contentType: "text/plain; charset=utf-8",
                                                   body: "not found: this listener serves GET /metrics and GET /health\n"))
        }
        guard method == .GET || method == .HEAD else {
            return loop.makeSucceededFuture(Answer(status: .methodNotAllowed, contentType: "text/plain; charset=utf-8",
                                                   body: "\(route) answers GET only\n"))
        }
        let (node, starting) = lock.withLock { (source, self.starting) }
        if route == "/health" {
            guard let node else {
                return loop.makeSucceededFuture(Answer(status: .serviceUnavailable, contentType: "text/plain; charset=utf-8",
                                                       body: starting + "\n"))
            }
            return node.health().hop(to: loop).map { health in
                Answer(status: health.ready ? .ok : .serviceUnavailable, contentType: "text/plain; charset=utf-8",
                       body: health.reason + "\n")
            }
        }
        guard let node else {
            return loop.makeSucceededFuture(Answer(status: .serviceUnavailable, contentType: "text/plain; charset=utf-8",
                                                   body: starting + "\n"))
        }
        return node.scrapeMetrics().hop(to: loop).map { text in
            Answer(status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: text)
        }.recover { error in
            Answer(status: .serviceUnavailable, contentType: "text/plain; charset=utf-8", body: "metrics unavailable: \(error)\n")
        }
    }
}

/// One HTTP/1.1 connection to the metrics listener; requests are answered in order.
private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: MetricsServer
    private var head: HTTPRequestHead?

    init(server: MetricsServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            let keepAlive = head.isKeepAlive
            server.answer(method: head.method, path: head.uri, on: context.eventLoop).whenSuccess { answer in
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: answer.contentType)
                let body = ByteBuffer(string: answer.body)
                headers.add(name: "Content-Length", value: String(body.readableBytes))
                if !keepAlive { headers.add(name: "Connection", value: "close") }
                context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: answer.status,
                                                                          headers: headers))), promise: nil)
                if head.method != .HEAD { context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
                context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in
                    if !keepAlive { context.close(promise: nil) }
                }
            }
        }
    }
}
