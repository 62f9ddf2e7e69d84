import Foundation
import Logging
import RunnelCore

/// The process's log output: swift-log's text lines on stderr (today's format, the default), or
/// with `RUNNEL_LOG_FORMAT=json` one JSON object per line with the event's time, level, message
/// and metadata — the key=value fields (topic, partition, broker, epoch, …) that events carry as
/// swift-log metadata (docs/decisions.md D126). `RUNNEL_LOG_LEVEL` sets the level (default info).
public enum RunnelLogging {
    public enum Format: String, Sendable, CaseIterable {
        case text, json
    }

    /// The format `RUNNEL_LOG_FORMAT` asks for; an unknown value is an error naming it.
    public static func format(environment: [String: String]) throws -> Format {
        guard let raw = environment["RUNNEL_LOG_FORMAT"], !raw.isEmpty else { return .text }
        guard let format = Format(rawValue: raw.lowercased()) else {
            throw ConfigError("invalid value '\(raw)' for RUNNEL_LOG_FORMAT: expected text or json")
        }
        return format
    }

    /// Bootstraps swift-log for this process (once, before the first logger is made).
    public static func bootstrap(environment: [String: String]) throws {
        let format = try format(environment: environment)
        let level = environment["RUNNEL_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler
            switch format {
            case .text: handler = StreamLogHandler.standardError(label: label)
            case .json: handler = JSONLogHandler(label: label, write: JSONLogHandler.standardError)
            }
            handler.logLevel = level
            return handler
        }
    }
}

/// One JSON object per log event and line: `time` (RFC 3339, UTC, milliseconds), `level`,
/// `label`, `source`, `message`, `metadata` (the handler's, then the event's; strings, or arrays
/// and objects of them).
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void

    /// Writes each line to stderr whole (one `write` call per line).
    public static let standardError: @Sendable (String) -> Void = { line in
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }

    public init(label: String, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        var line = "{\"time\":" + JSONText.quoted(Self.timestamp())
        line += ",\"level\":" + JSONText.quoted(event.level.rawValue)
        line += ",\"label\":" + JSONText.quoted(label)
        line += ",\"source\":" + JSONText.quoted(event.source)
        line += ",\"message\":" + JSONText.quoted(event.message.description)
        line += ",\"metadata\":" + Self.encode(.dictionary(merged))
        line += "}\n"
        write(line)
    }

    static func encode(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let s): return JSONText.quoted(s)
        case .stringConvertible(let c): return JSONText.quoted(c.description)
        case .array(let items): return "[" + items.map(encode).joined(separator: ",") + "]"
        case .dictionary(let d):
            return "{" + d.keys.sorted().map { JSONText.quoted($0) + ":" + encode(d[$0]!) }.joined(separator: ",") + "}"
        }
    }

    /// Now as RFC 3339 in UTC with milliseconds, e.g. 2026-12-07T05:27:10.123Z.
    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var seconds = ts.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(ts.tv_nsec / 1_000_000))
    }
}

extension Logger.Metadata {
    /// The structured fields of an event about one partition (and the epoch it names).
    static func partition(_ key: TopicPartition, epoch: LeaderEpoch? = nil, broker: BrokerID? = nil) -> Logger.Metadata {
        var fields: Logger.Metadata = ["topic": .string(key.topic.rawValue), "partition": .stringConvertible(key.partition.rawValue)]
        if let epoch { fields["epoch"] = .stringConvertible(epoch.rawValue) }
        if let broker { fields["broker"] = .stringConvertible(broker.rawValue) }
        return fields
    }

    /// The structured fields of an event about a broker (and its broker epoch).
    static func broker(_ id: BrokerID, epoch: Int64? = nil) -> Logger.Metadata {
        var fields: Logger.Metadata = ["broker": .stringConvertible(id.rawValue)]
        if let epoch { fields["epoch"] = .stringConvertible(epoch) }
        return fields
    }
}

/// JSON text the broker and the CLI write by hand (log lines, `--json` output).
public enum JSONText {
    /// A JSON string literal (RFC 8259 escapes; other control characters as \u00XX).
    public static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
