import NIOCore
import RunnelCore
@testable import KafkaWire

/// Test-side encoders written independently of the production code (plain arrays, their own
/// zigzag), so known-answer tests compare two implementations rather than one with itself.
enum HandBatch {
    static func zigzag(_ value: Int64) -> [UInt8] {
        var raw = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        var out: [UInt8] = []
        repeat {
            var byte = UInt8(raw & 0x7F)
            raw >>= 7
            if raw != 0 { byte |= 0x80 }
            out.append(byte)
        } while raw != 0
        return out
    }

    static func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    static func nullable(_ bytes: [UInt8]?) -> [UInt8] {
        guard let bytes else { return zigzag(-1) }
        return zigzag(Int64(bytes.count)) + bytes
    }

    struct R {
        var timestampDelta: Int64
        var offsetDelta: Int64
        var key: [UInt8]?
        var value: [UInt8]?
        var headers: [(String, [UInt8]?)] = []
    }

    static func record(_ r: R) -> [UInt8] {
        var body: [UInt8] = [0]
        body += zigzag(r.timestampDelta) + zigzag(r.offsetDelta) + nullable(r.key) + nullable(r.value)
        body += zigzag(Int64(r.headers.count))
        for (key, value) in r.headers { body += nullable(Array(key.utf8)) + nullable(value) }
        return zigzag(Int64(body.count)) + body
    }

    /// A whole batch from an already encoded (possibly compressed) record section.
    static func batch(section: [UInt8], attributes: Int16 = 0, lastOffsetDelta: Int32, recordsCount: Int32,
                      baseTimestamp: Int64, maxTimestamp: Int64, producerId: Int64 = -1, producerEpoch: Int16 = -1,
                      baseSequence: Int32 = -1, baseOffset: Int64 = 0, leaderEpoch: Int32 = -1,
                      magic: UInt8 = 2) -> [UInt8] {
        var afterCRC: [UInt8] = bigEndian(attributes) + bigEndian(lastOffsetDelta) + bigEndian(baseTimestamp)
        afterCRC += bigEndian(maxTimestamp) + bigEndian(producerId) + bigEndian(producerEpoch)
        afterCRC += bigEndian(baseSequence) + bigEndian(recordsCount) + section
        let crc = CRC32C.checksum(afterCRC)
        let batchLength = Int32(4 + 1 + 4 + afterCRC.count)
        return bigEndian(baseOffset) + bigEndian(batchLength) + bigEndian(leaderEpoch) + [magic]
            + bigEndian(crc) + afterCRC
    }

    /// Recomputes the CRC of a hand-modified batch (so that a test reaches the check after it).
    static func fixCRC(_ bytes: inout [UInt8]) {
        let crc = CRC32C.checksum(Array(bytes[21...]))
        bytes.replaceSubrange(17..<21, with: bigEndian(crc))
    }
}

extension Array where Element == UInt8 {
    init(batchHex hex: String) {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        self = out
    }
}

extension ByteBuffer {
    var batchBytes: [UInt8] { Array(readableBytesView) }
}

func recordBuffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }
func recordBuffer(_ string: String) -> ByteBuffer { ByteBuffer(string: string) }
