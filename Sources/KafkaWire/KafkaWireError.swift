/// A Kafka frame that cannot be decoded: too short, an impossible length, invalid UTF-8, a null
/// where the schema forbids one. This is an operating error (bad input from the network), so it
/// is thrown, never trapped on; the connection that sent it is closed by the server.
///
/// `field` is a path such as `ProduceRequest.topicData[0].name`, built from the inside out: the
/// primitive read names its field (or nothing, for array elements), and each enclosing struct,
/// array element and message prefixes its own name on the way out (`inside(_:)`). Paths are only
/// built on the error path, so a successful decode pays nothing for them.
public struct KafkaWireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Dotted path of the field that could not be read; may be empty for a bare primitive read.
    public var field: String
    /// What was wrong, e.g. "string length 70000 exceeds 4 remaining bytes".
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { field.isEmpty ? reason : "\(field): \(reason)" }

    /// This error as seen from the enclosing `parent` (a field name, `name[index]`, or a
    /// message name).
    public func inside(_ parent: String) -> KafkaWireError {
        if parent.isEmpty { return self }
        return KafkaWireError(field: field.isEmpty ? parent : (field.hasPrefix("[") ? parent + field : parent + "." + field),
                       reason: reason)
    }

    @usableFromInline
    static func short(_ field: String, needed: Int, remaining: Int) -> KafkaWireError {
        KafkaWireError(field: field, reason: "needs \(needed) bytes, \(remaining) remaining")
    }
}

/// Runs `body`, and if it throws a `KafkaWireError` prefixes `field` to that error's path. Used by
/// generated code around nested structs so errors name the whole path.
@inlinable
public func withKafkaFieldPath<T>(_ field: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as KafkaWireError {
        throw error.inside(field)
    }
}
