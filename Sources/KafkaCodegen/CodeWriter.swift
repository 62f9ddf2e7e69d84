/// Accumulates indented Swift source lines.
struct CodeWriter {
    private(set) var lines: [String] = []
    private var depth = 0

    mutating func line(_ text: String = "") {
        lines.append(text.isEmpty ? "" : String(repeating: "    ", count: depth) + text)
    }

    mutating func lines(_ texts: [String]) {
        for t in texts { line(t) }
    }

    /// Writes `header {`, the body one level deeper, then `}` (plus `trailer`).
    mutating func block(_ header: String, trailer: String = "", _ body: (inout CodeWriter) throws -> Void) rethrows {
        line(header + " {")
        depth += 1
        try body(&self)
        depth -= 1
        line("}" + trailer)
    }

    /// Writes `text` (which ends with "{") and indents what follows until `close()`.
    mutating func open(_ text: String) {
        line(text)
        depth += 1
    }

    /// Writes `text` one level out, e.g. "} else {", and stays indented.
    mutating func middle(_ text: String) {
        depth -= 1
        line(text)
        depth += 1
    }

    mutating func close(_ text: String = "}") {
        depth -= 1
        line(text)
    }

    mutating func indent(_ body: (inout CodeWriter) throws -> Void) rethrows {
        depth += 1
        try body(&self)
        depth -= 1
    }

    var text: String { lines.joined(separator: "\n") + "\n" }
}

enum Swift {
    static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
        "inout", "internal", "let", "open", "operator", "private", "protocol", "public", "rethrows", "static",
        "struct", "subscript", "typealias", "var", "break", "case", "continue", "default", "defer", "do",
        "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "switch", "where", "while",
        "as", "catch", "false", "is", "nil", "super", "self", "Self", "throw", "throws", "true", "try",
        "Type", "Protocol", "any", "some",
    ]

    /// "TopicData" → "topicData"; keywords are escaped with backticks.
    static func propertyName(_ kafkaName: String) -> String {
        guard let first = kafkaName.first else { return kafkaName }
        let name = first.lowercased() + kafkaName.dropFirst()
        return keywords.contains(name) ? "`\(name)`" : name
    }

    /// The name without backticks, for messages and error paths.
    static func plainName(_ kafkaName: String) -> String {
        guard let first = kafkaName.first else { return kafkaName }
        return first.lowercased() + kafkaName.dropFirst()
    }

    static func stringLiteral(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
