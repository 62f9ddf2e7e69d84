import Foundation
import KafkaMessages
import NIOCore
import RunnelClient
import RunnelCore
import RunnelTesting
import Testing

/// Real three-node clusters of `runnel broker` processes on loopback (every node broker and
/// controller): the metadata quorum forms, every node tells the same story, partitions get spread
/// leaders, and leadership and the controller fail over. Sessions are short here (heartbeat
/// 300 ms, session 2 s) so fail-overs are quick; the defaults are Kafka's (2 s and 9 s).
@Suite(.serialized, .enabled(if: RunnelBinary.exists, "needs the runnel binary (RUNNEL_BIN or .build/debug/runnel)"))
struct ClusterTests {
    static let fastSessions = ["broker.heartbeat.interval.ms=300", "broker.session.timeout.ms=2000",
                               "auto.leader.rebalance.enable=false"]

    func withCluster<T>(extra: [String] = [], _ body: (TestCluster) async throws -> T) async throws -> T {
        let cluster = try TestCluster(size: 3, overrides: Self.fastSessions + extra)
        defer { cluster.stop() }
        do {
            try cluster.start()
            // Each node serves clients once unfenced; wait until every one is (a topic of
            // replication factor 3 needs all three).
            try await eventually("all three brokers to be registered and unfenced") {
                try await metadata(of: cluster.node(1)).brokers.count == 3
            }
            return try await body(cluster)
        } catch {
            print("cluster logs:\n\(cluster.logs)")
            throw error
        }
    }

    func client(_ bootstrap: String) throws -> KafkaClient {
        var config = try KafkaClientConfig(bootstrapServers: bootstrap)
        config.requestTimeoutMs = 10_000
        return KafkaClient(config: config)
    }

    /// Metadata as node `id` answers it (a client that knows only that node).
    func metadata(of node: BrokerProcess, topics: [String]? = nil) async throws -> MetadataResponse {
        let client = try client(node.bootstrap)
        defer { Task { await client.shutdown() } }
        var request = MetadataRequest()
        request.topics = topics.map { $0.map { MetadataRequest.MetadataRequestTopic(name: $0) } }
        request.allowAutoTopicCreation = false
        return try await client.sendRaw(request, version: 12)
    }

    /// Polls `condition` every 100 ms for at most `seconds`.
    func eventually(_ what: String, seconds: Double = 20, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if (try? await condition()) == true { return }
            guard Date() < deadline else { throw ClusterTestTimeout(description: "timed out after \(seconds) s waiting for \(what)") }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
    }

    /// Creates a one-partition topic of replication factor `rf` and waits until node 1 names its
    /// leader; returns the topic and that Metadata answer.
    func createTopicWithLeader(_ cluster: TestCluster, _ prefix: String, rf: Int16 = 3) async throws -> (String, MetadataResponse) {
        let topic = uniqueTopic(prefix)
        let admin = try client(cluster.bootstrap)
        defer { Task { await admin.shutdown() } }
        _ = try await admin.createTopic(topic, partitions: 1, replicationFactor: rf)
        var md = try await metadata(of: cluster.node(1), topics: [topic])
        try await eventually("the topic to have a leader") {
            md = try await metadata(of: cluster.node(1), topics: [topic])
            return (leader(md, topic, 0) ?? -1) > 0
        }
        return (topic, md)
    }

    func leader(_ response: MetadataResponse, _ topic: String, _ partition: Int32) -> Int32? {
        response.topics.first { $0.name == topic }?.partitions.first { $0.partitionIndex == partition }?.leaderId
    }

    @Test func threeNodesFormOneClusterWithSpreadLeaders() async throws {
        try await withCluster { cluster in
            // Every node lists the same three brokers and the same active controller.
            try await eventually("every node to list three brokers and one controller") {
                var controllers: Set<Int32> = []
                for node in cluster.nodes {
                    let md = try await metadata(of: node)
                    guard md.brokers.map(\.nodeId).sorted() == [1, 2, 3], md.controllerId > 0 else { return false }
                    controllers.insert(md.controllerId)
                }
                return controllers.count == 1
            }
            // A topic created through any node (forwarded to the active controller) gets RF 3 and
            // spread leaders, and every node agrees.
            let topic = uniqueTopic("spread")
            let admin = try client(cluster.node(2).bootstrap)
            defer { Task { await admin.shutdown() } }
            let created = try await admin.createTopic(topic, partitions: 6, replicationFactor: 3)
            #expect(created.partitions == 6)
            try await eventually("every node to know the topic") {
                for node in cluster.nodes where (try await metadata(of: node, topics: [topic])).topics.first?.errorCode != 0 { return false }
                return true
            }
            let md = try await metadata(of: cluster.node(3), topics: [topic])
            let partitions = try #require(md.topics.first?.partitions)
            #expect(partitions.allSatisfy { Set($0.replicaNodes) == [1, 2, 3] && $0.isrNodes.count == 3 })
            #expect(Set(partitions.map(\.leaderId)) == [1, 2, 3], "leaders \(partitions.map(\.leaderId))")
            #expect(partitions.allSatisfy { $0.leaderId == $0.replicaNodes[0] })
            // More replicas than brokers is refused, naming both numbers.
            do {
                _ = try await admin.createTopic(uniqueTopic("wide"), partitions: 1, replicationFactor: 4)
                Issue.record("RF 4 on three brokers was accepted")
            } catch let error as KafkaClientError {
                #expect(error.kafkaCode == .init(38))
                #expect("\(error)".contains("4") && "\(error)".contains("3"))
            }
            // Records go to each partition's leader, wherever the client started.
            let producerClient = try client(cluster.node(1).bootstrap)
            defer { Task { await producerClient.shutdown() } }
            let producer = try await KafkaProducer(client: producerClient)
            for p in 0..<6 {
                _ = try await producer.send(topic: topic, partition: PartitionID(Int32(p)), key: nil,
                                            value: ByteBuffer(string: "v\(p)"))
            }
            try await producer.flush()
            let ends = try await producerClient.listOffsets(topic: topic, spec: .latest)
            #expect(ends.map { $0.offset?.rawValue } == Array(repeating: 1, count: 6), "\(ends)")
            try await producer.close()
        }
    }

    /// Three controllers and two broker-only nodes: the broker-only nodes follow the metadata
    /// log as learners (they register, the controller adds them to the quorum), every node lists
    /// all five brokers, and a broker-only node leads partitions like any broker.
    @Test func brokerOnlyNodesFollowTheQuorumAsLearners() async throws {
        let cluster = try TestCluster(size: 3, brokerOnly: 2, overrides: Self.fastSessions)
        defer { cluster.stop() }
        do {
            try cluster.start(timeoutSeconds: 40)
            try await eventually("every node to list five brokers", seconds: 30) {
                for node in cluster.nodes where try await metadata(of: node).brokers.count != 5 { return false }
                return true
            }
            let controllers = Set(try await cluster.nodes.asyncMap { try await metadata(of: $0).controllerId })
            #expect(controllers.count == 1 && controllers.allSatisfy { (1...3).contains($0) })
            let topic = uniqueTopic("learners")
            let admin = try client(cluster.node(5).bootstrap)
            defer { Task { await admin.shutdown() } }
            _ = try await admin.createTopic(topic, partitions: 5, replicationFactor: 5)
            var md = try await metadata(of: cluster.node(4), topics: [topic])
            try await eventually("the broker-only nodes to know the topic") {
                md = try await metadata(of: cluster.node(4), topics: [topic])
                let fifth = try await metadata(of: cluster.node(5), topics: [topic])
                return md.topics.first?.errorCode == 0 && fifth.topics.first?.errorCode == 0
            }
            let leaders = md.topics[0].partitions.map(\.leaderId)
            #expect(Set(leaders) == [1, 2, 3, 4, 5], "leaders \(leaders)")
            let producerClient = try client(cluster.node(4).bootstrap)
            defer { Task { await producerClient.shutdown() } }
            let producer = try await KafkaProducer(client: producerClient)
            for p in 0..<5 {
                _ = try await producer.send(topic: topic, partition: PartitionID(Int32(p)), key: nil, value: ByteBuffer(string: "v"))
            }
            try await producer.flush()
            try await producer.close()
            #expect(cluster.node(4).log.contains("registered with the controller"))
        } catch {
            print("cluster logs:\n\(cluster.logs)")
            throw error
        }
    }

    /// kill -9 of a partition's leader: within the session timeout + 2 s another member of its
    /// ISR leads, with a higher leader epoch, and clients produce to it.
    @Test func aKilledLeaderIsReplacedFromTheISR() async throws {
        try await withCluster { cluster in
            let (topic, before) = try await createTopicWithLeader(cluster, "failover")
            let old = try #require(leader(before, topic, 0))
            let oldEpoch = before.topics[0].partitions[0].leaderEpoch
            let survivor = cluster.nodes.enumerated().first { $0.offset + 1 != Int(old) }!.element
            cluster.node(Int(old)).kill9()
            let killed = Date()
            var after = before
            try await eventually("a new leader", seconds: 2 + 2 + 5) {
                after = try await metadata(of: survivor, topics: [topic])
                return (leader(after, topic, 0) ?? -1) > 0 && leader(after, topic, 0) != old
            }
            let elapsed = Date().timeIntervalSince(killed)
            #expect(elapsed <= 2 + 2, "fail-over took \(elapsed) s")
            let partition = after.topics[0].partitions[0]
            #expect(before.topics[0].partitions[0].isrNodes.contains(partition.leaderId))
            #expect(!partition.isrNodes.contains(old))
            #expect(partition.leaderEpoch > oldEpoch)
            let producerClient = try client(survivor.bootstrap)
            defer { Task { await producerClient.shutdown() } }
            let producer = try await KafkaProducer(client: producerClient)
            _ = try await producer.send(topic: topic, partition: PartitionID(0), key: nil, value: ByteBuffer(string: "after"))
            try await producer.flush()
            try await producer.close()
        }
    }

    /// kill -9 of the active controller: the other two elect one, topic creation works, and the
    /// killed node, restarted on its data, catches up with what happened meanwhile.
    @Test func theControllerFailsOverAndARestartedNodeCatchesUp() async throws {
        try await withCluster { cluster in
            var controller: Int32 = -1
            try await eventually("an active controller") {
                controller = try await metadata(of: cluster.node(1)).controllerId
                return controller > 0
            }
            let survivor = cluster.nodes.enumerated().first { $0.offset + 1 != Int(controller) }!.element
            cluster.node(Int(controller)).kill9()
            try await eventually("another active controller") {
                let now = try await metadata(of: survivor).controllerId
                return now > 0 && now != controller
            }
            let topic = uniqueTopic("after-controller")
            let admin = try client(survivor.bootstrap)
            defer { Task { await admin.shutdown() } }
            try await eventually("topic creation to work again") {
                _ = try await admin.createTopic(topic, partitions: 2, replicationFactor: 2)
                return true
            }
            let restarted = cluster.node(Int(controller))
            try restarted.start(timeoutSeconds: 30)
            try await eventually("the restarted node to know the new topic") {
                (try await metadata(of: restarted, topics: [topic])).topics.first?.errorCode == 0
            }
        }
    }

    /// SIGTERM of a leader (controlled shutdown): its leadership moves before the process exits,
    /// without waiting for a session timeout, and the process exits 0.
    @Test func sigtermOfALeaderMovesLeadershipFirst() async throws {
        try await withCluster { cluster in
            let (topic, md) = try await createTopicWithLeader(cluster, "controlled")
            let old = try #require(leader(md, topic, 0))
            let survivor = cluster.nodes.enumerated().first { $0.offset + 1 != Int(old) }!.element
            #expect(cluster.node(Int(old)).stop(signal: SIGTERM) == 0)
            // The exit waited for the move: the survivors already name another leader.
            let after = try await metadata(of: survivor, topics: [topic])
            let now = try #require(leader(after, topic, 0))
            #expect(now > 0 && now != old, "leader after SIGTERM: \(now)")
            #expect(cluster.node(Int(old)).log.contains("controlled shutdown"))
        }
    }

    /// SIGTERM while a node still waits for its quorum (start-up, no listener for clients yet)
    /// stops it gracefully — exit 0, logs closed — instead of the signal's default action
    /// killing it (status 15; seen when a test stopped a broker just as it came up).
    @Test func sigtermDuringStartUpStopsGracefully() async throws {
        let cluster = try TestCluster(size: 3, overrides: Self.fastSessions)
        defer { cluster.stop() }
        let node = cluster.node(1)
        try node.launch()   // alone: the quorum never forms
        let deadline = Date().addingTimeInterval(30)
        while !node.log.contains("joining the metadata quorum") && Date() < deadline { usleep(50_000) }
        #expect(node.log.contains("joining the metadata quorum"), "log:\n\(node.log.suffix(3000))")
        #expect(node.stop(signal: SIGTERM, timeoutSeconds: 20) == 0, "log:\n\(node.log.suffix(3000))")
        #expect(node.log.contains("received SIGTERM: shutting down"))
        #expect(node.log.contains("stopped cleanly"), "log:\n\(node.log.suffix(3000))")
    }

    /// The last node of a cluster whose other voters are gone cannot finish a controlled shutdown
    /// (no quorum can commit it); it gives up once no controller has answered for 5 s and stops
    /// cleanly, well before the 30 s cap and a supervisor's (`runnel dev`'s) SIGKILL.
    @Test func theLastNodeStopsPromptlyWhenTheQuorumIsGone() async throws {
        try await withCluster { cluster in
            let (topic, md) = try await createTopicWithLeader(cluster, "lastnode")
            let last = try #require(leader(md, topic, 0))
            for (index, node) in cluster.nodes.enumerated() where index + 1 != Int(last) { node.kill9() }
            let node = cluster.node(Int(last))
            let started = Date()
            #expect(node.stop(signal: SIGTERM, timeoutSeconds: 20) == 0, "log:\n\(node.log.suffix(3000))")
            #expect(Date().timeIntervalSince(started) < 20)
            #expect(node.log.contains("controlled shutdown: no controller has answered for 5000 ms"), "log:\n\(node.log.suffix(3000))")
            #expect(node.log.contains("stopped cleanly"))
        }
    }

    /// DescribeCluster and DescribeQuorum through every node (a client that knows only that node)
    /// tell the same story: one cluster id, one active controller that leads the metadata quorum,
    /// three brokers, three voters; a node that is not the controller forwarded DescribeQuorum to
    /// it. `runnel cluster info` shows the same through any node.
    @Test func everyNodeDescribesTheSameClusterAndQuorum() async throws {
        try await withCluster { cluster in
            var answers: [(ClusterDescription, QuorumDescription)] = []
            try await eventually("every node to give the same answer") {
                answers = []
                for node in cluster.nodes {
                    let c = try client(node.bootstrap)
                    defer { Task { await c.shutdown() } }
                    answers.append((try await c.describeCluster(includeFenced: true), try await c.describeQuorum()))
                }
                let (first, quorum) = answers[0]
                return answers.allSatisfy { $0.0 == first && $0.1.leaderID == quorum.leaderID && $0.1.leaderEpoch == quorum.leaderEpoch
                    && $0.1.highWatermark == quorum.highWatermark }
                    && first.brokers.count == 3 && quorum.voters.allSatisfy { $0.logEndOffset == quorum.highWatermark }
            }
            let (description, quorum) = answers[0]
            #expect(description.clusterID == cluster.clusterID)
            #expect(description.brokers.map(\.id.rawValue) == [1, 2, 3])
            #expect(description.brokers.allSatisfy { !$0.isFenced } && description.listsFencedBrokers)
            #expect(description.brokers.map(\.address.description) == cluster.nodes.map(\.bootstrap))
            #expect(description.controllerID == quorum.leaderID)
            #expect(quorum.voters.map(\.id.rawValue) == [1, 2, 3] && quorum.observers.isEmpty)
            #expect(quorum.leaderEpoch >= 1 && quorum.highWatermark > 0)
            #expect(quorum.voters.allSatisfy { quorum.lag(of: $0) == 0 && $0.lastFetchTimestamp > 0 })

            let follower = cluster.nodes.first { $0.bootstrap != description.brokers.first { $0.id == quorum.leaderID }!.address.description }!
            let info = try runCLI(["cluster", "info", "-b", follower.bootstrap])
            #expect(info.status == 0, "\(info.stderr)")
            #expect(info.stdout.contains("Cluster: \(cluster.clusterID)\tController: \(quorum.leaderID)"))
            #expect(info.stdout.contains("Quorum: leader \(quorum.leaderID), epoch \(quorum.leaderEpoch)"))
            for node in cluster.nodes { #expect(info.stdout.contains(node.bootstrap)) }
            let json = try runCLI(["cluster", "info", "--json", "-b", follower.bootstrap])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect((object["brokers"] as? [[String: Any]])?.count == 3)
            let voters = (object["quorum"] as? [String: Any])?["voters"] as? [[String: Any]]
            #expect(voters?.compactMap { $0["lag"] as? Int } == [0, 0, 0])
        }
    }

    /// A partition's leader is killed: another ISR member leads and the killed broker is shown
    /// fenced. While it is down a preferred election of it is refused with
    /// PREFERRED_LEADER_NOT_AVAILABLE, as Kafka refuses one for a preferred replica outside the
    /// ISR, and an unclean one with ELECTION_NOT_NEEDED. Restarted, it catches up by replication
    /// and rejoins the ISR; then a preferred election makes it the leader again. (Unclean
    /// elections of a real leaderless partition need two of the three voters down here, so the
    /// controller scenarios in `unclean.txt` cover them.)
    @Test func electionsAfterALeaderWasKilledAndItsBrokerRestarted() async throws {
        try await withCluster { cluster in
            let (topic, md) = try await createTopicWithLeader(cluster, "elect", rf: 2)
            let replicas = md.topics[0].partitions[0].replicaNodes
            let preferred = replicas[0], second = replicas[1]
            #expect(leader(md, topic, 0) == preferred)
            let third = cluster.nodes.indices.map { Int32($0 + 1) }.first { !replicas.contains($0) }!
            let witness = cluster.node(Int(third))
            let witnessClient = try client(witness.bootstrap)
            defer { Task { await witnessClient.shutdown() } }
            let key = TopicPartition(TopicName(topic), PartitionID(0))

            cluster.node(Int(preferred)).kill9()
            try await eventually("the second replica to lead", seconds: 10) {
                leader(try await metadata(of: witness, topics: [topic]), topic, 0) == second
            }
            try await eventually("the killed broker to be shown fenced") {
                let info = try runCLI(["cluster", "info", "--json", "-b", witness.bootstrap])
                let object = try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any]
                let brokers = object?["brokers"] as? [[String: Any]] ?? []
                return brokers.contains { ($0["id"] as? Int) == Int(preferred) && ($0["fenced"] as? Bool) == true }
            }
            // While the preferred replica is down (and out of the ISR) it cannot be elected.
            let refused = try await witnessClient.electLeaders(.preferred, partitions: [key])
            #expect(refused.map(\.error) == [KafkaErrorCode(80)], "\(refused)")
            let cli = try runCLI(["cluster", "elect-leaders", "--topic", topic, "-b", witness.bootstrap])
            #expect(cli.status == 1)
            #expect(cli.stdout.contains("\(topic)-0: preferred leader not available"), "\(cli.stdout)")
            // Unclean is refused while a leader exists.
            #expect(try await witnessClient.electLeaders(.unclean, partitions: [key]).map(\.error) == [KafkaErrorCode(84)])

            // Restarted, it catches up by replication and rejoins the ISR; then it can lead again.
            try cluster.node(Int(preferred)).start(timeoutSeconds: 30)
            try await eventually("the restarted broker to rejoin the ISR") {
                try await metadata(of: witness, topics: [topic]).topics[0].partitions[0].isrNodes.contains(preferred)
            }
            #expect(try await witnessClient.electLeaders(.preferred, partitions: [key]).map(\.error) == [KafkaErrorCode(0)])
            try await eventually("the preferred replica to lead again", seconds: 10) {
                leader(try await metadata(of: witness, topics: [topic]), topic, 0) == preferred
            }

            // A preferred election with the preferred replica leading is not needed.
            #expect(try await witnessClient.electLeaders(.preferred, partitions: [key]).map(\.error) == [KafkaErrorCode(84)])
        }
    }

    /// issue 11: a follower whose fetch is parked at a leader (up to replica.fetch.wait.max.ms,
    /// here 60 s) starts fetching a partition it is given at once, so the first acks=all record of
    /// a new topic is answered without waiting out that long poll (without the restart it would
    /// time out: the producer gives up after 15 s).
    @Test func aNewPartitionIsFetchedWithoutWaitingOutAParkedFetch() async throws {
        let cluster = try TestCluster(size: 3, overrides: Self.fastSessions + ["replica.fetch.wait.max.ms=60000"])
        defer { cluster.stop() }
        do {
            try cluster.start()
            try await eventually("all three brokers to be unfenced") {
                try await metadata(of: cluster.node(1)).brokers.count == 3
            }
            let admin = try client(cluster.bootstrap)
            defer { Task { await admin.shutdown() } }
            var config = ProducerConfig()
            config.acks = .all
            config.lingerMs = 0
            config.requestTimeoutMs = 15_000
            config.deliveryTimeoutMs = 15_000
            config.retries = 0
            // Three partitions: their leaders spread over the nodes, so every node's fetchers
            // to both others exist and, once the records below are replicated, park.
            let warm = uniqueTopic("parked")
            _ = try await admin.createTopic(warm, partitions: 3, replicationFactor: 3)
            let producer = try await KafkaProducer(client: admin, config: config)
            try await eventually("the first topic to take acks=all records") {
                for p in 0..<3 {
                    _ = try await producer.send(topic: warm, partition: PartitionID(Int32(p)), key: nil, value: ByteBuffer(string: "w"))
                }
                try await producer.flush()
                return true
            }
            try await Task.sleep(nanoseconds: 1_000_000_000)
            let fresh = uniqueTopic("fresh")
            _ = try await admin.createTopic(fresh, partitions: 3, replicationFactor: 3)
            try await eventually("the new topic's leaders to be known", seconds: 10) {
                try await metadata(of: cluster.node(1), topics: [fresh]).topics[0].partitions.allSatisfy { $0.leaderId > 0 }
            }
            for p in 0..<3 {
                _ = try await producer.send(topic: fresh, partition: PartitionID(Int32(p)), key: nil, value: ByteBuffer(string: "f\(p)"))
            }
            try await producer.flush()
            try await producer.close()
        } catch {
            print("cluster logs:\n\(cluster.logs)")
            throw error
        }
    }

    /// issue 10/11: with auto.leader.rebalance.enable a broker that was killed and restarted
    /// catches up by replication, rejoins the ISR and gets back the leadership of the partitions
    /// it is preferred for; every record acknowledged meanwhile (acks=all) is there.
    @Test func aRestartedBrokerRejoinsTheISRAndLeadsAgain() async throws {
        let overrides = ["broker.heartbeat.interval.ms=300", "broker.session.timeout.ms=2000",
                         "auto.leader.rebalance.enable=true", "leader.imbalance.check.interval.seconds=1",
                         "replica.lag.time.max.ms=2000"]
        let cluster = try TestCluster(size: 3, overrides: overrides)
        defer { cluster.stop() }
        do {
            try cluster.start()
            try await eventually("all three brokers to be unfenced") {
                try await metadata(of: cluster.node(1)).brokers.count == 3
            }
            let (topic, md) = try await createTopicWithLeader(cluster, "rejoin")
            let preferred = try #require(leader(md, topic, 0))
            let witness = cluster.nodes.enumerated().first { $0.offset + 1 != Int(preferred) }!.element
            let producerClient = try client(witness.bootstrap)
            defer { Task { await producerClient.shutdown() } }
            let producer = try await KafkaProducer(client: producerClient)
            for i in 0..<50 {
                _ = try await producer.send(topic: topic, partition: PartitionID(0), key: nil, value: ByteBuffer(string: "a\(i)"))
            }
            try await producer.flush()

            cluster.node(Int(preferred)).kill9()
            try await eventually("another replica to lead", seconds: 10) {
                let now = leader(try await metadata(of: witness, topics: [topic]), topic, 0) ?? -1
                return now > 0 && now != preferred
            }
            for i in 0..<50 {
                _ = try await producer.send(topic: topic, partition: PartitionID(0), key: nil, value: ByteBuffer(string: "b\(i)"))
            }
            try await producer.flush()
            try await producer.close()

            try cluster.node(Int(preferred)).start(timeoutSeconds: 30)
            try await eventually("the restarted broker to rejoin the ISR and lead again", seconds: 20) {
                let p = try await metadata(of: witness, topics: [topic]).topics[0].partitions[0]
                return p.leaderId == preferred && p.isrNodes.count == 3
            }
            let consumer = KafkaConsumer(client: producerClient)
            try await consumer.assign(topic: topic, at: .beginning)
            var values: [String] = []
            for _ in 0..<50 where values.count < 100 {
                values += try await consumer.poll().map { String(buffer: $0.value!) }
            }
            #expect(values == (0..<50).map { "a\($0)" } + (0..<50).map { "b\($0)" })
        } catch {
            print("cluster logs:\n\(cluster.logs)")
            throw error
        }
    }
}

struct ClusterTestTimeout: Error, CustomStringConvertible {
    let description: String
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
