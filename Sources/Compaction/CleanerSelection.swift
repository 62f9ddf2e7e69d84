/// Which compacted log the cleaner should clean next, and which part of it (Kafka's
/// LogCleanerManager: `cleanableOffsets`, `maxCompactionDelay`, `grabFilthiestCompactedLog`).
///
/// Pure: the shell describes each log by its segments (sizes, offsets, timestamps), its log start
/// offset, high watermark and cleaner checkpoint, and passes the time; the answer is a value.
/// See docs/decisions.md D140–D142.

/// The topic keys the cleaner's decisions read, with Kafka's defaults.
public struct CompactionConfig: Sendable, Equatable {
    /// `min.cleanable.dirty.ratio`: a log is cleaned when dirty bytes / (clean + dirty) exceed it.
    public var minCleanableDirtyRatio: Double = 0.5
    /// `min.compaction.lag.ms`: a segment whose newest record is younger stays uncleaned.
    public var minCompactionLagMs: Int64 = 0
    /// `max.compaction.lag.ms`: a dirty segment older than this forces a clean whatever the ratio.
    public var maxCompactionLagMs: Int64 = Int64.max
    /// `delete.retention.ms`: how long a tombstone survives after the clean that first saw it.
    public var deleteRetentionMs: Int64 = 86_400_000

    public init(minCleanableDirtyRatio: Double = 0.5, minCompactionLagMs: Int64 = 0,
                maxCompactionLagMs: Int64 = Int64.max, deleteRetentionMs: Int64 = 86_400_000) {
        self.minCleanableDirtyRatio = minCleanableDirtyRatio
        self.minCompactionLagMs = minCompactionLagMs
        self.maxCompactionLagMs = maxCompactionLagMs
        self.deleteRetentionMs = deleteRetentionMs
    }
}

/// One segment as the cleaner sees it. `endOffset` is one past its last offset (the next
/// segment's base, or the log end for the active one).
public struct SegmentSummary: Sendable, Equatable {
    public var baseOffset: Int64
    public var endOffset: Int64
    public var sizeBytes: Int64
    /// The max timestamp of the segment's first batch (Kafka's `getFirstBatchTimestamp`), or nil
    /// when unknown (an empty segment, or no timestamps).
    public var firstBatchTimestamp: Int64?
    /// The largest timestamp of any record in the segment (-1 when none).
    public var largestTimestamp: Int64

    public init(baseOffset: Int64, endOffset: Int64, sizeBytes: Int64, firstBatchTimestamp: Int64?,
                largestTimestamp: Int64) {
        self.baseOffset = baseOffset
        self.endOffset = endOffset
        self.sizeBytes = sizeBytes
        self.firstBatchTimestamp = firstBatchTimestamp
        self.largestTimestamp = largestTimestamp
    }
}

/// A compacted log as the cleaner sees it. The last segment is the active one.
public struct LogToCleanInput: Sendable, Equatable {
    public var name: String
    public var segments: [SegmentSummary]
    public var logStartOffset: Int64
    public var highWatermark: Int64
    /// The `cleaner-offset-checkpoint` entry: the first offset not yet cleaned; nil when none.
    public var checkpoint: Int64?
    public var config: CompactionConfig

    public init(name: String, segments: [SegmentSummary], logStartOffset: Int64, highWatermark: Int64,
                checkpoint: Int64?, config: CompactionConfig) {
        self.name = name
        self.segments = segments
        self.logStartOffset = logStartOffset
        self.highWatermark = highWatermark
        self.checkpoint = checkpoint
        self.config = config
    }

    public var logEndOffset: Int64 { segments.last?.endOffset ?? logStartOffset }
}

/// What stops the cleanable range where it stops.
public enum UncleanableReason: String, Sendable, Equatable {
    case activeSegment = "active-segment"
    case highWatermark = "high-watermark"
    case minCompactionLag = "min-compaction-lag"
}

/// The part of a log a clean may cover: `[firstDirtyOffset, firstUncleanableOffset)` is the dirty
/// part the offset map is built over; every segment below `firstUncleanableOffset` is rewritten.
public struct CleanableRange: Sendable, Equatable {
    public var firstDirtyOffset: Int64
    /// Always a segment's base offset: the cleaner rewrites whole segments only.
    public var firstUncleanableOffset: Int64
    public var uncleanableBecause: UncleanableReason
    /// True when the checkpoint was outside the log (truncated or behind its start) and was reset
    /// to the log start; the shell should write the reset value back.
    public var checkpointReset: Bool
    /// Bytes of the segments below the first dirty offset (already cleaned).
    public var cleanBytes: Int64
    /// Bytes of the segments in the dirty range that may be cleaned now.
    public var cleanableBytes: Int64
    /// How long past `max.compaction.lag.ms` the oldest dirty segment is (0 when it is not).
    public var compactionDelayMs: Int64

    /// cleanable / (clean + cleanable); 0 for an empty log.
    public var dirtyRatio: Double {
        let total = cleanBytes + cleanableBytes
        return total == 0 ? 0 : Double(cleanableBytes) / Double(total)
    }
}

/// Why a log is to be cleaned.
public enum CleanReason: String, Sendable, Equatable {
    /// Its dirty ratio exceeds `min.cleanable.dirty.ratio`.
    case dirtyRatio = "dirty-ratio"
    /// Some dirty record is older than `max.compaction.lag.ms`.
    case maxCompactionLag = "max-compaction-lag"
}

public struct CleanCandidate: Sendable, Equatable {
    public var name: String
    public var range: CleanableRange
    public var reason: CleanReason
}

public enum CleanerSelection {
    /// The range of `log` a clean at `nowMs` may cover.
    public static func cleanableRange(_ log: LogToCleanInput, nowMs: Int64) -> CleanableRange {
        let segments = log.segments
        let activeBase = segments.last?.baseOffset ?? log.logStartOffset
        // The checkpoint is invalid when the log was truncated below it or its start moved past it
        // (retention, DeleteRecords): start again from the log start.
        var firstDirty = log.checkpoint ?? log.logStartOffset
        var reset = false
        if firstDirty < log.logStartOffset || firstDirty > log.logEndOffset {
            reset = log.checkpoint != nil
            firstDirty = log.logStartOffset
        }

        // The first segment that may not be cleaned: the active one, the one holding the high
        // watermark (Kafka stops at the last stable offset, which Runnel, without transactions,
        // has equal to the high watermark; Runnel rounds down to whole segments), or the first
        // dirty one whose newest record is younger than min.compaction.lag.ms.
        var uncleanable = activeBase
        var because = UncleanableReason.activeSegment
        if let holdingHW = segments.first(where: { $0.endOffset > log.highWatermark }),
           holdingHW.baseOffset < uncleanable {
            uncleanable = holdingHW.baseOffset
            because = .highWatermark
        }
        let minLag = max(log.config.minCompactionLagMs, 0)
        if minLag > 0 {
            let youngest = segments.dropLast().first { segment in
                segment.endOffset > firstDirty && segment.largestTimestamp > saturatingSubtract(nowMs, minLag)
            }
            if let youngest, youngest.baseOffset < uncleanable {
                uncleanable = youngest.baseOffset
                because = .minCompactionLag
            }
        }
        uncleanable = max(uncleanable, firstDirty)

        // Bytes: segments holding offsets in [start, firstDirty) are clean, those overlapping
        // [firstDirty, uncleanable) cleanable (a segment split by the checkpoint counts in both, as
        // in Kafka).
        let clean = segments.filter { max($0.baseOffset, log.logStartOffset) < firstDirty && $0.endOffset > log.logStartOffset }
        let cleanable = segments.dropLast().filter { $0.baseOffset < uncleanable && $0.endOffset > firstDirty }
        let cleanBytes = clean.reduce(0) { $0 + $1.sizeBytes }
        let cleanableBytes = cleanable.reduce(0) { $0 + $1.sizeBytes }

        // max.compaction.lag.ms: measured from the first batch of the oldest dirty, non-active segment.
        var delay: Int64 = 0
        let dirtyNonActive = segments.dropLast().filter { $0.endOffset > firstDirty }
        let stamps = dirtyNonActive.compactMap(\.firstBatchTimestamp).filter { $0 >= 0 }
        if let earliest = stamps.min() {
            let cleanUntil = saturatingSubtract(nowMs, max(log.config.maxCompactionLagMs, 0))
            if earliest < cleanUntil { delay = cleanUntil - earliest }
        }

        return CleanableRange(firstDirtyOffset: firstDirty, firstUncleanableOffset: uncleanable,
                              uncleanableBecause: because, checkpointReset: reset, cleanBytes: cleanBytes,
                              cleanableBytes: cleanableBytes, compactionDelayMs: delay)
    }

    /// Whether `range` should be cleaned now, and why; nil when not.
    public static func reason(_ range: CleanableRange, config: CompactionConfig) -> CleanReason? {
        guard range.cleanableBytes > 0 else { return nil }
        if range.compactionDelayMs > 0 { return .maxCompactionLag }
        if range.dirtyRatio > config.minCleanableDirtyRatio { return .dirtyRatio }
        return nil
    }

    /// The logs that need cleaning at `nowMs`, filthiest first: the highest dirty ratio leads (as
    /// Kafka's `grabFilthiestCompactedLog`), and a forced clean (max.compaction.lag.ms) counts as
    /// needed even below the ratio. Logs named in `busy` (being cleaned, paused) are skipped. Ties
    /// go by name so that the order is deterministic.
    public static func cleanable(_ logs: [LogToCleanInput], nowMs: Int64, busy: Set<String> = []) -> [CleanCandidate] {
        var candidates: [CleanCandidate] = []
        for log in logs where !busy.contains(log.name) {
            let range = cleanableRange(log, nowMs: nowMs)
            if let why = reason(range, config: log.config) {
                candidates.append(CleanCandidate(name: log.name, range: range, reason: why))
            }
        }
        return candidates.sorted { a, b in
            a.range.dirtyRatio != b.range.dirtyRatio ? a.range.dirtyRatio > b.range.dirtyRatio : a.name < b.name
        }
    }

    static func saturatingSubtract(_ a: Int64, _ b: Int64) -> Int64 {
        let (value, overflow) = a.subtractingReportingOverflow(b)
        return overflow ? (b > 0 ? Int64.min : Int64.max) : value
    }
}
