// Learners (non-voting members): the membership rules, and what a leader and a learner do and
// refuse to do. The interaction story is in testdata/learners.txt; these tests pin the rules.
import Testing
@testable import RaftCore

/// A few nodes on a perfect in-order network; messages to a node in `down` are dropped.
struct LearnerGroup {
    var nodes: [NodeID: RaftNode] = [:]
    var storages: [NodeID: MemoryRaftStorage] = [:]
    /// Raw ids of the nodes that are down.
    var down: Set<UInt64> = []

    /// Founders bootstrapped with `voters` and `learners`, plus `others` started empty.
    init(voters: [UInt64], learners: [UInt64] = [], others: [UInt64] = []) {
        let voterIDs = voters.map { NodeID($0) }
        let learnerIDs = learners.map { NodeID($0) }
        for raw in voters + learners + others {
            let id = NodeID(raw)
            let founder = voterIDs.contains(id) || learnerIDs.contains(id)
            let storage = founder ? MemoryRaftStorage(bootstrap: voterIDs, learners: learnerIDs) : MemoryRaftStorage()
            storages[id] = storage
            nodes[id] = RaftNode(config: RaftConfig(id: id, randomSeed: raw), storage: storage)
        }
        settle()
    }

    subscript(_ raw: UInt64) -> RaftNode {
        get { nodes[NodeID(raw)]! }
        set { nodes[NodeID(raw)] = newValue }
    }

    mutating func elect(_ raw: UInt64) {
        self[raw].campaign()
        settle()
        precondition(self[raw].status.role == .leader, "node \(raw) did not win")
    }

    /// Ticks one node `count` times, settling the group after each tick.
    mutating func tick(_ raw: UInt64, _ count: Int) {
        for _ in 0..<count {
            self[raw].tick()
            settle()
        }
    }

    /// Handles every Ready and delivers every message until nothing moves (bounded).
    mutating func settle() {
        for _ in 0..<1000 {
            var busy = false
            var inbox: [RaftMessage] = []
            for id in nodes.keys.sorted() where !down.contains(id.rawValue) && nodes[id]!.hasReady {
                busy = true
                var node = nodes[id]!
                let ready = node.ready()
                try! storages[id]!.save(snapshot: ready.snapshot, entries: ready.entries, hardState: ready.hardState)
                inbox += ready.messages
                for entry in ready.committedEntries where entry.kind == .confChange {
                    node.applyConfChange(ConfChange(decoding: entry.data)!)
                }
                node.advance()
                nodes[id] = node
            }
            for message in inbox where !down.contains(message.to.rawValue) && nodes[message.to] != nil {
                nodes[message.to]!.step(message)
            }
            if !busy { return }
        }
        Issue.record("group did not settle")
    }
}

@Test func confChangeKindsKeepTheirBytes() {
    #expect(ConfChange(.addVoter, NodeID(7)).encoded == [0, 0, 0, 0, 0, 0, 0, 0, 7])
    #expect(ConfChange(.removeNode, NodeID(7)).encoded == [1, 0, 0, 0, 0, 0, 0, 0, 7])
    #expect(ConfChange(.addLearner, NodeID(7)).encoded == [2, 0, 0, 0, 0, 0, 0, 0, 7])
    #expect(ConfChange(decoding: ConfChange(.addLearner, NodeID(9)).encoded) == ConfChange(.addLearner, NodeID(9)))
    #expect(ConfChange(decoding: [3, 0, 0, 0, 0, 0, 0, 0, 1]) == nil)
    #expect(ConfChange(.addLearner, NodeID(4)).description == "add-learner 4")
}

@Test func confStateAddsPromotesAndRemovesLearners() {
    var conf = ConfState(voters: [NodeID(2), NodeID(1)])
    #expect(conf.description == "voters=(1 2)")
    conf.apply(ConfChange(.addLearner, NodeID(4)))
    conf.apply(ConfChange(.addLearner, NodeID(3)))
    #expect(conf.learners == [NodeID(3), NodeID(4)] && conf.quorum == 2)
    #expect(conf.description == "voters=(1 2) learners=(3 4)")
    conf.apply(ConfChange(.addVoter, NodeID(3)))  // Promotion.
    #expect(conf == ConfState(voters: [NodeID(1), NodeID(2), NodeID(3)], learners: [NodeID(4)]))
    conf.apply(ConfChange(.addLearner, NodeID(1)))  // A demotion entry is ignored by everyone.
    #expect(conf.isVoter(NodeID(1)) && !conf.isLearner(NodeID(1)))
    conf.apply(ConfChange(.removeNode, NodeID(4)))
    conf.apply(ConfChange(.removeNode, NodeID(2)))
    #expect(conf == ConfState(voters: [NodeID(1), NodeID(3)]))
    #expect(!conf.isMember(NodeID(4)) && conf.isMember(NodeID(3)))
}

@Test func bootstrapAddsTheLearnersAfterTheVoters() {
    let storage = MemoryRaftStorage(bootstrap: [NodeID(2), NodeID(1)], learners: [NodeID(5)])
    #expect(storage.storedEntries.map(\.description) == ["1/1 conf add 1", "1/2 conf add 2", "1/3 conf add-learner 5"])
    #expect(storage.hardState == HardState(term: Term(1), vote: .none, commit: LogIndex(3)))
    #expect(RaftBootstrap.entries(voters: [NodeID(1)]) == MemoryRaftStorage(bootstrap: [NodeID(1)]).storedEntries)
}

@Test func learnerIgnoresElectionTimeoutsCampaignAndTimeoutNow() {
    var group = LearnerGroup(voters: [1], learners: [2])
    #expect(group[2].status.confState == ConfState(voters: [NodeID(1)], learners: [NodeID(2)]))
    group.down = [1]
    group.tick(2, 100)
    group[2].campaign()
    group[2].step(RaftMessage(kind: .timeoutNow, from: NodeID(1), to: NodeID(2), term: Term(1)))
    #expect(group[2].status.role == .follower)
    #expect(group[2].status.term == Term(1))
    #expect(!group[2].hasReady)
}

@Test func learnerReplicatesButNeverCountsForCommit() throws {
    var group = LearnerGroup(voters: [1, 2], learners: [3])
    group.elect(1)
    group.down = [2]
    let index = try group[1].propose(Array("x".utf8))
    group.settle()
    #expect(group[3].status.lastIndex == index)  // The learner has it...
    #expect(group[1].status.commit < index)      // ...but 1 of 2 voters is no majority.
    group.down = []
    group.tick(1, 1)  // A heartbeat brings 2 back into the pipeline.
    #expect(group[1].status.commit == index)
    #expect(group[3].status.applied == index)
}

@Test func checkQuorumAndReadIndexIgnoreLearners() throws {
    var group = LearnerGroup(voters: [1, 2], learners: [3])
    group.elect(1)
    group.down = [2]
    try group[1].readIndex(context: [1])
    group.settle()  // The learner answers the heartbeat; that confirms nothing.
    #expect(!group[1].hasReady)
    group.tick(1, 2 * group[1].config.electionTicks)  // Only the learner answers: no quorum.
    #expect(group[1].status.role == .follower)
}

@Test func leaderRefusesDemotionAndNeverTransfersToALearner() throws {
    var group = LearnerGroup(voters: [1, 2], learners: [3])
    group.elect(1)
    #expect(throws: RaftProposalError.demotionRefused) { try group[1].proposeConfChange(ConfChange(.addLearner, NodeID(2))) }
    #expect(throws: RaftProposalError.demotionRefused) { try group[1].proposeConfChange(ConfChange(.addLearner, NodeID(1))) }
    group[1].transferLeadership(to: NodeID(3))
    group.settle()
    #expect(group[1].status.role == .leader)
    #expect(group[1].leadTransferee == .none)
    _ = try group[1].propose([1])  // No transfer is in progress.
}

@Test func addedLearnerCatchesUpAndIsPromoted() throws {
    var group = LearnerGroup(voters: [1, 2, 3], others: [4])
    group.elect(1)
    _ = try group[1].proposeConfChange(ConfChange(.addLearner, NodeID(4)))
    group.settle()
    let last = group[1].status.lastIndex
    #expect(group[4].status.applied == last)
    #expect(group[4].status.confState == ConfState(voters: [1, 2, 3].map { NodeID($0) }, learners: [NodeID(4)]))
    _ = try group[1].proposeConfChange(ConfChange(.addVoter, NodeID(4)))
    group.settle()
    #expect(group[4].status.confState == ConfState(voters: [1, 2, 3, 4].map { NodeID($0) }))
    // Now a voter, it may lead.
    group.tick(1, 1)
    group[1].transferLeadership(to: NodeID(4))
    group.settle()
    #expect(group[4].status.role == .leader)
    // And a learner can be removed.
    _ = try group[4].proposeConfChange(ConfChange(.addLearner, NodeID(5)))
    group.settle()
    #expect(group[4].status.confState.isLearner(NodeID(5)))
    _ = try group[4].proposeConfChange(ConfChange(.removeNode, NodeID(5)))
    group.settle()
    #expect(!group[4].status.confState.isMember(NodeID(5)))
    #expect(group[4].progress[NodeID(5)] == nil)
}

@Test func progressStatusListsVotersAndLearners() throws {
    var group = LearnerGroup(voters: [1, 2], learners: [3])
    #expect(group[1].progressStatus.isEmpty)  // Not a leader.
    group.elect(1)
    group.down = [3]
    group.tick(1, 5)
    _ = try group[1].propose([9])
    group.settle()
    let now = group[1].elapsedTicks
    let last = group[1].status.lastIndex
    #expect(group[1].progressStatus == [
        ReplicaProgress(id: NodeID(1), isLearner: false, match: last, lastContactTick: now),
        ReplicaProgress(id: NodeID(2), isLearner: false, match: last, lastContactTick: now),
        ReplicaProgress(id: NodeID(3), isLearner: true, match: LogIndex(4), lastContactTick: 0),
    ])
}

/// A node being added as a learner catches up as a non-member, which may campaign. Once it holds
/// its own add-learner entry (here not yet known committed, as after a crash that kept the
/// entries but not the hard state) it must not: it could win, and a learner must never lead.
@Test func nodeHoldingItsOwnAddLearnerDoesNotCampaign() throws {
    let storage = MemoryRaftStorage(bootstrap: [NodeID(1), NodeID(2), NodeID(3)])
    try storage.save(snapshot: nil, entries: [
        Entry(term: Term(2), index: LogIndex(4), kind: .noop),
        Entry(term: Term(2), index: LogIndex(5), kind: .confChange, data: ConfChange(.addLearner, NodeID(4)).encoded),
    ], hardState: HardState(term: Term(2), vote: .none, commit: LogIndex(4)))
    var node = RaftNode(config: RaftConfig(id: NodeID(4), randomSeed: 4), storage: storage)
    let ready = node.ready()
    for entry in ready.committedEntries where entry.kind == .confChange { node.applyConfChange(ConfChange(decoding: entry.data)!) }
    node.advance()
    #expect(node.status.confState == ConfState(voters: [1, 2, 3].map { NodeID($0) }))  // Not a member yet.
    for _ in 0..<100 { node.tick() }
    node.campaign()
    #expect(node.status.role == .follower)
    #expect(!node.hasReady)
}
