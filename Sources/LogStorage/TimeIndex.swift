import RunnelCore

/// The sparse time index of one segment: `<20-digit base offset>.timeindex`.
///
/// Format (Kafka's): a flat array of 12-byte entries, big-endian,
///
///     0  timestamp       int64   the greatest batch maxTimestamp seen so far in the segment
///     8  relativeOffset  int32   offset of the batch that had it − the segment's base offset
///
/// An entry is added together with an offset-index entry (every `index.interval.bytes`) when the
/// max timestamp so far has grown, and once more on roll/close, so the last entry holds the
/// segment's largest timestamp. Timestamps strictly increase; offsets never decrease.
///
/// Lookup rule (ListOffsets by time): the greatest entry whose timestamp is < T says that no
/// batch before its offset has a timestamp ≥ T (every earlier batch is ≤ that max so far), so a
/// forward scan from the batch holding that offset finds the first batch with maxTimestamp ≥ T.
///
/// Crash story: as for `OffsetIndex` — preallocated while active, trimmed on roll/close, never
/// checksummed, rebuilt from the log after an unclean stop or when its entries look wrong. One
/// slot is kept free while active so the final entry always fits.
///
/// Threading: owner thread only.
public struct TimeIndex {
    public static let entryBytes = 12

    public let baseOffset: Offset
    var file: IndexFile

    init(file: IndexFile, baseOffset: Offset) {
        self.file = file
        self.baseOffset = baseOffset
    }

    public var entryCount: Int { file.entryCount }
    /// Full while only the slot for the final (roll/close) entry is left.
    public var isFull: Bool { file.entryCount + 1 >= file.capacityEntries }

    public func entry(_ index: Int) -> (timestamp: TimestampMs, offset: Offset) {
        let raw = file.entry(index)
        return (TimestampMs(raw.loadBigEndian(Int64.self, at: 0)), baseOffset + Int64(raw.loadBigEndian(Int32.self, at: 8)))
    }

    public var lastEntry: (timestamp: TimestampMs, offset: Offset)? {
        entryCount > 0 ? entry(entryCount - 1) : nil
    }

    /// The greatest entry whose timestamp is strictly below `timestamp`. Binary search.
    public func lastEntry(before timestamp: TimestampMs) -> (timestamp: TimestampMs, offset: Offset)? {
        guard timestamp.rawValue > Int64.min,
              let index = file.lastIndex(atOrBelow: timestamp.rawValue - 1, key: { $0.loadBigEndian(Int64.self, at: 0) })
        else { return nil }
        return entry(index)
    }

    /// Appends (timestamp, offset) when the timestamp is greater than the last entry's (and than
    /// -1).
    /// `final` uses the slot kept free for the roll/close entry.
    mutating func maybeAppend(timestamp: TimestampMs, offset: Offset, final: Bool = false) {
        // Nothing is indexed until a real timestamp (> -1, Kafka's NO_TIMESTAMP) shows up.
        guard timestamp > (lastEntry?.timestamp ?? TimestampMs.none) else { return }
        guard final ? file.entryCount < file.capacityEntries : !isFull else { return }
        let relative = offset - baseOffset
        precondition(relative >= 0 && relative <= Int64(Int32.max))
        file.append { raw in
            raw.storeBigEndian(timestamp.rawValue, at: 0)
            raw.storeBigEndian(Int32(relative), at: 8)
        }
    }

    /// Keeps only entries whose offset is below `offset`.
    mutating func truncate(toOffsetsBelow offset: Offset) {
        var count = entryCount
        while count > 0 && entry(count - 1).offset >= offset { count -= 1 }
        file.truncate(toCount: count)
    }

    mutating func removeAll() { file.truncate(toCount: 0) }

    /// nil when the entries are plausible for a segment whose offsets end before `endOffset`.
    func problem(endOffset: Offset) -> String? {
        if file.fileSizeBytes % Self.entryBytes != 0 {
            return "size \(file.fileSizeBytes) is not a multiple of \(Self.entryBytes)"
        }
        var previous: (timestamp: TimestampMs, offset: Offset)? = nil
        for index in 0..<entryCount {
            let current = entry(index)
            if current.offset < baseOffset || current.offset >= endOffset {
                return "entry \(index) has offset \(current.offset) outside \(baseOffset)..<\(endOffset)"
            }
            if let previous, current.timestamp <= previous.timestamp || current.offset < previous.offset {
                return "entry \(index) does not increase"
            }
            previous = current
        }
        return nil
    }
}
