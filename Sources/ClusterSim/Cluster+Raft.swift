import ClusterMetadata
import RaftCore
import Replication
import RunnelCore

// The metadata quorum on each node: a Ready handled in the order `Ready` documents (persist,
// send, apply, advance); committed entries are `MetadataRecord` batches applied to the node's
// `MetadataImage`, and every replica of the node then adopts its partition's new state, as the
// broker's `ReplicaManager.apply` does after each metadata batch.

extension Cluster {
    mutating func processSomeReady() -> Bool {
        let ready = running.filter { nodes[index($0)].raft!.hasReady }
        guard !ready.isEmpty else { return false }
        // Most often every node handles its Ready; sometimes one alone (the others lag behind).
        if random.below(3) == 0 { processReady(random.pick(ready)) } else { ready.forEach { processReady($0) } }
        return true
    }

    mutating func processReady(_ address: Address) {
        let i = index(address)
        let ready = nodes[i].raft!.ready()
        var line = "ready \(address) \(ready.role) term=\(nodes[i].raft!.status.term)"
        if let first = ready.entries.first, let last = ready.entries.last { line += " persist=\(first.index)...\(last.index)" }
        if let first = ready.committedEntries.first, let last = ready.committedEntries.last {
            line += " apply=\(first.index)...\(last.index)"
        }
        record(line + " send=\(ready.messages.count)")
        // MemoryRaftStorage does not throw.
        try! nodes[i].storage.save(snapshot: ready.snapshot, entries: ready.entries, hardState: ready.hardState)
        for message in ready.messages {
            send(Message(from: address, to: Address(message.to.rawValue), body: .raft(message)))
        }
        for entry in ready.committedEntries { apply(entry, at: address) }
        nodes[i].raft!.advance()
        updateControllerRole(address)
    }

    private mutating func apply(_ entry: Entry, at address: Address) {
        let i = index(address)
        nodes[i].applied = entry.index
        switch entry.kind {
        case .confChange:
            if let change = ConfChange(decoding: entry.data) { nodes[i].raft!.applyConfChange(change) }
        case .normal where !entry.data.isEmpty:
            applyMetadata(entry, at: address)
        default:
            break
        }
        guard var controller = nodes[i].controller else { return }
        for reply in controller.replies.removeValue(forKey: entry.index) ?? [] { send(reply) }
        if controller.replies.isEmpty && entry.index >= nodes[i].raft!.status.lastIndex {
            // Everything this controller proposed is applied: its latest image is the committed one.
            if controller.latest != nodes[i].image {
                fail("controller-image", "controller \(address)'s latest image differs from the committed one at \(entry.index)")
            }
            controller.latest = nodes[i].image
        }
        nodes[i].controller = controller
    }

    private mutating func applyMetadata(_ entry: Entry, at address: Address) {
        let i = index(address)
        let records: [MetadataRecord]
        do {
            records = try MetadataRecord.decodeBatch(entry.data)
            nodes[i].image = try nodes[i].image.applying(records)
        } catch {
            fail("metadata-apply", "node \(address) could not apply entry \(entry.index): \(error)")
            return
        }
        checkImage(address)
        if nodes[i].caughtUp { adoptImage(address) }
    }

    /// Every partition placed on this broker adopts its state from the image (creating the
    /// replica the first time); role changes start or stop the follower's fetching.
    mutating func adoptImage(_ address: Address) {
        let i = index(address)
        let broker = nodes[i].broker
        for (topic, state) in nodes[i].image.allPartitions where state.replicas.contains(broker) {
            let key = TopicPartition(topic, state.partition)
            if nodes[i].replicas[key] == nil {
                nodes[i].replicas[key] = Replica(partition: key, broker: broker, canaries: canary?.replication ?? [])
            }
            guard let change = nodes[i].replicas[key]!.adopt(state, now: nowMs) else { continue }
            record("role \(address) \(key) epoch=\(state.leaderEpoch) \(change) isr=\(state.isr)")
            if case .becameFollower(let leader) = change {
                nodes[i].replicas[key]!.fetchOut = nil
                // ReplicaFetcher.add: the first fetch from a new leader waits until the log end
                // it names is durable.
                nodes[i].replicas[key]!.awaitingSync = nodes[i].replicas[key]!.durable < nodes[i].replicas[key]!.log.count
                if canary == .truncateToHW, leader != nil {
                    nodes[i].replicas[key]!.truncate(to: nodes[i].replicas[key]!.highWatermark)
                }
            }
            sendAnswers(address, key)
        }
    }

    /// Becomes the active controller once this node leads the quorum and has applied everything
    /// committed including an entry of its own term (so its image is the whole committed state);
    /// stops being it on losing leadership.
    mutating func updateControllerRole(_ address: Address) {
        let i = index(address)
        guard let raft = nodes[i].raft else { return }
        let status = raft.status
        guard status.role == .leader else {
            if nodes[i].controller != nil { record("controller \(address) resigns") }
            nodes[i].controller = nil
            return
        }
        if nodes[i].controller?.term == status.term { return }
        nodes[i].controller = nil
        guard raft.entry(at: status.commit)?.term == status.term, nodes[i].applied == status.commit else { return }
        var logic = MetadataController(config: .init(sessionTimeoutMs: Self.sessionTimeoutMs))
        logic.canaries = canary?.controller ?? []
        logic.becameActive(image: nodes[i].image, now: nowMs)
        nodes[i].controller = ActiveController(term: status.term, logic: logic, latest: nodes[i].image, lastRebalance: now)
        record("controller \(address) active in term \(status.term)")
    }
}
