// Log replication: appends with fast backtracking by term, commitment (Figure 8 rule),
// heartbeats and snapshot installation.

extension RaftNode {
    // MARK: - Follower side

    mutating func handleAppend(_ m: RaftMessage) {
        if m.index < log.committed {
            // Everything up to our commit is settled; tell the leader where we are.
            send(RaftMessage(kind: .appendResponse, from: id, to: m.from, term: term, index: log.committed))
            return
        }
        let prevMatches = log.matchTerm(m.index, m.logTerm)
            || (config.canaries.contains(.noLogCheck) && m.index <= log.lastIndex && m.index > log.committed)
        if prevMatches {
            let lastNew = log.append(after: m.index, m.entries)
            log.commit(to: min(m.commit, lastNew))
            send(RaftMessage(kind: .appendResponse, from: id, to: m.from, term: term, index: lastNew))
            return
        }
        // Fast backtracking: point the leader at the last index whose term is ≤ the term it
        // probed with, so one round trip skips a whole divergent term instead of one entry.
        let probe = min(m.index, log.lastIndex)
        let hint = log.findConflict(atOrBelow: probe, term: m.logTerm)
        send(RaftMessage(kind: .appendResponse, from: id, to: m.from, term: term, logTerm: hint.term,
                         index: m.index, reject: true, rejectHint: hint.index))
    }

    mutating func handleHeartbeat(_ m: RaftMessage) {
        // The leader sends min(our match, its commit), so we hold every entry up to it.
        precondition(m.commit <= log.lastIndex || log.allowUnsafe,
                     "heartbeat commit \(m.commit) past last index \(log.lastIndex)")
        log.commit(to: min(m.commit, log.lastIndex))
        send(RaftMessage(kind: .heartbeatResponse, from: id, to: m.from, term: term, context: m.context))
    }

    mutating func handleSnapshot(_ m: RaftMessage) {
        guard let snapshot = m.snapshot else { return }
        if snapshot.index > log.committed {
            if log.matchTerm(snapshot.index, snapshot.term) {
                // We already hold the entries it covers: just follow the commit.
                log.commit(to: snapshot.index)
            } else {
                log.restore(snapshot)
                confState = snapshot.confState
            }
        }
        // Only the committed prefix is known to match the leader; entries after it may not.
        send(RaftMessage(kind: .appendResponse, from: id, to: m.from, term: term, index: log.committed))
    }

    // MARK: - Leader side

    mutating func handleAppendResponse(_ m: RaftMessage) {
        guard var pr = progress[m.from] else { return }
        pr.heard(at: ticks)
        if m.reject {
            var hint = m.rejectHint
            if m.logTerm > .zero { hint = log.findConflict(atOrBelow: m.rejectHint, term: m.logTerm).index }
            if pr.maybeDecrease(rejected: m.index, hint: hint) {
                if pr.state == .replicate { pr.becomeProbe() }
                progress[m.from] = pr
                sendAppend(to: m.from, sendIfEmpty: true)
            } else {
                progress[m.from] = pr
            }
            return
        }
        let wasPaused = pr.isPaused(maxInflight: config.maxInflightMessages)
        if pr.maybeUpdate(m.index) {
            switch pr.state {
            case .probe: pr.becomeReplicate()
            case .snapshot where pr.match >= pr.pendingSnapshot:
                pr.becomeProbe()
                pr.becomeReplicate()
            default: break
            }
            progress[m.from] = pr
            if maybeCommit() {
                broadcastAppend(sendIfEmpty: true)
            } else if wasPaused {
                // It was held back while we committed; bring its commit index up to date.
                sendAppend(to: m.from, sendIfEmpty: true)
            }
        } else {
            progress[m.from] = pr
        }
        // Keep the pipe full while there is more to send (flow control ends the loop).
        while sendAppend(to: m.from, sendIfEmpty: false) {}
        if m.from == leadTransferee, progress[m.from]?.match == log.lastIndex {
            send(RaftMessage(kind: .timeoutNow, from: id, to: m.from, term: term))
        }
    }

    mutating func handleHeartbeatResponse(_ m: RaftMessage) {
        guard var pr = progress[m.from] else { return }
        pr.heard(at: ticks)
        pr.probeSent = false
        switch pr.state {
        case .replicate where pr.inflight.count >= config.maxInflightMessages:
            pr.inflight.removeFirst()  // An append may have been lost; let one more through.
        case .snapshot:
            pr.snapshotHeartbeats += 1
            if pr.snapshotHeartbeats * config.heartbeatTicks >= config.electionTicks {
                pr.becomeProbe()  // The snapshot was probably lost: probe (and resend) again.
            }
        default: break
        }
        progress[m.from] = pr
        if pr.match < log.lastIndex { sendAppend(to: m.from, sendIfEmpty: true) }
        if let sequence = Self.decodeSequence(m.context) { acknowledgeRead(sequence: sequence, from: m.from) }
    }

    /// Commits the highest index stored on a majority of the voters, if it is from the current
    /// term (Raft §5.4.2: an older entry is committed only indirectly, by a later one of this
    /// term). Learners never count.
    mutating func maybeCommit() -> Bool {
        var matches: [LogIndex] = []
        let counted = config.canaries.contains(.learnerQuorum) ? confState.voters + confState.learners : confState.voters
        for voter in counted {
            matches.append(voter == id ? log.lastIndex : (progress[voter]?.match ?? .zero))
        }
        guard !matches.isEmpty else { return false }
        matches.sort(by: >)
        let candidate = matches[confState.quorum - 1]
        guard candidate > log.committed else { return false }
        guard log.term(at: candidate) == term || config.canaries.contains(.commitOldTerm) else { return false }
        log.commit(to: candidate)
        return true
    }

    mutating func broadcastAppend(sendIfEmpty: Bool) {
        for peer in progress.keys.sorted() { sendAppend(to: peer, sendIfEmpty: sendIfEmpty) }
    }

    mutating func broadcastHeartbeat() {
        let context = pendingReads.isEmpty ? [] : Self.encodeSequence(readSequence)
        for peer in progress.keys.sorted() {
            guard let pr = progress[peer] else { continue }
            send(RaftMessage(kind: .heartbeat, from: id, to: peer, term: term,
                             commit: min(pr.match, log.committed), context: context))
        }
    }

    /// Sends the next append (or a snapshot) to `peer` unless flow control holds it back.
    /// Returns whether something was sent.
    @discardableResult
    mutating func sendAppend(to peer: NodeID, sendIfEmpty: Bool) -> Bool {
        guard var pr = progress[peer], !pr.isPaused(maxInflight: config.maxInflightMessages) else { return false }
        let prevIndex = pr.next - 1
        guard let prevTerm = log.term(at: prevIndex),
              let entries = log.entries(from: pr.next, upTo: log.lastIndex + 1, maxCount: config.maxEntriesPerMessage)
        else {
            return sendSnapshot(to: peer)
        }
        if entries.isEmpty && !sendIfEmpty { return false }
        send(RaftMessage(kind: .append, from: id, to: peer, term: term, logTerm: prevTerm, index: prevIndex,
                         entries: entries, commit: log.committed))
        pr.sentEntries(lastIndex: entries.last?.index ?? prevIndex, count: entries.count)
        progress[peer] = pr
        return !entries.isEmpty
    }

    /// The entries the follower needs were compacted: send the newest snapshot instead.
    private mutating func sendSnapshot(to peer: NodeID) -> Bool {
        guard var pr = progress[peer], pr.recentActive else { return false }
        let snapshot = log.unstableSnapshot ?? log.storage.snapshot()
        precondition(snapshot.index > .zero, "entries compacted but no snapshot in storage")
        pr.becomeSnapshot(snapshot.index)
        progress[peer] = pr
        send(RaftMessage(kind: .snapshot, from: id, to: peer, term: term, snapshot: snapshot))
        return true
    }

    static func encodeSequence(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) }
    }

    static func decodeSequence(_ bytes: [UInt8]) -> UInt64? {
        bytes.count == 8 ? bytes.reduce(0) { $0 << 8 | UInt64($1) } : nil
    }
}
