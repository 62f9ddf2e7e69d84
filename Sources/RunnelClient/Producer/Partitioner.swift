/// Kafka's default partitioner for keyed records: murmur2 of the key bytes (seed 0x9747b28c),
/// made non-negative by masking the sign bit, modulo the partition count. Matching it means a
/// key lands on the same partition whichever client produced it.
public enum Partitioner {
    public static func murmur2(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        let m: UInt32 = 0x5bd1_e995
        let r: UInt32 = 24
        let length = bytes.count
        var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: length)
        var index = 0
        while index + 4 <= length {
            var k = UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8
                | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24
            k = k &* m
            k ^= k >> r
            k = k &* m
            h = h &* m
            h ^= k
            index += 4
        }
        let tail = length - index
        if tail >= 3 { h ^= UInt32(bytes[index + 2]) << 16 }
        if tail >= 2 { h ^= UInt32(bytes[index + 1]) << 8 }
        if tail >= 1 {
            h ^= UInt32(bytes[index])
            h = h &* m
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    public static func murmur2<Bytes: Sequence>(_ bytes: Bytes) -> Int32 where Bytes.Element == UInt8 {
        let array = Array(bytes)
        return array.withUnsafeBytes { murmur2($0) }
    }

    /// The partition of a keyed record: `toPositive(murmur2(key)) % partitionCount`.
    public static func partition(forKey key: UnsafeRawBufferPointer, partitionCount: Int) -> Int32 {
        precondition(partitionCount > 0, "a topic has at least one partition")
        let positive = murmur2(key) & 0x7fff_ffff
        return positive % Int32(partitionCount)
    }
}
