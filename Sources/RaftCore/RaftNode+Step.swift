// Message dispatch: term comparison first (Raft §5.1), then by role and kind.

extension RaftNode {
    mutating func stepChecked(_ m: RaftMessage) {
        if m.term > term {
            guard stepHigherTerm(m) else { return }
        } else if m.term < term {
            stepLowerTerm(m)
            return
        }
        switch m.kind {
        case .vote, .preVote:
            handleVoteRequest(m)
        case .voteResponse, .preVoteResponse:
            handleVoteResponse(m)
        case .append, .heartbeat, .snapshot:
            stepFromLeader(m)
        case .appendResponse:
            if role == .leader { handleAppendResponse(m) }
        case .heartbeatResponse:
            if role == .leader { handleHeartbeatResponse(m) }
        case .timeoutNow:
            // The leader picked us for a transfer: campaign now, past any lease, skipping PreVote.
            if role != .leader { hup(transfer: true) }
        case .readIndex:
            if role == .leader { handleReadIndexRequest(context: m.context, requester: m.from) }
        case .readIndexResponse:
            readStates.append(ReadState(index: m.index, context: m.context))
        }
    }

    /// A message from a newer term. Returns false when it must be dropped.
    private mutating func stepHigherTerm(_ m: RaftMessage) -> Bool {
        switch m.kind {
        case .vote, .preVote:
            // CheckQuorum's lease: a node that hears from a live leader ignores elections, so a
            // partitioned node rejoining with a high term cannot depose it. Transfers are exempt.
            if inLease && !m.isTransfer { return false }
            // A pre-vote never changes our term: the candidate has not raised its own yet.
            if m.kind == .preVote { return true }
            becomeFollower(term: m.term, leader: .none)
        case .preVoteResponse where !m.reject:
            return true  // Carries the term we proposed; counted in handleVoteResponse.
        case .append, .heartbeat, .snapshot:
            becomeFollower(term: m.term, leader: m.from)
        default:
            becomeFollower(term: m.term, leader: .none)
        }
        return true
    }

    /// A message from an older term: mostly dropped, with two answers that keep the group live.
    private mutating func stepLowerTerm(_ m: RaftMessage) {
        if (config.checkQuorum || config.preVote) && (m.kind == .heartbeat || m.kind == .append) {
            // A stale leader (e.g. one that was partitioned away) learns our term and steps down.
            // Without this, with PreVote or CheckQuorum a node with a higher term could be ignored
            // forever by a stale leader that keeps it from campaigning.
            send(RaftMessage(kind: .appendResponse, from: id, to: m.from, term: term))
        } else if m.kind == .preVote {
            send(RaftMessage(kind: .preVoteResponse, from: id, to: m.from, term: term, reject: true))
        }
    }

    /// append / heartbeat / snapshot in the current term: whoever sent it leads this term.
    private mutating func stepFromLeader(_ m: RaftMessage) {
        if role == .leader {
            // Two leaders in one term is impossible unless votes were duplicated; ignore it.
            return
        }
        if role != .follower { becomeFollower(term: term, leader: m.from) }
        leader = m.from
        electionElapsed = 0
        switch m.kind {
        case .append: handleAppend(m)
        case .heartbeat: handleHeartbeat(m)
        default: handleSnapshot(m)
        }
    }
}
