public import NIOCore

// Kafka's length-prefixed types: STRING / NULLABLE_STRING (int16 length), BYTES /
// NULLABLE_BYTES and records (int32 length), and their COMPACT_ forms in flexible versions
// (unsigned varint of length + 1, 0 = null). A negative classic length means null.
//
// Every length is checked against the bytes that remain BEFORE anything is allocated, so a
// hostile length costs one comparison. Strings must be valid UTF-8. `nullable: false` turns a
// null on the wire into an error (the schema's nullableVersions do not include this version);
// writing nil where the version is not nullable writes the empty value instead.

extension ByteBuffer {
    /// Reads a length prefix; nil means null. `maxLength` bounds a non-null length.
    @inlinable
    mutating func readKafkaLength(compact: Bool, int16: Bool, field: String) throws -> Int? {
        if compact {
            let raw = try readKafkaUnsignedVarint(field: field)
            return raw == 0 ? nil : Int(raw) - 1
        }
        let length = int16 ? Int(try readKafkaInt16(field: field)) : Int(try readKafkaInt32(field: field))
        return length < 0 ? nil : length
    }

    @inlinable
    mutating func readKafkaLengthChecked(compact: Bool, int16: Bool, nullable: Bool, what: String,
                                         field: String) throws -> Int? {
        let start = readerIndex
        guard let length = try readKafkaLength(compact: compact, int16: int16, field: field) else {
            if nullable { return nil }
            moveReaderIndex(to: start)
            throw KafkaWireError(field: field, reason: "null \(what) in a version where it is not nullable")
        }
        if length > readableBytes {
            let remaining = readableBytes
            moveReaderIndex(to: start)
            throw KafkaWireError(field: field, reason: "\(what) length \(length) exceeds \(remaining) remaining bytes")
        }
        return length
    }

    /// Writes a length prefix: the unsigned varint of length + 1 when compact (0 = null), else an
    /// int16 or int32 (-1 = null). Every length-prefixed writer (strings, bytes, records, array
    /// counts) goes through here.
    @inlinable
    public mutating func writeKafkaLength(_ length: Int?, compact: Bool, int16: Bool = false) {
        if compact {
            writeKafkaUnsignedVarint(length.map { UInt32($0 + 1) } ?? 0)
        } else if int16 {
            if let length {
                precondition(length <= Int(Int16.max), "a length of \(length) cannot be encoded as an int16")
            }
            writeInteger(Int16(length ?? -1))
        } else {
            writeInteger(Int32(length ?? -1))
        }
    }

    // MARK: strings

    @inlinable
    public mutating func readKafkaString(compact: Bool, field: String = "") throws -> String {
        try readKafkaNullableString(compact: compact, nullable: false, field: field)!
    }

    @inlinable
    public mutating func readKafkaNullableString(compact: Bool, nullable: Bool = true,
                                                 field: String = "") throws -> String? {
        let start = readerIndex
        guard let length = try readKafkaLengthChecked(compact: compact, int16: true, nullable: nullable,
                                                      what: "string", field: field) else { return nil }
        if length > Int(Int16.max) {
            moveReaderIndex(to: start)
            throw KafkaWireError(field: field, reason: "string length \(length) exceeds 32767")
        }
        guard let string = readKafkaValidatedUTF8(length: length) else {
            moveReaderIndex(to: start)
            throw KafkaWireError(field: field, reason: "string of \(length) bytes is not valid UTF-8")
        }
        return string
    }

    /// Reads `length` bytes (already bounds-checked) as a String if they are valid UTF-8.
    @usableFromInline
    mutating func readKafkaValidatedUTF8(length: Int) -> String? {
        let string: String? = withUnsafeReadableBytes { raw in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[0..<length])
            if #available(macOS 15, iOS 18, tvOS 18, watchOS 11, visionOS 2, *) {
                return String(validating: bytes, as: UTF8.self)
            } else {
                let decoded = String(decoding: bytes, as: UTF8.self)
                return decoded.utf8.elementsEqual(bytes) ? decoded : nil
            }
        }
        if string != nil { moveReaderIndex(forwardBy: length) }
        return string
    }

    @inlinable
    public mutating func writeKafkaString(_ value: String, compact: Bool) {
        writeKafkaLength(value.utf8.count, compact: compact, int16: true)
        writeString(value)
    }

    /// nil writes null where the version is nullable, else the empty string.
    @inlinable
    public mutating func writeKafkaNullableString(_ value: String?, compact: Bool, nullable: Bool = true) {
        writeKafkaLength(value?.utf8.count ?? (nullable ? nil : 0), compact: compact, int16: true)
        if let value { writeString(value) }
    }

    // MARK: bytes

    @inlinable
    public mutating func readKafkaBytes(compact: Bool, field: String = "") throws -> [UInt8] {
        try readKafkaNullableBytes(compact: compact, nullable: false, field: field)!
    }

    @inlinable
    public mutating func readKafkaNullableBytes(compact: Bool, nullable: Bool = true,
                                                field: String = "") throws -> [UInt8]? {
        guard let length = try readKafkaLengthChecked(compact: compact, int16: false, nullable: nullable,
                                                      what: "bytes", field: field) else { return nil }
        return readBytes(length: length)!
    }

    @inlinable
    public mutating func writeKafkaBytes(_ value: [UInt8], compact: Bool) {
        writeKafkaLength(value.count, compact: compact)
        writeBytes(value)
    }

    /// nil writes null where the version is nullable, else empty bytes.
    @inlinable
    public mutating func writeKafkaNullableBytes(_ value: [UInt8]?, compact: Bool, nullable: Bool = true) {
        writeKafkaLength(value?.count ?? (nullable ? nil : 0), compact: compact)
        if let value { writeBytes(value) }
    }

    // MARK: records

    /// Reads a `records` field as a slice of this buffer: no bytes are copied, the slice shares
    /// storage with the frame (which stays alive as long as the slice does).
    @inlinable
    public mutating func readKafkaRecords(compact: Bool, field: String = "") throws -> ByteBuffer {
        try readKafkaNullableRecords(compact: compact, nullable: false, field: field)!
    }

    @inlinable
    public mutating func readKafkaNullableRecords(compact: Bool, nullable: Bool = true,
                                                  field: String = "") throws -> ByteBuffer? {
        guard let length = try readKafkaLengthChecked(compact: compact, int16: false, nullable: nullable,
                                                      what: "records", field: field) else { return nil }
        return readSlice(length: length)!
    }

    @inlinable
    public mutating func writeKafkaRecords(_ value: ByteBuffer, compact: Bool) {
        writeKafkaLength(value.readableBytes, compact: compact)
        writeImmutableBuffer(value)
    }

    /// nil writes null where the version is nullable, else empty records.
    @inlinable
    public mutating func writeKafkaNullableRecords(_ value: ByteBuffer?, compact: Bool, nullable: Bool = true) {
        writeKafkaLength(value?.readableBytes ?? (nullable ? nil : 0), compact: compact)
        if let value { writeImmutableBuffer(value) }
    }
}
