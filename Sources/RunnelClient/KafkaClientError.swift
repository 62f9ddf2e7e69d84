import KafkaMessages

/// Why a client operation failed. `description` is one line that names the cause and the broker
/// or topic involved, fit for a CLI's stderr, e.g.
/// "broker unreachable: 127.0.0.1:9092 (connection refused)".
public enum KafkaClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No TCP connection could be made (refused, unresolvable host, connect timeout).
    case brokerUnreachable(address: String, reason: String)
    /// None of the bootstrap servers answered; each entry is one `brokerUnreachable` reason.
    case noBootstrapServerReachable(reasons: [String])
    /// The connection closed (or failed) while requests were outstanding.
    case connectionClosed(address: String, reason: String)
    /// No response within the request timeout; the connection is closed, as Kafka clients do.
    case requestTimedOut(address: String, api: String, timeoutMs: Int64)
    /// The broker supports no version of `api` that this client speaks.
    case unsupportedAPI(address: String, api: String, brokerVersions: String)
    /// A response could not be decoded or did not match its request.
    case protocolViolation(address: String, detail: String)
    /// The broker answered with an error code this operation cannot recover from.
    case kafka(code: KafkaErrorCode, message: String?, context: String)
    /// The topic does not exist (metadata says UNKNOWN_TOPIC_OR_PARTITION, or the partition
    /// asked for is beyond the topic's partition count).
    case unknownTopicOrPartition(topic: String, partition: Int32?)
    /// Bad input from the caller, e.g. a malformed bootstrap list or config.
    case invalidArgument(String)
    /// The client or producer was shut down.
    case shutDown

    public var description: String {
        switch self {
        case .brokerUnreachable(let address, let reason):
            return "broker unreachable: \(address) (\(reason))"
        case .noBootstrapServerReachable(let reasons):
            if reasons.count == 1 { return reasons[0] }
            return "no bootstrap server reachable: " + reasons.joined(separator: "; ")
        case .connectionClosed(let address, let reason):
            return "connection to \(address) closed: \(reason)"
        case .requestTimedOut(let address, let api, let timeoutMs):
            return "request timed out: \(api) to \(address) got no response in \(timeoutMs) ms"
        case .unsupportedAPI(let address, let api, let versions):
            return "broker \(address) does not support a usable version of \(api) (it offers \(versions))"
        case .protocolViolation(let address, let detail):
            return "protocol error from \(address): \(detail)"
        case .kafka(let code, let message, let context):
            var line = "\(context): \(code.phrase) (\(code.name), error \(code.rawValue))"
            if let message, !message.isEmpty { line += ": \(message)" }
            return line
        case .unknownTopicOrPartition(let topic, let partition):
            if let partition { return "unknown topic or partition: \(topic) partition \(partition)" }
            return "unknown topic: \(topic)"
        case .invalidArgument(let detail):
            return detail
        case .shutDown:
            return "client is shut down"
        }
    }

    /// The Kafka error code this error carries, if any.
    public var kafkaCode: KafkaErrorCode? {
        switch self {
        case .kafka(let code, _, _): return code
        case .unknownTopicOrPartition: return .unknownTopicOrPartition
        default: return nil
        }
    }

    /// true for transport failures after which a retry on a new connection may succeed.
    public var isTransient: Bool {
        switch self {
        case .connectionClosed, .requestTimedOut, .brokerUnreachable: return true
        case .kafka(let code, _, _): return code.isRetriable
        default: return false
        }
    }
}
