/// The one piece of the classic "consumer" protocol metadata the coordinator reads: the topic
/// list of ConsumerProtocolSubscription (all versions 0-3 are non-flexible and start with
/// `int16 version`, then `int32 count` × (`int16 length` + UTF-8 bytes)). The rest (user data,
/// owned partitions, rack) is opaque to the coordinator. Used by OffsetDelete's
/// GROUP_SUBSCRIBED_TO_TOPIC check.
enum ConsumerProtocolSubscription {
    /// nil when the bytes are not a well-formed subscription (too short, negative lengths, or a
    /// count above what the bytes can hold).
    static func topics(_ bytes: [UInt8]) -> [String]? {
        var index = 0
        func readInt(_ width: Int) -> Int? {
            guard index + width <= bytes.count else { return nil }
            var value = 0
            for k in 0..<width { value = value << 8 | Int(bytes[index + k]) }
            index += width
            let bits = width * 8
            return value >= 1 << (bits - 1) ? value - (1 << bits) : value
        }
        guard let version = readInt(2), version >= 0, let count = readInt(4), count >= 0,
              count <= (bytes.count - index) / 2 else { return nil }
        var topics: [String] = []
        for _ in 0..<count {
            guard let length = readInt(2), length >= 0, index + length <= bytes.count else { return nil }
            topics.append(String(decoding: bytes[index..<index + length], as: UTF8.self))
            index += length
        }
        return topics
    }

    /// Encodes a version-0 subscription (tests and tools).
    static func encode(topics: [String]) -> [UInt8] {
        var out: [UInt8] = [0, 0]
        let n = UInt32(topics.count)
        out += [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
        for t in topics {
            let u = Array(t.utf8)
            out += [UInt8(u.count >> 8), UInt8(u.count & 0xFF)] + u
        }
        out += [0xFF, 0xFF, 0xFF, 0xFF]  // null user data
        return out
    }
}
