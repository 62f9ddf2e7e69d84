/// What a clean keeps of each record and each batch (Kafka's LogCleaner `shouldRetainRecord` /
/// `checkBatchRetention` and `MemoryRecords.filterTo`, with KIP-534's delete horizon for v2
/// batches). Pure: batches arrive as summaries (offsets, keys, whether each record has a value);
/// the answer says which offsets stay and how the batch is to be written.
/// See docs/decisions.md D140 and D143–D144.

/// One record: its absolute offset, its key (nil when it has none) and whether it has a value (a
/// record without one is a tombstone).
public struct RecordSummary: Sendable, Equatable {
    public var offset: Int64
    public var key: [UInt8]?
    public var hasValue: Bool

    public init(offset: Int64, key: [UInt8]?, hasValue: Bool) {
        self.offset = offset
        self.key = key
        self.hasValue = hasValue
    }
}

/// One stored batch as the cleaner sees it.
public struct BatchSummary: Sendable, Equatable {
    public var baseOffset: Int64
    /// baseOffset + lastOffsetDelta: stays the batch's last offset even after its last record goes.
    public var lastOffset: Int64
    /// -1 when the batch has no producer id.
    public var producerId: Int64
    public var isControl: Bool
    /// KIP-534: set (attribute bit 6, the value in the base timestamp) once a clean has seen
    /// tombstones in this batch.
    public var deleteHorizonMs: Int64?
    public var records: [RecordSummary]

    public init(baseOffset: Int64, lastOffset: Int64, producerId: Int64 = -1, isControl: Bool = false,
                deleteHorizonMs: Int64? = nil, records: [RecordSummary]) {
        self.baseOffset = baseOffset
        self.lastOffset = lastOffset
        self.producerId = producerId
        self.isControl = isControl
        self.deleteHorizonMs = deleteHorizonMs
        self.records = records
    }
}

/// The newest offset of each key in the dirty range (Kafka's offset map). Exact keys, not
/// digests: the pure model has no memory budget of its own beyond `maxKeys`.
public struct OffsetMap: Sendable, Equatable {
    public private(set) var latest: [[UInt8]: Int64] = [:]
    /// The last offset the map covers; records above it are beyond the map and always kept.
    /// Everything below the dirty range it was built over counts as covered.
    public private(set) var latestOffset: Int64 = -1

    public init() {}

    /// An empty map for a dirty range starting at `firstDirtyOffset`: the clean part below it is
    /// covered (its records are judged against the keys the map will hold).
    public init(firstDirtyOffset: Int64) {
        latestOffset = firstDirtyOffset - 1
    }

    public var count: Int { latest.count }

    public subscript(key: [UInt8]) -> Int64? { latest[key] }

    /// Adds the records of `batch` below `end` (records of a batch come in offset order). Keyless
    /// records only move `latestOffset`. Control batches hold no keys of the topic.
    public mutating func add(_ batch: BatchSummary, below end: Int64 = Int64.max) {
        guard !batch.isControl else {
            latestOffset = max(latestOffset, min(batch.lastOffset, end - 1))
            return
        }
        for record in batch.records where record.offset < end {
            if let key = record.key { latest[key] = record.offset }
            latestOffset = max(latestOffset, record.offset)
        }
        // A batch whose tail records were removed by an earlier clean still ends at lastOffset.
        if batch.lastOffset < end { latestOffset = max(latestOffset, batch.lastOffset) }
    }

    /// The number of distinct keys `batch` would add.
    public func newKeys(in batch: BatchSummary, below end: Int64) -> Int {
        guard !batch.isControl else { return 0 }
        var seen = Set<[UInt8]>()
        for record in batch.records where record.offset < end {
            if let key = record.key, latest[key] == nil { seen.insert(key) }
        }
        return seen.count
    }

    /// One segment's keys gathered against a map before they join it, so that a caller reading
    /// a segment batch by batch holds only its distinct keys, never its batches. `newKeys` counts
    /// the keys the map does not hold yet: the map with this segment merged has
    /// `count + newKeys` keys.
    public struct SegmentKeys: Sendable {
        var latest: [[UInt8]: Int64] = [:]
        var latestOffset: Int64
        public internal(set) var newKeys = 0
        /// Batches of the range seen (a segment with none leaves the map as it was).
        public internal(set) var batches = 0

        init(latestOffset: Int64) { self.latestOffset = latestOffset }
    }

    /// An empty gathering for the next segment.
    public func startSegment() -> SegmentKeys { SegmentKeys(latestOffset: latestOffset) }

    /// Adds `batch` (records below `end`) to `segment`, as `add` would add it to the map.
    public func gather(_ batch: BatchSummary, into segment: inout SegmentKeys, below end: Int64 = Int64.max) {
        segment.batches += 1
        guard !batch.isControl else {
            segment.latestOffset = max(segment.latestOffset, min(batch.lastOffset, end - 1))
            return
        }
        for record in batch.records where record.offset < end {
            if let key = record.key {
                if segment.latest.updateValue(record.offset, forKey: key) == nil, latest[key] == nil { segment.newKeys += 1 }
            }
            segment.latestOffset = max(segment.latestOffset, record.offset)
        }
        if batch.lastOffset < end { segment.latestOffset = max(segment.latestOffset, batch.lastOffset) }
    }

    /// Adds a segment gathered with `gather` (its offsets all above the map's).
    public mutating func merge(_ segment: SegmentKeys) {
        latest.merge(segment.latest) { _, newer in newer }
        latestOffset = max(latestOffset, segment.latestOffset)
    }

    /// The map over the dirty range `[from, to)` of `segments` (each a list of batches in offset
    /// order). With `maxKeys`, the map stops at the end of the last whole segment that fits, as
    /// Kafka's does; if not even the first dirty segment fits, it stops after the last batch that
    /// does (at least one batch, so that a clean always makes progress). Storage builds the same
    /// map segment by segment with `gather` and `merge` (and `addFirstSegmentInPart` when the
    /// first does not fit).
    public static func build(segments: [[BatchSummary]], from: Int64, to: Int64, maxKeys: Int = Int.max) -> OffsetMap {
        var map = OffsetMap(firstDirtyOffset: from)
        var first = true
        for segment in segments {
            var keys = map.startSegment()
            for batch in segment where batch.lastOffset >= from && batch.baseOffset < to {
                map.gather(batch, into: &keys, below: to)
            }
            guard keys.batches > 0 else { continue }
            if map.count + keys.newKeys <= maxKeys {
                map.merge(keys)
                first = false
                continue
            }
            guard first else { return map }
            for batch in segment where batch.lastOffset >= from && batch.baseOffset < to {
                if !map.addInPart(batch, from: from, to: to, maxKeys: maxKeys) { break }
            }
            return map
        }
        return map
    }

    /// The first dirty segment holds more keys than `maxKeys`: adds its batches one at a time
    /// while they fit (the first always). False once one does not fit: the map ends before it.
    public mutating func addInPart(_ batch: BatchSummary, from: Int64, to: Int64, maxKeys: Int) -> Bool {
        if latestOffset >= from && count + newKeys(in: batch, below: to) > maxKeys { return false }
        add(batch, below: to)
        return true
    }
}

/// How a batch is written by the clean.
public enum BatchAction: String, Sendable, Equatable {
    /// Every record stays and nothing changes: the stored bytes are copied as they are.
    case copy
    /// Re-encoded with the kept records (possibly none, for `retainEmpty`), same base offset, last
    /// offset delta, producer fields and codec; CRC recomputed.
    case rewrite
    /// Every record is gone, but the batch is the last of a producer still in the producer-state
    /// window: it is written with no records so that its sequence survives.
    case retainEmpty = "retain-empty"
    /// Every record is gone: the batch is not written.
    case drop
}

public struct BatchPlan: Sendable, Equatable {
    public var baseOffset: Int64
    public var lastOffset: Int64
    public var action: BatchAction
    /// The offsets of the records that stay (all of them for `copy`, none for `retainEmpty`/`drop`).
    public var kept: [Int64]
    /// The delete horizon the written batch carries (nil: none).
    public var deleteHorizonMs: Int64?
}

public enum RecordRetention {
    /// Whether `record` of `batch` stays: the newest record of its key (by `map`), or beyond the
    /// map; never a keyless one; a tombstone only until its batch's delete horizon has passed.
    public static func keeps(_ record: RecordSummary, of batch: BatchSummary, map: OffsetMap, nowMs: Int64) -> Bool {
        if record.offset > map.latestOffset { return true }
        guard let key = record.key else { return false }
        // A key the dirty range never saw (a record of the clean part) keeps its newest copy.
        if let newest = map[key], record.offset < newest { return false }
        if record.hasValue { return true }
        guard let horizon = batch.deleteHorizonMs else { return true }
        return nowMs < horizon
    }

    /// The plan for one batch cleaned at `nowMs`. `producerLastOffsets` holds, for each producer
    /// still in the producer-state window, the last offset of its last batch.
    public static func plan(_ batch: BatchSummary, map: OffsetMap, nowMs: Int64, deleteRetentionMs: Int64,
                            producerLastOffsets: [Int64: Int64]) -> BatchPlan {
        // Runnel has no transactions (D9): a control batch is never removed.
        if batch.isControl {
            return BatchPlan(baseOffset: batch.baseOffset, lastOffset: batch.lastOffset, action: .copy,
                             kept: batch.records.map(\.offset), deleteHorizonMs: batch.deleteHorizonMs)
        }
        let kept = batch.records.filter { keeps($0, of: batch, map: map, nowMs: nowMs) }
        // KIP-534: the first clean that keeps a tombstone stamps the batch with its horizon. Only a
        // tombstone the map covered counts (the clean has reached it); one beyond the map waits
        // for the clean that does (Kafka stamps it too; later is the safe side).
        let holdsTombstones = kept.contains { !$0.hasValue && $0.offset <= map.latestOffset }
        let stampHorizon = holdsTombstones && batch.deleteHorizonMs == nil
        let horizon = stampHorizon ? CleanerSelection.saturatingAdd(nowMs, deleteRetentionMs) : batch.deleteHorizonMs
        let keptOffsets = kept.map(\.offset)
        let action: BatchAction
        if kept.count == batch.records.count && !stampHorizon {
            action = .copy
        } else if !kept.isEmpty {
            action = .rewrite
        } else if batch.producerId >= 0, producerLastOffsets[batch.producerId] == batch.lastOffset {
            action = .retainEmpty
        } else {
            action = .drop
        }
        return BatchPlan(baseOffset: batch.baseOffset, lastOffset: batch.lastOffset, action: action,
                         kept: action == .drop ? [] : keptOffsets, deleteHorizonMs: action == .drop ? nil : horizon)
    }
}

extension CleanerSelection {
    static func saturatingAdd(_ a: Int64, _ b: Int64) -> Int64 {
        let (value, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? Int64.max : Int64.min) : value
    }
}
