// The model of one Kafka message schema file (see apache/kafka
// clients/src/main/resources/common/message/README.md for the format): version ranges, field
// types, and the per-field version sets that drive every condition in the generated code.

/// A contiguous range of versions, as the schemas write them: "3+", "0-4", "5" or "none".
struct Versions: Equatable, CustomStringConvertible {
    static let highest = Int(Int16.max)
    static let none = Versions(lowest: 1, highest: 0)

    var lowest: Int
    var highest: Int

    var isEmpty: Bool { lowest > highest }

    init(lowest: Int, highest: Int) {
        self.lowest = lowest
        self.highest = highest
    }

    init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: " ")
        if t == "none" {
            self = .none
        } else if t.hasSuffix("+"), let lo = Int(t.dropLast()) {
            self.init(lowest: lo, highest: Versions.highest)
        } else if let dash = t.firstIndex(of: "-"), let lo = Int(t[..<dash]), let hi = Int(t[t.index(after: dash)...]) {
            self.init(lowest: lo, highest: hi)
        } else if let v = Int(t) {
            self.init(lowest: v, highest: v)
        } else {
            throw SchemaError("bad version range \"\(text)\"")
        }
    }

    func intersection(_ other: Versions) -> Versions {
        let r = Versions(lowest: max(lowest, other.lowest), highest: min(highest, other.highest))
        return r.isEmpty ? .none : r
    }

    var description: String {
        if isEmpty { return "none" }
        if highest == Versions.highest { return "\(lowest)+" }
        if lowest == highest { return "\(lowest)" }
        return "\(lowest)-\(highest)"
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}

struct SchemaError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

indirect enum FieldType: Equatable {
    case bool, int8, int16, int32, int64, uint16, uint32, float64
    case string, bytes, records, uuid
    case array(FieldType)
    case structure(String)

    init(parsing text: String) {
        if text.hasPrefix("[]") {
            self = .array(FieldType(parsing: String(text.dropFirst(2))))
            return
        }
        switch text {
        case "bool": self = .bool
        case "int8": self = .int8
        case "int16": self = .int16
        case "int32": self = .int32
        case "int64": self = .int64
        case "uint16": self = .uint16
        case "uint32": self = .uint32
        case "float64": self = .float64
        case "string": self = .string
        case "bytes": self = .bytes
        case "records": self = .records
        case "uuid": self = .uuid
        default: self = .structure(text)
        }
    }

    var isStruct: Bool {
        if case .structure = self { return true }
        return false
    }

    var isArray: Bool {
        if case .array = self { return true }
        return false
    }

    /// Fixed-width integer types written with NIO's `writeInteger`.
    var swiftIntegerName: String? {
        switch self {
        case .int8: return "Int8"
        case .int16: return "Int16"
        case .int32: return "Int32"
        case .int64: return "Int64"
        case .uint16: return "UInt16"
        case .uint32: return "UInt32"
        default: return nil
        }
    }
}

struct FieldSpec {
    var name: String
    var type: FieldType
    var versions: Versions
    var nullableVersions: Versions
    var taggedVersions: Versions
    var tag: Int?
    var defaultText: String?
    var ignorable: Bool
    var about: String?
    /// Overrides the message's flexible versions for this field's string encoding
    /// (RequestHeader's ClientId, which is never compact).
    var flexibleVersions: Versions?
    /// Inline struct definition, when `type` is a struct or an array of structs defined here.
    var fields: [FieldSpec]?

    var isTagged: Bool { tag != nil }

    init(json: JSON, context: String) throws {
        guard let name = json["name"]?.stringValue, let type = json["type"]?.stringValue else {
            throw SchemaError("\(context): field without name or type")
        }
        self.name = name
        self.type = FieldType(parsing: type)
        let tagged = try json["taggedVersions"]?.stringValue.map(Versions.init(parsing:)) ?? .none
        // A tagged field may omit "versions"; it then exists exactly in its tagged versions.
        if let v = json["versions"]?.stringValue {
            versions = try Versions(parsing: v)
        } else if !tagged.isEmpty {
            versions = tagged
        } else {
            throw SchemaError("\(context).\(name): no versions")
        }
        nullableVersions = try json["nullableVersions"]?.stringValue.map(Versions.init(parsing:)) ?? .none
        taggedVersions = tagged
        if let t = json["tag"]?.scalarText {
            guard let n = Int(t) else { throw SchemaError("\(context).\(name): bad tag \(t)") }
            tag = n
        } else {
            tag = nil
        }
        if (tag == nil) != taggedVersions.isEmpty {
            throw SchemaError("\(context).\(name): tag and taggedVersions must come together")
        }
        defaultText = json["default"]?.scalarText
        ignorable = json["ignorable"] == .bool(true)
        about = json["about"]?.stringValue
        flexibleVersions = try json["flexibleVersions"]?.stringValue.map(Versions.init(parsing:))
        if let inner = json["fields"]?.arrayValue {
            fields = try inner.map { try FieldSpec(json: $0, context: "\(context).\(name)") }
        } else {
            fields = nil
        }
    }
}

struct StructSpec {
    var name: String
    var versions: Versions
    var fields: [FieldSpec]
}

enum MessageKind: String {
    case request, response, header, data
}

struct MessageSpec {
    /// Path relative to the specs directory, e.g. "client-protocol/ProduceRequest.json".
    var sourcePath: String
    var name: String
    var kind: MessageKind
    var apiKey: Int?
    var validVersions: Versions
    var flexibleVersions: Versions
    var latestVersionUnstable: Bool
    var fields: [FieldSpec]
    var commonStructs: [StructSpec]

    init(json: JSON, sourcePath: String) throws {
        self.sourcePath = sourcePath
        guard let name = json["name"]?.stringValue,
              let kindText = json["type"]?.stringValue, let kind = MessageKind(rawValue: kindText),
              let valid = json["validVersions"]?.stringValue else {
            throw SchemaError("\(sourcePath): missing name, type or validVersions")
        }
        self.name = name
        self.kind = kind
        apiKey = json["apiKey"]?.scalarText.flatMap { Int($0) }
        validVersions = try Versions(parsing: valid)
        flexibleVersions = try Versions(parsing: json["flexibleVersions"]?.stringValue ?? "none")
        latestVersionUnstable = json["latestVersionUnstable"] == .bool(true)
        fields = try (json["fields"]?.arrayValue ?? []).map { try FieldSpec(json: $0, context: name) }
        commonStructs = try (json["commonStructs"]?.arrayValue ?? []).map { s in
            guard let sname = s["name"]?.stringValue else { throw SchemaError("\(sourcePath): common struct without name") }
            let v = try Versions(parsing: s["versions"]?.stringValue ?? "0+")
            let f = try (s["fields"]?.arrayValue ?? []).map { try FieldSpec(json: $0, context: sname) }
            return StructSpec(name: sname, versions: v, fields: f)
        }
    }
}
