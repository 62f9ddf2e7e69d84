// Elections: timeouts, PreVote, votes, role transitions and CheckQuorum.

extension RaftNode {
    mutating func tickFollower() {
        electionElapsed += 1
        if isPromotable && electionElapsed >= randomizedElectionTimeout {
            hup(transfer: false)
        }
    }

    mutating func tickLeader() {
        heartbeatElapsed += 1
        electionElapsed += 1
        if electionElapsed >= config.electionTicks {
            electionElapsed = 0
            if config.checkQuorum && !checkQuorumActive() {
                becomeFollower(term: term, leader: .none)
                return
            }
            leadTransferee = .none  // A transfer that did not finish within an election timeout is abandoned.
            if !confState.contains(id) { handOverAfterSelfRemoval() }
        }
        if heartbeatElapsed >= config.heartbeatTicks {
            heartbeatElapsed = 0
            broadcastHeartbeat()
        }
    }

    /// CheckQuorum: whether a majority (this node included) was heard from since the last round;
    /// resets the marks for the next round.
    private mutating func checkQuorumActive() -> Bool {
        var active = confState.contains(id) ? 1 : 0
        for (peer, var pr) in progress {
            if pr.recentActive && confState.contains(peer) { active += 1 }
            pr.recentActive = false
            progress[peer] = pr
        }
        return active >= confState.quorum
    }

    /// Starts a (pre-)campaign. A transfer skips PreVote: the leader asked for it.
    mutating func hup(transfer: Bool) {
        guard isPromotable else { return }
        // An unapplied conf change in the committed log could remove us; wait until it is applied.
        if hasUnappliedConfChange() { return }
        if config.preVote && !transfer {
            becomePreCandidate()
            requestVotes(kind: .preVote, term: term + 1, transfer: false)
        } else {
            becomeCandidate()
            requestVotes(kind: .vote, term: term, transfer: transfer)
        }
    }

    private func hasUnappliedConfChange() -> Bool {
        guard log.committed > log.applied else { return false }
        var lo = max(log.applied + 1, log.firstIndex)
        while lo <= log.committed {
            guard let batch = log.entries(from: lo, upTo: log.committed + 1, maxCount: 256), !batch.isEmpty else { return false }
            if batch.contains(where: { $0.kind == .confChange }) { return true }
            lo = batch.last!.index + 1
        }
        return false
    }

    private mutating func requestVotes(kind: RaftMessage.Kind, term electionTerm: Term, transfer: Bool) {
        // Our own vote first: a single-voter group wins here.
        if recordVote(from: id, granted: true) { return }
        for voter in confState.voters where voter != id {
            send(RaftMessage(kind: kind, from: id, to: voter, term: electionTerm, logTerm: log.lastTerm,
                             index: log.lastIndex, isTransfer: transfer))
        }
    }

    /// Records an answer; returns true when the (pre-)campaign was decided by it.
    private mutating func recordVote(from voter: NodeID, granted: Bool) -> Bool {
        guard confState.contains(voter), votes[voter] == nil else { return false }
        votes[voter] = granted
        let yes = votes.values.filter { $0 }.count
        let no = votes.count - yes
        if yes >= confState.quorum {
            if role == .preCandidate {
                becomeCandidate()
                requestVotes(kind: .vote, term: term, transfer: false)
            } else {
                becomeLeader()
            }
            return true
        }
        if no >= confState.quorum {
            becomeFollower(term: term, leader: .none)
            return true
        }
        return false
    }

    mutating func handleVoteResponse(_ m: RaftMessage) {
        let expected: RaftMessage.Kind = role == .preCandidate ? .preVoteResponse : .voteResponse
        guard m.kind == expected, role == .preCandidate || role == .candidate else { return }
        _ = recordVote(from: m.from, granted: !m.reject)
    }

    /// Answers a (pre-)vote request whose term is at least ours (the caller handled the rest).
    mutating func handleVoteRequest(_ m: RaftMessage) {
        let isPreVote = m.kind == .preVote
        let canVote = vote == m.from
            || (vote == .none && leader == .none)
            || (isPreVote && m.term > term)
            || config.canaries.contains(.doubleVote)
        let responseKind: RaftMessage.Kind = isPreVote ? .preVoteResponse : .voteResponse
        if canVote && log.isUpToDate(lastIndex: m.index, lastTerm: m.logTerm) {
            // A pre-vote answer carries the proposed term so the pre-candidate counts it.
            send(RaftMessage(kind: responseKind, from: id, to: m.from, term: m.term))
            if !isPreVote {
                electionElapsed = 0
                vote = m.from
            }
        } else {
            send(RaftMessage(kind: responseKind, from: id, to: m.from, term: term, reject: true))
        }
    }

    // MARK: - Role transitions

    mutating func becomeFollower(term newTerm: Term, leader newLeader: NodeID) {
        precondition(newTerm >= term, "term going back from \(term) to \(newTerm)")
        if newTerm > term {
            term = newTerm
            vote = .none
        }
        role = .follower
        leader = newLeader
        resetRoleState()
    }

    mutating func becomePreCandidate() {
        precondition(role != .leader, "a leader cannot become a pre-candidate")
        role = .preCandidate
        leader = .none
        resetRoleState()
    }

    mutating func becomeCandidate() {
        precondition(role != .leader, "a leader cannot become a candidate")
        term = term + 1
        vote = id
        role = .candidate
        leader = .none
        resetRoleState()
    }

    mutating func becomeLeader() {
        precondition(role == .candidate, "only a candidate becomes leader")
        role = .leader
        leader = id
        resetRoleState()
        let next = log.lastIndex + 1
        for voter in confState.voters where voter != id {
            var pr = Progress(next: next)
            pr.recentActive = true  // Give every follower a full election timeout before CheckQuorum counts it.
            progress[voter] = pr
        }
        // A conf change somewhere in the uncommitted tail may still be pending; be conservative.
        pendingConfIndex = log.lastIndex
        // The no-op lets the leader commit in its own term, which commits everything before it.
        appendAsLeader([Entry(term: term, index: .zero, kind: .noop)])
        if !confState.contains(id) { handOverAfterSelfRemoval() }
    }

    private mutating func resetRoleState() {
        resetTimers()
        votes = [:]
        progress = [:]
        leadTransferee = .none
        pendingReads = []
    }
}
