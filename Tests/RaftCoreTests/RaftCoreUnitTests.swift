import Testing
@testable import RaftCore

@Test func confChangeRoundTrips() {
    let change = ConfChange(.removeNode, NodeID(0x0102_0304_0506_0708))
    #expect(ConfChange(decoding: change.encoded) == change)
    #expect(ConfChange(decoding: [9, 0, 0, 0, 0, 0, 0, 0, 1]) == nil)
    #expect(ConfChange(decoding: [0, 1]) == nil)
}

@Test func bootstrapPutsTheFoundersInTheLog() {
    let storage = MemoryRaftStorage(bootstrap: [NodeID(3), NodeID(1), NodeID(2)])
    #expect(storage.storedEntries.map(\.description) == ["1/1 conf add 1", "1/2 conf add 2", "1/3 conf add 3"])
    #expect(storage.hardState == HardState(term: Term(1), vote: .none, commit: LogIndex(3)))
    #expect(MemoryRaftStorage().lastIndex == .zero)
}

@Test func memoryStorageTruncatesCompactsAndReports() throws {
    let storage = MemoryRaftStorage()
    let entries = (1...5).map { Entry(term: Term(1), index: LogIndex(UInt64($0)), data: [UInt8($0)]) }
    try storage.save(snapshot: nil, entries: entries, hardState: HardState(term: Term(1), vote: NodeID(1), commit: LogIndex(3)))
    try storage.save(snapshot: nil, entries: [Entry(term: Term(2), index: LogIndex(4))], hardState: nil)
    #expect(storage.lastIndex == LogIndex(4))
    #expect(try storage.term(at: LogIndex(4)) == Term(2))
    try storage.compact(with: RaftSnapshot(index: LogIndex(2), term: Term(1), confState: ConfState()))
    #expect(storage.firstIndex == LogIndex(3))
    #expect(try storage.term(at: LogIndex(2)) == Term(1))
    #expect(throws: RaftStorageError.compacted) { try storage.term(at: LogIndex(1)) }
    #expect(throws: RaftStorageError.unavailable) { try storage.term(at: LogIndex(9)) }
    #expect(try storage.entries(in: LogIndex(3)..<LogIndex(5), maxCount: 1).count == 1)
}

@Test func singleVoterElectsItselfAndCommits() throws {
    let storage = MemoryRaftStorage(bootstrap: [NodeID(1)])
    var node = RaftNode(config: RaftConfig(id: NodeID(1), randomSeed: 1), storage: storage)
    func drain() throws {
        while node.hasReady {
            let ready = node.ready()
            try storage.save(snapshot: ready.snapshot, entries: ready.entries, hardState: ready.hardState)
            for entry in ready.committedEntries where entry.kind == .confChange {
                node.applyConfChange(ConfChange(decoding: entry.data)!)
            }
            node.advance()
        }
    }
    try drain()
    #expect(throws: RaftProposalError.notLeader(leader: .none)) { try node.propose([1]) }
    for _ in 0..<20 { node.tick() }
    try drain()
    #expect(node.status.role == .leader)
    let index = try node.propose([7])
    try drain()
    #expect(node.status.commit == index)
    #expect(node.status.applied == index)
    // Restart from the same storage: term and commit survive.
    let restarted = RaftNode(config: RaftConfig(id: NodeID(1), randomSeed: 2), storage: storage)
    #expect(restarted.status.term == node.status.term)
    #expect(restarted.status.commit == index)
}

@Test func benchmarkBodiesDoTheirWork() {
    #expect(RaftBenchmarks.commitThroughput(entries: 500, payloadBytes: 16, batch: 50) == 500)
    #expect(RaftBenchmarks.simulatedEvents(seeds: 2, steps: 100) >= 200)
}
