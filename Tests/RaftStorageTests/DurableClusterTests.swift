import RaftCore
@testable import RaftStorage
import Testing

/// Three `RaftNode`s over `DurableRaftStorage` in temp dirs, driven deterministically in one
/// thread: messages go into one queue and are delivered in order to live nodes (to a crashed node
/// they are lost). The application follows `Ready`'s order: save (durable), send, apply, advance.
/// Its state machine is the list of applied payloads; snapshots carry that list.
struct DurableCluster {
    let ids = [NodeID(1), NodeID(2), NodeID(3)]
    let dirs: [TempDirectory]
    var storages: [DurableRaftStorage?]
    var nodes: [RaftNode?]
    var machines: [[UInt64]]
    var inbox: [RaftMessage] = []
    /// index → payload of every entry any node ever reported committed.
    var committed: [LogIndex: UInt64] = [:]
    var restarts = 0

    init() throws {
        dirs = (0..<3).map { _ in TempDirectory() }
        storages = []
        nodes = []
        machines = [[], [], []]
        for i in 0..<3 {
            storages.append(try openStorage(dirs[i].path, voters: ids))
            nodes.append(nil)
            startNode(i)
        }
    }

    func remove() {
        for storage in storages { storage?.abandon() }
        for dir in dirs { dir.remove() }
    }

    mutating func startNode(_ i: Int) {
        let storage = storages[i]!
        let config = RaftConfig(id: ids[i], electionTicks: 10, heartbeatTicks: 1, randomSeed: UInt64(i + 1) &* 7919 &+ UInt64(restarts))
        nodes[i] = RaftNode(config: config, storage: storage)
        let snapshot = storage.snapshot()
        machines[i] = snapshot.index == .zero ? [] : decode(snapshot.data)
    }

    /// kill -9: nothing more reaches the disk; the node and its state machine are gone.
    mutating func crash(_ i: Int) {
        storages[i]!.abandon()
        storages[i] = nil
        nodes[i] = nil
    }

    mutating func restart(_ i: Int) throws {
        restarts += 1
        storages[i] = try openStorage(dirs[i].path, voters: ids)
        startNode(i)
    }

    var leader: Int? {
        nodes.indices.filter { nodes[$0]?.status.role == .leader }.max { nodes[$0]!.status.term < nodes[$1]!.status.term }
    }

    mutating func settle() throws {
        for _ in 0..<10_000 {
            var busy = false
            for i in nodes.indices where nodes[i]?.hasReady == true {
                busy = true
                try handleReady(i)
            }
            let messages = inbox
            inbox = []
            for message in messages {
                let to = Int(message.to.rawValue) - 1
                if nodes[to] != nil { nodes[to]!.step(message) }
            }
            if !busy && messages.isEmpty { return }
        }
        Issue.record("cluster did not settle")
    }

    private mutating func handleReady(_ i: Int) throws {
        let ready = nodes[i]!.ready()
        try storages[i]!.save(snapshot: ready.snapshot, entries: ready.entries, hardState: ready.hardState)
        inbox.append(contentsOf: ready.messages)
        if let snapshot = ready.snapshot { machines[i] = decode(snapshot.data) }
        for entry in ready.committedEntries {
            switch entry.kind {
            case .confChange: _ = nodes[i]!.applyConfChange(ConfChange(decoding: entry.data)!)
            case .noop: break
            case .normal:
                let value = decode(entry.data)[0]
                machines[i].append(value)
                if let known = committed[entry.index] {
                    #expect(known == value, "node \(i + 1) committed \(value) at \(entry.index), another node \(known)")
                }
                committed[entry.index] = value
            }
        }
        nodes[i]!.advance()
    }

    mutating func tick(_ count: Int = 1) throws {
        for _ in 0..<count {
            for i in nodes.indices where nodes[i] != nil { nodes[i]!.tick() }
            try settle()
        }
    }

    /// Ticks until some live node leads (bounded).
    mutating func awaitLeader() throws -> Int {
        for _ in 0..<200 {
            if let leader { return leader }
            try tick()
        }
        Issue.record("no leader within 200 ticks")
        return 0
    }

    mutating func propose(_ values: ClosedRange<UInt64>) throws {
        let leader = try awaitLeader()
        for value in values { _ = try? nodes[leader]!.propose(encode([value])) }
        try settle()
    }

    /// The application's snapshot at its applied index, then compaction (as a broker would do).
    mutating func compact(_ i: Int) throws {
        let storage = storages[i]!
        let applied = nodes[i]!.status.applied
        guard applied > storage.snapshot().index else { return }
        let snapshot = RaftSnapshot(index: applied, term: try storage.term(at: applied), confState: nodes[i]!.status.confState,
                                    data: encode(machines[i]))
        try storage.compact(with: snapshot)
    }
}

func encode(_ values: [UInt64]) -> [UInt8] { values.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64($0))) } } }
func decode(_ bytes: [UInt8]) -> [UInt64] {
    stride(from: 0, to: bytes.count, by: 8).map { start in bytes[start..<(start + 8)].reduce(0) { $0 << 8 | UInt64($1) } }
}

@Suite struct DurableClusterTests {
    /// Committed entries survive crashes of followers and leaders (kill -9, nothing flushed after
    /// the last save), a restart of every node at once, and catching up by snapshot; at the end
    /// every node applied the same sequence, which holds every value ever reported committed.
    @Test func committedEntriesSurviveRestarts() throws {
        var cluster = try DurableCluster()
        defer { cluster.remove() }
        try cluster.propose(1...20)
        #expect(cluster.committed.count == 20)

        // A follower down while the others commit more; it catches up from the log on restart.
        let first = try cluster.awaitLeader()
        let follower = (first + 1) % 3
        cluster.crash(follower)
        try cluster.propose(21...40)
        try cluster.restart(follower)
        try cluster.tick(3)

        // The leader dies; a new one is elected from the survivors and keeps committing.
        cluster.crash(first)
        try cluster.tick(30)
        let second = try cluster.awaitLeader()
        #expect(second != first)
        try cluster.propose(41...60)
        try cluster.restart(first)
        try cluster.tick(3)

        // A node down while the others commit and compact past its log: it needs a snapshot.
        let lagging = (second + 2) % 3
        cluster.crash(lagging)
        try cluster.propose(61...90)
        for i in 0..<3 where cluster.nodes[i] != nil { try cluster.compact(i) }
        try cluster.restart(lagging)
        try cluster.tick(5)
        #expect(cluster.storages[lagging]!.snapshot().index > .zero, "the lagging node was caught up by snapshot")

        // Power loss: every node at once.
        for i in 0..<3 { cluster.crash(i) }
        for i in 0..<3 { try cluster.restart(i) }
        try cluster.propose(91...100)
        try cluster.tick(5)

        let everything = (1...100).map { UInt64($0) }
        let committedValues = cluster.committed.keys.sorted().map { cluster.committed[$0]! }
        #expect(committedValues == everything)
        for i in 0..<3 {
            #expect(cluster.machines[i] == everything, "node \(i + 1) applied \(cluster.machines[i].count) values")
        }
        // Every node ends with the same log end.
        let last = cluster.storages.map { $0!.lastIndex }
        #expect(Set(last).count == 1)
        #expect(cluster.restarts == 6)
    }
}
