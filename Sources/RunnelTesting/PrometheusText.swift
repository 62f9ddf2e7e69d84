import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a metrics test needs of HTTP and of Prometheus's text format: a bounded one-shot GET and
/// a parser of the exposition, so tests check names, HELP and TYPE lines, label sets and values.
public struct HTTPAnswer: Sendable, CustomStringConvertible {
    public var status: Int
    public var contentType: String
    public var body: String
    public var description: String { "HTTP \(status) [\(contentType)] \(body.prefix(300))" }
}

/// A one-shot HTTP/1.1 GET to 127.0.0.1:`port` (Connection: close), bounded by `timeoutSeconds`
/// per read; throws when nothing listens.
public func httpGet(port: Int, path: String, timeoutSeconds: Int = 10) throws -> HTTPAnswer {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
    guard send(fd, request, request.count, 0) == request.count else { throw POSIXError(.EIO) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = recv(fd, &chunk, chunk.count, 0)
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    let text = String(decoding: bytes, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else { throw POSIXError(.EPROTO) }
    let head = text[..<split.lowerBound].split(separator: "\r\n")
    let status = head.first.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
    let contentType = head.first { $0.lowercased().hasPrefix("content-type:") }
        .map { String($0.dropFirst("content-type:".count)).trimmingCharacters(in: .whitespaces) } ?? ""
    return HTTPAnswer(status: status, contentType: contentType, body: String(text[split.upperBound...]))
}

/// The samples of a Prometheus text exposition, looked up by name and exact label set.
public struct Exposition: Sendable {
    public struct Sample: Sendable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    public let samples: [Sample]
    /// HELP text and TYPE by metric family name.
    public let help: [String: String]
    public let types: [String: String]

    public init(_ text: String) {
        var samples: [Sample] = []
        var help: [String: String] = [:]
        var types: [String: String] = [:]
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# HELP ") {
                let rest = line.dropFirst("# HELP ".count)
                if let space = rest.firstIndex(of: " ") { help[String(rest[..<space])] = String(rest[rest.index(after: space)...]) }
                continue
            }
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                if parts.count == 4 { types[String(parts[2])] = String(parts[3]) }
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let lastSpace = line.lastIndex(of: " "), let value = Double(line[line.index(after: lastSpace)...]) else { continue }
            let series = line[..<lastSpace]
            var labels: [String: String] = [:]
            var name = String(series)
            if let brace = series.firstIndex(of: "{"), series.hasSuffix("}") {
                name = String(series[..<brace])
                let inner = series[series.index(after: brace)..<series.index(before: series.endIndex)]
                // Label values here never hold `",` (topic names are [a-zA-Z0-9._-]).
                for pair in inner.components(separatedBy: "\",") where !pair.isEmpty {
                    guard let eq = pair.firstIndex(of: "=") else { continue }
                    var value = String(pair[pair.index(after: eq)...])
                    if value.hasPrefix("\"") { value.removeFirst() }
                    if value.hasSuffix("\"") { value.removeLast() }
                    labels[String(pair[..<eq])] = value
                }
            }
            samples.append(Sample(name: name, labels: labels, value: value))
        }
        self.samples = samples
        self.help = help
        self.types = types
    }

    /// The value of the sample with exactly these labels.
    public func value(_ name: String, _ labels: [String: String]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }
}
