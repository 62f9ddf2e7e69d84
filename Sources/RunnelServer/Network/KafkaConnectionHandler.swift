import Logging
import NIOCore
import RunnelClient

/// What the broker does with one request frame.
enum DispatchResult {
    /// A complete response frame body (response header + body, without the size prefix).
    case respond(ByteBuffer)
    /// No response (Produce with acks=0).
    case noResponse
    /// Close the connection, logging `reason` (malformed request, unsupported version).
    case close(reason: String)
    /// Send this response, then close the connection, logging `reason` (a failed SASL authentication).
    case respondThenClose(ByteBuffer, reason: String)
}

/// Turns request frames into responses. Implemented by the broker.
protocol RequestDispatcher: AnyObject {
    /// Handles one request frame. Called on the connection's event loop; `completion` must be
    /// called exactly once, on that same event loop (it may be called later, e.g. after a
    /// long-poll Fetch or an fsync).
    func dispatch(frame: ByteBuffer, connection: ConnectionInfo, completion: @escaping (DispatchResult) -> Void)
}

/// Per-connection facts a handler may need.
struct ConnectionInfo {
    let id: UInt64
    let remote: String
    /// The client's address as Kafka reports it in group descriptions ("/127.0.0.1").
    var host: String = "/unknown"
    /// The listener the connection came in on (e.g. "PLAINTEXT", "CONTROLLER").
    var listenerName: String = ""
    /// Who the connection acts as (anonymous until SASL or a client certificate says otherwise).
    var principal: KafkaPrincipal = .anonymous
    /// The listener's security protocol (listener.security.protocol.map).
    var securityProtocol: SecurityProtocol = .plaintext
    /// The SASL state of a connection on a SASL_PLAINTEXT or SASL_SSL listener (nil elsewhere).
    var sasl: SaslSession?
}

/// One client connection: requests are pipelined (the client may send many before reading a
/// response) and may complete out of order (a parked acks=all Produce, a long-polling Fetch),
/// but responses are written in request order, as Kafka guarantees per connection.
///
/// At most `Limits.inFlightRequestsPerConnectionMax` requests are in flight; beyond that the
/// handler stops reading from the socket until responses drain (backpressure, bounded memory).
final class KafkaConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let dispatcher: any RequestDispatcher
    private var info: ConnectionInfo
    private let logger: Logger
    private let inFlightMax: Int
    /// Sequence number of the next request to arrive and of the next response to write.
    private var nextRequestSeq: UInt64 = 0
    private var nextWriteSeq: UInt64 = 0
    /// Responses that completed before an earlier one.
    private var completed: [UInt64: DispatchResult] = [:]
    private var readPending = false
    private var closing = false
    static let closeAfterRefusalDelay: TimeAmount = .milliseconds(100)

    init(dispatcher: any RequestDispatcher, info: ConnectionInfo, logger: Logger, inFlightMax: Int) {
        self.dispatcher = dispatcher
        self.info = info
        self.logger = logger
        self.inFlightMax = inFlightMax
    }

    private var inFlight: Int { Int(nextRequestSeq - nextWriteSeq) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let frame = unwrapInboundIn(data)
        let seq = nextRequestSeq
        nextRequestSeq += 1
        let loop = context.eventLoop
        // The broker answers on its owner loop, which is this connection's loop only when
        // there is one network thread: hop back when it is not.
        dispatcher.dispatch(frame: frame, connection: info) { [weak self] result in
            if loop.inEventLoop {
                self?.complete(seq: seq, result: result, context: context)
            } else {
                loop.execute { self?.complete(seq: seq, result: result, context: context) }
            }
        }
    }

    private func complete(seq: UInt64, result: DispatchResult, context: ChannelHandlerContext) {
        completed[seq] = result
        var wrote = false
        while let next = completed.removeValue(forKey: nextWriteSeq) {
            nextWriteSeq += 1
            switch next {
            case .respond(let body):
                guard !closing else { continue }
                writeFrame(body, context: context, promise: nil)
                wrote = true
            case .respondThenClose(let body, let reason):
                guard !closing else { continue }
                logger.notice("closing connection \(info.remote): \(reason)")
                closing = true
                // The answer is flushed and the close comes 100 ms later (Kafka's
                // connection.failed.authentication.delay.ms default), so that the client reads
                // the error before it sees the end of the stream (D174).
                let written = context.eventLoop.makePromise(of: Void.self)
                writeFrame(body, context: context, promise: written)
                context.flush()
                written.futureResult.whenComplete { _ in
                    context.eventLoop.scheduleTask(in: Self.closeAfterRefusalDelay) { context.close(promise: nil) }
                }
                return
            case .noResponse:
                continue
            case .close(let reason):
                guard !closing else { continue }
                logger.notice("closing connection \(info.remote): \(reason)")
                closing = true
                if wrote { context.flush() }
                context.close(promise: nil)
                return
            }
        }
        if wrote { context.flush() }
        if readPending && inFlight < inFlightMax {
            readPending = false
            context.read()
        }
    }

    /// Writes one response frame: its size, then the body (not flushed).
    private func writeFrame(_ body: ByteBuffer, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        var sizePrefix = context.channel.allocator.buffer(capacity: 4)
        sizePrefix.writeInteger(Int32(body.readableBytes))
        context.write(wrapOutboundOut(sizePrefix), promise: nil)
        context.write(wrapOutboundOut(body), promise: promise)
    }

    // Backpressure: hold back the read request while too many requests are in flight.
    func read(context: ChannelHandlerContext) {
        if inFlight >= inFlightMax {
            readPending = true
        } else {
            context.read()
        }
    }

    /// A verified client certificate (or SASL) names the connection's principal.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let authenticated = event as? ConnectionAuthenticated { info.principal = authenticated.principal }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !closing {
            logger.notice("closing connection \(info.remote): \(error)")
        }
        closing = true
        context.close(promise: nil)
    }
}
