// The invariants (Raft §5.2–5.4 and RELIABILITY.md), checked after every event and at the
// points of a Ready where they become observable.

extension Simulator {
    /// After every event: election safety, terms and commits never going back in memory, and a
    /// learner never in an election or leading.
    mutating func checkAfterEvent() {
        for id in ids {
            guard let node = slots[id]!.node else { continue }
            let status = node.status
            if status.role != .follower && status.confState.isLearner(id) {
                fail("learner-role", "node \(id) is \(status.role) of term \(status.term) while a learner in \(status.confState)")
            }
            if status.term < slots[id]!.seenTerm {
                fail("term-monotonic", "node \(id) term went from \(slots[id]!.seenTerm) to \(status.term)")
            }
            if status.commit < slots[id]!.seenCommit {
                fail("commit-monotonic", "node \(id) commit went from \(slots[id]!.seenCommit) to \(status.commit)")
            }
            slots[id]!.seenTerm = status.term
            slots[id]!.seenCommit = status.commit
            if status.role == .leader {
                if let other = leaderOfTerm[status.term], other != id {
                    fail("election-safety", "nodes \(other) and \(id) are both leaders of term \(status.term)")
                } else {
                    leaderOfTerm[status.term] = id
                }
            }
        }
    }

    /// Persisted term and commit never go back, across restarts included; and what a node
    /// persisted as committed joins the global record of committed entries.
    mutating func checkPersisted(_ id: NodeID, _ hs: HardState) {
        let slot = slots[id]!
        if hs.term < slot.persistedTerm {
            fail("term-monotonic", "node \(id) persisted term \(hs.term) after \(slot.persistedTerm)")
        }
        if hs.commit < slot.persistedCommit {
            fail("commit-monotonic", "node \(id) persisted commit \(hs.commit) after \(slot.persistedCommit)")
        }
        if hs.commit > slot.persistedCommit { recordCommitted(id, from: slot.persistedCommit + 1, through: hs.commit, term: hs.term) }
        slots[id]!.persistedTerm = max(slot.persistedTerm, hs.term)
        slots[id]!.persistedCommit = max(slot.persistedCommit, hs.commit)
    }

    /// Commitment rule (Raft §5.4.2, the Figure 8 fix): a leader of term T may only move the
    /// commit index to `commit` when some entry of term T at an index ≥ `commit` is durable on a
    /// quorum of its voters (its own persisted log included) with the same history as its own.
    /// Older entries are committed only indirectly, under such an entry. Every correct commit
    /// satisfies this at the moment the leader persists it (followers' persisted logs cannot lose
    /// an entry of the current term that a quorum holds), so checking it directly catches an
    /// unsafe commit when it is made — not only in the rare runs where a later leader then
    /// overwrites the entry (`committed-entry-lost`, `leader-completeness`).
    /// Checked only for indexes nobody committed before (the rest is checked by the history).
    mutating func checkCommitRule(_ id: NodeID, term: Term, commit: LogIndex) {
        guard commit > LogIndex(UInt64(committedHash.count)), let node = slots[id]!.node else { return }
        let storage = slots[id]!.storage
        let mirror = slots[id]!.mirror
        let voters = node.confState.voters
        var index = commit
        while index <= mirror.lastIndex {
            defer { index = index + 1 }
            guard (try? storage.term(at: index)) == term, let hash = mirror.hash(at: index) else { continue }
            let holders = voters.filter { slots[$0]?.mirror.hash(at: index) == hash }.count
            if holders >= node.confState.quorum { return }
        }
        fail("commit-rule", "leader \(id) of term \(term) committed \(commit) but no entry of term \(term) at or after it is durable on a quorum of \(node.confState)")
    }

    private mutating func recordCommitted(_ id: NodeID, from lo: LogIndex, through hi: LogIndex, term: Term) {
        let mirror = slots[id]!.mirror
        var index = lo
        while index <= hi {
            defer { index = index + 1 }
            guard let hash = mirror.hash(at: index) else {
                if index > mirror.lastIndex {
                    fail("commit-beyond-log", "node \(id) persisted commit \(hi) but its log ends at \(mirror.lastIndex)")
                    return
                }
                continue  // Compacted: its history was checked when it was committed earlier.
            }
            let slot = Int(index.rawValue) - 1
            if slot < committedHash.count {
                if committedHash[slot] != hash {
                    fail("committed-entry-lost", "node \(id) committed a different entry at index \(index) than was committed before")
                    return
                }
                commitTerm[slot] = min(commitTerm[slot], term)
            } else if slot == committedHash.count {
                committedHash.append(hash)
                commitTerm.append(term)
            }
        }
    }

    /// Leader completeness: a leader of term T holds every entry committed in a term before T.
    /// Checked when the leader's log is fully persisted (right after it saved a Ready).
    mutating func checkLeaderCompleteness(_ id: NodeID, term: Term) {
        var slot = commitTerm.count - 1
        while slot >= 0 && commitTerm[slot] >= term { slot -= 1 }
        guard slot >= 0 else { return }
        let index = LogIndex(UInt64(slot + 1))
        let mirror = slots[id]!.mirror
        if index > mirror.lastIndex {
            fail("leader-completeness", "leader \(id) of term \(term) lacks committed index \(index) (log ends at \(mirror.lastIndex))")
        } else if let hash = mirror.hash(at: index) {
            if hash != committedHash[slot] {
                fail("leader-completeness", "leader \(id) of term \(term) has a different entry at committed index \(index)")
            }
        } else if mirror.base > .zero, Int(mirror.base.rawValue) <= committedHash.count,
                  mirror.hashes[0] != committedHash[Int(mirror.base.rawValue) - 1] {
            fail("leader-completeness", "leader \(id) of term \(term) has a snapshot at \(mirror.base) that disagrees with the committed log")
        }
    }

    /// Log matching: every node's entry at (index, term) has the same prefix (and content).
    mutating func checkLogMatching(_ id: NodeID, index: LogIndex, term: Term, hash: UInt64) {
        let key = PrefixKey(index: index, term: term)
        if let known = prefixByEntry[key] {
            if known != hash {
                fail("log-matching", "node \(id) holds entry \(index)/\(term) with a different history than another node")
            }
        } else {
            prefixByEntry[key] = hash
        }
    }

    /// A node that believes it is a learner grants a (pre-)vote only to a candidate that counts it
    /// as a voter — one that asked it because its membership already holds the promotion. Checked
    /// when the grant is sent, against the candidate if it is still in that election.
    mutating func checkVoteGrant(_ m: RaftMessage) {
        guard m.kind == .voteResponse || m.kind == .preVoteResponse, !m.reject,
              slots[m.from]?.node?.confState.isLearner(m.from) == true,
              let candidate = slots[m.to]?.node else { return }
        let inElection = m.kind == .voteResponse
            ? candidate.role == .candidate && candidate.term == m.term
            : candidate.role == .preCandidate && candidate.term + 1 == m.term
        if inElection && !candidate.confState.isVoter(m.from) {
            fail("learner-vote", "learner \(m.from) granted a \(m.kind) to \(m.to), whose membership \(candidate.confState) does not count it")
        }
    }

    /// State machine safety: no two different entries (histories) applied at one index, and
    /// nothing applied that is not known committed (learners included: what they apply must be
    /// a prefix of the committed log).
    mutating func checkApplied(_ id: NodeID, index: LogIndex, hash: UInt64) {
        if index.rawValue > UInt64(committedHash.count) {
            fail("applied-uncommitted", "node \(id) applied index \(index) but only \(committedHash.count) are committed")
            return
        }
        if let known = appliedHash[index], known != hash {
            fail("state-machine-safety", "node \(id) applied a different entry at index \(index) than another node")
            return
        }
        appliedHash[index] = hash
        let slot = Int(index.rawValue) - 1
        if slot >= 0, slot < committedHash.count, committedHash[slot] != hash {
            fail("state-machine-safety", "node \(id) applied an entry at index \(index) that differs from the committed one")
        }
    }

    /// ReadIndex linearizability: the read point covers everything committed before the request.
    mutating func checkRead(_ id: NodeID, _ state: ReadState) {
        let context = SimHash.decode(state.context)
        guard let issuedAt = slots[id]!.reads.removeValue(forKey: context) else { return }
        if state.index < issuedAt {
            fail("read-index", "node \(id) read at index \(state.index) but \(issuedAt) was committed before the request")
        }
    }
}
