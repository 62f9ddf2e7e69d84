// How the simulated application handles a Ready — exactly the order `Ready` documents:
// persist, then send, then apply, then advance — with the checks that belong to each step.

extension Simulator {
    mutating func processReady(_ id: NodeID) {
        let ready = slots[id]!.node!.ready()
        let term = slots[id]!.node!.term
        let storage = slots[id]!.storage
        let line = describe(ready, of: id, term: term)
        record(line)

        if ready.role == .leader, let first = ready.entries.first, let tail = slots[id]!.leaderTail,
           tail.term == term, first.index <= tail.last {
            fail("leader-append-only", "leader \(id) of term \(term) rewrote its log from index \(first.index) (last was \(tail.last))")
        }

        // 1. Persist.
        try! storage.save(snapshot: ready.snapshot, entries: ready.entries, hardState: ready.hardState)  // Memory storage does not throw.
        if let snapshot = ready.snapshot { mirrorInstall(id, snapshot) }
        mirrorAppend(id, ready.entries)
        let commitAdvanced = (ready.hardState?.commit ?? .zero) > slots[id]!.persistedCommit
        if ready.role == .leader, let hs = ready.hardState { checkCommitRule(id, term: hs.term, commit: hs.commit) }
        if let hs = ready.hardState { checkPersisted(id, hs) }
        if ready.role == .leader {
            // Cut a leader off before this Ready's messages leave, on top of any partition: just
            // elected (its first entries stay on a minority) or just committed (nobody learns it).
            // Together they are the raw material of Raft's Figure 8.
            let isNew = slots[id]!.leaderTail?.term != term
            if (isNew && random.below(1000) < profile.isolateNewLeaderPerMille)
                || (commitAdvanced && random.below(1000) < profile.isolateCommittingLeaderPerMille) {
                network.partition([id], from: ids.filter { $0 != id })
                record("isolate \(isNew ? "new" : "committing") leader \(id)")
            }
            slots[id]!.leaderTail = (term, storage.lastIndex)
            checkLeaderCompleteness(id, term: term)
        }

        // 2. Send.
        for message in ready.messages {
            checkVoteGrant(message)
            _ = network.send(message, now: now, random: &random)
        }

        // 3. Apply.
        if let snapshot = ready.snapshot { restoreMachine(id, snapshot) }
        for entry in ready.committedEntries { apply(id, entry) }
        for state in ready.readStates { checkRead(id, state) }
        slots[id]!.node!.advance()
    }

    private mutating func restoreMachine(_ id: NodeID, _ snapshot: RaftSnapshot) {
        let hash = SimHash.decode(snapshot.data)
        slots[id]!.machine = SimStateMachine(applied: snapshot.index, hash: hash, confState: snapshot.confState)
        checkApplied(id, index: snapshot.index, hash: hash)
    }

    private mutating func apply(_ id: NodeID, _ entry: Entry) {
        var machine = slots[id]!.machine
        guard entry.index == machine.applied + 1 else {
            fail("apply-order", "node \(id) applied index \(entry.index) after \(machine.applied)")
            return
        }
        machine.hash = SimHash.fold(machine.hash, entry)
        machine.applied = entry.index
        if entry.kind == .confChange, let change = ConfChange(decoding: entry.data) {
            machine.confState = slots[id]!.node!.applyConfChange(change)
        }
        slots[id]!.machine = machine
        checkApplied(id, index: entry.index, hash: machine.hash)
    }

    /// Keeps the prefix-hash mirror of a node's persisted log in step with `save`, checking log
    /// matching for every entry that reaches the disk: one (index, term) must always have one history.
    mutating func mirrorAppend(_ id: NodeID, _ entries: [Entry]) {
        guard let first = entries.first else { return }
        var mirror = slots[id]!.mirror
        precondition(first.index > mirror.base, "entries at or below the snapshot reached storage")
        mirror.hashes.removeSubrange(Int(first.index.rawValue - mirror.base.rawValue)...)
        var hash = mirror.hashes[mirror.hashes.count - 1]
        for entry in entries {
            hash = SimHash.fold(hash, entry)
            mirror.hashes.append(hash)
            checkLogMatching(id, index: entry.index, term: entry.term, hash: hash)
        }
        slots[id]!.mirror = mirror
    }

    private mutating func mirrorInstall(_ id: NodeID, _ snapshot: RaftSnapshot) {
        let storage = slots[id]!.storage
        var hash = SimHash.decode(snapshot.data)
        checkLogMatching(id, index: snapshot.index, term: snapshot.term, hash: hash)
        var mirror = SimMirror(base: snapshot.index, hashes: [hash])
        for entry in storage.storedEntries {
            hash = SimHash.fold(hash, entry)
            mirror.hashes.append(hash)
        }
        slots[id]!.mirror = mirror
    }

    func describe(_ ready: Ready, of id: NodeID, term: Term) -> String {
        var parts = ["ready \(id) \(ready.role) term=\(term)"]
        if let hs = ready.hardState { parts.append("hs=\(hs.term)/\(hs.vote)/\(hs.commit)") }
        if let snapshot = ready.snapshot { parts.append("snap=\(snapshot.index)/\(snapshot.term)") }
        if let first = ready.entries.first, let last = ready.entries.last {
            parts.append("persist=\(first.index)...\(last.index)")
        }
        if !ready.messages.isEmpty { parts.append("send=\(ready.messages.count)") }
        if let first = ready.committedEntries.first, let last = ready.committedEntries.last {
            parts.append("apply=\(first.index)...\(last.index)")
        }
        if !ready.readStates.isEmpty { parts.append("reads=\(ready.readStates.map(\.index.description).joined(separator: ","))") }
        return parts.joined(separator: " ")
    }
}
