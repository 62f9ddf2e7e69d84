public import NIOCore

/// One record inside a RecordBatch v2, as it is on the wire (PROTOCOL.md §4):
///
///     length          varint   bytes after this field
///     attributes      int8     unused, 0
///     timestampDelta  varlong  relative to the batch's baseTimestamp
///     offsetDelta     varint   relative to the batch's baseOffset
///     keyLength       varint   -1 = null key
///     key             bytes
///     valueLength     varint   -1 = null value
///     value           bytes
///     headerCount     varint
///     headers         keyLength varint (≥ 0), key UTF-8, valueLength varint (-1 = null), value
///
/// All varints are zigzag (`ZigZag`). Key, value and header values are `ByteBuffer`s: on decode
/// they are slices sharing the fetched (or decompressed) buffer, so no bytes are copied.
public struct Record: Equatable, Sendable {
    public var offsetDelta: Int32
    public var timestampDelta: Int64
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [RecordHeader]

    public init(offsetDelta: Int32, timestampDelta: Int64, key: ByteBuffer?, value: ByteBuffer?,
                headers: [RecordHeader] = []) {
        self.offsetDelta = offsetDelta
        self.timestampDelta = timestampDelta
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// A record header: a UTF-8 key (never null) and an optional value.
public struct RecordHeader: Equatable, Sendable {
    public var key: String
    public var value: ByteBuffer?

    public init(key: String, value: ByteBuffer?) {
        self.key = key
        self.value = value
    }

    public init(key: String, bytes: [UInt8]?) {
        self.key = key
        self.value = bytes.map { ByteBuffer(bytes: $0) }
    }
}

/// The record fields whose decoding can fail, for error messages.
public enum RecordField: String, Sendable {
    case length, attributes, timestampDelta, offsetDelta, keyLength, key, valueLength, value
    case headerCount, headerKeyLength, headerKey, headerValueLength, headerValue
}

/// What is wrong with one record's structure. Produce validation maps these to INVALID_RECORD.
public enum RecordFault: Error, Equatable, Sendable, CustomStringConvertible {
    /// A varint or a byte field runs past the record's declared length (or the section's end).
    case truncated(RecordField)
    /// The length varint is not positive or the record runs past the record section.
    case badLength(Int32)
    /// A length or count is below its minimum (-1 for nullable lengths, 0 otherwise).
    case negative(RecordField, Int32)
    /// The fields end before the declared length does.
    case lengthMismatch(declared: Int, used: Int)
    /// offsetDelta is not the record's index in the batch.
    case offsetDelta(expected: Int32, found: Int32)

    public var description: String {
        switch self {
        case .truncated(let field): return "\(field.rawValue) runs past the record's end"
        case .badLength(let length): return "record length \(length) does not fit the record section"
        case .negative(let field, let value): return "\(field.rawValue) is \(value)"
        case .lengthMismatch(let declared, let used):
            return "record declares \(declared) bytes but its fields use \(used)"
        case .offsetDelta(let expected, let found): return "offsetDelta \(found) where \(expected) was expected"
        }
    }
}

/// Positions of one record's fields inside the buffer it was parsed from. Positions are absolute
/// indices into that buffer; a length of -1 means null.
struct RecordLayout {
    var end: Int
    var timestampDelta: Int64
    var offsetDelta: Int32
    var keyStart: Int
    var keyLength: Int
    var valueStart: Int
    var valueLength: Int
    var headerCount: Int
    var headersStart: Int
}

enum RecordWire {
    /// Parses and fully checks the record at `start` of `bytes`: every length within the
    /// record's declared size, and the fields using exactly that size. Allocates nothing.
    static func parse(_ bytes: UnsafeRawBufferPointer, at start: Int) throws(RecordFault) -> RecordLayout {
        var index = start
        guard let length = ZigZag.readVarint(bytes, at: &index) else { throw .truncated(.length) }
        guard length > 0, Int(length) <= bytes.count - index else { throw .badLength(length) }
        let end = index + Int(length)
        // Every read below is bounded by the record's own end, not the section's.
        let record = UnsafeRawBufferPointer(rebasing: bytes[0..<end])
        index += 1  // attributes: unused
        guard let timestampDelta = ZigZag.readVarlong(record, at: &index) else { throw .truncated(.timestampDelta) }
        guard let offsetDelta = ZigZag.readVarint(record, at: &index) else { throw .truncated(.offsetDelta) }
        let keyLength = try readLength(record, at: &index, field: .keyLength, nullable: true)
        let keyStart = index
        try skip(keyLength, in: record, at: &index, field: .key)
        let valueLength = try readLength(record, at: &index, field: .valueLength, nullable: true)
        let valueStart = index
        try skip(valueLength, in: record, at: &index, field: .value)
        let headerCount = try readLength(record, at: &index, field: .headerCount, nullable: false)
        let headersStart = index
        for _ in 0..<headerCount {
            let keyLength = try readLength(record, at: &index, field: .headerKeyLength, nullable: false)
            try skip(keyLength, in: record, at: &index, field: .headerKey)
            let valueLength = try readLength(record, at: &index, field: .headerValueLength, nullable: true)
            try skip(valueLength, in: record, at: &index, field: .headerValue)
        }
        guard index == end else { throw .lengthMismatch(declared: Int(length), used: index - (end - Int(length))) }
        return RecordLayout(end: end, timestampDelta: timestampDelta, offsetDelta: offsetDelta,
                            keyStart: keyStart, keyLength: keyLength, valueStart: valueStart,
                            valueLength: valueLength, headerCount: headerCount, headersStart: headersStart)
    }

    static func readLength(_ bytes: UnsafeRawBufferPointer, at index: inout Int, field: RecordField,
                           nullable: Bool) throws(RecordFault) -> Int {
        guard let value = ZigZag.readVarint(bytes, at: &index) else { throw .truncated(field) }
        guard value >= (nullable ? -1 : 0) else { throw .negative(field, value) }
        return Int(value)
    }

    static func skip(_ length: Int, in bytes: UnsafeRawBufferPointer, at index: inout Int,
                     field: RecordField) throws(RecordFault) {
        guard length > 0 else { return }
        guard length <= bytes.count - index else { throw .truncated(field) }
        index += length
    }

    /// Size of a record's body (everything after its length varint).
    static func bodySize(timestampDelta: Int64, offsetDelta: Int32, keyLength: Int?, valueLength: Int?,
                         headers: [RecordHeader]) -> Int {
        var size = 1 + ZigZag.size(timestampDelta) + ZigZag.size(offsetDelta)
        size += nullableSize(keyLength) + nullableSize(valueLength)
        size += ZigZag.size(Int32(headers.count))
        for header in headers {
            let keyBytes = header.key.utf8.count
            size += ZigZag.size(Int32(keyBytes)) + keyBytes + nullableSize(header.value?.readableBytes)
        }
        return size
    }

    static func nullableSize(_ length: Int?) -> Int {
        guard let length else { return 1 }
        precondition(length <= Int(Int32.max), "record field larger than 2 GiB")
        return ZigZag.size(Int32(length)) + length
    }

    /// Writes a whole record (length varint included) at `index` of `out`, which the caller sized
    /// with `bodySize`; returns the bytes written.
    static func write(bodySize: Int, timestampDelta: Int64, offsetDelta: Int32, key: UnsafeRawBufferPointer?,
                      value: UnsafeRawBufferPointer?, headers: [RecordHeader],
                      to out: UnsafeMutableRawBufferPointer, at start: Int) -> Int {
        precondition(bodySize <= Int(Int32.max), "record larger than 2 GiB")
        var index = start
        index += ZigZag.write(Int32(bodySize), to: out, at: index)
        let bodyStart = index
        out[index] = 0  // attributes
        index += 1
        index += ZigZag.write(timestampDelta, to: out, at: index)
        index += ZigZag.write(offsetDelta, to: out, at: index)
        index += writeNullable(key, to: out, at: index)
        index += writeNullable(value, to: out, at: index)
        index += ZigZag.write(Int32(headers.count), to: out, at: index)
        for header in headers {
            var key = header.key
            index += key.withUTF8 { writeNullable(UnsafeRawBufferPointer($0), to: out, at: index) }
            if let value = header.value {
                index += value.withUnsafeReadableBytes { writeNullable($0, to: out, at: index) }
            } else {
                index += writeNullable(nil, to: out, at: index)
            }
        }
        precondition(index - bodyStart == bodySize, "record size computed \(bodySize), wrote \(index - bodyStart)")
        return index - start
    }

    static func writeNullable(_ bytes: UnsafeRawBufferPointer?, to out: UnsafeMutableRawBufferPointer, at start: Int) -> Int {
        guard let bytes else { return ZigZag.write(Int32(-1), to: out, at: start) }
        let prefix = ZigZag.write(Int32(bytes.count), to: out, at: start)
        if bytes.count > 0 {
            precondition(start + prefix + bytes.count <= out.count, "record written past buffer end")
            UnsafeMutableRawBufferPointer(rebasing: out[(start + prefix)...]).copyMemory(from: bytes)
        }
        return prefix + bytes.count
    }
}

extension Record {
    /// The encoded size of this record, length varint included.
    public var encodedSizeBytes: Int {
        let body = RecordWire.bodySize(timestampDelta: timestampDelta, offsetDelta: offsetDelta,
                                       keyLength: key?.readableBytes, valueLength: value?.readableBytes,
                                       headers: headers)
        return ZigZag.size(Int32(body)) + body
    }

    /// Appends this record's encoding to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        let body = RecordWire.bodySize(timestampDelta: timestampDelta, offsetDelta: offsetDelta,
                                       keyLength: key?.readableBytes, valueLength: value?.readableBytes,
                                       headers: headers)
        let total = ZigZag.size(Int32(body)) + body
        _ = withOptionalBytes(key) { key in
            withOptionalBytes(value) { value in
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { out in
                    RecordWire.write(bodySize: body, timestampDelta: timestampDelta, offsetDelta: offsetDelta,
                                     key: key, value: value, headers: headers, to: out, at: 0)
                }
            }
        }
    }

    /// Decodes the record at the reader index of `buffer`, advancing it. Key, value and header
    /// values are slices of `buffer`.
    public static func decode(from buffer: inout ByteBuffer) throws(RecordFault) -> Record {
        let layout = try buffer.withUnsafeReadableBytes { bytes throws(RecordFault) in
            try RecordWire.parse(bytes, at: 0)
        }
        let record = Record(layout: layout, in: buffer, base: buffer.readerIndex)
        buffer.moveReaderIndex(forwardBy: layout.end)
        return record
    }

    /// Builds a record from a layout that `RecordWire.parse` produced; `base` is the index in
    /// `buffer` that layout position 0 stands for.
    init(layout: RecordLayout, in buffer: ByteBuffer, base: Int) {
        offsetDelta = layout.offsetDelta
        timestampDelta = layout.timestampDelta
        key = layout.keyLength < 0 ? nil : buffer.getSlice(at: base + layout.keyStart, length: layout.keyLength)
        value = layout.valueLength < 0 ? nil : buffer.getSlice(at: base + layout.valueStart, length: layout.valueLength)
        headers = layout.headerCount == 0 ? [] : RecordWire.headers(layout: layout, in: buffer, base: base)
    }
}

extension RecordWire {
    /// Decodes the headers of a checked layout; header values are slices of `buffer`.
    static func headers(layout: RecordLayout, in buffer: ByteBuffer, base: Int) -> [RecordHeader] {
        var headers: [RecordHeader] = []
        headers.reserveCapacity(layout.headerCount)
        let shift = base - buffer.readerIndex  // layout position → readable-bytes index
        buffer.withUnsafeReadableBytes { bytes in
            // `parse` checked every length, so these reads cannot fail.
            var index = shift + layout.headersStart
            for _ in 0..<layout.headerCount {
                let keyLength = Int(ZigZag.readVarint(bytes, at: &index)!)
                let key = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + keyLength)]), as: UTF8.self)
                index += keyLength
                let valueLength = Int(ZigZag.readVarint(bytes, at: &index)!)
                let value = valueLength < 0 ? nil : buffer.getSlice(at: buffer.readerIndex + index, length: valueLength)
                index += max(valueLength, 0)
                headers.append(RecordHeader(key: key, value: value))
            }
        }
        return headers
    }
}

/// Calls `body` with the readable bytes of `buffer`, or nil.
func withOptionalBytes<T>(_ buffer: ByteBuffer?, _ body: (UnsafeRawBufferPointer?) -> T) -> T {
    guard let buffer else { return body(nil) }
    return buffer.withUnsafeReadableBytes { body($0) }
}
