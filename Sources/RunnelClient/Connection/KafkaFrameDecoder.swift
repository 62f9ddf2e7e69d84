import NIOCore

/// Splits a byte stream into Kafka frames: `int32 size` then `size` bytes. Emits the bytes after
/// the size prefix; leaves the reader index alone until the whole frame is there. A size below
/// the 4-byte correlation id or above `frameBytesMax` is refused before allocating anything.
struct KafkaFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    let frameBytesMax: Int

    struct FrameTooLarge: Error, CustomStringConvertible {
        let size: Int32
        let max: Int
        var description: String { "response frame of \(size) bytes (allowed: 4...\(max))" }
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        guard size >= 4, Int(size) <= frameBytesMax else { throw FrameTooLarge(size: size, max: frameBytesMax) }
        guard buffer.readableBytes >= 4 + Int(size) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        let frame = buffer.readSlice(length: Int(size))!
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
