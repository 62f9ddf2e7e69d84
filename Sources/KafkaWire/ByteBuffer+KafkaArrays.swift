public import NIOCore

// ARRAY (int32 count, -1 = null) and COMPACT_ARRAY (unsigned varint count + 1, 0 = null).
//
// A count is accepted only if it is at most the number of bytes that remain (Kafka's own rule:
// every element takes at least one byte in practice), so an array claiming 2 billion elements
// fails before `reserveCapacity` rather than allocating. Errors inside element `i` get `[i]`
// prefixed to their path.

extension ByteBuffer {
    /// Reads an array's element count; nil means null.
    @inlinable
    public mutating func readKafkaArrayCount(compact: Bool, nullable: Bool = true, field: String = "") throws -> Int? {
        let start = readerIndex
        guard let count = try readKafkaLength(compact: compact, int16: false, field: field) else {
            if nullable { return nil }
            moveReaderIndex(to: start)
            throw KafkaWireError(field: field, reason: "null array in a version where it is not nullable")
        }
        if count > readableBytes {
            let remaining = readableBytes
            moveReaderIndex(to: start)
            throw KafkaWireError(field: field, reason: "array count \(count) exceeds \(remaining) remaining bytes")
        }
        return count
    }

    @inlinable
    public mutating func readKafkaArray<Element>(compact: Bool, field: String = "",
                                                 _ element: (inout ByteBuffer) throws -> Element) throws -> [Element] {
        try readKafkaNullableArray(compact: compact, nullable: false, field: field, element)!
    }

    @inlinable
    public mutating func readKafkaNullableArray<Element>(compact: Bool, nullable: Bool = true, field: String = "",
                                                         _ element: (inout ByteBuffer) throws -> Element) throws -> [Element]? {
        guard let count = try readKafkaArrayCount(compact: compact, nullable: nullable, field: field) else { return nil }
        var result = [Element]()
        result.reserveCapacity(count)
        for index in 0..<count {
            do {
                result.append(try element(&self))
            } catch let error as KafkaWireError {
                throw error.inside("[\(index)]").inside(field)
            }
        }
        return result
    }

    @inlinable
    public mutating func writeKafkaArray<Element>(_ array: [Element], compact: Bool,
                                                  _ element: (inout ByteBuffer, Element) -> Void) {
        writeKafkaLength(array.count, compact: compact)
        for item in array { element(&self, item) }
    }

    @inlinable
    public mutating func writeKafkaNullableArray<Element>(_ array: [Element]?, compact: Bool, nullable: Bool = true,
                                                          _ element: (inout ByteBuffer, Element) -> Void) {
        if let array {
            writeKafkaArray(array, compact: compact, element)
        } else {
            writeKafkaLength(nullable ? nil : 0, compact: compact)
        }
    }
}
