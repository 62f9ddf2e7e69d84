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
        let length = value.utf8.count
        if compact {
            writeKafkaUnsignedVarint(UInt32(length + 1))
        } else {
            precondition(length <= Int(Int16.max), "string of \(length) UTF-8 bytes cannot be encoded with an int16 length")
            writeInteger(Int16(length))
        }
        writeString(value)
    }

    @inlinable
    public mutating func writeKafkaNullableString(_ value: String?, compact: Bool, nullable: Bool = true) {
        if let value {
            writeKafkaString(value, compact: compact)
        } else if !nullable {
            writeKafkaString("", compact: compact)
        } else if compact {
            writeKafkaUnsignedVarint(0)
        } else {
            writeInteger(Int16(-1))
        }
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
        if compact {
            writeKafkaUnsignedVarint(UInt32(value.count + 1))
        } else {
            writeInteger(Int32(value.count))
        }
        writeBytes(value)
    }

    @inlinable
    public mutating func writeKafkaNullableBytes(_ value: [UInt8]?, compact: Bool, nullable: Bool = true) {
        if let value {
            writeKafkaBytes(value, compact: compact)
        } else if !nullable {
            writeKafkaBytes([], compact: compact)
        } else if compact {
            writeKafkaUnsignedVarint(0)
        } else {
            writeInteger(Int32(-1))
        }
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
        if compact {
            writeKafkaUnsignedVarint(UInt32(value.readableBytes + 1))
        } else {
            writeInteger(Int32(value.readableBytes))
        }
        writeImmutableBuffer(value)
    }

    @inlinable
    public mutating func writeKafkaNullableRecords(_ value: ByteBuffer?, compact: Bool, nullable: Bool = true) {
        if let value {
            writeKafkaRecords(value, compact: compact)
        } else if !nullable {
            writeKafkaRecords(ByteBuffer(), compact: compact)
        } else if compact {
            writeKafkaUnsignedVarint(0)
        } else {
            writeInteger(Int32(-1))
        }
    }
}
