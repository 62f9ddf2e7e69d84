import Foundation
import RunnelCore

/// What a configuration value may be, and how it is checked. Every check failure names the key,
/// the value and what is allowed (DESIGN.md §8).
public enum ConfigKind: Sendable, Equatable {
    case int(ClosedRange<Int64>)
    /// An integer in one of several ranges (Kafka's gzip level: 1...9 or -1).
    case intIn([ClosedRange<Int64>])
    /// A floating-point number (Kafka's DOUBLE), e.g. min.cleanable.dirty.ratio.
    case double(ClosedRange<Double>)
    case bool
    case string
    /// Comma-separated list of strings (may be empty).
    case list
    case choice([String])
    /// Comma-separated list of items, each one of the choices.
    case choiceList([String])
    /// Kafka listeners: `NAME://host:port[,NAME://host:port]`.
    case listeners
    /// Kafka's throttled-replica list: empty, `*`, or `partition:broker` pairs, comma-separated.
    case replicaList
    /// A Kafka release or metadata version such as `2.8`, `0.10.2` or `3.0-IV1`
    /// (message.format.version).
    case kafkaVersion

    var allowed: String {
        switch self {
        case .int(let r):
            if r.upperBound == Int64.max { return "an integer >= \(r.lowerBound)" }
            return "an integer in \(r.lowerBound)...\(r.upperBound)"
        case .intIn(let ranges):
            let parts = ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)...\($0.upperBound)" }
            return "an integer in " + parts.joined(separator: " or ")
        case .double(let r): return "a number in \(r.lowerBound)...\(r.upperBound)"
        case .bool: return "true or false"
        case .string: return "a string"
        case .list: return "a comma-separated list"
        case .choice(let c): return "one of " + c.joined(separator: ", ")
        case .choiceList(let c): return "a comma-separated list of " + c.joined(separator: ", ")
        case .listeners: return "a comma-separated list of NAME://host:port"
        case .replicaList: return "'*' or a comma-separated list of partition:broker pairs (may be empty)"
        case .kafkaVersion: return "a Kafka version such as 2.8, 0.10.2 or 3.0-IV1"
        }
    }
}

/// One configuration key: Kafka's name, default, kind, and a line of documentation.
public struct ConfigKey: Sendable {
    public let name: String
    /// nil = no default (unset).
    public let defaultValue: String?
    public let kind: ConfigKind
    public let doc: String

    public init(_ name: String, _ defaultValue: String?, _ kind: ConfigKind, _ doc: String) {
        self.name = name
        self.defaultValue = defaultValue
        self.kind = kind
        self.doc = doc
    }
}

/// A configuration error: stops start-up (broker keys) or is returned as INVALID_CONFIG (topic
/// keys). The message names the key, the value and what is allowed.
public struct ConfigError: Error, Equatable, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension ConfigKey {
    /// Checks `value` against the kind; returns the normalized value.
    public func validate(_ value: String) throws(ConfigError) -> String {
        let v = value.trimmingWhitespace()
        func bad(_ why: String? = nil) -> ConfigError {
            ConfigError("invalid value '\(value)' for '\(name)': \(why ?? "expected \(kind.allowed)")")
        }
        switch kind {
        case .int(let range):
            guard let n = Int64(v) else { throw bad() }
            guard range.contains(n) else { throw bad() }
            return String(n)
        case .intIn(let ranges):
            guard let n = Int64(v), ranges.contains(where: { $0.contains(n) }) else { throw bad() }
            return String(n)
        case .double(let range):
            guard let d = Double(v), d.isFinite, range.contains(d) else { throw bad() }
            return String(d)
        case .bool:
            switch v.lowercased() {
            case "true": return "true"
            case "false": return "false"
            default: throw bad()
            }
        case .string:
            return v
        case .list:
            return v.splitList().joined(separator: ",")
        case .choice(let choices):
            guard let match = choices.first(where: { $0.lowercased() == v.lowercased() }) else { throw bad() }
            return match
        case .choiceList(let choices):
            var out: [String] = []
            for item in v.splitList() {
                guard let match = choices.first(where: { $0.lowercased() == item.lowercased() }) else {
                    throw bad("'\(item)' is not one of \(choices.joined(separator: ", "))")
                }
                out.append(match)
            }
            guard !out.isEmpty else { throw bad() }
            return out.joined(separator: ",")
        case .listeners:
            do {
                _ = try Listener.parseList(v)
            } catch {
                throw bad(error.message)
            }
            return v
        case .replicaList:
            let items = v.splitList()
            if items == ["*"] { return "*" }
            guard items.allSatisfy(Self.isReplicaPair) else { throw bad() }
            return items.joined(separator: ",")
        case .kafkaVersion:
            guard Self.isKafkaVersion(v) else { throw bad() }
            return v
        }
    }
}

extension ConfigKey {
    /// `partition:broker`, both non-negative integers (Kafka's throttled-replica entry).
    static func isReplicaPair(_ item: String) -> Bool {
        let parts = item.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }
    }

    /// Two to four dot-separated numbers, optionally followed by `-IV<n>` (Kafka's version strings).
    static func isKafkaVersion(_ text: String) -> Bool {
        var release = Substring(text)
        if let iv = text.range(of: "-IV") {
            let number = text[iv.upperBound...]
            guard !number.isEmpty, number.allSatisfy(\.isASCIIDigit) else { return false }
            release = text[..<iv.lowerBound]
        }
        let parts = release.split(separator: ".", omittingEmptySubsequences: false)
        return (2...4).contains(parts.count) && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }

    func splitList() -> [String] {
        split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
    }
}

/// A listener `NAME://host:port`. An empty host means all interfaces (Kafka's rule).
public struct Listener: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var host: String
    public var port: Int

    public var description: String { "\(name)://\(host):\(port)" }

    public static func parse(_ text: String) throws(ConfigError) -> Listener {
        guard let sep = text.range(of: "://") else {
            throw ConfigError("listener '\(text)' lacks NAME://")
        }
        let name = String(text[..<sep.lowerBound]).uppercased()
        let rest = String(text[sep.upperBound...])
        guard !name.isEmpty else { throw ConfigError("listener '\(text)' has an empty name") }
        // host may be an IPv6 literal in brackets.
        guard let colon = rest.lastIndex(of: ":") else { throw ConfigError("listener '\(text)' lacks :port") }
        var host = String(rest[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let port = Int(rest[rest.index(after: colon)...]), (0...65535).contains(port) else {
            throw ConfigError("listener '\(text)' has a port outside 0...65535")
        }
        return Listener(name: name, host: host, port: port)
    }

    public static func parseList(_ text: String) throws(ConfigError) -> [Listener] {
        var out: [Listener] = []
        for item in text.splitList() { out.append(try parse(item)) }
        guard !out.isEmpty else { throw ConfigError("no listener given") }
        return out
    }
}
