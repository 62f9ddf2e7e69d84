/// A broker's `host:port`, as bootstrap lists and Metadata responses give them.
public struct BrokerAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses "host:port", "host" (port 9092), "[::1]:9092".
    public init(parsing text: String, defaultPort: Int = 9092) throws {
        let trimmed = text.trimmingASCIIWhitespace()
        guard !trimmed.isEmpty else { throw KafkaClientError.invalidArgument("empty broker address") }
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]") else {
                throw KafkaClientError.invalidArgument("broker address '\(text)' has no closing ']'")
            }
            host = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
            let rest = trimmed[trimmed.index(after: close)...]
            if rest.isEmpty {
                port = defaultPort
            } else {
                guard rest.hasPrefix(":"), let value = Int(rest.dropFirst()) else {
                    throw KafkaClientError.invalidArgument("broker address '\(text)' has a bad port")
                }
                port = value
            }
        } else if let colon = trimmed.lastIndex(of: ":") {
            host = String(trimmed[..<colon])
            guard let value = Int(trimmed[trimmed.index(after: colon)...]) else {
                throw KafkaClientError.invalidArgument("broker address '\(text)' has a bad port")
            }
            port = value
        } else {
            host = trimmed
            port = defaultPort
        }
        guard !host.isEmpty else { throw KafkaClientError.invalidArgument("broker address '\(text)' has no host") }
        guard (1...65535).contains(port) else {
            throw KafkaClientError.invalidArgument("broker address '\(text)': port \(port) is not in 1...65535")
        }
    }

    /// Parses a comma-separated bootstrap list, "host:port[,host:port…]".
    public static func parseList(_ text: String) throws -> [BrokerAddress] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: true)
        guard !parts.isEmpty else { throw KafkaClientError.invalidArgument("empty bootstrap server list") }
        return try parts.map { try BrokerAddress(parsing: String($0)) }
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
