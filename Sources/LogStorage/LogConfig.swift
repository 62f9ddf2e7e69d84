import RunnelCore

/// Per-log settings. The server fills it from Kafka's broker keys (`log.segment.bytes`,
/// `log.roll.ms`, `log.index.interval.bytes`, `log.index.size.max.bytes`, `log.retention.ms`,
/// `log.retention.bytes`, `log.flush.interval.messages`, `log.flush.interval.ms`,
/// `log.message.timestamp.type`) overlaid with the topic's overrides (`segment.bytes`,
/// `segment.ms`, `index.interval.bytes`, `segment.index.bytes`, `retention.ms`,
/// `retention.bytes`, `flush.messages`, `flush.ms`, `message.timestamp.type`). Defaults are
/// Kafka's. A log's config can be replaced at runtime (`PartitionLog.config`); segment and index
/// sizes then apply from the next roll.
public struct LogConfig: Sendable, Equatable {
    public enum TimestampType: Sendable, Equatable {
        case createTime
        case logAppendTime
    }

    /// Roll when the active segment would exceed this (Kafka default 1 GiB).
    public var segmentBytes: Int
    /// Roll when the active segment's first batch is older than this (7 days).
    public var segmentMs: Int64
    /// Bytes of log between two index entries (4096).
    public var indexIntervalBytes: Int
    /// Preallocated size of each index file; a full index rolls the segment (10 MiB).
    public var indexSizeMaxBytes: Int
    /// Sealed segments whose newest timestamp is older than this are deleted; -1 = forever.
    public var retentionMs: Int64
    /// Oldest sealed segments are deleted while the log stays at least this big; -1 = no limit.
    public var retentionBytes: Int64
    /// `flushIsDue` turns true after this many unflushed messages (default never).
    public var flushIntervalMessages: Int64
    /// `flushIsDue` turns true when the last flush is older than this (default never).
    public var flushIntervalMs: Int64
    public var messageTimestampType: TimestampType

    public init(
        segmentBytes: Int = 1 << 30,
        segmentMs: Int64 = 7 * 24 * 3_600_000,
        indexIntervalBytes: Int = 4096,
        indexSizeMaxBytes: Int = 10 * 1024 * 1024,
        retentionMs: Int64 = 7 * 24 * 3_600_000,
        retentionBytes: Int64 = -1,
        flushIntervalMessages: Int64 = Int64.max,
        flushIntervalMs: Int64 = Int64.max,
        messageTimestampType: TimestampType = .createTime
    ) {
        precondition(segmentBytes >= Limits.segmentBytesMin && segmentBytes <= Limits.segmentBytesMax,
                     "segment.bytes \(segmentBytes) outside \(Limits.segmentBytesMin)...\(Limits.segmentBytesMax)")
        precondition(indexSizeMaxBytes >= 4 * TimeIndex.entryBytes, "segment.index.bytes \(indexSizeMaxBytes) too small")
        precondition(indexIntervalBytes >= 0, "index.interval.bytes must not be negative")
        self.segmentBytes = segmentBytes
        self.segmentMs = segmentMs
        self.indexIntervalBytes = indexIntervalBytes
        self.indexSizeMaxBytes = indexSizeMaxBytes
        self.retentionMs = retentionMs
        self.retentionBytes = retentionBytes
        self.flushIntervalMessages = flushIntervalMessages
        self.flushIntervalMs = flushIntervalMs
        self.messageTimestampType = messageTimestampType
    }
}
