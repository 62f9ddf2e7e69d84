/// The compression codec of a RecordBatch, attribute bits 0-2 (PROTOCOL.md §4). The whole record
/// section after recordsCount is compressed as one block; the 61-byte header never is.
///
/// Runnel reads and writes `none` and `gzip` (libz). A batch in another codec is refused with
/// UNSUPPORTED_COMPRESSION_TYPE (76) rather than stored undecodable: the broker must look inside a
/// batch to validate its records, and it must never store what it cannot later compact or check.
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

    /// Parses Kafka's `compression.type` spelling ("none", "gzip", "snappy", "lz4", "zstd").
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

    /// true for the codecs Runnel can compress and decompress.
    public var isSupported: Bool { self == .none || self == .gzip }

    public static let supported: [Compression] = allCases.filter(\.isSupported)

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
