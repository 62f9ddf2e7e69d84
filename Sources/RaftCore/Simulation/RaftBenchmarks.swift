// Bodies of the two Raft benchmarks, public so the Benchmarks/ package (package-benchmark) can
// call them without reaching into internals. Each returns the work done so the caller divides
// by its measured time; neither reads a clock.

public enum RaftBenchmarks {
    /// Simulated events per second: runs `seeds` simulations of `steps` events (3 voters, no
    /// canary) starting at `firstSeed`, and returns the number of events processed (chaos and
    /// liveness phases, with every invariant checked after each event, as in `raft-sim`).
    public static func simulatedEvents(seeds: UInt64, steps: Int, firstSeed: UInt64 = 1) -> Int {
        var events = 0
        for offset in 0..<max(1, seeds) {
            let report = RaftSimulation.run(RaftSimulationOptions(seed: firstSeed &+ offset, voters: 3, steps: steps))
            precondition(report.violation == nil, "seed \(firstSeed &+ offset) violated \(report.violation!)")
            events += report.events
        }
        return events
    }

    /// In-process commit throughput: a 3-voter group with in-memory logs and a perfect network,
    /// proposing `entries` entries of `payloadBytes` bytes in batches of `batch` at the leader and
    /// running the group until all are committed and applied everywhere. Returns the number of
    /// entries committed (entries/s = result / elapsed).
    public static func commitThroughput(entries: Int, payloadBytes: Int = 64, batch: Int = 64) -> Int {
        var group = BenchmarkGroup(voters: 3)
        group.electLeader()
        let payload = [UInt8](repeating: 0xAB, count: payloadBytes)
        var proposed = 0
        var last = LogIndex.zero
        while proposed < entries {
            for _ in 0..<min(batch, entries - proposed) {
                last = try! group.nodes[0].propose(payload)  // Node 1 is the leader and no transfer runs.
                proposed += 1
            }
            group.settle()
        }
        precondition(group.nodes.allSatisfy { $0.status.applied >= last }, "benchmark group did not commit everything")
        return proposed
    }
}

/// A perfect in-process network around N nodes: every message delivered in order.
struct BenchmarkGroup {
    var nodes: [RaftNode]
    var storages: [MemoryRaftStorage]
    var inbox: [RaftMessage] = []

    init(voters: Int) {
        let ids = (1...voters).map { NodeID(UInt64($0)) }
        storages = ids.map { _ in MemoryRaftStorage(bootstrap: ids) }
        nodes = zip(ids, storages).map { id, storage in
            RaftNode(config: RaftConfig(id: id, maxEntriesPerMessage: 256, randomSeed: id.rawValue), storage: storage)
        }
        settle()
    }

    mutating func electLeader() {
        nodes[0].campaign()
        settle()
        precondition(nodes[0].status.role == .leader, "node 1 did not win an uncontested election")
    }

    mutating func settle() {
        while true {
            var busy = false
            for i in nodes.indices where nodes[i].hasReady {
                busy = true
                let ready = nodes[i].ready()
                try! storages[i].save(snapshot: ready.snapshot, entries: ready.entries, hardState: ready.hardState)
                inbox.append(contentsOf: ready.messages)
                for entry in ready.committedEntries where entry.kind == .confChange {
                    nodes[i].applyConfChange(ConfChange(decoding: entry.data)!)
                }
                nodes[i].advance()
            }
            let messages = inbox
            inbox = []
            for message in messages { nodes[Int(message.to.rawValue) - 1].step(message) }
            if !busy && messages.isEmpty { return }
        }
    }
}
