public import NIOCore

// Kafka's two variable-length integer encodings:
// - unsigned varint (protocol: compact lengths, tagged-field tags and sizes): 7 bits per byte,
//   least significant group first, high bit = "more bytes follow"; at most 5 bytes for 32 bits.
// - zigzag varint / varlong (record fields inside a RecordBatch, PROTOCOL.md §4): the signed
//   value is zigzag-mapped ((n << 1) ^ (n >> 63)) then written as an unsigned varint; at most 5
//   bytes for Int32 and 10 for Int64.
// Over-long encodings (more bytes than the width allows, or bits beyond it) are rejected rather
// than silently truncated.

public enum KafkaVarint {
    /// Bytes `writeKafkaUnsignedVarint(value)` writes.
    @inlinable
    public static func unsignedSize(_ value: UInt32) -> Int {
        unsignedSize64(UInt64(value))
    }

    /// Bytes `writeKafkaVarint(value)` writes.
    @inlinable
    public static func zigzagSize(_ value: Int32) -> Int {
        unsignedSize64(UInt64(UInt32(bitPattern: (value << 1) ^ (value >> 31))))
    }

    /// Bytes `writeKafkaVarlong(value)` writes.
    @inlinable
    public static func zigzagSize(_ value: Int64) -> Int {
        unsignedSize64(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    @inlinable
    static func unsignedSize64(_ value: UInt64) -> Int {
        // 1 byte per started group of 7 significant bits; 0 still takes one byte.
        let bits = 64 - (value | 1).leadingZeroBitCount
        return (bits + 6) / 7
    }
}

extension ByteBuffer {
    /// Reads an unsigned varint of at most `maxBytes` bytes whose value fits `bitWidth` bits.
    @inlinable
    mutating func readKafkaVarint64(maxBytes: Int, bitWidth: Int, field: String) throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var index = readerIndex
        let end = readerIndex + readableBytes
        for count in 1...maxBytes {
            guard index < end else {
                throw KafkaWireError(field: field, reason: "varint truncated after \(count - 1) bytes")
            }
            let byte = getInteger(at: index, as: UInt8.self)!
            index += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                // The last possible byte may only carry the bits still left in the width
                // (4 of 32 after 28, 1 of 64 after 63).
                if count == maxBytes, UInt64(byte) >> UInt64(bitWidth - 7 * (maxBytes - 1)) != 0 {
                    throw KafkaWireError(field: field, reason: "varint overflows \(bitWidth) bits")
                }
                moveReaderIndex(to: index)
                return result
            }
            shift += 7
        }
        throw KafkaWireError(field: field, reason: "varint longer than \(maxBytes) bytes")
    }

    @inlinable
    mutating func writeKafkaVarint64(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        writeInteger(UInt8(v))
    }

    /// Kafka UNSIGNED_VARINT (protocol lengths, tags, tagged-field sizes).
    @inlinable
    public mutating func readKafkaUnsignedVarint(field: String = "") throws -> UInt32 {
        UInt32(try readKafkaVarint64(maxBytes: 5, bitWidth: 32, field: field))
    }

    @inlinable
    public mutating func writeKafkaUnsignedVarint(_ value: UInt32) {
        writeKafkaVarint64(UInt64(value))
    }

    /// Kafka VARINT: zigzag-encoded Int32 (record fields).
    @inlinable
    public mutating func readKafkaVarint(field: String = "") throws -> Int32 {
        let raw = UInt32(try readKafkaVarint64(maxBytes: 5, bitWidth: 32, field: field))
        return Int32(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    @inlinable
    public mutating func writeKafkaVarint(_ value: Int32) {
        writeKafkaVarint64(UInt64(UInt32(bitPattern: (value << 1) ^ (value >> 31))))
    }

    /// Kafka VARLONG: zigzag-encoded Int64 (record timestamps).
    @inlinable
    public mutating func readKafkaVarlong(field: String = "") throws -> Int64 {
        let raw = try readKafkaVarint64(maxBytes: 10, bitWidth: 64, field: field)
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    @inlinable
    public mutating func writeKafkaVarlong(_ value: Int64) {
        writeKafkaVarint64(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }
}
