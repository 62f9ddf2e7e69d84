public import NIOCore
import RunnelCore

/// Whole stored batches for a Fetch, straight from a segment's mapping: no decode, no copy until
/// the caller chooses one (`withUnsafeBytes` to copy into a response buffer it already has, or
/// `makeByteBuffer`).
///
/// The slice keeps the mapping alive, so it stays memory-safe even if the segment is deleted
/// afterwards. Its bytes are only guaranteed to be the batches read while the owner has not
/// truncated the log since: use it on the owner thread before the next log mutation (the natural
/// thing for a Fetch handler running on the owner).
public struct LogSlice: @unchecked Sendable {
    // @unchecked: the mapping is immutable; see `Mapping`.
    private let mapping: Mapping?
    private let range: Range<Int>
    /// Base offset of the first batch (may be before the fetch offset, as in Kafka); nil if empty.
    public let firstOffset: Offset?
    /// One past the last offset of the last batch (the next fetch offset); nil if empty.
    public let nextOffset: Offset?
    /// Number of whole batches.
    public let batchCount: Int

    init(mapping: Mapping?, range: Range<Int>, firstOffset: Offset?, nextOffset: Offset?, batchCount: Int) {
        self.mapping = mapping
        self.range = range
        self.firstOffset = firstOffset
        self.nextOffset = nextOffset
        self.batchCount = batchCount
    }

    public static let empty = LogSlice(mapping: nil, range: 0..<0, firstOffset: nil, nextOffset: nil, batchCount: 0)

    public var byteCount: Int { range.count }
    public var isEmpty: Bool { range.isEmpty }

    /// The stored bytes, valid only inside `body`.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        guard let mapping, !range.isEmpty else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try body(mapping.bytes(range))
    }

    /// One copy, from the mapping into a new buffer.
    public func makeByteBuffer(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: byteCount)
        write(to: &buffer)
        return buffer
    }

    /// One copy, appended to `buffer`.
    public func write(to buffer: inout ByteBuffer) {
        withUnsafeBytes { bytes in _ = buffer.writeBytes(bytes) }
    }
}
