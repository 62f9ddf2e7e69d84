/// One struct to emit: the message itself, an inline sub-structure, or a common struct.
struct StructPlan {
    var typeName: String
    var fields: [FieldSpec]
    /// The versions in which this struct can be decoded/encoded (parent ∩ defining field).
    var versions: Versions
    var about: String?
}

/// Emits one message schema as a Swift struct: stored properties with the schema's defaults,
/// a memberwise initializer, `init(from:version:)` and `encode(into:version:)`. Every
/// version-dependent branch is derived here from the schema's version sets; nothing is written
/// by hand per field.
final class MessageEmitter {
    let spec: MessageSpec
    private(set) var nested: [StructPlan] = []
    private var commonByName: [String: StructSpec] = [:]
    private var nestedNames: Set<String> = []
    private(set) var usesUUID = false

    /// Set while emitting a function body when it refers to the `flexible` local.
    private var flexibleUsed = false

    init(spec: MessageSpec) throws {
        self.spec = spec
        for common in spec.commonStructs {
            guard commonByName[common.name] == nil else {
                throw SchemaError("\(spec.sourcePath): common struct \(common.name) defined twice")
            }
            commonByName[common.name] = common
        }
        nestedNames.insert(spec.name)
        try collect(spec.fields, context: spec.validVersions)
        for common in spec.commonStructs {
            guard !nestedNames.contains(common.name) else {
                throw SchemaError("\(spec.sourcePath): struct name \(common.name) used twice")
            }
            nestedNames.insert(common.name)
            let versions = spec.validVersions.intersection(common.versions)
            nested.append(StructPlan(typeName: common.name, fields: common.fields, versions: versions, about: nil))
            try collect(common.fields, context: versions)
        }
    }

    private func collect(_ fields: [FieldSpec], context: Versions) throws {
        for field in fields {
            if mentionsUUID(field.type) { usesUUID = true }
            if case .int8 = field.type, !field.nullableVersions.isEmpty {
                throw SchemaError("\(spec.sourcePath): \(field.name) is a nullable fixed-width field")
            }
            if field.isTagged, field.taggedVersions != field.versions {
                throw SchemaError("\(spec.sourcePath): \(field.name) is tagged in only some of its versions; unsupported")
            }
            let structName = Self.structName(field.type)
            guard let inner = field.fields else {
                if let structName, commonByName[structName] == nil {
                    throw SchemaError("\(spec.sourcePath): \(field.name) refers to unknown struct \(structName)")
                }
                continue
            }
            guard let structName else {
                throw SchemaError("\(spec.sourcePath): \(field.name) has fields but type \(field.type)")
            }
            guard !nestedNames.contains(structName), commonByName[structName] == nil else {
                throw SchemaError("\(spec.sourcePath): struct name \(structName) used twice")
            }
            nestedNames.insert(structName)
            var versions = context.intersection(field.versions)
            if versions.isEmpty { versions = spec.validVersions.intersection(field.versions) }
            nested.append(StructPlan(typeName: structName, fields: inner, versions: versions, about: field.about))
            try collect(inner, context: versions)
        }
    }

    private func mentionsUUID(_ type: FieldType) -> Bool {
        switch type {
        case .uuid: return true
        case .array(let element): return mentionsUUID(element)
        default: return false
        }
    }

    static func structName(_ type: FieldType) -> String? {
        switch type {
        case .structure(let name): return name
        case .array(let element): return structName(element)
        default: return nil
        }
    }

    // MARK: - Whole message

    func emit(into w: inout CodeWriter) throws {
        let top = StructPlan(typeName: spec.name, fields: spec.fields, versions: spec.validVersions, about: nil)
        w.line("/// \(topDescription())")
        if spec.latestVersionUnstable {
            w.line("///")
            w.line("/// The schema marks its latest version (\(spec.validVersions.highest)) unstable.")
        }
        try w.block("public struct \(spec.name): \(conformance())") { w in
            emitStatics(&w)
            try emitBody(of: top, isTop: true, into: &w)
            for plan in nested {
                w.line()
                if let about = plan.about { w.line("/// \(oneLine(about))") }
                try w.block("public struct \(plan.typeName): Equatable, Sendable") { w in
                    try emitBody(of: plan, isTop: false, into: &w)
                }
            }
        }
    }

    private func topDescription() -> String {
        var text: String
        switch spec.kind {
        case .request, .response:
            text = "\(spec.kind == .request ? "Request" : "Response") of API key \(spec.apiKey ?? -1)"
        case .data, .header:
            text = "Data schema \(spec.name)"
        }
        text += ", versions \(spec.validVersions)"
        text += spec.flexibleVersions.isEmpty ? ", never flexible." : ", flexible \(spec.flexibleVersions)."
        return text
    }

    private func conformance() -> String {
        switch spec.kind {
        case .request: return "KafkaRequest"
        case .response: return "KafkaResponse"
        case .data, .header: return "KafkaMessage"
        }
    }

    private func emitStatics(_ w: inout CodeWriter) {
        if spec.kind == .request {
            w.line("public typealias Response = \(MessageGenerator.baseName(spec.name))Response")
        }
        if spec.kind == .request || spec.kind == .response, let key = spec.apiKey {
            w.line("public static let apiKey: ApiKey = .\(MessageGenerator.apiKeyCaseName(forKey: key, spec: spec))")
        }
        w.line("public static let validVersions: ClosedRange<Int16> = \(spec.validVersions.lowest)...\(spec.validVersions.highest)")
        let flexible = spec.flexibleVersions.isEmpty ? "nil" : "\(spec.flexibleVersions.lowest)..."
        w.line("public static let flexibleVersions: PartialRangeFrom<Int16>? = \(flexible)")
        w.line()
    }

    // MARK: - One struct

    private func canBeFlexible(_ plan: StructPlan) -> Bool {
        Condition(spec.flexibleVersions, within: plan.versions) != .never
    }

    private func emitBody(of plan: StructPlan, isTop: Bool, into w: inout CodeWriter) throws {
        for field in plan.fields {
            w.lines(try propertyDeclaration(field))
        }
        if canBeFlexible(plan) {
            w.line("/// Tagged fields this schema does not define, kept so that re-encoding preserves them.")
            w.line("public var unknownTaggedFields: [KafkaTaggedField] = []")
        }
        w.line()
        w.line("public init() {}")
        if !plan.fields.isEmpty {
            w.line()
            try emitMemberwiseInit(plan, into: &w)
        }
        w.line()
        try emitDecode(plan, isTop: isTop, into: &w)
        w.line()
        try emitEncode(plan, isTop: isTop, into: &w)
    }

    private func propertyDeclaration(_ field: FieldSpec) throws -> [String] {
        var doc = [String]()
        if let about = field.about, !about.isEmpty { doc.append("/// \(oneLine(about))") }
        var facts = ["versions \(field.versions)"]
        if field.isTagged { facts.append("tag \(field.tag!)") }
        if !field.nullableVersions.isEmpty { facts.append("nullable \(field.nullableVersions)") }
        if field.ignorable { facts.append("ignorable") }
        doc.append("/// Schema: \(facts.joined(separator: ", ")).")
        let name = Swift.propertyName(field.name)
        return doc + ["public var \(name): \(swiftType(field)) = \(try defaultLiteral(field))"]
    }

    private func emitMemberwiseInit(_ plan: StructPlan, into w: inout CodeWriter) throws {
        var params = [String]()
        for field in plan.fields {
            params.append("\(Swift.propertyName(field.name)): \(swiftType(field)) = \(try defaultLiteral(field))")
        }
        w.line("public init(")
        w.indent { w in
            for (i, p) in params.enumerated() { w.line(p + (i == params.count - 1 ? "" : ",")) }
        }
        w.block(")") { w in
            for field in plan.fields {
                let name = Swift.propertyName(field.name)
                w.line("self.\(name) = \(name)")
            }
        }
    }

    // MARK: - Types and defaults

    private func isOptional(_ field: FieldSpec) -> Bool {
        !field.nullableVersions.isEmpty
    }

    /// Records in a response are `ResponseRecords` (a broker can encode them straight from a
    /// `RecordsSource`, one copy); elsewhere they are a `ByteBuffer`.
    private var recordsTypeName: String { spec.kind == .response ? "ResponseRecords" : "ByteBuffer" }
    private var recordsFunctionStem: String { spec.kind == .response ? "ResponseRecords" : "Records" }

    func baseSwiftType(_ type: FieldType) -> String {
        switch type {
        case .bool: return "Bool"
        case .int8, .int16, .int32, .int64, .uint16, .uint32: return type.swiftIntegerName!
        case .float64: return "Double"
        case .string: return "String"
        case .bytes: return "[UInt8]"
        case .records: return recordsTypeName
        case .uuid: return "TopicID"
        case .array(let element): return "[\(baseSwiftType(element))]"
        case .structure(let name): return name
        }
    }

    private func swiftType(_ field: FieldSpec) -> String {
        baseSwiftType(field.type) + (isOptional(field) ? "?" : "")
    }

    private func isNullDefault(_ text: String?) -> Bool {
        guard let text else { return false }
        return text == "null" || text == "None"
    }

    private func defaultLiteral(_ field: FieldSpec) throws -> String {
        let text = field.defaultText
        if isNullDefault(text) {
            guard isOptional(field) else {
                throw SchemaError("\(spec.sourcePath): \(field.name) defaults to null but is never nullable")
            }
            return "nil"
        }
        switch field.type {
        case .bool:
            guard let text else { return "false" }
            switch text.lowercased() {
            case "true": return "true"
            case "false": return "false"
            default: throw SchemaError("\(spec.sourcePath): \(field.name) has bool default \(text)")
            }
        case .int8, .int16, .int32, .int64, .uint16, .uint32:
            guard let text, !text.isEmpty else { return "0" }
            let value: Int64?
            if text.lowercased().hasPrefix("0x") {
                value = Int64(text.dropFirst(2), radix: 16)
            } else if text.lowercased().hasPrefix("-0x") {
                value = Int64(text.dropFirst(3), radix: 16).map { -$0 }
            } else {
                value = Int64(text)
            }
            guard let value, fits(value, field.type) else {
                throw SchemaError("\(spec.sourcePath): \(field.name) has default \(text) outside \(baseSwiftType(field.type))")
            }
            return String(value)
        case .float64:
            guard let text, !text.isEmpty else { return "0" }
            guard Double(text) != nil else { throw SchemaError("\(spec.sourcePath): \(field.name) has float default \(text)") }
            return text
        case .string:
            return Swift.stringLiteral(text ?? "")
        case .bytes, .array:
            if let text, !text.isEmpty { throw SchemaError("\(spec.sourcePath): \(field.name) has default \(text)") }
            return "[]"
        case .records:
            return isOptional(field) ? "nil" : "\(recordsTypeName)()"
        case .uuid:
            if let text, !text.isEmpty { throw SchemaError("\(spec.sourcePath): \(field.name) has uuid default \(text)") }
            return "TopicID.zero"
        case .structure(let name):
            return "\(name)()"
        }
    }

    private func fits(_ value: Int64, _ type: FieldType) -> Bool {
        switch type {
        case .int8: return Int64(Int8.min)...Int64(Int8.max) ~= value
        case .int16: return Int64(Int16.min)...Int64(Int16.max) ~= value
        case .int32: return Int64(Int32.min)...Int64(Int32.max) ~= value
        case .uint16: return 0...Int64(UInt16.max) ~= value
        case .uint32: return 0...Int64(UInt32.max) ~= value
        default: return true
        }
    }

    /// A Swift expression that is true when the field holds its default value (or, `negated`,
    /// when it does not: the test for writing a tagged field).
    private func defaultTest(_ field: FieldSpec, value: String, negated: Bool) throws -> String {
        let literal = try defaultLiteral(field)
        let op = negated ? "!=" : "=="
        if literal == "nil" { return "\(value) \(op) nil" }
        switch field.type {
        case .bytes, .array:
            if isOptional(field) { return "\(value) \(op) []" }
            return negated ? "!\(value).isEmpty" : "\(value).isEmpty"
        case .records:
            let length = spec.kind == .response ? "byteCount" : "readableBytes"
            return isOptional(field) ? "\(value) \(op) nil" : "\(value).\(length) \(op) 0"
        default:
            return "\(value) \(op) \(literal)"
        }
    }

    // MARK: - Decoding

    /// How lengths are encoded for `field` in `present` versions: "true", "false" or `flexible`.
    private func compactExpression(_ field: FieldSpec, present: Versions) -> String {
        if let override = field.flexibleVersions {
            return Condition(override, within: present).swift
        }
        let condition = Condition(spec.flexibleVersions, within: present)
        if case .expression = condition {
            flexibleUsed = true
            return "flexible"
        }
        return condition.swift
    }

    private func emitDecode(_ plan: StructPlan, isTop: Bool, into w: inout CodeWriter) throws {
        flexibleUsed = false
        var body = CodeWriter()
        var segments = [Segment]()
        for field in plan.fields where !field.isTagged {
            let condition = Condition(field.versions, within: plan.versions)
            if condition == .never { continue }
            let present = field.versions.intersection(plan.versions)
            let statements = try readStatements(field, present: present, buffer: "buffer", tagged: false)
            segments.append(Segment(condition: condition, statements: statements, otherwise: []))
        }
        Segment.emit(segments, into: &body)
        try emitTaggedDecode(plan, into: &body)
        let flexibleDeclaration = flexibleUsed ? Condition(spec.flexibleVersions, within: plan.versions).swift : nil

        if isTop {
            w.block("public init(from buffer: inout ByteBuffer, version: Int16) throws") { w in
                w.block("guard Self.validVersions.contains(version) else") { w in
                    w.line("throw KafkaWireError(field: \"\(spec.name)\", reason: \"version \\(version) is not in \(spec.validVersions.lowest)...\(spec.validVersions.highest)\")")
                }
                w.open("do {")
                w.line("try self.decodeFields(from: &buffer, version: version)")
                w.middle("} catch let error as KafkaWireError {")
                w.line("throw error.inside(\"\(spec.name)\")")
                w.close()
            }
            w.line()
            w.block("private mutating func decodeFields(from buffer: inout ByteBuffer, version: Int16) throws") { w in
                if let flexibleDeclaration { w.line("let flexible = \(flexibleDeclaration)") }
                w.lines(body.lines)
            }
        } else {
            w.block("public init(from buffer: inout ByteBuffer, version: Int16) throws") { w in
                if let flexibleDeclaration { w.line("let flexible = \(flexibleDeclaration)") }
                w.lines(body.lines)
            }
        }
    }

    private func readStatements(_ field: FieldSpec, present: Versions, buffer: String, tagged: Bool) throws -> [String] {
        let property = "self.\(Swift.propertyName(field.name))"
        let label = Swift.plainName(field.name)
        let compact = tagged ? "true" : compactExpression(field, present: present)
        let nullable = Condition(field.nullableVersions, within: present)
        if case .structure(let name) = field.type {
            let read = "\(property) = try withKafkaFieldPath(\"\(label)\") { try \(name)(from: &\(buffer), version: version) }"
            let marker = tagged
                ? "try \(buffer).readKafkaUnsignedVarint(field: \"\(label)\") == 0"
                : "try \(buffer).readKafkaInt8(field: \"\(label)\") < 0"
            switch nullable {
            case .never:
                return [read]
            case .always:
                return ["if \(marker) {", "    \(property) = nil", "} else {", "    " + read, "}"]
            case .expression(let e):
                return ["if \(e), \(marker) {", "    \(property) = nil", "} else {", "    " + read, "}"]
            }
        }
        return ["\(property) = " + readExpression(field.type, nullable: nullable, compact: compact, buffer: buffer, label: label)]
    }

    private func readExpression(_ type: FieldType, nullable: Condition, compact: String, buffer: String, label: String?) -> String {
        let fieldOnly = label.map { "field: \"\($0)\"" } ?? ""
        let fieldArgument = label.map { ", field: \"\($0)\"" } ?? ""
        func lengthPrefixed(_ base: String, extra: String = "") -> String {
            switch nullable {
            case .never: return "try \(buffer).readKafka\(base)(compact: \(compact)\(fieldArgument))\(extra)"
            case .always: return "try \(buffer).readKafkaNullable\(base)(compact: \(compact)\(fieldArgument))\(extra)"
            case .expression(let e): return "try \(buffer).readKafkaNullable\(base)(compact: \(compact), nullable: \(e)\(fieldArgument))\(extra)"
            }
        }
        switch type {
        case .bool: return "try \(buffer).readKafkaBool(\(fieldOnly))"
        case .int8, .int16, .int32, .int64, .uint16, .uint32:
            return "try \(buffer).readKafka\(type.swiftIntegerName!)(\(fieldOnly))"
        case .float64: return "try \(buffer).readKafkaFloat64(\(fieldOnly))"
        case .uuid: return "try \(buffer).readKafkaUUID(\(fieldOnly))"
        case .string: return lengthPrefixed("String")
        case .bytes: return lengthPrefixed("Bytes")
        case .records: return lengthPrefixed(recordsFunctionStem)
        case .structure(let name): return "try \(name)(from: &\(buffer), version: version)"
        case .array(let element):
            let elementRead = readExpression(element, nullable: .never, compact: compact, buffer: "buffer", label: nil)
            return lengthPrefixed("Array", extra: " { buffer in \(elementRead) }")
        }
    }

    private func taggedFields(_ plan: StructPlan) -> [(FieldSpec, Condition)] {
        let flexibleVersions = plan.versions.intersection(spec.flexibleVersions)
        return plan.fields
            .filter { $0.isTagged }
            .sorted { $0.tag! < $1.tag! }
            .map { ($0, Condition($0.taggedVersions.intersection($0.versions), within: flexibleVersions)) }
            .filter { $0.1 != .never }
    }

    private func emitTaggedDecode(_ plan: StructPlan, into w: inout CodeWriter) throws {
        let flexible = Condition(spec.flexibleVersions, within: plan.versions)
        if flexible == .never { return }
        let known = taggedFields(plan)
        var section = CodeWriter()
        section.line("let taggedFieldCount = try buffer.readKafkaTaggedFieldCount(field: \"taggedFields\")")
        try section.block("for _ in 0..<taggedFieldCount") { w in
            w.line("let (tag, taggedData) = try buffer.readKafkaTaggedField(field: \"taggedFields\")")
            if known.isEmpty {
                w.line("self.unknownTaggedFields.append(KafkaTaggedField(tag: tag, data: taggedData))")
                return
            }
            w.line("switch tag {")
            for (field, condition) in known {
                let whereClause = if case .expression(let e) = condition { " where \(e)" } else { "" }
                w.line("case \(field.tag!)\(whereClause):")
                let present = field.versions.intersection(plan.versions).intersection(spec.flexibleVersions)
                let statements = try readStatements(field, present: present, buffer: "data", tagged: true)
                w.indent { w in
                    w.line("var data = taggedData")
                    w.lines(statements)
                }
            }
            w.line("default:")
            w.indent { $0.line("self.unknownTaggedFields.append(KafkaTaggedField(tag: tag, data: taggedData))") }
            w.line("}")
        }
        if case .expression = flexible {
            flexibleUsed = true
            w.block("if flexible") { $0.lines(section.lines) }
        } else {
            w.lines(section.lines)
        }
    }

    // MARK: - Encoding

    private func emitEncode(_ plan: StructPlan, isTop: Bool, into w: inout CodeWriter) throws {
        flexibleUsed = false
        var body = CodeWriter()
        var segments = [Segment]()
        for field in plan.fields where !field.isTagged {
            let condition = Condition(field.versions, within: plan.versions)
            if condition == .never { continue }
            let present = field.versions.intersection(plan.versions)
            let statements = try writeStatements(field, present: present, buffer: "buffer", tagged: false)
            // A field the version cannot carry is left out. (Kafka throws when a non-ignorable one
            // is set; a broker must never crash on that, and handlers fill fields for the newest
            // version and rely on older versions dropping them.)
            let otherwise = [String]()
            segments.append(Segment(condition: condition, statements: statements, otherwise: otherwise))
        }
        Segment.emit(segments, into: &body)
        try emitTaggedEncode(plan, into: &body)
        let flexibleDeclaration = flexibleUsed ? Condition(spec.flexibleVersions, within: plan.versions).swift : nil
        w.block("public func encode(into buffer: inout ByteBuffer, version: Int16)") { w in
            if isTop {
                w.line("precondition(Self.validVersions.contains(version), \"\(spec.name) has no version \\(version)\")")
            }
            if let flexibleDeclaration { w.line("let flexible = \(flexibleDeclaration)") }
            w.lines(body.lines)
        }
    }

    private func writeStatements(_ field: FieldSpec, present: Versions, buffer: String, tagged: Bool) throws -> [String] {
        let value = "self.\(Swift.propertyName(field.name))"
        let compact = tagged ? "true" : compactExpression(field, present: present)
        let nullable = Condition(field.nullableVersions, within: present)
        if case .structure(let name) = field.type, isOptional(field) {
            let present = tagged
                ? ["    \(buffer).writeKafkaUnsignedVarint(1)", "    value.encode(into: &\(buffer), version: version)"]
                : ["    \(buffer).writeInteger(Int8(1))", "    value.encode(into: &\(buffer), version: version)"]
            let absent = tagged ? "    \(buffer).writeKafkaUnsignedVarint(0)" : "    \(buffer).writeInteger(Int8(-1))"
            let whenNullable = ["if let value = \(value) {"] + present + ["} else {", absent, "}"]
            let whenNot = "(\(value) ?? \(name)()).encode(into: &\(buffer), version: version)"
            switch nullable {
            case .always: return whenNullable
            case .never: return [whenNot]
            case .expression(let e): return ["if \(e) {"] + whenNullable.map { "    " + $0 } + ["} else {", "    " + whenNot, "}"]
            }
        }
        return [writeExpression(field.type, value: value, optional: isOptional(field), nullable: nullable,
                                compact: compact, buffer: buffer)]
    }

    private func writeExpression(_ type: FieldType, value: String, optional: Bool, nullable: Condition,
                                 compact: String, buffer: String) -> String {
        func lengthPrefixed(_ base: String, extra: String = "") -> String {
            guard optional else { return "\(buffer).writeKafka\(base)(\(value), compact: \(compact))\(extra)" }
            switch nullable {
            case .always: return "\(buffer).writeKafkaNullable\(base)(\(value), compact: \(compact))\(extra)"
            case .never: return "\(buffer).writeKafkaNullable\(base)(\(value), compact: \(compact), nullable: false)\(extra)"
            case .expression(let e): return "\(buffer).writeKafkaNullable\(base)(\(value), compact: \(compact), nullable: \(e))\(extra)"
            }
        }
        switch type {
        case .bool: return "\(buffer).writeKafkaBool(\(value))"
        case .int8, .int16, .int32, .int64, .uint16, .uint32: return "\(buffer).writeInteger(\(value))"
        case .float64: return "\(buffer).writeKafkaFloat64(\(value))"
        case .uuid: return "\(buffer).writeKafkaUUID(\(value))"
        case .string: return lengthPrefixed("String")
        case .bytes: return lengthPrefixed("Bytes")
        case .records: return lengthPrefixed(recordsFunctionStem)
        case .structure: return "\(value).encode(into: &\(buffer), version: version)"
        case .array(let element):
            let elementWrite = writeExpression(element, value: "element", optional: false, nullable: .never,
                                               compact: compact, buffer: "buffer")
            return lengthPrefixed("Array", extra: " { buffer, element in \(elementWrite) }")
        }
    }

    private func emitTaggedEncode(_ plan: StructPlan, into w: inout CodeWriter) throws {
        let flexible = Condition(spec.flexibleVersions, within: plan.versions)
        if flexible == .never { return }
        var section = CodeWriter()
        let known = taggedFields(plan)
        section.line("var tagged = KafkaTaggedFieldsWriter(unknown: self.unknownTaggedFields)")
        for (field, condition) in known {
            let property = "self.\(Swift.propertyName(field.name))"
            let present = field.versions.intersection(plan.versions).intersection(spec.flexibleVersions)
            let versionTest = if case .expression(let e) = condition { "\(e), " } else { "" }
            if case .structure = field.type, isOptional(field) {
                section.open("if \(versionTest)let value = \(property) {")
                section.open("tagged.add(tag: \(field.tag!)) { buffer in")
                section.line("buffer.writeKafkaUnsignedVarint(1)")
                section.line("value.encode(into: &buffer, version: version)")
                section.close()
                section.close()
                continue
            }
            let isNotDefault = try defaultTest(field, value: property, negated: true)
            let statements = try writeStatements(field, present: present, buffer: "buffer", tagged: true)
            section.open("if \(versionTest)\(isNotDefault) {")
            section.open("tagged.add(tag: \(field.tag!)) { buffer in")
            section.lines(statements)
            section.close()
            section.close()
        }
        section.line("tagged.write(into: &buffer)")
        if case .expression = flexible {
            flexibleUsed = true
            w.block("if flexible") { $0.lines(section.lines) }
        } else {
            w.lines(section.lines)
        }
    }

    private func oneLine(_ text: String) -> String {
        text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }
}

/// Statements guarded by one version condition. Consecutive fields with the same condition share
/// one `if`, which keeps the generated code close to how a person would write it.
struct Segment {
    var condition: Condition
    var statements: [String]
    /// Lines for the `else` branch (debug assertions), if any.
    var otherwise: [String]

    static func emit(_ segments: [Segment], into w: inout CodeWriter) {
        var merged = [Segment]()
        for segment in segments {
            if let last = merged.last, last.condition == segment.condition {
                merged[merged.count - 1].statements += segment.statements
                merged[merged.count - 1].otherwise += segment.otherwise
            } else {
                merged.append(segment)
            }
        }
        for segment in merged {
            guard case .expression(let e) = segment.condition else {
                w.lines(segment.statements)
                continue
            }
            w.open("if \(e) {")
            w.lines(segment.statements)
            if !segment.otherwise.isEmpty {
                w.middle("} else {")
                w.lines(segment.otherwise)
            }
            w.close()
        }
    }
}
