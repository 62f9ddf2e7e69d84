import ClusterMetadata
import Foundation
import KafkaMessages
import Logging
import NIOCore
import NIOPosix
import RaftCore
import RunnelClient
import RunnelCore
import RunnelTesting
import Testing
@testable import RunnelServer

/// One member of an in-process metadata quorum: its own event loop, data directory and
/// CONTROLLER listener on a loopback port.
final class QuorumMember {
    let id: NodeID
    let directory: String
    var group: MultiThreadedEventLoopGroup?
    var quorum: MetadataQuorum!
    var server: KafkaServer!
    var port = 0
    var applied: [MetadataRecord] = []
    /// What the member logged (kept, not printed: a passing run shows only results).
    let log = LogCapture()

    init(id: UInt64, directory: String) {
        self.id = NodeID(id)
        self.directory = directory
    }

    func start(voters: [NodeID], snapshotBytes: Int, port wanted: Int = 0) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        let loop = group.next()
        let options = MetadataQuorum.Options(nodeID: id, voters: voters, peers: [:], clusterID: "test-cluster",
                                             directory: directory, tickMs: 20, electionTicks: 10, snapshotBytes: snapshotBytes)
        quorum = try loop.submit { try MetadataQuorum(options: options, loop: loop, logger: self.log.logger) }.wait()
        let router = ControllerRouter(quorum: quorum, logger: log.logger)
        server = KafkaServer(group: group, dispatcher: router, frameBytesMax: 100 << 20, logger: log.logger)
        port = try server.bind(Listener(name: "CONTROLLER", host: "127.0.0.1", port: wanted)).port!
    }

    func connect(to others: [QuorumMember]) throws {
        let peers = others.filter { $0.id != id }.map { ($0.id, $0.port) }
        try quorum.loop.submit {
            for (peer, port) in peers { self.quorum.transport.setPeer(peer, host: "127.0.0.1", port: port) }
            self.quorum.onApplied = { [weak self] _, records in self?.applied += records }
            self.quorum.start()
        }.wait()
    }

    func onLoop<T>(_ body: @escaping (MetadataQuorum) throws -> T) throws -> T {
        let quorum = self.quorum!
        return try quorum.loop.submit { try body(quorum) }.wait()
    }

    var isActive: Bool { (try? onLoop { $0.isActiveController }) ?? false }
    var image: MetadataImage { (try? onLoop { $0.image }) ?? MetadataImage() }

    /// Stops the member as a process exit would: the quorum, the listener, and every connection
    /// (its event loop goes). Call from the test's thread, never from a loop.
    func stop() {
        if let quorum { try? quorum.loop.submit { quorum.shutdown() }.wait() }
        server?.stopAccepting()
        try? group?.syncShutdownGracefully()
        quorum = nil
        server = nil
        group = nil
    }

    func close() { stop() }
}

@Suite struct MetadataQuorumTests {
    /// Polls `condition` every 20 ms for at most `seconds`.
    func waitFor(_ what: String, seconds: Double = 15, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline else { throw HarnessError(message: "timed out after \(seconds) s waiting for \(what)") }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    /// Starts one member per voter on loopback and waits until one of them is the active
    /// controller. The caller closes them.
    func startVoters(_ voters: [NodeID], in dir: TemporaryDirectory, snapshotBytes: Int) throws -> [QuorumMember] {
        let members = voters.map { QuorumMember(id: $0.rawValue, directory: dir.file("node-\($0)")) }
        do {
            for m in members { try m.start(voters: voters, snapshotBytes: snapshotBytes) }
            for m in members { try m.connect(to: members) }
            try waitFor("an active controller") { members.filter(\.isActive).count == 1 }
        } catch {
            for m in members { m.close() }
            throw error
        }
        return members
    }

    func topicRecords(_ name: String, seed: UInt64) -> [MetadataRecord] {
        var random = SeededRandom(seed: seed)
        let id = TopicID.random(using: &random)
        return [.topic(name: TopicName(name), id: id),
                .partition(PartitionState(topicID: id, partition: PartitionID(0), replicas: [BrokerID(1)], isr: [BrokerID(1)],
                                          leader: BrokerID(1), leaderEpoch: LeaderEpoch(0)))]
    }

    /// Three voters on loopback elect one active controller; a proposal on it is applied on all
    /// three; with the active controller stopped the other two elect a new one and go on; the
    /// stopped node, restarted from its directory, catches up — from a snapshot, because the
    /// others compacted their logs past it meanwhile.
    @Test func threeVotersReplicateFailOverAndCatchUpFromASnapshot() throws {
        let dir = try TemporaryDirectory(prefix: "runnel-quorum")
        defer { dir.remove() }
        let voters = [NodeID(1), NodeID(2), NodeID(3)]
        let members = try startVoters(voters, in: dir, snapshotBytes: 300)
        defer { for m in members { m.close() } }
        let first = members.first(where: \.isActive)!
        try first.onLoop { $0.propose(self.topicRecords("a", seed: 1)) }.wait()
        try waitFor("every node to apply the topic") { members.allSatisfy { $0.image.topic(TopicName("a")) != nil } }
        // Followers refuse proposals, naming who leads.
        let follower = members.first { !$0.isActive }!
        #expect(throws: MetadataQuorum.ProposalError.self) { try follower.onLoop { $0.propose(self.topicRecords("x", seed: 9)) }.wait() }

        // The active controller goes away; the other two elect a new one and keep committing.
        let oldPort = first.port
        first.stop()
        let rest = members.filter { $0 !== first }
        try waitFor("a new active controller") { rest.filter(\.isActive).count == 1 }
        let second = rest.first(where: \.isActive)!
        for i in 0..<20 { try second.onLoop { $0.propose(self.topicRecords("b\(i)", seed: UInt64(10 + i))) }.wait() }
        try waitFor("both to apply") { rest.allSatisfy { $0.image.topic(TopicName("b19")) != nil } }
        let snapshotIndex = try second.onLoop { $0.snapshotIndex.rawValue }
        #expect(snapshotIndex > 3, "the log was compacted (snapshot at \(snapshotIndex))")

        // The old leader restarts from its directory on its port and catches up.
        try first.start(voters: voters, snapshotBytes: 300, port: oldPort)
        try first.connect(to: members)
        do {
            try waitFor("the restarted node to catch up") { first.image == second.image }
        } catch {
            let a = try first.onLoop { "\($0.status) snap=\($0.snapshotIndex) records=\($0.image.recordCount) topics=\($0.image.topicNames.count)" }
            let b = try second.onLoop { "\($0.status) snap=\($0.snapshotIndex) records=\($0.image.recordCount) topics=\($0.image.topicNames.count)" }
            Issue.record("restarted: \(a)\nleader: \(b)")
            throw error
        }
        #expect(first.image.topicNames.count == 21)
        #expect(members.filter(\.isActive).count == 1)
    }

    /// DescribeQuorum on three in-process voters: the leader lists every voter with its log end
    /// offset, last fetch and last caught-up time once they answered it; a follower answers
    /// NOT_LEADER_OR_FOLLOWER naming the leader, also over its CONTROLLER listener.
    @Test func theLeaderDescribesTheQuorumAndFollowersPointToIt() throws {
        let dir = try TemporaryDirectory(prefix: "runnel-quorum-describe")
        defer { dir.remove() }
        let members = try startVoters([NodeID(1), NodeID(2), NodeID(3)], in: dir, snapshotBytes: 1 << 20)
        defer { for m in members { m.close() } }
        let leader = members.first(where: \.isActive)!
        try leader.onLoop { $0.propose(self.topicRecords("d", seed: 4)) }.wait()
        let request = DescribeQuorumRequest(topics: [.init(topicName: "__cluster_metadata", partitions: [.init(partitionIndex: 0)])])
        var description: MetadataQuorum.Description?
        try waitFor("every voter to be caught up") {
            description = try? leader.onLoop { $0.describe(now: Clock.now().rawValue) }
            guard let d = description else { return false }
            return d.voters.allSatisfy { $0.logEndOffset == d.highWatermark && $0.lastCaughtUpTimestamp > 0 }
        }
        let d = try #require(description)
        let status = try leader.onLoop { $0.status }
        #expect(d.leaderID == Int32(leader.id.rawValue) && d.leaderEpoch == Int32(status.term.rawValue))
        #expect(d.voters.map(\.id) == [1, 2, 3] && d.observers.isEmpty)
        let now = Clock.now().rawValue
        #expect(d.voters.allSatisfy { now - $0.lastFetchTimestamp < 5_000 && $0.lastFetchTimestamp <= now + 1 })

        for follower in members where follower !== leader {
            #expect(try follower.onLoop { $0.describe(now: Clock.now().rawValue) } == nil)
            let answer = try follower.onLoop { $0.answer(request, version: 2, now: Clock.now().rawValue) }
            let p = try #require(answer.topics.first?.partitions.first)
            #expect(p.errorCode == 6 && p.leaderId == Int32(leader.id.rawValue))
            #expect(p.errorMessage?.contains("does not lead") == true)
        }
        // Over the wire, through the CONTROLLER listener's router.
        let group = try #require(leader.group)
        let connection = try BrokerConnection.connect(to: BrokerAddress(host: "127.0.0.1", port: leader.port), on: group.next(),
                                                      clientId: "test", connectTimeoutMs: 2000, requestTimeoutMs: 5000,
                                                      frameBytesMax: 1 << 20).wait()
        defer { connection.close() }
        let wire = try connection.send(request, version: 2).wait()
        let p = try #require(wire.topics.first?.partitions.first)
        #expect(p.errorCode == 0 && p.leaderId == Int32(leader.id.rawValue) && p.currentVoters.count == 3)
    }

    /// A single voter is its own quorum and becomes the active controller at once.
    @Test func aSingleVoterIsItsOwnQuorum() throws {
        let dir = try TemporaryDirectory(prefix: "runnel-quorum1")
        defer { dir.remove() }
        let member = QuorumMember(id: 1, directory: dir.file("node-1"))
        defer { member.close() }
        try member.start(voters: [NodeID(1)], snapshotBytes: 1 << 20)
        try member.connect(to: [member])
        try waitFor("the node to be active") { member.isActive }
        try member.onLoop { $0.propose(self.topicRecords("solo", seed: 3)) }.wait()
        #expect(member.image.topic(TopicName("solo")) != nil)
        member.stop()
        // Restarted, it replays its log and is active again with the same image.
        try member.start(voters: [NodeID(1)], snapshotBytes: 1 << 20)
        try member.connect(to: [member])
        try waitFor("the node to be active again") { member.isActive }
        #expect(member.image.topic(TopicName("solo")) != nil)
    }
}

@Suite struct RaftWireTests {
    /// Every field of a Raft message survives the RunnelRaft encoding, learners included.
    @Test func messagesRoundTripThroughTheWireFormat() throws {
        let snapshot = RaftSnapshot(index: LogIndex(40), term: Term(3),
                                    confState: ConfState(voters: [NodeID(1), NodeID(2)], learners: [NodeID(7)]), data: [1, 2, 3])
        let message = RaftMessage(kind: .snapshot, from: NodeID(1), to: NodeID(7), term: Term(3), logTerm: Term(2),
                                  index: LogIndex(39), entries: [Entry(term: Term(3), index: LogIndex(40), kind: .confChange, data: [9])],
                                  commit: LogIndex(38), reject: true, rejectHint: LogIndex(12), snapshot: snapshot,
                                  isTransfer: true, context: [5, 6])
        var request = RunnelRaftRequest()
        request.clusterId = "c"
        request.messages = [RaftWire.encode(message)]
        var buffer = ByteBuffer()
        request.encode(into: &buffer, version: 0)
        let decoded = try RunnelRaftRequest(from: &buffer, version: 0)
        #expect(try RaftWire.decode(decoded.messages[0]) == message)
        var overlapping = RaftWire.encode(message)
        overlapping.snapshot!.learners = [1]
        #expect(throws: RaftWire.DecodeError.self) { try RaftWire.decode(overlapping) }
        var unknown = RaftWire.encode(message)
        unknown.kind = 99
        #expect(throws: RaftWire.DecodeError.self) { try RaftWire.decode(unknown) }
    }
}
