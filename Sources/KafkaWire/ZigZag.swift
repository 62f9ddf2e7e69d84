// Zigzag varints of RecordBatch v2 records (PROTOCOL.md §4): every length, delta and count inside a
// record is a *signed* protobuf-style varint (sint32/sint64), unlike the unsigned varints of
// flexible protocol fields. Zigzag maps 0, -1, 1, -2… to 0, 1, 2, 3… so that the -1 "null" length
// costs one byte.
//
// These work over raw pointers because they run once per record field on the produce and fetch
// hot paths; a ByteBuffer read per field would re-check bounds and indices every time.

/// Encoding and decoding of zigzag varints (32-bit, at most 5 bytes) and varlongs (64-bit, at
/// most 10 bytes) over raw memory.
public enum ZigZag {
    /// Longest encoding of a 32-bit varint.
    public static let varintBytesMax = 5
    /// Longest encoding of a 64-bit varlong.
    public static let varlongBytesMax = 10

    @inlinable
    public static func encode(_ value: Int32) -> UInt32 {
        UInt32(bitPattern: (value << 1) ^ (value >> 31))
    }

    @inlinable
    public static func encode(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    @inlinable
    public static func decode(_ raw: UInt32) -> Int32 {
        Int32(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    @inlinable
    public static func decode(_ raw: UInt64) -> Int64 {
        Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// Bytes the zigzag varint of `value` occupies (1...5).
    @inlinable
    public static func size(_ value: Int32) -> Int {
        unsignedSize(UInt64(encode(value)))
    }

    /// Bytes the zigzag varlong of `value` occupies (1...10).
    @inlinable
    public static func size(_ value: Int64) -> Int {
        unsignedSize(encode(value))
    }

    /// 7 payload bits per byte: 1 + ⌊(bit width − 1) / 7⌋ bytes, and 1 for zero.
    @inlinable
    static func unsignedSize(_ raw: UInt64) -> Int {
        let bits = 64 - (raw | 1).leadingZeroBitCount
        return (bits + 6) / 7
    }

    /// Writes the zigzag varint of `value` at `offset`; returns the bytes written. The caller
    /// guarantees `size(value)` bytes of room (checked by precondition).
    @inlinable
    @discardableResult
    public static func write(_ value: Int32, to bytes: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        writeUnsigned(UInt64(encode(value)), to: bytes, at: offset)
    }

    /// Writes the zigzag varlong of `value` at `offset`; returns the bytes written.
    @inlinable
    @discardableResult
    public static func write(_ value: Int64, to bytes: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        writeUnsigned(encode(value), to: bytes, at: offset)
    }

    @inlinable
    static func writeUnsigned(_ raw: UInt64, to bytes: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        let count = unsignedSize(raw)
        precondition(offset >= 0 && offset + count <= bytes.count, "varint written past buffer end")
        var value = raw
        var index = offset
        while value >= 0x80 {
            bytes[index] = UInt8(truncatingIfNeeded: value) | 0x80
            value >>= 7
            index += 1
        }
        bytes[index] = UInt8(value)
        return count
    }

    /// Reads a zigzag varint at `offset`, advancing it. nil when the bytes end before the varint
    /// does or when it runs longer than 5 bytes (Kafka's "varint is too long"). Bits above 32 in
    /// the fifth byte are ignored, as Kafka's ByteUtils does.
    @inlinable
    public static func readVarint(_ bytes: UnsafeRawBufferPointer, at offset: inout Int) -> Int32? {
        guard let raw = readUnsigned(bytes, at: &offset, bytesMax: varintBytesMax) else { return nil }
        return decode(UInt32(truncatingIfNeeded: raw))
    }

    /// Reads a zigzag varlong at `offset`, advancing it. nil when truncated or longer than 10
    /// bytes.
    @inlinable
    public static func readVarlong(_ bytes: UnsafeRawBufferPointer, at offset: inout Int) -> Int64? {
        guard let raw = readUnsigned(bytes, at: &offset, bytesMax: varlongBytesMax) else { return nil }
        return decode(raw)
    }

    /// One-byte varints (a null key, no headers, small deltas) are the common case: answered
    /// inline; longer ones take the loop.
    @inlinable
    @inline(__always)
    static func readUnsigned(_ bytes: UnsafeRawBufferPointer, at offset: inout Int, bytesMax: Int) -> UInt64? {
        if offset >= 0 && offset < bytes.count {
            let first = bytes[offset]
            if first < 0x80 {
                offset += 1
                return UInt64(first)
            }
        }
        return readUnsignedLoop(bytes, at: &offset, bytesMax: bytesMax)
    }

    @inlinable
    static func readUnsignedLoop(_ bytes: UnsafeRawBufferPointer, at offset: inout Int, bytesMax: Int) -> UInt64? {
        var index = offset
        let end = min(bytes.count, offset + bytesMax)
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while index < end {
            let byte = bytes[index]
            index += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 {
                offset = index
                return result
            }
            shift += 7
        }
        return nil
    }
}
