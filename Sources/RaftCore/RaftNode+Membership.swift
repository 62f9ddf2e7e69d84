// Single-server membership changes, leadership transfer and ReadIndex.

extension RaftNode {
    /// Proposes one membership change: add a voter, add a learner, promote a learner (`addVoter`
    /// for a node that is a learner) or remove a node. Leader only; refused while another change
    /// is in flight (appended but not applied), until the leader has committed an entry in its
    /// term, for removing the last voter, and for making a voter or the leader itself a learner.
    /// The change takes effect when the application applies the entry and calls `applyConfChange`.
    ///
    /// Promote a learner only once it has caught up (`progressStatus`): from then on the quorum
    /// counts it, and a lagging new voter slows every commit until it catches up.
    public mutating func proposeConfChange(_ change: ConfChange) throws(RaftProposalError) -> LogIndex {
        precondition(handedOut == nil, "proposeConfChange(_:) between ready() and advance()")
        guard role == .leader else { throw .notLeader(leader: leader) }
        guard leadTransferee == .none else { throw .transferInProgress }
        guard pendingConfIndex <= log.applied, committedInCurrentTerm else { throw .confChangeNotAllowed }
        if change.kind == .removeNode && confState.voters == [change.node] { throw .confChangeNotAllowed }
        if change.kind == .addLearner && (confState.isVoter(change.node) || change.node == id) { throw .demotionRefused }
        let index = appendAsLeader([Entry(term: term, index: .zero, kind: .confChange, data: change.encoded)])
        pendingConfIndex = index
        return index
    }

    /// Applies a committed conf change; call it while applying that entry. Returns the new
    /// membership, which the application keeps for the snapshots it takes.
    @discardableResult
    public mutating func applyConfChange(_ change: ConfChange) -> ConfState {
        confState.apply(change)
        switch role {
        case .leader:
            updateProgress(after: change)
        case .preCandidate, .candidate:
            // Unreachable while `hup` waits for every unapplied change that makes this node a
            // learner; kept so that a learner can never stay in an election.
            if confState.isLearner(id) { becomeFollower(term: term, leader: .none) }
        case .follower:
            break
        }
        return confState
    }

    /// Leader: starts replicating to a new member (a promoted learner keeps its progress), stops
    /// for a removed one, and recomputes the commit index under the new quorum.
    private mutating func updateProgress(after change: ConfChange) {
        let node = change.node
        if node != id && confState.isMember(node) && progress[node] == nil {
            var pr = Progress(next: log.lastIndex + 1)
            pr.recentActive = true
            progress[node] = pr
            sendAppend(to: node, sendIfEmpty: true)  // Start probing where its log ends.
        }
        if change.kind == .removeNode {
            progress[node] = nil
            if node == leadTransferee { leadTransferee = .none }
            if node == id {
                // A leader that removed itself keeps leading (without counting itself) until it
                // has handed over: stepping down at once can strand a remaining voter that has
                // not learnt the removal committed and still needs this node's vote.
                handOverAfterSelfRemoval()
            }
        }
        // A smaller quorum may commit more right away.
        if maybeCommit() { broadcastAppend(sendIfEmpty: true) }
    }

    /// A leader outside the voters transfers leadership to the most up-to-date voter.
    mutating func handOverAfterSelfRemoval() {
        let best = progress.filter { confState.isVoter($0.key) }.max {
            ($0.value.match, $1.key) < ($1.value.match, $0.key)
        }
        if let best { startTransfer(to: best.key) }
    }

    /// Hands leadership to `target` (a voter): once its log is current it gets `timeoutNow` and
    /// campaigns. Proposals are refused meanwhile; the attempt is abandoned after an election
    /// timeout. Leader only; ignored elsewhere, and for a target that is not a voter (a learner
    /// can never lead).
    public mutating func transferLeadership(to target: NodeID) {
        precondition(handedOut == nil, "transferLeadership(to:) between ready() and advance()")
        startTransfer(to: target)
    }

    mutating func startTransfer(to target: NodeID) {
        guard role == .leader, target != id, confState.isVoter(target), progress[target] != nil else { return }
        if leadTransferee == target { return }
        leadTransferee = target
        electionElapsed = 0
        if progress[target]?.match == log.lastIndex {
            send(RaftMessage(kind: .timeoutNow, from: id, to: target, term: term))
        } else {
            sendAppend(to: target, sendIfEmpty: true)
        }
    }

    /// Requests a linearizable read point. The answer arrives as a `ReadState` with this `context`
    /// in a later `Ready`: on the leader after a majority confirmed its leadership by answering a
    /// heartbeat; on a follower forwarded to the leader and back. A lost request yields nothing;
    /// the caller retries with a timeout.
    public mutating func readIndex(context: [UInt8]) throws(RaftProposalError) {
        precondition(handedOut == nil, "readIndex(context:) between ready() and advance()")
        if role == .leader {
            try handleReadIndexRequestThrowing(context: context, requester: id)
        } else if leader != .none {
            send(RaftMessage(kind: .readIndex, from: id, to: leader, term: term, context: context))
        } else {
            throw .notLeader(leader: .none)
        }
    }

    mutating func handleReadIndexRequest(context: [UInt8], requester: NodeID) {
        try? handleReadIndexRequestThrowing(context: context, requester: requester)
    }

    private mutating func handleReadIndexRequestThrowing(context: [UInt8], requester: NodeID) throws(RaftProposalError) {
        // Until it commits in its term the leader does not know the true commit index.
        guard committedInCurrentTerm else { throw .notCommittedInTerm }
        readSequence += 1
        // The leader's own acknowledgement counts only if it is a voter (it may have removed itself).
        let read = PendingRead(index: log.committed, sequence: readSequence, context: context, requester: requester,
                               acks: confState.isVoter(id) ? [id] : [])
        if read.acks.count >= confState.quorum || config.canaries.contains(.staleRead) {
            release(read)
            return
        }
        pendingReads.append(read)
        broadcastHeartbeat()
    }

    /// A heartbeat answer echoing sequence `sequence` proves the peer still followed us after every
    /// read registered up to it. Heartbeats carry the leader's own sequence, never the caller's
    /// context: a duplicated request could reuse a context, and a stale answer must not confirm
    /// a read registered after the heartbeat it answers. Only voters confirm; a learner's answer
    /// (it gets heartbeats too) proves nothing about a quorum.
    mutating func acknowledgeRead(sequence: UInt64, from peer: NodeID) {
        guard confState.isVoter(peer) else { return }
        for i in pendingReads.indices where pendingReads[i].sequence <= sequence {
            pendingReads[i].acks.insert(peer)
        }
        while let first = pendingReads.first, first.acks.count >= confState.quorum {
            pendingReads.removeFirst()
            release(first)
        }
    }

    private mutating func release(_ read: PendingRead) {
        if read.requester == id {
            readStates.append(ReadState(index: read.index, context: read.context))
        } else {
            send(RaftMessage(kind: .readIndexResponse, from: id, to: read.requester, term: term,
                             index: read.index, context: read.context))
        }
    }
}
