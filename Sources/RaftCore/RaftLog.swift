/// The node's view of its log: what storage holds, overlaid by what the node appended (or the
/// snapshot it received) that the application has not yet persisted ("unstable"). Unstable
/// entries win over stored ones at the same index; the application's next `save` makes storage
/// agree.
struct RaftLog {
    let storage: any RaftLogStorage
    /// A snapshot received from the leader, not yet persisted.
    var unstableSnapshot: RaftSnapshot?
    /// Entries not yet persisted; `unstable[0]` has index `unstableOffset`.
    var unstable: [Entry] = []
    var unstableOffset: LogIndex
    /// Highest index known to be on a majority.
    var committed: LogIndex
    /// Highest index the application has applied (as of the last `advance()`).
    var applied: LogIndex
    /// Set only under a simulator canary, whose broken behaviour would otherwise trip the
    /// programmer-error checks below before the simulator's checker could name the violation.
    var allowUnsafe = false

    init(storage: any RaftLogStorage, committed: LogIndex, applied: LogIndex) {
        self.storage = storage
        self.unstableOffset = storage.lastIndex + 1
        self.committed = committed
        self.applied = applied
    }

    var firstIndex: LogIndex {
        if let unstableSnapshot { return unstableSnapshot.index + 1 }
        return storage.firstIndex
    }

    var lastIndex: LogIndex {
        if let last = unstable.last { return last.index }
        if let unstableSnapshot { return unstableSnapshot.index }
        return storage.lastIndex
    }

    var lastTerm: Term { term(at: lastIndex) ?? .zero }

    /// The term at `index`, or nil when it is compacted or past the end.
    func term(at index: LogIndex) -> Term? {
        if index >= unstableOffset, !unstable.isEmpty {
            let i = index.rawValue - unstableOffset.rawValue
            if i < UInt64(unstable.count) { return unstable[Int(i)].term }
            return nil
        }
        if let unstableSnapshot {
            if index == unstableSnapshot.index { return unstableSnapshot.term }
            return nil  // Storage is stale until the snapshot is persisted; nothing else is known.
        }
        if index > lastIndex { return nil }
        return try? storage.term(at: index)
    }

    func matchTerm(_ index: LogIndex, _ term: Term) -> Bool { self.term(at: index) == term }

    /// Raft §5.4.1: a candidate's log is at least as up to date as ours.
    func isUpToDate(lastIndex candidateIndex: LogIndex, lastTerm candidateTerm: Term) -> Bool {
        candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
    }

    /// Entries in `lo..<hi`, at most `maxCount`; nil when some are compacted (send a snapshot).
    func entries(from lo: LogIndex, upTo hi: LogIndex, maxCount: Int) -> [Entry]? {
        if lo >= hi { return [] }
        if lo < firstIndex { return nil }
        precondition(hi <= lastIndex + 1, "entries(from: \(lo), upTo: \(hi)) past last index \(lastIndex)")
        var result: [Entry] = []
        if lo < unstableOffset {
            let storedHi = min(hi, unstableOffset)
            guard let stored = try? storage.entries(in: lo..<storedHi, maxCount: maxCount) else { return nil }
            result = stored
            if result.count < storedHi.rawValue - lo.rawValue || result.count >= maxCount { return result }
        }
        let from = max(lo, unstableOffset)
        if from < hi {
            let a = Int(from.rawValue - unstableOffset.rawValue)
            let b = min(Int(hi.rawValue - unstableOffset.rawValue), a + maxCount - result.count)
            result.append(contentsOf: unstable[a..<b])
        }
        return result
    }

    /// Appends entries that follow `index` (which must exist), truncating a conflicting suffix.
    /// Returns the index of the last new entry.
    mutating func append(after index: LogIndex, _ newEntries: [Entry]) -> LogIndex {
        guard let conflict = firstConflict(in: newEntries) else { return index + UInt64(newEntries.count) }
        precondition(conflict > committed || allowUnsafe, "truncating committed entry \(conflict) (commit \(committed))")
        let start = Int(conflict.rawValue - newEntries[0].index.rawValue)
        appendUnstable(Array(newEntries[start...]))
        return index + UInt64(newEntries.count)
    }

    /// The index of the first entry in `newEntries` whose term differs from ours (or that we do
    /// not have); nil when we have them all.
    private func firstConflict(in newEntries: [Entry]) -> LogIndex? {
        for entry in newEntries where !matchTerm(entry.index, entry.term) { return entry.index }
        return nil
    }

    /// Adds entries starting at or before `lastIndex + 1`, dropping any unstable suffix they replace.
    mutating func appendUnstable(_ newEntries: [Entry]) {
        guard let first = newEntries.first?.index else { return }
        precondition(first <= lastIndex + 1, "gap: appending \(first) after \(lastIndex)")
        if first == unstableOffset + UInt64(unstable.count) {
            unstable.append(contentsOf: newEntries)
        } else if first <= unstableOffset {
            // Replaces everything unstable and the stored suffix from `first` (save truncates it).
            unstableOffset = first
            unstable = newEntries
        } else {
            unstable.removeSubrange(Int(first.rawValue - unstableOffset.rawValue)...)
            unstable.append(contentsOf: newEntries)
        }
    }

    /// Follows a leader's commit, which may never move backwards.
    mutating func commit(to index: LogIndex) {
        if index > committed {
            precondition(index <= lastIndex, "commit \(index) past last index \(lastIndex)")
            committed = index
        }
    }

    /// Replaces the log with a snapshot from the leader (its index is above our commit).
    mutating func restore(_ snapshot: RaftSnapshot) {
        unstableSnapshot = snapshot
        unstable = []
        unstableOffset = snapshot.index + 1
        committed = snapshot.index
    }

    /// The largest index ≤ `index` whose term is ≤ `term`: where two logs that disagree at
    /// `index` may still agree. Used on both sides of fast backtracking.
    func findConflict(atOrBelow index: LogIndex, term: Term) -> (index: LogIndex, term: Term) {
        var i = index
        while true {
            guard let t = self.term(at: i) else { return (i, .zero) }  // Compacted: let the leader decide.
            if t <= term || i == .zero { return (i, t) }
            i = i - 1
        }
    }

    /// Committed entries the application has not yet been handed.
    func nextCommittedEntries(maxCount: Int) -> [Entry] {
        let lo = max(applied + 1, firstIndex)
        if committed < lo { return [] }
        return entries(from: lo, upTo: committed + 1, maxCount: maxCount) ?? []
    }

    /// Called from `advance()`: everything unstable is now in storage.
    mutating func stabilize() {
        unstableSnapshot = nil
        unstableOffset = lastIndex + 1
        unstable = []
    }
}
