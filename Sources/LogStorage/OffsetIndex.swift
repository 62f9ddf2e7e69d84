import RunnelCore

/// The sparse offset index of one segment: `<20-digit base offset>.index`.
///
/// Format (Kafka's): a flat array of 8-byte entries, big-endian,
///
///     0  relativeOffset  int32   a batch's LAST offset − the segment's base offset
///     4  position        int32   byte position of that batch's start in the `.log`
///
/// Sparse: an entry is added when more than `index.interval.bytes` (4096) of log were appended
/// since the previous one, so a lookup scans at most about that many bytes of batch headers.
/// Both columns are strictly increasing.
///
/// Lookup rule: the greatest entry whose offset is ≤ the target gives a position at or before the
/// batch that holds the target; the caller scans batch headers forward from there. (An entry maps
/// a batch's last offset to its start, so any target inside that batch or later is found by
/// scanning from that batch.) No entry ≤ target means "scan from position 0".
///
/// Crash story: the file is preallocated to `segment.index.bytes` while the segment is active and
/// trimmed on roll and clean close. It is never checksummed. After an unclean stop the indexes of
/// every segment from the recovery point on are rebuilt from the log; any index whose size is not
/// a multiple of 8, whose entries do not increase, or that points past the end of its log is
/// rebuilt as well rather than trusted.
///
/// Threading: owner thread only.
public struct OffsetIndex {
    public static let entryBytes = 8

    public let baseOffset: Offset
    var file: IndexFile

    init(file: IndexFile, baseOffset: Offset) {
        self.file = file
        self.baseOffset = baseOffset
    }

    public var entryCount: Int { file.entryCount }
    public var isFull: Bool { file.entryCount >= file.capacityEntries }

    public func entry(_ index: Int) -> (offset: Offset, position: Int) {
        let raw = file.entry(index)
        return (baseOffset + Int64(raw.loadBigEndian(Int32.self, at: 0)), Int(raw.loadBigEndian(Int32.self, at: 4)))
    }

    /// The greatest entry with offset ≤ `target`, else (baseOffset, 0). Binary search.
    public func lookup(_ target: Offset) -> (offset: Offset, position: Int) {
        let relative = target - baseOffset
        guard relative >= 0, let index = file.lastIndex(atOrBelow: relative, key: { Int64($0.loadBigEndian(Int32.self, at: 0)) })
        else { return (baseOffset, 0) }
        return entry(index)
    }

    /// Appends an entry for the batch whose last offset is `offset`, starting at `position`.
    mutating func append(offset: Offset, position: Int) {
        let relative = offset - baseOffset
        precondition(relative >= 0 && relative <= Int64(Int32.max) && position <= Int(Int32.max))
        if entryCount > 0 {
            let last = entry(entryCount - 1)
            precondition(last.offset < offset && last.position < position, "offset index must increase")
        }
        file.append { raw in
            raw.storeBigEndian(Int32(relative), at: 0)
            raw.storeBigEndian(Int32(position), at: 4)
        }
    }

    /// Keeps only the entries for batches that start before `position`.
    mutating func truncate(toPositionsBelow position: Int) {
        var count = entryCount
        while count > 0 && entry(count - 1).position >= position { count -= 1 }
        file.truncate(toCount: count)
    }

    mutating func removeAll() { file.truncate(toCount: 0) }

    /// nil when the entries are plausible for a log of `logBytes` bytes, else why not.
    func problem(logBytes: Int) -> String? {
        if file.fileSizeBytes % Self.entryBytes != 0 {
            return "size \(file.fileSizeBytes) is not a multiple of \(Self.entryBytes)"
        }
        var previous: (offset: Offset, position: Int)? = nil
        for index in 0..<entryCount {
            let current = entry(index)
            if current.offset < baseOffset { return "entry \(index) has a negative relative offset" }
            if let previous, current.offset <= previous.offset || current.position <= previous.position {
                return "entry \(index) does not increase"
            }
            if current.position >= logBytes { return "entry \(index) points to position \(current.position) past the log end \(logBytes)" }
            previous = current
        }
        return nil
    }
}
