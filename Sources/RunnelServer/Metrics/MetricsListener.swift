/// Where the broker serves Prometheus metrics and its health: `runnel.metrics.listener`,
/// `http://host:port` (a trailing `/metrics` or `/` is accepted and ignored: both paths are served
/// on that one listener). Unset: no metrics listener (docs/decisions.md D120).
public struct MetricsListener: Sendable, Equatable, CustomStringConvertible {
    public static let key = "runnel.metrics.listener"

    public var host: String
    public var port: Int

    public var description: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)" }

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses the key's value; the error names the key, the value and what is allowed.
    public static func parse(_ value: String?) throws(ConfigError) -> MetricsListener? {
        guard let value else { return nil }
        let text = value.trimmingWhitespace()
        if text.isEmpty { return nil }
        func bad(_ why: String) -> ConfigError {
            ConfigError("invalid value '\(value)' for '\(key)': \(why); expected http://host:port, e.g. http://127.0.0.1:9644")
        }
        guard text.lowercased().hasPrefix("http://") else { throw bad("only http:// is served") }
        var rest = Substring(text.dropFirst("http://".count))
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[slash...]
            guard path == "/" || path == "/metrics" else { throw bad("the path must be empty, / or /metrics") }
            rest = rest[..<slash]
        }
        guard let colon = rest.lastIndex(of: ":") else { throw bad("no port") }
        var host = String(rest[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw bad("no host (use 0.0.0.0 for every interface)") }
        guard let port = Int(rest[rest.index(after: colon)...]), (0...65535).contains(port) else {
            throw bad("the port is not in 0...65535")
        }
        return MetricsListener(host: host, port: port)
    }
}
