public import NIOCore
public import RunnelCore

// Fixed-width Kafka primitives (all big-endian, as NIO's defaults are). The `read*` methods
// move the reader index and throw `KafkaWireError` naming `field` when too few bytes remain;
// on failure the reader index is left where it was. Writes use NIO's `writeInteger` directly
// for integers; only the types NIO has no verb for get one here.

extension ByteBuffer {
    @inlinable
    mutating func readKafkaFixed<T: FixedWidthInteger>(_: T.Type, field: String) throws -> T {
        guard let value = readInteger(as: T.self) else {
            throw KafkaWireError.short(field, needed: MemoryLayout<T>.size, remaining: readableBytes)
        }
        return value
    }

    @inlinable public mutating func readKafkaInt8(field: String = "") throws -> Int8 { try readKafkaFixed(Int8.self, field: field) }
    @inlinable public mutating func readKafkaInt16(field: String = "") throws -> Int16 { try readKafkaFixed(Int16.self, field: field) }
    @inlinable public mutating func readKafkaInt32(field: String = "") throws -> Int32 { try readKafkaFixed(Int32.self, field: field) }
    @inlinable public mutating func readKafkaInt64(field: String = "") throws -> Int64 { try readKafkaFixed(Int64.self, field: field) }
    @inlinable public mutating func readKafkaUInt16(field: String = "") throws -> UInt16 { try readKafkaFixed(UInt16.self, field: field) }
    @inlinable public mutating func readKafkaUInt32(field: String = "") throws -> UInt32 { try readKafkaFixed(UInt32.self, field: field) }

    /// Kafka BOOLEAN: one byte, any non-zero value is true (as Kafka reads it).
    @inlinable
    public mutating func readKafkaBool(field: String = "") throws -> Bool {
        try readKafkaFixed(UInt8.self, field: field) != 0
    }

    @inlinable
    public mutating func writeKafkaBool(_ value: Bool) {
        writeInteger(value ? 1 : 0, as: UInt8.self)
    }

    /// Kafka FLOAT64: IEEE 754 binary64, big-endian.
    @inlinable
    public mutating func readKafkaFloat64(field: String = "") throws -> Double {
        Double(bitPattern: try readKafkaFixed(UInt64.self, field: field))
    }

    @inlinable
    public mutating func writeKafkaFloat64(_ value: Double) {
        writeInteger(value.bitPattern)
    }

    /// Kafka UUID: 16 bytes, most significant half first. Carried as RunnelCore's `TopicID`,
    /// which prints Kafka's 22-character base64 form (every uuid field in the protocol is a
    /// topic id, a directory id or a member/incarnation id; all share the representation).
    @inlinable
    public mutating func readKafkaUUID(field: String = "") throws -> TopicID {
        guard readableBytes >= 16 else { throw KafkaWireError.short(field, needed: 16, remaining: readableBytes) }
        let high = readInteger(as: UInt64.self)!
        let low = readInteger(as: UInt64.self)!
        return TopicID(high: high, low: low)
    }

    @inlinable
    public mutating func writeKafkaUUID(_ value: TopicID) {
        writeInteger(value.high)
        writeInteger(value.low)
    }
}
