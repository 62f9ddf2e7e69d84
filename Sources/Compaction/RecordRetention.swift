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
    func newKeys(in batch: BatchSummary, below end: Int64) -> Int {
        guard !batch.isControl else { return 0 }
        var seen = Set<[UInt8]>()
        for record in batch.records where record.offset < end {
            if let key = record.key, latest[key] == nil { seen.insert(key) }
        }
        return seen.count
    }

    /// The map over the dirty range `[from, to)` of `segments` (each a list of batches in offset
    /// order). With `maxKeys`, the map stops at the end of the last whole segment that fits, as
    /// Kafka's does; if not even the first dirty segment fits, it stops after the last batch that
    /// does (at least one batch, so that a clean always makes progress).
    public static func build(segments: [[BatchSummary]], from: Int64, to: Int64, maxKeys: Int = Int.max) -> OffsetMap {
        var map = OffsetMap(firstDirtyOffset: from)
        var first = true
        for segment in segments {
            let batches = segment.filter { $0.lastOffset >= from && $0.baseOffset < to }
            guard !batches.isEmpty else { continue }
            var trial = map
            for batch in batches { trial.add(batch, below: to) }
            if trial.count <= maxKeys {
                map = trial
                first = false
                continue
            }
            guard first else { return map }
            for batch in batches {
                if map.latestOffset >= from && map.count + map.newKeys(in: batch, below: to) > maxKeys { break }
                map.add(batch, below: to)
            }
            return map
        }
        return map
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
