public import NIOCore

// Tagged fields (KIP-482), present at the end of every struct in a flexible version:
//
//     count  unsigned varint
//     count × { tag unsigned varint, size unsigned varint, size bytes of data }
//
// The empty section is the single byte 0x00. Generated code decodes the tags it knows from the
// `data` slice and keeps the others as `KafkaTaggedField`s so that re-encoding a message
// reproduces them. Writers emit fields in ascending tag order, as Kafka does.

/// A tagged field this code does not interpret, kept verbatim.
public struct KafkaTaggedField: Equatable, Hashable, Sendable {
    public var tag: UInt32
    public var data: [UInt8]

    public init(tag: UInt32, data: [UInt8]) {
        self.tag = tag
        self.data = data
    }

    public init(tag: UInt32, data: ByteBuffer) {
        self.init(tag: tag, data: Array(data.readableBytesView))
    }
}

extension ByteBuffer {
    /// Reads the count that opens a tagged-field section (each field takes at least 2 bytes, so
    /// a count above half the remaining bytes is rejected before looping).
    @inlinable
    public mutating func readKafkaTaggedFieldCount(field: String = "") throws -> Int {
        let start = readerIndex
        let count = Int(try readKafkaUnsignedVarint(field: field))
        if count * 2 > readableBytes {
            let remaining = readableBytes
            moveReaderIndex(to: start)
            throw KafkaWireError(field: field, reason: "tagged field count \(count) exceeds what \(remaining) remaining bytes can hold")
        }
        return count
    }

    /// Reads one tagged field's tag and returns its data as a slice (no copy).
    @inlinable
    public mutating func readKafkaTaggedField(field: String = "") throws -> (tag: UInt32, data: ByteBuffer) {
        let start = readerIndex
        let tag = try readKafkaUnsignedVarint(field: field)
        let size = Int(try readKafkaUnsignedVarint(field: field))
        guard let data = readSlice(length: size) else {
            let remaining = readableBytes
            moveReaderIndex(to: start)
            throw KafkaWireError(field: field, reason: "tagged field \(tag) size \(size) exceeds \(remaining) remaining bytes")
        }
        return (tag, data)
    }

    /// Writes a section holding exactly `fields` (already sorted by tag), e.g. unknown fields
    /// kept from a decode; writes the single byte 0 when empty.
    @inlinable
    public mutating func writeKafkaTaggedFields(_ fields: [KafkaTaggedField]) {
        var writer = KafkaTaggedFieldsWriter(unknown: fields)
        writer.write(into: &self)
    }
}

/// Collects the tagged fields of one struct, then writes the section in ascending tag order.
/// Known fields are encoded into a scratch buffer first because the section stores each field's
/// size before its data; tagged fields are rare and small, so the copy does not matter.
public struct KafkaTaggedFieldsWriter {
    @usableFromInline var fields: [(tag: UInt32, data: ByteBuffer)] = []

    @inlinable
    public init(unknown: [KafkaTaggedField]) {
        if !unknown.isEmpty {
            fields = unknown.map { (tag: $0.tag, data: ByteBuffer(bytes: $0.data)) }
        }
    }

    /// Adds a field whose data `write` produces.
    @inlinable
    public mutating func add(tag: UInt32, _ write: (inout ByteBuffer) -> Void) {
        var data = ByteBuffer()
        write(&data)
        fields.append((tag: tag, data: data))
    }

    @inlinable
    public mutating func write(into buffer: inout ByteBuffer) {
        buffer.writeKafkaUnsignedVarint(UInt32(fields.count))
        if fields.isEmpty { return }
        // Stable sort keeps insertion order for equal tags (a duplicate tag is a caller bug
        // Kafka would also emit as given).
        let sorted = fields.enumerated().sorted { ($0.element.tag, $0.offset) < ($1.element.tag, $1.offset) }
        for (_, field) in sorted {
            buffer.writeKafkaUnsignedVarint(field.tag)
            buffer.writeKafkaUnsignedVarint(UInt32(field.data.readableBytes))
            buffer.writeImmutableBuffer(field.data)
        }
    }
}
