import ClusterMetadata
import RaftCore
import RunnelCore

// Faults: crashes that lose what was not fsynced (the Raft log's torn tail included, as in
// raft-sim), restarts, pauses, and full or one-way partitions between nodes.

extension Cluster {
    mutating func crash() {
        let candidates = nodes.filter(\.isUp).map(\.address)
        guard !candidates.isEmpty else { return }
        let address = random.pick(candidates)
        let i = index(address)
        var note = ""
        if nodes[i].raft!.hasReady && random.below(2) == 0 {
            // A crash in the middle of persisting a Ready: a prefix of its entries reached the
            // disk, the hard state did not, and no message left.
            let ready = nodes[i].raft!.ready()
            if ready.snapshot == nil && !ready.entries.isEmpty {
                let kept = random.below(ready.entries.count + 1)
                nodes[i].storage.saveTorn(entries: ready.entries, keeping: kept)
                note = " (torn write: kept \(kept) of \(ready.entries.count) entries)"
            }
        }
        nodes[i].raft = nil
        nodes[i].paused = false
        nodes[i].controller = nil
        nodes[i].image = MetadataImage()
        nodes[i].applied = .zero
        nodes[i].brokerEpoch = nil
        nodes[i].serving = false
        nodes[i].caughtUp = false
        nodes[i].imageEpochs = [:]
        var lost: [String] = []
        for key in nodes[i].replicas.keys.sorted() {
            let before = nodes[i].replicas[key]!.log.count
            nodes[i].replicas[key] = nodes[i].replicas[key]!.recovered()
            let after = nodes[i].replicas[key]!.log.count
            if after < before { lost.append("\(key) \(before)->\(after)") }
        }
        record("crash \(address)\(note)" + (lost.isEmpty ? "" : " unsynced lost: " + lost.joined(separator: ", ")))
    }

    mutating func restartOrResume() {
        let stopped = nodes.filter { !$0.isUp || $0.paused }.map(\.address)
        guard !stopped.isEmpty else { return }
        let address = random.pick(stopped)
        if nodes[index(address)].paused {
            nodes[index(address)].paused = false
            record("resume \(address)")
        } else {
            restart(address)
        }
    }

    mutating func restart(_ address: Address) {
        let i = index(address)
        nodes[i].raftConfig.randomSeed = random.next()
        nodes[i].raft = RaftNode(config: nodes[i].raftConfig, storage: nodes[i].storage)
        nodes[i].incarnation = TopicID.random(using: &random)
        nodes[i].lastRegisterSent = nil
        record("restart \(address) raft last=\(nodes[i].storage.lastIndex)")
    }

    mutating func pause() {
        let candidates = running
        guard !candidates.isEmpty else { return }
        let address = random.pick(candidates)
        nodes[index(address)].paused = true
        record("pause \(address)")
    }

    mutating func partition() {
        let all = addresses
        let shuffled = all.map { ($0, random.next()) }.sorted { $0.1 < $1.1 }.map(\.0)
        if random.below(3) == 0, let controller = nodes.first(where: { $0.controller != nil })?.address {
            network.heal()
            network.partition([controller], from: all.filter { $0 != controller })
            return record("isolate controller \(controller)")
        }
        if random.below(3) == 0 {
            let from = shuffled[0]
            let to = shuffled[shuffled.count - 1]
            network.blocked.insert(Link(from: from, to: to))
            return record("cut \(from) -> \(to)")
        }
        let cut = 1 + random.below(shuffled.count - 1)
        let side = Array(shuffled[..<cut]).sorted()
        let rest = Array(shuffled[cut...]).sorted()
        network.heal()
        network.partition(side, from: rest)
        record("partition \(side) | \(rest)")
    }

    mutating func heal() {
        guard !network.blocked.isEmpty else { return }
        network.heal()
        record("heal")
    }
}
