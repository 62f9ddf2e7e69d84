import NIOCore

/// Splits the inbound byte stream into Kafka request frames: int32 size, then `size` bytes.
///
/// The size is checked against `socket.request.max.bytes` as soon as its 4 bytes arrive, before
/// the frame's bytes are accumulated, so an oversized (or negative) prefix costs nothing but the
/// connection. The reader index is left alone until a whole frame is present (NIO's rule).
struct KafkaFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    /// Smallest legal request: api_key int16 + api_version int16 + correlation_id int32.
    static let frameBytesMin = 8
    let frameBytesMax: Int

    enum FrameError: Error, CustomStringConvertible {
        case tooLarge(size: Int32, max: Int)
        case tooSmall(size: Int32)
        var description: String {
            switch self {
            case .tooLarge(let s, let m): return "request frame of \(s) bytes exceeds socket.request.max.bytes \(m)"
            case .tooSmall(let s): return "request frame of \(s) bytes is shorter than a request header"
            }
        }
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        guard size >= 0, Int(size) <= frameBytesMax else { throw FrameError.tooLarge(size: size, max: frameBytesMax) }
        guard Int(size) >= Self.frameBytesMin else { throw FrameError.tooSmall(size: size) }
        guard buffer.readableBytes >= 4 + Int(size) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        let frame = buffer.readSlice(length: Int(size))!
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial frame at EOF is dropped: the client went away mid-request.
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}
