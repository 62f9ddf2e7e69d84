import FuzzSupport
public import KafkaMessages
public import NIOCore

/// Decodes `body` as `Message` at `version`; when it decodes, encodes it, decodes that and encodes
/// again, and traps unless the two encodings are identical (a decoder that accepts what its
/// encoder cannot reproduce is a finding). Bytes are compared, not values: unknown tagged fields
/// are kept in arrival order and written sorted by tag (as Kafka's RawTaggedFieldWriter requires).
public func roundTrip<Message: KafkaMessage>(_: Message.Type, _ body: ByteBuffer, version: Int16) {
    var body = body
    guard let message = try? Message(from: &body, version: version) else { return }
    var first = ByteBuffer()
    message.encode(into: &first, version: version)
    var reread = first
    guard let again = try? Message(from: &reread, version: version) else {
        fatalError("\(Message.self) v\(version): its own encoding does not decode: \(Array(first.readableBytesView))")
    }
    fuzzCheck(reread.readableBytes == 0, "\(Message.self) v\(version): bytes left after its own encoding")
    var second = ByteBuffer()
    again.encode(into: &second, version: version)
    fuzzCheck(first == second, "\(Message.self) v\(version): encode → decode → encode changed the bytes")
}
