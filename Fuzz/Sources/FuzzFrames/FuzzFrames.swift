import FuzzMessages
import FuzzSupport
import KafkaMessages
import KafkaWire
import NIOCore
import NIOEmbedded

/// Kafka frames as the broker and the client read them: `KafkaFrameDecoder` splits a byte
/// stream, then every frame is decoded the way `RequestRouter` (requests) or the client
/// (responses) does it, for every API key and every version the generated code knows, not only
/// the ones the broker advertises.
///
/// Input: `mode` byte, `chunk` byte, then
/// - mode bit 0 clear: a request byte stream (4-byte size + frame, repeated), written to the
///   decoder `chunk` bytes at a time (0: all at once);
/// - mode bit 0 set: `apiKey` int16, `apiVersion` int16, then a response byte stream; every frame
///   is read as a response of that key and version;
/// - mode bit 1 set: the stream is instead a single frame's bytes (no size), decoded directly.
///
/// A header or body that decodes must encode, decode and encode to the same bytes (`roundTrip`).
@main
enum FuzzFrames {
    static func main() {
        FuzzMain.run("FuzzFrames") { bytes in
            var input = FuzzInput(bytes)
            let mode = input.byte()
            let chunk = Int(input.byte())
            let direction: KafkaFrameDecoder.Direction = mode & 1 == 0 ? .requests : .responses
            var apiKey: ApiKey?, version: Int16 = 0
            if direction == .responses {
                apiKey = ApiKey(rawValue: Int16(bitPattern: input.uint16()))
                version = Int16(bitPattern: input.uint16())
                if apiKey == nil { return }
            }
            // Bit 1: the rest is one frame body, without the frame decoder (an EmbeddedChannel
            // per input costs more than decoding the body; bit 1 clear keeps that path fuzzed).
            let frames = mode & 2 != 0 ? [ByteBuffer(bytes: input.rest())] : frames(input.rest(), direction, chunk: chunk)
            for frame in frames {
                if let apiKey { decodeResponse(frame, apiKey: apiKey, version: version) } else { decodeRequest(frame) }
            }
        }
    }

    /// The frames `KafkaFrameDecoder` emits for `stream`, up to the first error.
    static func frames(_ stream: UnsafeRawBufferPointer, _ direction: KafkaFrameDecoder.Direction,
                       chunk: Int) -> [ByteBuffer] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(KafkaFrameDecoder(direction, frameBytesMax: 64 * 1024)))
        defer { _ = try? channel.finish() }
        var out: [ByteBuffer] = []
        var at = 0
        repeat {
            let end = chunk == 0 ? stream.count : min(stream.count, at + chunk)
            do {
                try channel.writeInbound(ByteBuffer(bytes: stream[at..<end]))
                while let frame = try channel.readInbound(as: ByteBuffer.self) { out.append(frame) }
            } catch {
                return out
            }
            at = end
        } while at < stream.count
        return out
    }

    static func decodeRequest(_ frame: ByteBuffer) {
        guard let prefix = try? RequestHeader.Prefix.peek(frame), let apiKey = ApiKey(rawValue: prefix.apiKey) else { return }
        var body = frame
        let headerVersion = apiKey.requestHeaderVersion(apiVersion: prefix.apiVersion)
        guard let header = try? RequestHeader(from: &body, headerVersion: headerVersion) else { return }
        // Bytes, not values: a decoder keeps unknown tagged fields in the order they came, and
        // the encoder writes them sorted by tag (as Kafka's RawTaggedFieldWriter requires).
        var first = ByteBuffer()
        header.encode(into: &first, headerVersion: headerVersion)
        var reread = first
        var second = ByteBuffer()
        (try? RequestHeader(from: &reread, headerVersion: headerVersion))?.encode(into: &second, headerVersion: headerVersion)
        fuzzCheck(first == second, "request header: encode → decode → encode changed the bytes")
        roundTrip(apiKey.requestType, body, version: prefix.apiVersion)
    }

    static func decodeResponse(_ frame: ByteBuffer, apiKey: ApiKey, version: Int16) {
        var body = frame
        guard (try? ResponseHeader(from: &body, headerVersion: apiKey.responseHeaderVersion(apiVersion: version))) != nil
        else { return }
        roundTrip(apiKey.responseType, body, version: version)
    }

}
