/// The subject of an X.509 certificate as Kafka's default principal builder names it: Java's
/// `X500Principal.getName()`, RFC 2253 — the RDNs last-to-first, `CN`, `C`, `L`, `ST`, `O`, `OU`,
/// `STREET`, `DC` and `UID` by keyword and any other attribute as `<oid>=#<hex of its DER>`, with
/// RFC 2253's escapes. So `openssl req -subj "/C=DE/O=Runnel/OU=dev/CN=alice"` gives
/// `CN=alice,OU=dev,O=Runnel,C=DE` (docs/decisions.md D164).
enum CertificateSubject {
    struct Malformed: Error {}

    /// The RFC 2253 subject of a DER certificate.
    static func rfc2253(certificateDER der: [UInt8]) throws -> String {
        var top = DER(der[...])
        var certificate = try top.element(tag: 0x30)
        var tbs = try certificate.element(tag: 0x30)
        if tbs.peekTag == 0xA0 { _ = try tbs.any() }  // [0] version
        _ = try tbs.any()  // serialNumber
        _ = try tbs.any()  // signature algorithm
        _ = try tbs.any()  // issuer
        _ = try tbs.any()  // validity
        let subject = try tbs.element(tag: 0x30)
        return try rfc2253(name: subject)
    }

    private static let keywords: [String: String] = [
        "2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU",
        "2.5.4.9": "STREET", "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
    ]

    private static func rfc2253(name: DER) throws -> String {
        var name = name
        var rdns: [String] = []
        while !name.isEmpty {
            var set = try name.element(tag: 0x31)
            var parts: [String] = []
            while !set.isEmpty {
                var pair = try set.element(tag: 0x30)
                let oid = try oidString(pair.element(tag: 0x06).bytes)
                let (tag, value, whole) = try pair.tlv()
                if let keyword = keywords[oid], let text = string(tag: tag, value: value) {
                    parts.append("\(keyword)=\(escape(text))")
                } else {
                    parts.append("\(oid)=#" + whole.map { hex($0) }.joined())
                }
            }
            rdns.append(parts.joined(separator: "+"))
        }
        return rdns.reversed().joined(separator: ",")
    }

    /// The text of a directory string (UTF8, Printable, IA5, Teletex as Latin-1, BMP, Universal).
    private static func string(tag: UInt8, value: ArraySlice<UInt8>) -> String? {
        switch tag {
        case 0x0C, 0x13, 0x16: return String(decoding: value, as: UTF8.self)
        case 0x14: return String(value.map { Character(Unicode.Scalar($0)) })
        case 0x1E:
            guard value.count % 2 == 0 else { return nil }
            let units = stride(from: value.startIndex, to: value.endIndex, by: 2).map { UInt16(value[$0]) << 8 | UInt16(value[$0 + 1]) }
            return String(decoding: units, as: UTF16.self)
        case 0x1C:
            guard value.count % 4 == 0 else { return nil }
            var out = ""
            for i in stride(from: value.startIndex, to: value.endIndex, by: 4) {
                let v = UInt32(value[i]) << 24 | UInt32(value[i + 1]) << 16 | UInt32(value[i + 2]) << 8 | UInt32(value[i + 3])
                guard let scalar = Unicode.Scalar(v) else { return nil }
                out.unicodeScalars.append(scalar)
            }
            return out
        default: return nil
        }
    }

    /// RFC 2253 §2.4: `,` `+` `"` `\` `<` `>` `;` escaped, and a leading `#` or space and a
    /// trailing space.
    static func escape(_ text: String) -> String {
        var out = ""
        let chars = Array(text)
        for (i, c) in chars.enumerated() {
            if ",+\"\\<>;".contains(c) || (i == 0 && (c == "#" || c == " ")) || (i == chars.count - 1 && c == " ") {
                out.append("\\")
            }
            out.append(c)
        }
        return out
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }

    private static func oidString(_ bytes: ArraySlice<UInt8>) throws -> String {
        guard let first = bytes.first else { throw Malformed() }
        var arcs = [first < 80 ? UInt64(first / 40) : 2, first < 80 ? UInt64(first % 40) : UInt64(first) - 80]
        var value: UInt64 = 0
        for b in bytes.dropFirst() {
            guard value >> 56 == 0 else { throw Malformed() }
            value = value << 7 | UInt64(b & 0x7F)
            if b & 0x80 == 0 { arcs.append(value); value = 0 }
        }
        return arcs.map(String.init).joined(separator: ".")
    }

    /// A cursor over DER bytes.
    private struct DER {
        var bytes: ArraySlice<UInt8>
        init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }
        var isEmpty: Bool { bytes.isEmpty }
        var peekTag: UInt8? { bytes.first }

        /// The next element: its tag, its contents and its whole encoding.
        mutating func tlv() throws -> (UInt8, ArraySlice<UInt8>, ArraySlice<UInt8>) {
            let start = bytes.startIndex
            guard bytes.count >= 2 else { throw Malformed() }
            let tag = bytes[start]
            var index = start + 1
            var length = Int(bytes[index])
            index += 1
            if length & 0x80 != 0 {
                let count = length & 0x7F
                guard count >= 1, count <= 4, bytes.endIndex - index >= count else { throw Malformed() }
                length = 0
                for _ in 0..<count { length = length << 8 | Int(bytes[index]); index += 1 }
            }
            guard length >= 0, bytes.endIndex - index >= length else { throw Malformed() }
            let contents = bytes[index..<index + length]
            let whole = bytes[start..<index + length]
            bytes = bytes[(index + length)...]
            return (tag, contents, whole)
        }

        mutating func any() throws -> DER { DER(try tlv().1) }

        mutating func element(tag expected: UInt8) throws -> DER {
            let (tag, contents, _) = try tlv()
            guard tag == expected else { throw Malformed() }
            return DER(contents)
        }
    }
}
