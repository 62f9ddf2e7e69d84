import RunnelCore

/// One leader epoch and the first offset written in it.
public struct EpochEntry: Hashable, Sendable, CustomStringConvertible {
    public var epoch: LeaderEpoch
    public var startOffset: Offset
    public init(epoch: LeaderEpoch, startOffset: Offset) {
        self.epoch = epoch
        self.startOffset = startOffset
    }
    public var description: String { "\(epoch)@\(startOffset)" }
}

/// A partition replica's leader-epoch cache (KIP-101): for each leader epoch that wrote to this
/// log, the offset its first batch got. Epochs strictly increase and start offsets never
/// decrease along the list. It answers "where does epoch E end in this log" — what
/// OffsetForLeaderEpoch and the Fetch diverging-epoch check need — and is cut back with the log
/// (truncation) and with retention.
///
/// Kafka keeps it in the partition directory as `leader-epoch-checkpoint` (see
/// `checkpointText` / `init(checkpointText:)`); the shell writes that file whenever the cache
/// changes.
public struct LeaderEpochCache: Equatable, Sendable {
    public private(set) var entries: [EpochEntry]

    public init() { entries = [] }

    /// A cache from entries, which must be in order (epochs increasing, start offsets not decreasing).
    public init?(entries: [EpochEntry]) {
        for (a, b) in zip(entries, entries.dropFirst()) where !(a.epoch < b.epoch && a.startOffset <= b.startOffset) {
            return nil
        }
        guard entries.allSatisfy({ $0.epoch.rawValue >= 0 && $0.startOffset.rawValue >= 0 }) else { return nil }
        self.entries = entries
    }

    public var latest: EpochEntry? { entries.last }
    public var latestEpoch: LeaderEpoch? { entries.last?.epoch }

    /// Records that `epoch` wrote its first batch at `startOffset` (a leader taking office at its
    /// log end, or a follower appending a batch stamped with a newer epoch). An entry the cache
    /// already has (same epoch, same or earlier start) changes nothing; otherwise entries that
    /// conflict with it — an epoch as large, or a start as late — are dropped first, as Kafka
    /// does. Returns whether the cache changed.
    @discardableResult
    public mutating func assign(epoch: LeaderEpoch, startOffset: Offset) -> Bool {
        guard epoch.rawValue >= 0, startOffset.rawValue >= 0 else { return false }
        if let last = entries.last, last.epoch == epoch, last.startOffset <= startOffset { return false }
        entries.removeAll { $0.epoch >= epoch || $0.startOffset >= startOffset }
        entries.append(EpochEntry(epoch: epoch, startOffset: startOffset))
        return true
    }

    /// Kafka's end-offset-for-epoch, the answer to OffsetForLeaderEpoch: the largest epoch at or
    /// below `requested` that this log knows, and the offset where that epoch ends (the start of
    /// the next epoch, or `logEndOffset` for the latest). A requested epoch older than the first
    /// known one answers with itself and the first start offset; one newer than every known
    /// epoch, or an empty cache, answers nil (UNDEFINED_EPOCH / UNDEFINED_EPOCH_OFFSET).
    public func endOffset(for requested: LeaderEpoch, logEndOffset: Offset) -> (epoch: LeaderEpoch, endOffset: Offset)? {
        guard requested.rawValue >= 0, let last = entries.last else { return nil }
        if last.epoch == requested { return (requested, logEndOffset) }
        guard let higher = entries.firstIndex(where: { $0.epoch > requested }) else { return nil }
        if higher == 0 { return (requested, entries[0].startOffset) }
        return (entries[higher - 1].epoch, entries[higher].startOffset)
    }

    /// The log was truncated to `endOffset` (everything at or past it removed): epochs that
    /// started there or later are forgotten. Returns whether the cache changed.
    @discardableResult
    public mutating func truncateFromEnd(_ endOffset: Offset) -> Bool {
        let before = entries.count
        entries.removeAll { $0.startOffset >= endOffset }
        return entries.count != before
    }

    /// The cache of a log a crash cut at `endOffset`, at start-up: as `truncateFromEnd`, except
    /// that the newest epoch stays, as starting at `endOffset` if it started past it — it may
    /// be an epoch this replica took office in, whose records did not reach the disk, and a
    /// replica that forgot it could take office in it a second time and write other records at
    /// the same offsets in the same epoch (`ReplicaRules.adopt`, D87). Returns whether the cache
    /// changed.
    @discardableResult
    public mutating func recover(logEnd endOffset: Offset) -> Bool {
        guard let newest = entries.last, newest.startOffset >= endOffset else { return false }
        let before = entries
        entries.removeAll { $0.startOffset >= endOffset }
        entries.append(EpochEntry(epoch: newest.epoch, startOffset: endOffset))
        return entries != before
    }

    /// The log start moved to `startOffset` (retention, or a follower restarting its log there):
    /// epochs that ended before it are forgotten and the one holding it now starts there.
    /// Returns whether the cache changed.
    @discardableResult
    public mutating func truncateFromStart(_ startOffset: Offset) -> Bool {
        guard let holder = entries.lastIndex(where: { $0.startOffset <= startOffset }) else { return false }
        let changed = holder > 0 || entries[holder].startOffset != startOffset
        entries.removeFirst(holder)
        entries[0].startOffset = startOffset
        return changed
    }

    /// The epoch that wrote `offset`, if the cache covers it.
    public func epoch(at offset: Offset) -> LeaderEpoch? {
        entries.last(where: { $0.startOffset <= offset })?.epoch
    }

    // MARK: The checkpoint file

    /// Kafka's `leader-epoch-checkpoint` text: a version line (0), a count line, then
    /// `epoch startOffset` per line.
    public var checkpointText: String {
        "0\n\(entries.count)\n" + entries.map { "\($0.epoch.rawValue) \($0.startOffset.rawValue)\n" }.joined()
    }

    public struct CheckpointError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Parses `checkpointText`; says what is wrong with a file that does not parse or whose
    /// entries are out of order.
    public init(checkpointText text: String) throws(CheckpointError) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 2, lines[0] == "0" else { throw CheckpointError(description: "first line is not version 0") }
        guard let count = Int(lines[1]), count >= 0 else { throw CheckpointError(description: "second line is not an entry count") }
        var parsed: [EpochEntry] = []
        for (number, line) in lines.dropFirst(2).enumerated() where !line.isEmpty {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let epoch = Int32(fields[0]), let start = Int64(fields[1]) else {
                throw CheckpointError(description: "line \(number + 3) is not 'epoch offset'")
            }
            parsed.append(EpochEntry(epoch: LeaderEpoch(epoch), startOffset: Offset(start)))
        }
        guard parsed.count == count else {
            throw CheckpointError(description: "count line says \(count), found \(parsed.count) entries")
        }
        guard let cache = LeaderEpochCache(entries: parsed) else {
            throw CheckpointError(description: "entries are not in order (epochs increasing, offsets not decreasing): \(parsed)")
        }
        self = cache
    }
}
