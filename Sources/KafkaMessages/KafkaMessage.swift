public import NIOCore

/// A message generated from one Kafka JSON schema: a request, a response, or a data schema
/// (the consumer protocol, internal-topic keys and values, KRaft records).
///
/// `init(from:version:)` consumes exactly the message's bytes from the reader index and throws
/// `KafkaWireError` naming the field path on malformed input or a version outside
/// `validVersions`. `encode(into:version:)` appends the message; encoding a version outside
/// `validVersions` is a programmer error (precondition), and setting a non-ignorable field that
/// the version cannot carry is caught by an assertion in debug builds (Kafka throws there).
public protocol KafkaMessage: Equatable, Sendable {
    /// The versions the schema defines, all of which the generated code decodes and encodes.
    static var validVersions: ClosedRange<Int16> { get }
    /// Versions that use compact strings/arrays and tagged fields; nil if none.
    static var flexibleVersions: PartialRangeFrom<Int16>? { get }

    /// A message with every field at its schema default.
    init()
    init(from buffer: inout ByteBuffer, version: Int16) throws
    func encode(into buffer: inout ByteBuffer, version: Int16)
}

extension KafkaMessage {
    public static func isFlexible(version: Int16) -> Bool {
        flexibleVersions?.contains(version) ?? false
    }
}

/// A request or response of one API key.
public protocol KafkaAPIMessage: KafkaMessage {
    static var apiKey: ApiKey { get }
}

public protocol KafkaRequest: KafkaAPIMessage {
    associatedtype Response: KafkaResponse
}

public protocol KafkaResponse: KafkaAPIMessage {}

extension ApiKey {
    public func isFlexible(apiVersion: Int16) -> Bool {
        flexibleVersions?.contains(apiVersion) ?? false
    }

    /// Request header v2 for flexible versions, else v1 (PROTOCOL.md §3).
    public func requestHeaderVersion(apiVersion: Int16) -> Int16 {
        isFlexible(apiVersion: apiVersion) ? 2 : 1
    }

    /// Response header v1 for flexible versions, else v0 — except ApiVersions, whose response
    /// always uses v0 so that a client can read it before it knows which versions the broker
    /// speaks (KIP-511).
    public func responseHeaderVersion(apiVersion: Int16) -> Int16 {
        if self == .apiVersions { return 0 }
        return isFlexible(apiVersion: apiVersion) ? 1 : 0
    }
}
