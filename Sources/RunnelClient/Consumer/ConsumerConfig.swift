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
    /// Throw `OFFSET_OUT_OF_RANGE`: from `assign` when an explicit start offset is outside
    /// the log, from `poll` when a position falls out of it later.
    case fail
}

/// A position the broker answered OFFSET_OUT_OF_RANGE for, and where `offsetReset` moved it.
public struct OffsetReset: Sendable, Equatable, CustomStringConvertible {
    public var topic: String
    public var partition: PartitionID
    public var from: Offset
    public var to: Offset
    /// As listed when the reset happened (nil when the broker did not say).
    public var logStartOffset: Offset?
    public var logEndOffset: Offset?

    public init(topic: String, partition: PartitionID, from: Offset, to: Offset, logStartOffset: Offset?, logEndOffset: Offset?) {
        self.topic = topic
        self.partition = partition
        self.from = from
        self.to = to
        self.logStartOffset = logStartOffset
        self.logEndOffset = logEndOffset
    }

    /// e.g. "orders[0]: offset 5 is past the log end offset 1; continuing at 1".
    public var description: String {
        "\(topic)[\(partition)]: \(Self.whereIs(from, logStartOffset: logStartOffset, logEndOffset: logEndOffset)); continuing at \(to)"
    }

    /// Which side of the log `offset` lies on, in words.
    static func whereIs(_ offset: Offset, logStartOffset: Offset?, logEndOffset: Offset?) -> String {
        if let logEndOffset, offset > logEndOffset { return "offset \(offset) is past the log end offset \(logEndOffset)" }
        if let logStartOffset, offset < logStartOffset { return "offset \(offset) is before the log start offset \(logStartOffset)" }
        let range = "\(logStartOffset?.description ?? "?")..\(logEndOffset?.description ?? "?")"
        return "offset \(offset) is outside the log (\(range) when listed)"
    }
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
    /// Called (on the polling task) after `offsetReset` moved an out-of-range position, so that
    /// a jump over records, or back to re-read them, is never silent.
    public var onOffsetReset: (@Sendable (OffsetReset) -> Void)?

    public init() {}
}
