public import NIOCore

/// Record bytes that can write themselves into a buffer without an intermediate copy: the
/// broker's stored batches, read straight from a segment mapping into the response being encoded.
public protocol RecordsSource: Sendable {
    /// Exactly the number of bytes `write(to:)` appends.
    var byteCount: Int { get }
    /// Appends the bytes to `buffer` (one copy: source → buffer).
    func write(to buffer: inout ByteBuffer)
}

/// The `records` field of a response (Fetch). Decoded responses hold the received bytes; a
/// broker building a response can instead hold a `RecordsSource`, so that encoding copies the
/// stored batches once, from the segment into the outgoing buffer, rather than first into a
/// buffer of their own and then again into the response.
public struct ResponseRecords: Sendable, Equatable {
    private enum Storage: Sendable {
        case bytes(ByteBuffer)
        case source(any RecordsSource)
    }

    private let storage: Storage

    /// No records.
    public init() { storage = .bytes(ByteBuffer()) }

    /// Records already in a buffer (a decoded response; tests).
    public init(_ buffer: ByteBuffer) { storage = .bytes(buffer) }

    /// Records written from `source` when the response is encoded.
    public init(source: some RecordsSource) { storage = .source(source) }

    /// Length of the field's value in bytes.
    public var byteCount: Int {
        switch storage {
        case .bytes(let buffer): return buffer.readableBytes
        case .source(let source): return source.byteCount
        }
    }

    /// The bytes as a buffer: free for decoded records, a copy for a source.
    public var buffer: ByteBuffer {
        switch storage {
        case .bytes(let buffer): return buffer
        case .source(let source):
            var buffer = ByteBufferAllocator().buffer(capacity: source.byteCount)
            source.write(to: &buffer)
            return buffer
        }
    }

    /// Appends the bytes to `target`.
    public func write(to target: inout ByteBuffer) {
        switch storage {
        case .bytes(let buffer): target.writeImmutableBuffer(buffer)
        case .source(let source):
            let before = target.writerIndex
            source.write(to: &target)
            precondition(target.writerIndex - before == source.byteCount,
                         "RecordsSource wrote \(target.writerIndex - before) bytes, announced \(source.byteCount)")
        }
    }

    public static func == (lhs: ResponseRecords, rhs: ResponseRecords) -> Bool {
        lhs.buffer == rhs.buffer
    }
}

extension ByteBuffer {
    @inlinable
    public mutating func readKafkaResponseRecords(compact: Bool, field: String = "") throws -> ResponseRecords {
        try ResponseRecords(readKafkaNullableRecords(compact: compact, nullable: false, field: field)!)
    }

    @inlinable
    public mutating func readKafkaNullableResponseRecords(compact: Bool, nullable: Bool = true,
                                                          field: String = "") throws -> ResponseRecords? {
        try readKafkaNullableRecords(compact: compact, nullable: nullable, field: field).map(ResponseRecords.init)
    }

    public mutating func writeKafkaResponseRecords(_ value: ResponseRecords, compact: Bool) {
        writeKafkaLength(value.byteCount, compact: compact)
        value.write(to: &self)
    }

    /// nil writes null where the version is nullable, else empty records.
    public mutating func writeKafkaNullableResponseRecords(_ value: ResponseRecords?, compact: Bool, nullable: Bool = true) {
        writeKafkaLength(value?.byteCount ?? (nullable ? nil : 0), compact: compact)
        value?.write(to: &self)
    }
}
