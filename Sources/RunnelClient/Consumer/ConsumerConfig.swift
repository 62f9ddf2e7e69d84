import RunnelCore

/// Where an assigned partition starts.
public enum StartOffset: Sendable, Equatable {
    /// The log start offset.
    case beginning
    /// The log end offset: only records produced from now on.
    case end
    /// An absolute offset (reset by `offsetReset` if out of range).
    case offset(Offset)
    /// The first record at or after this time (the end if every record is older).
    case timestamp(TimestampMs)
}

/// What to do when the broker says a fetch offset is out of range.
public enum OffsetResetPolicy: Sendable, Equatable {
    case earliest
    case latest
    /// Earliest if the offset is below the log start, else latest.
    case nearest
    /// Throw `OFFSET_OUT_OF_RANGE` from `poll`.
    case fail
}

public struct ConsumerConfig: Sendable {
    /// How long the broker may hold a fetch waiting for `minBytes`.
    public var maxWaitMs: Int32 = 500
    public var minBytes: Int32 = 1
    /// Per fetch response.
    public var maxBytes: Int32 = 50 * 1024 * 1024
    /// Per partition in a fetch response (the first batch may exceed it, KIP-74).
    public var partitionMaxBytes: Int32 = 1024 * 1024
    public var offsetReset: OffsetResetPolicy = .latest
    /// Bound on one gzip batch's inflated size.
    public var decompressedBytesMax: Int = 64 * 1024 * 1024
    /// Check every batch's CRC-32C.
    public var verifyCRC: Bool = true

    public init() {}
}
