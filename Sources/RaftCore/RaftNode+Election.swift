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
            if !confState.isVoter(id) { handOverAfterSelfRemoval() }
        }
        if heartbeatElapsed >= config.heartbeatTicks {
            heartbeatElapsed = 0
            broadcastHeartbeat()
        }
    }

    /// CheckQuorum: whether a majority of the voters (this node included) was heard from since
    /// the last round; resets the marks for the next round. Learners heard from do not count.
    private mutating func checkQuorumActive() -> Bool {
        var active = confState.isVoter(id) ? 1 : 0
        for (peer, var pr) in progress {
            if pr.recentActive && confState.isVoter(peer) { active += 1 }
            pr.recentActive = false
            progress[peer] = pr
        }
        return active >= confState.quorum
    }

    /// Starts a (pre-)campaign. A transfer skips PreVote: the leader asked for it.
    mutating func hup(transfer: Bool) {
        guard isPromotable, !hasUnappliedChangeBlockingCampaign() else { return }
        if config.preVote && !transfer {
            becomePreCandidate()
            requestVotes(kind: .preVote, term: term + 1, transfer: false)
        } else {
            becomeCandidate()
            requestVotes(kind: .vote, term: term, transfer: transfer)
        }
    }

    /// Whether the log after `applied` holds a change that must take effect before this node may
    /// campaign:
    /// - a committed conf change: it could remove us, so wait until it is applied;
    /// - any conf change, committed or not, that makes this node a learner. A node being added as
    ///   a learner catches up from an empty log as a non-member, which may campaign; once it holds
    ///   its own `addLearner` it could win (its log is then as up to date as anyone's), so it
    ///   waits for the change to be applied or cut. Before it holds the entry it cannot win: the
    ///   entry is committed (the leader replicates to a learner only after applying its addition),
    ///   and Raft elects only a node holding every committed entry. Waiting never costs liveness:
    ///   nobody counts the vote of a node that is not its voter.
    private func hasUnappliedChangeBlockingCampaign() -> Bool {
        var lo = max(log.applied + 1, log.firstIndex)
        while lo <= log.lastIndex {
            guard let batch = log.entries(from: lo, upTo: log.lastIndex + 1, maxCount: 256), !batch.isEmpty else { return false }
            for entry in batch where entry.kind == .confChange {
                if entry.index <= log.committed { return true }
                if let change = ConfChange(decoding: entry.data), change.kind == .addLearner, change.node == id { return true }
            }
            lo = batch.last!.index + 1
        }
        return false
    }

    /// Asks the voters only: learners are never asked, so a learner that receives a request is
    /// one the candidate already counts as a voter (see `handleVoteRequest`).
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
        guard confState.isVoter(voter), votes[voter] == nil else { return false }
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
    ///
    /// A node that believes it is a learner answers like any other, as etcd-raft's learners do:
    /// the request proves the candidate's membership already has it as a voter, i.e. its
    /// promotion is committed and only not yet applied here. Refusing would leave a group that
    /// needs this node's vote (e.g. voters 1 and 2, learner 3 promoted, 1 down) without a leader,
    /// and no leader would ever tell this node that the promotion committed. The grant is
    /// harmless otherwise: a candidate counts only the votes of its own voters.
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
        for member in confState.voters + confState.learners where member != id {
            var pr = Progress(next: next)
            pr.recentActive = true  // Give every follower a full election timeout before CheckQuorum counts it.
            progress[member] = pr
        }
        // A conf change somewhere in the uncommitted tail may still be pending; be conservative.
        pendingConfIndex = log.lastIndex
        // The no-op lets the leader commit in its own term, which commits everything before it.
        appendAsLeader([Entry(term: term, index: .zero, kind: .noop)])
        if !confState.isVoter(id) { handOverAfterSelfRemoval() }
    }

    private mutating func resetRoleState() {
        resetTimers()
        votes = [:]
        progress = [:]
        leadTransferee = .none
        pendingReads = []
    }
}
