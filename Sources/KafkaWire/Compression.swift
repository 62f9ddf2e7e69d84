/// The compression codec of a RecordBatch, attribute bits 0-2 (PROTOCOL.md §4). The whole record
/// section after recordsCount is compressed as one block; the 61-byte header never is.
///
/// Runnel reads and writes all five (docs/decisions.md D110–D113): gzip through libz, snappy
/// through libsnappy (raw blocks, and Kafka's xerial framing around them), lz4 as the LZ4 frame
/// format through liblz4, zstd through libzstd. The broker decompresses every produced batch to
/// validate its records and never stores one it could not read.
public enum Compression: Int16, Sendable, CaseIterable, CustomStringConvertible {
    case none = 0
    case gzip = 1
    case snappy = 2
    case lz4 = 3
    case zstd = 4

    /// Attribute bits that hold the codec.
    public static let attributeMask: Int16 = 0x7

    /// The codec named by a batch's attributes; nil for the unassigned values 5-7.
    public init?(attributes: Int16) {
        self.init(rawValue: attributes & Self.attributeMask)
    }

    /// Parses Kafka's `compression.type` spelling ("none", "gzip", "snappy", "lz4", "zstd";
    /// "uncompressed" is the topic key's name for none).
    public init?(name: String) {
        switch name.lowercased() {
        case "none", "uncompressed": self = .none
        case "gzip": self = .gzip
        case "snappy": self = .snappy
        case "lz4": self = .lz4
        case "zstd": self = .zstd
        default: return nil
        }
    }

    /// true for the codecs Runnel can compress and decompress: all five.
    public var isSupported: Bool { true }

    public static let supported: [Compression] = allCases.filter(\.isSupported)

    /// The level a producer uses when none is given: gzip's library default (6), lz4's fast mode
    /// (librdkafka's default; Kafka's Java producer uses 9), zstd 3. snappy has no levels.
    public var defaultLevel: Int32 {
        switch self {
        case .none, .snappy: return 0
        case .gzip: return Gzip.defaultLevel
        case .lz4: return LZ4Frame.defaultLevel
        case .zstd: return Zstd.defaultLevel
        }
    }

    /// The levels `compress` accepts for this codec (Kafka's ranges of `compression.<codec>.level`;
    /// gzip also takes 0 and -1, lz4 also 0 = fast).
    public var levels: ClosedRange<Int32> {
        switch self {
        case .none, .snappy: return 0...0
        case .gzip: return -1...9
        case .lz4: return 0...17
        case .zstd: return -131_072...22
        }
    }

    public var description: String {
        switch self {
        case .none: return "none"
        case .gzip: return "gzip"
        case .snappy: return "snappy"
        case .lz4: return "lz4"
        case .zstd: return "zstd"
        }
    }
}

/// Why a compressed record section could not be decompressed, naming the codec.
public struct DecompressionError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// The library rejected the data (bad header, bad block, checksum mismatch).
        case corrupt(String)
        /// The input ended before the compressed stream did.
        case truncated
        /// The section decompresses to more than `limitBytes` (a decompression bomb, or simply a
        /// batch too large to check).
        case outputTooLarge(limitBytes: Int)
        /// Bytes after the compressed stream that do not start another frame/member.
        case trailingBytes(count: Int)
    }

    public var codec: Compression
    public var kind: Kind

    public init(_ codec: Compression, _ kind: Kind) {
        self.codec = codec
        self.kind = kind
    }

    public var description: String {
        switch kind {
        case .corrupt(let message): return "\(codec) data is corrupt: \(message)"
        case .truncated: return "\(codec) data is truncated"
        case .outputTooLarge(let limit):
            return "\(codec) data decompresses to more than \(limit) bytes, the limit for one batch's records (Limits.batchDecompressedBytesMax); send smaller batches"
        case .trailingBytes(let count): return "\(count) bytes follow the \(codec) data"
        }
    }
}

extension Gzip.Failure {
    var asDecompressionError: DecompressionError {
        switch self {
        case .corrupt(let message): return DecompressionError(.gzip, .corrupt(message))
        case .truncated: return DecompressionError(.gzip, .truncated)
        case .outputTooLarge(let limit): return DecompressionError(.gzip, .outputTooLarge(limitBytes: limit))
        case .trailingBytes(let count): return DecompressionError(.gzip, .trailingBytes(count: count))
        }
    }
}
