public import NIOCore

/// Splits a byte stream into Kafka frames: `int32 size`, then `size` bytes; emits the bytes after
/// the size prefix. Used by the broker (requests) and the client (responses).
///
/// The size is checked as soon as its 4 bytes arrive, before the frame's bytes are accumulated,
/// so an oversized (or negative, or impossibly small) prefix costs nothing but the connection.
/// The reader index is left alone until a whole frame is present (NIO's rule).
public struct KafkaFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public enum Direction: Sendable {
        /// Requests: at least api_key int16 + api_version int16 + correlation_id int32.
        case requests
        /// Responses: at least a correlation_id int32.
        case responses

        var frameBytesMin: Int { self == .requests ? 8 : 4 }
        var noun: String { self == .requests ? "request" : "response" }
    }

    /// A frame whose size prefix is outside what `direction` and `frameBytesMax` allow.
    public struct FrameSizeError: Error, CustomStringConvertible {
        public let size: Int32
        public let direction: Direction
        public let frameBytesMax: Int

        public var description: String {
            if Int(size) < direction.frameBytesMin {
                return "\(direction.noun) frame of \(size) bytes is shorter than a \(direction.noun) header"
            }
            let limit = direction == .requests ? "socket.request.max.bytes \(frameBytesMax)" : "the limit of \(frameBytesMax)"
            return "\(direction.noun) frame of \(size) bytes exceeds \(limit)" + (looksLikeTLS ? Self.tlsHint : "")
        }

        /// A TLS record (handshake 0x16 or alert 0x15, version 3.x) read as a size prefix: one side
        /// speaks TLS and the other does not.
        var looksLikeTLS: Bool { (size >> 24 == 0x15 || size >> 24 == 0x16) && (size >> 16) & 0xFF == 0x03 }
        static let tlsHint = "; these bytes are a TLS record: one side uses TLS (SSL listener, security.protocol=SSL) and the other does not"
    }

    public let direction: Direction
    public let frameBytesMax: Int

    public init(_ direction: Direction, frameBytesMax: Int) {
        self.direction = direction
        self.frameBytesMax = frameBytesMax
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        guard Int(size) >= direction.frameBytesMin, Int(size) <= frameBytesMax else {
            throw FrameSizeError(size: size, direction: direction, frameBytesMax: frameBytesMax)
        }
        guard buffer.readableBytes >= 4 + Int(size) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        let frame = buffer.readSlice(length: Int(size))!
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer,
                                    seenEOF: Bool) throws -> DecodingState {
        // A partial frame at EOF is dropped: the peer went away mid-frame.
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}
