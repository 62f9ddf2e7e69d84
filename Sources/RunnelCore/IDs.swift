// Strong identifiers. Offsets, epochs and ids are distinct types so that a partition id can never
// be passed where an offset is expected (STYLE.md §5). Each wraps Kafka's wire integer width.

/// A position in a partition log (Kafka int64 offset).
public struct Offset: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(_ value: Int64) { self.rawValue = value }
    public static func < (a: Offset, b: Offset) -> Bool { a.rawValue < b.rawValue }
    public static func + (a: Offset, n: Int64) -> Offset { Offset(a.rawValue + n) }
    public static func - (a: Offset, b: Offset) -> Int64 { a.rawValue - b.rawValue }
    public static let zero = Offset(0)
    public var description: String { String(rawValue) }
}

/// The epoch of a partition's leadership; stamped into every batch it appends.
public struct LeaderEpoch: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public init(_ value: Int32) { self.rawValue = value }
    public static func < (a: LeaderEpoch, b: LeaderEpoch) -> Bool { a.rawValue < b.rawValue }
    public static let none = LeaderEpoch(-1)
    public var description: String { String(rawValue) }
}

/// A broker's `node.id`.
public struct BrokerID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public init(_ value: Int32) { self.rawValue = value }
    public static func < (a: BrokerID, b: BrokerID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

/// A partition number within a topic.
public struct PartitionID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public init(_ value: Int32) { self.rawValue = value }
    public static func < (a: PartitionID, b: PartitionID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

/// An idempotent producer's id (InitProducerId).
public struct ProducerID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(_ value: Int64) { self.rawValue = value }
    public static let none = ProducerID(-1)
    public var description: String { String(rawValue) }
}

/// Milliseconds since the Unix epoch, as Kafka timestamps are.
public struct TimestampMs: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(_ value: Int64) { self.rawValue = value }
    public static func < (a: TimestampMs, b: TimestampMs) -> Bool { a.rawValue < b.rawValue }
    public static let none = TimestampMs(-1)
    public var description: String { String(rawValue) }
}

/// A topic name, validated as Kafka validates them: 1...249 characters of [a-zA-Z0-9._-],
/// not "." or "..".
public struct TopicName: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ value: String) { self.rawValue = value }
    public static func < (a: TopicName, b: TopicName) -> Bool { a.rawValue < b.rawValue }
    public var description: String { rawValue }

    /// nil when the name is legal, else a sentence saying why not.
    public static func invalidReason(_ name: String) -> String? {
        if name.isEmpty { return "topic name is empty" }
        if name == "." || name == ".." { return "topic name cannot be '.' or '..'" }
        if name.utf8.count > Limits.topicNameBytesMax {
            return "topic name is longer than \(Limits.topicNameBytesMax) characters"
        }
        for byte in name.utf8 {
            let ok = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) ||
                (byte >= 0x61 && byte <= 0x7A) || byte == 0x2E || byte == 0x5F || byte == 0x2D
            if !ok { return "topic name '\(name)' contains a character other than ASCII alphanumerics, '.', '_' and '-'" }
        }
        return nil
    }
}

/// A topic's 128-bit id (Kafka's Uuid): stable for the topic's lifetime, persisted in the
/// metadata log, returned by Metadata v10+ and used by KIP-848 assignments.
public struct TopicID: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64
    public init(high: UInt64, low: UInt64) { self.high = high; self.low = low }
    public static let zero = TopicID(high: 0, low: 0)

    /// A random version-4 UUID from `generator`.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> TopicID {
        var high = generator.next() as UInt64
        var low = generator.next() as UInt64
        high = (high & ~0xF000) | 0x4000          // version 4
        low = (low & ~(UInt64(0xC0) << 56)) | (UInt64(0x80) << 56)  // variant 10
        return TopicID(high: high, low: low)
    }

    /// Kafka prints Uuids as 22 characters of URL-safe base64 without padding.
    public var description: String {
        var bytes = [UInt8]()
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: low >> UInt64(shift))) }
        return Base64URL.encode(bytes)
    }

    /// Parses the 22-character form `description` prints.
    public init?(string: String) {
        guard let bytes = Base64URL.decode(string), bytes.count == 16 else { return nil }
        var h: UInt64 = 0, l: UInt64 = 0
        for i in 0..<8 { h = h << 8 | UInt64(bytes[i]) }
        for i in 8..<16 { l = l << 8 | UInt64(bytes[i]) }
        self.init(high: h, low: l)
    }
}

enum Base64URL {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let word = b0 << 16 | b1 << 8 | b2
            let chars = min(4, (bytes.count - i) * 4 / 3 + ((bytes.count - i) * 4 % 3 == 0 ? 0 : 1))
            for k in 0..<chars { out.append(alphabet[Int((word >> UInt32(18 - 6 * k)) & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ string: String) -> [UInt8]? {
        var values = [UInt32]()
        for c in string.utf8 {
            guard let index = alphabet.firstIndex(of: c) else { return nil }
            values.append(UInt32(index))
        }
        var out = [UInt8]()
        var i = 0
        while i < values.count {
            let n = min(4, values.count - i)
            var word: UInt32 = 0
            for k in 0..<4 { word = word << 6 | (k < n ? values[i + k] : 0) }
            let bytes = n * 6 / 8
            for k in 0..<bytes { out.append(UInt8(truncatingIfNeeded: word >> UInt32(16 - 8 * k))) }
            i += 4
        }
        return out
    }
}

/// A (topic name, partition) pair: the key of partition logs, checkpoint files and committed
/// offsets. Prints as Kafka's directory name, `<topic>-<partition>`.
public struct TopicPartition: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var topic: TopicName
    public var partition: PartitionID
    public init(_ topic: TopicName, _ partition: PartitionID) {
        self.topic = topic
        self.partition = partition
    }
    public init(topic: TopicName, partition: PartitionID) {
        self.init(topic, partition)
    }
    public static func < (a: TopicPartition, b: TopicPartition) -> Bool {
        (a.topic, a.partition) < (b.topic, b.partition)
    }
    public var description: String { "\(topic)-\(partition)" }
}
