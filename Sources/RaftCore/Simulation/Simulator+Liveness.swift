// The liveness phase: after the chaos, heal the network, restart every node and calm the
// network; then a leader must emerge and commit a new entry, applied on every voter and every
// learner (learners catch up too), within a bound.

extension Simulator {
    /// Simulated ticks allowed for a leader and progress after healing: generous against split
    /// votes (each round has a fresh randomized timeout), short enough to catch a livelock.
    static let livenessTicksMax = 40 * electionTicks
    /// Bound on the event rounds within one tick; the calm network always quiesces well before.
    static let settleRoundsMax = 1000

    mutating func livenessPhase() {
        record("liveness: heal, restart all, no faults")
        network.heal()
        network.faults = .none
        profile.isolateNewLeaderPerMille = 0
        profile.isolateCommittingLeaderPerMille = 0
        for id in ids where slots[id]!.node == nil { restart(id) }
        var proposal: (term: Term, index: LogIndex)?
        for _ in 0..<Self.livenessTicksMax {
            tickAll()
            checkAfterEvent()
            settle()
            if violation != nil { return }
            guard let leader = currentLeader() else { continue }
            let node = slots[leader]!.node!
            if let proposal, proposal.term == node.term {
                if isApplied(proposal.index, onAllMembersOf: leader) {
                    record("liveness: leader \(leader) term \(node.term) committed index \(proposal.index) on \(node.confState)")
                    return
                }
                continue
            }
            if let index = try? slots[leader]!.node!.propose(SimHash.encode(nextValue)) {
                nextValue += 1
                proposal = (node.term, index)
                record("liveness: propose at \(leader) index=\(index)")
            }
        }
        let states = live.map { slots[$0]!.node!.status.description }.joined(separator: "; ")
        fail("liveness", "no leader committed a new entry within \(Self.livenessTicksMax) ticks of healing: \(states)")
    }

    private func currentLeader() -> NodeID? {
        live.filter { slots[$0]!.node!.role == .leader }.max { slots[$0]!.node!.term < slots[$1]!.node!.term }
    }

    private func isApplied(_ index: LogIndex, onAllMembersOf leader: NodeID) -> Bool {
        let conf = slots[leader]!.node!.confState
        return Int(index.rawValue) <= committedHash.count
            && (conf.voters + conf.learners).allSatisfy { (slots[$0]?.machine.applied ?? .zero) >= index }
    }

    /// Delivers everything and handles every Ready until the network is quiet.
    private mutating func settle() {
        for _ in 0..<Self.settleRoundsMax {
            var busy = false
            for id in live where slots[id]!.node!.hasReady {
                processReady(id)
                checkAfterEvent()
                busy = true
            }
            while let message = network.takeFirst() {
                deliver(message)
                checkAfterEvent()
                busy = true
            }
            if !busy || violation != nil { return }
        }
        fail("liveness", "the network did not quiesce within \(Self.settleRoundsMax) rounds")
    }
}
