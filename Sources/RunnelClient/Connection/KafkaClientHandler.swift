import KafkaWire
import NIOCore

/// The last handler of a client connection: matches each response frame to the oldest
/// outstanding request. Kafka answers the requests of one connection in the order they were
/// sent, so in-order matching is exact; a correlation id that does not match is a protocol
/// violation and fails the connection.
///
/// All state is touched on the channel's event loop only.
final class KafkaClientHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    struct Outstanding {
        let correlationId: Int32
        let responseHeaderVersion: Int16
        let promise: EventLoopPromise<ByteBuffer>
    }

    let address: BrokerAddress
    private var outstanding = CircularBuffer<Outstanding>(initialCapacity: 8)
    /// Set once the connection has failed; later requests fail with it at once.
    private(set) var failure: KafkaClientError?

    init(address: BrokerAddress) {
        self.address = address
    }

    var outstandingCount: Int { outstanding.count }

    /// Registers a request that expects a response. Call before writing its frame.
    func expect(_ request: Outstanding) {
        if let failure {
            request.promise.fail(failure)
        } else {
            outstanding.append(request)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = unwrapInboundIn(data)
        guard let next = outstanding.popFirst() else {
            fail(.protocolViolation(address: address.description, detail: "response frame with no request outstanding"),
                 context: context)
            return
        }
        do {
            let header = try ResponseHeader(from: &frame, headerVersion: next.responseHeaderVersion).correlationId
            guard header == next.correlationId else {
                next.promise.fail(KafkaClientError.protocolViolation(
                    address: address.description,
                    detail: "correlation id \(header) where \(next.correlationId) was expected"))
                fail(.protocolViolation(address: address.description, detail: "correlation id mismatch"), context: context)
                return
            }
            next.promise.succeed(frame)
        } catch {
            next.promise.fail(KafkaClientError.protocolViolation(address: address.description, detail: "\(error)"))
            fail(.protocolViolation(address: address.description, detail: "\(error)"), context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(failure ?? .connectionClosed(address: address.description, reason: "closed by the broker"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reason: String
        if let tooLarge = error as? KafkaFrameDecoder.FrameSizeError {
            reason = "\(tooLarge)"
        } else if error is IOError || ConnectErrorText.isTLS(error) {
            reason = ConnectErrorText.describe(error)
        } else {
            reason = "\(error)"
        }
        fail(.connectionClosed(address: address.description, reason: reason), context: context)
    }

    /// Fails every outstanding request with `error` and closes the channel.
    func fail(_ error: KafkaClientError, context: ChannelHandlerContext) {
        failAll(error)
        context.close(promise: nil)
    }

    func failAll(_ error: KafkaClientError) {
        if failure == nil { failure = error }
        while let next = outstanding.popFirst() { next.promise.fail(error) }
    }
}
