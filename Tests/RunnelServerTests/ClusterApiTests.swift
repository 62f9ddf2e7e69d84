import ClusterMetadata
import Foundation
import KafkaMessages
import RaftCore
import RunnelCore
import Testing
@testable import RunnelServer

/// DescribeCluster, DescribeQuorum and ElectLeaders on a single node: a one-voter quorum that is
/// its own active controller (the cluster's forwarding is tested in ClusterTests).
@Suite struct ClusterApiTests {
    func boundPort(_ h: BrokerHarness) throws -> Int32 {
        Int32(try h.onLoop { $0.advertisedListener.port })
    }

    // MARK: DescribeCluster

    @Test func describeClusterNamesTheClusterTheControllerAndThisBroker() throws {
        let h = try BrokerHarness(overrides: ["broker.rack=rack-a"])
        let clusterID = try h.onLoop { $0.clusterID }
        let port = try boundPort(h)
        for version: Int16 in 0...2 {
            let r = try #require(try h.send(DescribeClusterRequest(), version: version))
            #expect(r.errorCode == 0 && r.errorMessage == nil)
            #expect(r.clusterId == clusterID)
            #expect(r.controllerId == 1)
            #expect(r.brokers.map(\.brokerId) == [1])
            #expect(r.brokers[0].host == "127.0.0.1" && r.brokers[0].port == port)
            #expect(r.brokers[0].rack == "rack-a")
            #expect(!r.brokers[0].isFenced)
            // Not asked for: the schema's "not requested" value.
            #expect(r.clusterAuthorizedOperations == Int32.min)
        }
    }

    @Test func describeClusterAuthorizedOperationsAreTheClusterSet() throws {
        let h = try BrokerHarness()
        var request = DescribeClusterRequest()
        request.includeClusterAuthorizedOperations = true
        let r = try #require(try h.send(request, version: 0))
        // CREATE ALTER DESCRIBE CLUSTER_ACTION DESCRIBE_CONFIGS ALTER_CONFIGS IDEMPOTENT_WRITE (D31).
        #expect(r.clusterAuthorizedOperations == 8096)
    }

    @Test func describeClusterForControllerEndpointsIsAMismatch() throws {
        let h = try BrokerHarness()
        var request = DescribeClusterRequest()
        request.endpointType = 2
        let r = try #require(try h.send(request, version: 1))
        #expect(r.errorCode == 114)
        #expect(r.errorMessage?.contains("endpoint type 2") == true)
        #expect(r.brokers.isEmpty)
    }

    @Test func describeClusterListsFencedBrokersOnlyWhenAsked() throws {
        let h = try BrokerHarness()
        // A second broker that registered and was fenced (its session ended).
        try register(h, BrokerRegistration(id: BrokerID(2), incarnation: .zero, epoch: 0,
                                           listeners: [.init(name: "PLAINTEXT", host: "127.0.0.1", port: 9999)],
                                           rack: nil, fenced: true, inControlledShutdown: false))
        let plain = try #require(try h.send(DescribeClusterRequest(), version: 2))
        #expect(plain.brokers.map(\.brokerId) == [1])
        var request = DescribeClusterRequest()
        request.includeFencedBrokers = true
        let all = try #require(try h.send(request, version: 2))
        #expect(all.brokers.map(\.brokerId) == [1, 2])
        #expect(all.brokers.map(\.isFenced) == [false, true])
        #expect(all.brokers[1].port == 9999)
    }

    /// Commits `registration` through the controller, as a decision would.
    func register(_ h: BrokerHarness, _ registration: BrokerRegistration) throws {
        try commit(h, [.registerBroker(registration)])
    }

    func commit(_ h: BrokerHarness, _ records: [MetadataRecord]) throws {
        let outcome = try h.onLoop { broker -> Result<Void, MetadataController.Refusal>? in
            var outcome: Result<Void, MetadataController.Refusal>?
            broker.controlPlane.submit({ _, _ in .success(records) }) { outcome = $0 }
            return outcome
        }
        guard case .success = outcome else { throw HarnessError(message: "commit failed: \(String(describing: outcome))") }
    }

    // MARK: DescribeQuorum

    func quorumRequest(_ topic: String = "__cluster_metadata", _ partition: Int32 = 0) -> DescribeQuorumRequest {
        DescribeQuorumRequest(topics: [.init(topicName: topic, partitions: [.init(partitionIndex: partition)])])
    }

    @Test func describeQuorumOfASingleVoter() throws {
        let h = try BrokerHarness()
        _ = try h.send(CreateTopicsRequest(topics: [.init(name: "q", numPartitions: 1, replicationFactor: 1)]), version: 7)
        let status = try h.onLoop { $0.controlPlane.quorum.status }
        for version: Int16 in 0...2 {
            let before = Clock.now().rawValue
            let r = try #require(try h.send(quorumRequest(), version: version))
            #expect(r.errorCode == 0)
            let topic = try #require(r.topics.first)
            #expect(topic.topicName == "__cluster_metadata")
            let p = try #require(topic.partitions.first)
            #expect(p.errorCode == 0)
            if version >= 2 { #expect(r.errorMessage == nil && p.errorMessage == nil) }
            #expect(p.leaderId == 1)
            #expect(p.leaderEpoch == Int32(status.term.rawValue) && p.leaderEpoch >= 1)
            #expect(p.highWatermark == Int64(status.commit.rawValue) && p.highWatermark > 0)
            #expect(p.currentVoters.map(\.replicaId) == [1])
            #expect(p.currentVoters[0].logEndOffset == Int64(status.lastIndex.rawValue))
            #expect(p.observers.isEmpty)
            if version >= 1 {
                // The leader reports itself as fetched and caught up now (Kafka does the same).
                #expect(p.currentVoters[0].lastFetchTimestamp >= before)
                #expect(p.currentVoters[0].lastCaughtUpTimestamp >= before)
            }
            // A single node has no controller.quorum.voters endpoints to list.
            #expect(r.nodes.isEmpty)
        }
    }

    @Test func describeQuorumOfAnotherPartitionIsInvalid() throws {
        let h = try BrokerHarness()
        for request in [quorumRequest("orders"), quorumRequest("__cluster_metadata", 1), DescribeQuorumRequest()] {
            let r = try #require(try h.send(request, version: 2))
            #expect(r.errorCode == 42)
            #expect(r.errorMessage?.contains("__cluster_metadata") == true)
        }
    }

    // MARK: ElectLeaders

    func elect(_ h: BrokerHarness, _ type: Int8, _ partitions: [String: [Int32]]?, version: Int16 = 2) throws -> ElectLeadersResponse {
        var request = ElectLeadersRequest()
        request.electionType = type
        request.topicPartitions = partitions.map { $0.sorted { $0.key < $1.key }.map { .init(topic: $0.key, partitions: $0.value) } }
        return try #require(try h.send(request, version: version))
    }

    func codes(_ r: ElectLeadersResponse) -> [String: Int16] {
        var out: [String: Int16] = [:]
        for topic in r.replicaElectionResults {
            for p in topic.partitionResult { out["\(topic.topic)-\(p.partitionId)"] = p.errorCode }
        }
        return out
    }

    @Test func electionsThatAreNotNeededOrImpossibleSayWhy() throws {
        let h = try BrokerHarness()
        _ = try h.send(CreateTopicsRequest(topics: [.init(name: "e", numPartitions: 2, replicationFactor: 1)]), version: 7)
        // The preferred replica leads already; an unclean election for a partition with a leader.
        #expect(codes(try elect(h, 0, ["e": [0, 1]])) == ["e-0": 84, "e-1": 84])
        #expect(codes(try elect(h, 1, ["e": [0]])) == ["e-0": 84])
        // v0 has no election type: preferred.
        #expect(codes(try elect(h, 1, ["e": [1]], version: 0)) == ["e-1": 84])
        // Unknown topics and partitions.
        #expect(codes(try elect(h, 0, ["nope": [0], "e": [7]])) == ["nope-0": 3, "e-7": 3])
        // Every partition: none needs an election, so none is listed, but the topic is.
        let all = try elect(h, 0, nil)
        #expect(all.errorCode == 0)
        #expect(all.replicaElectionResults.map(\.topic) == ["e"])
        #expect(all.replicaElectionResults[0].partitionResult.isEmpty)
        // An election type Kafka does not have.
        let bad = try elect(h, 5, ["e": [0]])
        #expect(bad.errorCode == 42 && codes(bad) == ["e-0": 42])
        let epoch = try h.onLoop { $0.image.partition(TopicName("e"), PartitionID(0))!.leaderEpoch }
        #expect(epoch == LeaderEpoch(0), "no election changed anything")
    }

    /// A partition whose preferred replica (this broker) is in the ISR but another broker leads
    /// (written directly, as a cluster would leave it) gets its preferred leader back, with a
    /// higher leader epoch, once the election is committed; other partitions report why not.
    @Test func aPreferredElectionMovesLeadershipToThePreferredReplica() throws {
        let h = try BrokerHarness()
        let created = try #require(try h.send(CreateTopicsRequest(topics: [.init(name: "p", numPartitions: 3, replicationFactor: 1)]),
                                              version: 7))
        let id = created.topics[0].topicId
        let me = BrokerID(1), other = BrokerID(2)
        try commit(h, [
            // Preferred 1, in the ISR, 2 leads: electable.
            .partition(PartitionState(topicID: id, partition: PartitionID(0), replicas: [me, other], isr: [me, other],
                                      leader: other, leaderEpoch: LeaderEpoch(3), partitionEpoch: 5)),
            // Preferred 2, not registered: PREFERRED_LEADER_NOT_AVAILABLE.
            .partition(PartitionState(topicID: id, partition: PartitionID(1), replicas: [other, me], isr: [me],
                                      leader: me, leaderEpoch: LeaderEpoch(1), partitionEpoch: 1)),
            // Only 2, leaderless: no replica can lead, ELIGIBLE_LEADERS_NOT_AVAILABLE (unclean).
            .partition(PartitionState(topicID: id, partition: PartitionID(2), replicas: [other], isr: [other],
                                      leader: .noLeader, leaderEpoch: LeaderEpoch(1), partitionEpoch: 1)),
        ])
        let preferred = try elect(h, 0, nil)
        #expect(codes(preferred) == ["p-0": 0, "p-1": 80, "p-2": 80])
        #expect(preferred.replicaElectionResults[0].partitionResult.first { $0.partitionId == 0 }?.errorMessage == nil)
        let state = try #require(try h.onLoop { $0.image.partition(TopicName("p"), PartitionID(0)) })
        #expect(state.leader == me && state.leaderEpoch == LeaderEpoch(4) && state.partitionEpoch == 6)
        #expect(try h.onLoop { $0.leaderPartition(TopicPartition(TopicName("p"), PartitionID(0))) != nil })
        #expect(codes(try elect(h, 1, ["p": [2]])) == ["p-2": 83])
        // Done: a second preferred election is not needed.
        #expect(codes(try elect(h, 0, ["p": [0]])) == ["p-0": 84])
    }

    /// A leaderless partition with a live replica outside its ISR gets it as leader from an
    /// unclean election, and the ISR becomes that replica.
    @Test func anUncleanElectionTakesALiveReplicaOutsideTheISR() throws {
        let h = try BrokerHarness()
        let created = try #require(try h.send(CreateTopicsRequest(topics: [.init(name: "u", numPartitions: 1, replicationFactor: 1)]),
                                              version: 7))
        let id = created.topics[0].topicId
        try commit(h, [.partition(PartitionState(topicID: id, partition: PartitionID(0), replicas: [BrokerID(2), BrokerID(1)],
                                                 isr: [BrokerID(2)], leader: .noLeader, leaderEpoch: LeaderEpoch(2),
                                                 partitionEpoch: 2))])
        #expect(codes(try elect(h, 0, ["u": [0]])) == ["u-0": 80])
        #expect(codes(try elect(h, 1, ["u": [0]])) == ["u-0": 0])
        let state = try #require(try h.onLoop { $0.image.partition(TopicName("u"), PartitionID(0)) })
        #expect(state.leader == BrokerID(1) && state.isr == [BrokerID(1)] && state.leaderEpoch == LeaderEpoch(3))
    }

    @Test func theNewAPIsAreAdvertised() throws {
        let h = try BrokerHarness()
        let r = try #require(try h.send(ApiVersionsRequest(), version: 3))
        for key: Int16 in [43, 55, 60] {
            let api = try #require(r.apiKeys.first { $0.apiKey == key })
            #expect(api.minVersion == 0 && api.maxVersion == 2)
        }
        #expect(ControllerRouter.advertised.contains { $0.apiKey == 55 && $0.max == 2 })
        #expect(ControllerRouter.advertised.contains { $0.apiKey == 43 && $0.max == 2 })
    }
}
