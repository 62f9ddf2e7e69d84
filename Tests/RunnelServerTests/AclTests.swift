import ClusterMetadata
import KafkaMessages
import KafkaWire
import NIOCore
import RunnelCore
import Testing
@testable import RunnelServer

/// The handlers with ACLs on, each request sent as an injected principal (what SASL or mTLS
/// will set on the connection): what Kafka checks per API and the error it answers.
@Suite struct AclTests {
    static let admin = KafkaPrincipal(name: "admin")
    static let alice = KafkaPrincipal(name: "alice")
    static let bob = KafkaPrincipal(name: "bob")

    func aclsOn(_ extra: [String] = []) throws -> BrokerHarness {
        try BrokerHarness(overrides: ["authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                                      "super.users=User:admin"] + extra)
    }

    func creation(_ permission: AclPermission, _ principal: String, _ operation: AclOperation, _ type: AclResourceType,
                  _ name: String, _ pattern: AclPatternType = .literal) -> CreateAclsRequest.AclCreation {
        .init(resourceType: type.rawValue, resourceName: name, resourcePatternType: pattern.rawValue, principal: principal,
              host: "*", operation: operation.rawValue, permissionType: permission.rawValue)
    }

    func addAcls(_ h: BrokerHarness, _ creations: [CreateAclsRequest.AclCreation]) throws -> [Int16] {
        try #require(try h.send(CreateAclsRequest(creations: creations), version: 3)).results.map(\.errorCode)
    }

    func createTopics(_ h: BrokerHarness, _ names: [String]) throws -> [Int16] {
        let request = CreateTopicsRequest(topics: names.map { .init(name: $0, numPartitions: 1, replicationFactor: 1) })
        return try #require(try h.send(request, version: 7)).topics.sorted { $0.name < $1.name }.map(\.errorCode)
    }

    func produce(_ h: BrokerHarness, _ topic: String) throws -> Int16 {
        var b = RecordBatchBuilder(compression: .none, producerId: ProducerID(-1), producerEpoch: -1, baseSequence: -1)
        b.append(timestamp: TimestampMs(1_000), key: nil, value: ByteBuffer(string: "v"))
        let request = ProduceRequest(transactionalId: nil, acks: 1, timeoutMs: 5000, topicData: [
            .init(name: topic, partitionData: [.init(index: 0, records: b.finish())]),
        ])
        return try #require(try h.send(request, version: 9)?.responses.first?.partitionResponses.first).errorCode
    }

    func fetch(_ h: BrokerHarness, _ topic: String) throws -> Int16 {
        var request = FetchRequest()
        request.maxWaitMs = 0
        request.topics = [.init(topic: topic, partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20)])]
        return try #require(try h.send(request, version: 12)?.responses.first?.partitions.first).errorCode
    }

    func metadata(_ h: BrokerHarness, _ topics: [String]?) throws -> MetadataResponse {
        var request = MetadataRequest()
        request.topics = topics?.map { .init(name: $0) }
        request.allowAutoTopicCreation = false
        request.includeTopicAuthorizedOperations = true
        return try #require(try h.send(request, version: 12))
    }

    @Test func authorizerClassNameAcceptsKafkasAndRunnelsNamesOnly() throws {
        for name in ["org.apache.kafka.metadata.authorizer.StandardAuthorizer", "runnel", ""] {
            let config = try BrokerConfig(overrides: ["authorizer.class.name=\(name)"])
            #expect(Authorizer(config: config).isEnabled == !name.isEmpty)
        }
        let error = #expect(throws: ConfigError.self) {
            try BrokerConfig(overrides: ["authorizer.class.name=kafka.security.authorizer.AclAuthorizer"])
        }
        #expect(error?.message.contains("'authorizer.class.name'") == true)
        let config = try BrokerConfig(overrides: ["authorizer.class.name=runnel", "super.users=User:admin; User:ops ;"])
        #expect(Authorizer(config: config).decision?.settings.superUsers == ["User:admin", "User:ops"])
    }

    @Test func withoutAnAuthorizerTheAclApisSaySecurityDisabled() throws {
        let h = try BrokerHarness()
        #expect(try addAcls(h, [creation(.allow, "User:alice", .read, .topic, "t")]) == [54])
        #expect(try #require(try h.send(DescribeAclsRequest(resourceTypeFilter: 1, patternTypeFilter: 1, operation: 1, permissionType: 1),
                                        version: 3)).errorCode == 54)
        // And everything stays allowed, to everyone.
        h.principal = Self.bob
        #expect(try createTopics(h, ["free"]) == [0])
        #expect(try produce(h, "free") == 0)
    }

    @Test func eachApiChecksWhatKafkaChecks() throws {
        let h = try aclsOn()
        h.principal = Self.admin
        #expect(try createTopics(h, ["logs-a", "secret"]) == [0, 0])
        #expect(try addAcls(h, [
            creation(.allow, "User:alice", .write, .topic, "logs-", .prefixed),
            creation(.allow, "User:alice", .read, .topic, "logs-", .prefixed),
            creation(.allow, "User:alice", .read, .group, "g1"),
            creation(.allow, "User:bob", .all, .topic, "secret"),
            creation(.deny, "User:bob", .write, .topic, "secret"),
        ]) == [0, 0, 0, 0, 0])

        h.principal = Self.alice
        #expect(try produce(h, "logs-a") == 0)
        #expect(try produce(h, "secret") == 29)
        #expect(try fetch(h, "logs-a") == 0)
        #expect(try fetch(h, "secret") == 29)
        // A follower's fetch (replica id >= 0) needs CLUSTER_ACTION on the cluster, whatever the topic's ACLs.
        var follower = FetchRequest()
        follower.replicaId = 2
        follower.topics = [.init(topic: "logs-a", partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20)])]
        #expect(try #require(try h.send(follower, version: 12)).responses.first?.partitions.first?.errorCode == 29)
        // Metadata: all topics lists only what alice may describe; a named one she may not is 29.
        let all = try metadata(h, nil)
        #expect(all.topics.compactMap(\.name) == ["logs-a"])
        let readWriteDescribe = Authorizer.bitField([.read, .write, .describe])
        #expect(all.topics.first?.topicAuthorizedOperations == readWriteDescribe)
        #expect(try metadata(h, ["secret", "nosuch"]).topics.map(\.errorCode) == [29, 29])
        let listOffsets = ListOffsetsRequest(replicaId: -1, topics: [.init(name: "secret", partitions: [.init(partitionIndex: 0, timestamp: -1)])])
        #expect(try #require(try h.send(listOffsets, version: 8)).topics.first?.partitions.first?.errorCode == 29)
        // Admin writes: CREATE, DELETE, ALTER; the cluster for elections and ACLs.
        #expect(try createTopics(h, ["logs-b"]) == [29])
        // CREATE on a prefix: created, but without DESCRIBE_CONFIGS its configs are not shown.
        h.principal = Self.admin
        #expect(try addAcls(h, [creation(.allow, "User:alice", .create, .topic, "new-", .prefixed)]) == [0])
        h.principal = Self.alice
        let created = try #require(try h.send(CreateTopicsRequest(topics: [.init(name: "new-1", numPartitions: 2, replicationFactor: 1)]),
                                              version: 7)).topics
        #expect(created.map(\.errorCode) == [0] && created.map(\.topicConfigErrorCode) == [29])
        #expect(created.first?.configs == [] && created.first?.numPartitions == -1)
        #expect(try h.onLoop { $0.image.topic(TopicName("new-1"))?.partitions.count } == 2)
        #expect(try #require(try h.send(DeleteTopicsRequest(topicNames: ["logs-a"]), version: 4)).responses.map(\.errorCode) == [29])
        let electAll = ElectLeadersRequest(electionType: 0, topicPartitions: nil)
        #expect(try #require(try h.send(electAll, version: 2)).errorCode == 31)
        #expect(try addAcls(h, [creation(.allow, "User:alice", .all, .topic, "*")]) == [31])
        #expect(try #require(try h.send(DescribeAclsRequest(resourceTypeFilter: 1, patternTypeFilter: 1, operation: 1, permissionType: 1),
                                        version: 3)).errorCode == 31)
        let describeConfigs = DescribeConfigsRequest(resources: [.init(resourceType: 2, resourceName: "secret", configurationKeys: nil),
                                                                 .init(resourceType: 4, resourceName: "1", configurationKeys: nil)])
        #expect(try #require(try h.send(describeConfigs, version: 4)).results.map(\.errorCode) == [29, 31])
        // Groups: READ on g1 only.
        #expect(try #require(try h.send(FindCoordinatorRequest(keyType: 0, coordinatorKeys: ["g1", "g2"]), version: 4))
            .coordinators.map(\.errorCode) == [0, 30])
        let join = KafkaMessages.JoinGroupRequest(groupId: "g2", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000,
                                                  memberId: "", protocolType: "consumer", protocols: [.init(name: "range", metadata: [])])
        #expect(try #require(try h.send(join, version: 9)).errorCode == 30)
        var beat = KafkaMessages.ConsumerGroupHeartbeatRequest()
        beat.groupId = "g1"
        beat.memberId = "m1"
        beat.memberEpoch = 0
        beat.rebalanceTimeoutMs = 10_000
        beat.subscribedTopicNames = ["logs-a", "secret"]
        #expect(try #require(try h.send(beat, version: 1)).errorCode == 29)
        let commit = KafkaMessages.OffsetCommitRequest(groupId: "g1", generationIdOrMemberEpoch: -1, memberId: "", topics: [
            .init(name: "secret", partitions: [.init(partitionIndex: 0, committedOffset: 1)]),
        ])
        #expect(try #require(try h.send(commit, version: 8)).topics.first?.partitions.first?.errorCode == 29)
        // Idempotent producers: WRITE on some topic is enough (KIP-679); bob has none he may use.
        #expect(try #require(try h.send(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: -1), version: 4)).errorCode == 0)
        h.principal = Self.bob
        #expect(try #require(try h.send(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: -1), version: 4)).errorCode == 31)
        // A DENY beats an ALLOW: bob has ALL on secret but not WRITE; READ and DESCRIBE remain.
        #expect(try produce(h, "secret") == 29)
        #expect(try fetch(h, "secret") == 0)
        #expect(try metadata(h, nil).topics.compactMap(\.name) == ["secret"])
        // The cluster's authorized operations: nothing without DESCRIBE on the cluster.
        let cluster = try #require(try h.send(DescribeClusterRequest(includeClusterAuthorizedOperations: true), version: 1))
        #expect(cluster.errorCode == 0 && cluster.clusterAuthorizedOperations == 0)
    }

    @Test func aclsAreListedDeletedAndKeptAcrossARestart() throws {
        let h = try aclsOn()
        h.principal = Self.admin
        #expect(try addAcls(h, [
            creation(.allow, "User:alice", .read, .topic, "orders"),
            creation(.allow, "User:alice", .read, .topic, "ord", .prefixed),
            creation(.deny, "User:bob", .read, .topic, "*"),
            creation(.allow, "User:alice", .read, .group, "orders"),
            creation(.allow, "User:carol", .read, .cluster, "kafka-cluster"),
            creation(.allow, "nobody", .read, .topic, "x"),
        ]) == [0, 0, 0, 0, 42, 42])
        let everything = DescribeAclsRequest(resourceTypeFilter: 1, resourceNameFilter: nil, patternTypeFilter: 1, principalFilter: nil,
                                             hostFilter: nil, operation: 1, permissionType: 1)
        let described = try #require(try h.send(everything, version: 3))
        #expect(described.errorCode == 0)
        #expect(described.resources.map { "\($0.resourceType):\($0.patternType):\($0.resourceName):\($0.acls.count)" }
            == ["2:3:*:1", "2:3:orders:1", "2:4:ord:1", "3:3:orders:1"])
        // MATCH: what applies to topic "orders" — literal, the wildcard and the prefix.
        let match = DeleteAclsRequest(filters: [.init(resourceTypeFilter: 2, resourceNameFilter: "orders", patternTypeFilter: 2,
                                                      principalFilter: "User:alice", hostFilter: nil, operation: 1, permissionType: 1)])
        let deleted = try #require(try h.send(match, version: 3)).filterResults
        #expect(deleted.first?.errorCode == 0)
        #expect(Set(deleted.first?.matchingAcls.map(\.resourceName) ?? []) == ["orders", "ord"])
        try h.close()
        try h.open()
        let after = try #require(try h.send(everything, version: 3))
        #expect(after.resources.map { "\($0.resourceType):\($0.resourceName)" } == ["2:*", "3:orders"])
        // A non-super user may not change ACLs.
        h.principal = Self.alice
        let none = DeleteAclsRequest(filters: [.init(resourceTypeFilter: 1, resourceNameFilter: nil, patternTypeFilter: 1,
                                                     principalFilter: nil, hostFilter: nil, operation: 1, permissionType: 1)])
        #expect(try #require(try h.send(none, version: 3)).filterResults.map(\.errorCode) == [31])
    }

    @Test func allowEveryoneIfNoAclFoundOpensOnlyResourcesWithoutAcls() throws {
        let h = try aclsOn(["allow.everyone.if.no.acl.found=true"])
        h.principal = Self.bob
        #expect(try createTopics(h, ["open", "secret"]) == [0, 0])
        h.principal = Self.admin
        #expect(try addAcls(h, [creation(.deny, "User:bob", .write, .topic, "secret")]) == [0])
        h.principal = Self.bob
        #expect(try produce(h, "open") == 0)
        #expect(try produce(h, "secret") == 29)
        // An ACL on `secret` now exists, so DESCRIBE needs an ALLOW too: it is hidden.
        #expect(try metadata(h, nil).topics.compactMap(\.name) == ["open"])
    }
}
