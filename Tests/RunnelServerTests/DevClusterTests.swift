import Foundation
import RunnelCore
import RunnelTesting
import Testing
@testable import RunnelServer

/// What `runnel dev` writes for its nodes, without starting any: ids, ports, voters, listeners,
/// data directories, overrides, and the directory rules of --fresh.
@Suite struct DevClusterTests {
    static func threeNodes(directory: String = "/tmp/dev", overrides: [String] = []) throws -> DevCluster {
        let ports = try DevCluster.consecutivePorts(base: 19092, nodeCount: 3)
        return try DevCluster(nodeCount: 3, directory: directory, clientPorts: ports.clients,
                              controllerPorts: ports.controllers, overrides: overrides)
    }

    @Test func consecutivePortsPutControllersAHundredAbove() throws {
        let ports = try DevCluster.consecutivePorts(base: 9092, nodeCount: 3)
        #expect(ports.clients == [9092, 9093, 9094])
        #expect(ports.controllers == [9192, 9193, 9194])
        #expect(throws: ConfigError.self) { try DevCluster.consecutivePorts(base: 65_500, nodeCount: 3) }
        #expect(throws: ConfigError.self) { try DevCluster.consecutivePorts(base: 0, nodeCount: 1) }
        #expect(try DevCluster.consecutivePorts(base: 65_435, nodeCount: 1).controllers == [65_535])
    }

    @Test func nodesAreNumberedFromOneWithTheirOwnPortsAndDirectories() throws {
        let cluster = try Self.threeNodes()
        #expect(cluster.nodes.map(\.id) == [1, 2, 3])
        #expect(cluster.nodes.map(\.clientPort) == [19092, 19093, 19094])
        #expect(cluster.nodes.map(\.controllerPort) == [19192, 19193, 19194])
        #expect(cluster.nodes.map(\.directory) == ["/tmp/dev/node-1", "/tmp/dev/node-2", "/tmp/dev/node-3"])
        #expect(cluster.nodes[1].propertiesFile == "/tmp/dev/node-2/server.properties")
        #expect(cluster.bootstrap == "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094")
        #expect(cluster.quorumVoters == "1@127.0.0.1:19192,2@127.0.0.1:19193,3@127.0.0.1:19194")
        #expect(DevCluster.defaultDirectory(nodeCount: 5) == "./data/dev-5")
    }

    @Test func nodeCountAndPortsAreChecked() throws {
        #expect(throws: ConfigError.self) {
            try DevCluster(nodeCount: 0, directory: "/d", clientPorts: [], controllerPorts: [])
        }
        #expect(throws: ConfigError.self) {
            try DevCluster(nodeCount: 10, directory: "/d", clientPorts: Array(1...10), controllerPorts: Array(11...20))
        }
        #expect(throws: ConfigError.self) {
            try DevCluster(nodeCount: 2, directory: "/d", clientPorts: [5000, 5001], controllerPorts: [5001, 5002])
        }
        let nine = try DevCluster(nodeCount: 9, directory: "/d", clientPorts: Array(5001...5009), controllerPorts: Array(5101...5109))
        #expect(nine.nodes.last?.id == 9)
    }

    /// Every node's file is a configuration the broker accepts, and says exactly what a KRaft
    /// operator writes for combined nodes.
    @Test func everyNodesFileIsAKRaftCombinedNodeConfiguration() throws {
        let dir = try TemporaryDirectory(prefix: "runnel-dev-config")
        defer { dir.remove() }
        let cluster = try Self.threeNodes(directory: dir.file("dev-3"))
        try DevDirectory.prepare(cluster)
        for node in cluster.nodes {
            let config = try BrokerConfig(file: node.propertiesFile)
            #expect(config.nodeID.rawValue == node.id)
            #expect(config.listeners == [Listener(name: "PLAINTEXT", host: "127.0.0.1", port: node.clientPort),
                                         Listener(name: "CONTROLLER", host: "127.0.0.1", port: node.controllerPort)])
            #expect(config.advertisedListeners == [Listener(name: "PLAINTEXT", host: "127.0.0.1", port: node.clientPort)])
            #expect(config.dataDirectory == node.directory)
            #expect(config.string("process.roles") == "broker,controller")
            #expect(config.string("controller.listener.names") == "CONTROLLER")
            #expect(config.string("controller.quorum.voters") == cluster.quorumVoters)
            #expect(config.string("inter.broker.listener.name") == "PLAINTEXT")
            #expect(config.sources["controller.quorum.voters"] == .file)
            let text = try String(contentsOfFile: node.propertiesFile, encoding: .utf8)
            #expect(text.hasPrefix("# Written by `runnel dev` for node \(node.id) of a local 3-node cluster"))
            // Every key has its comment on the line before it.
            let lines = text.split(separator: "\n").map(String.init)
            for (i, line) in lines.enumerated() where !line.hasPrefix("#") {
                #expect(i > 0 && lines[i - 1].hasPrefix("# "), "no comment before \(line)")
            }
        }
    }

    @Test func overridesReachEveryNodeAndTheLastOneWins() throws {
        let cluster = try Self.threeNodes(overrides: ["num.partitions=3", "inter.broker.listener.name=PLAINTEXT",
                                                      " num.partitions = 6"])
        #expect(cluster.overrides == [.init(key: "num.partitions", value: "6"),
                                      .init(key: "inter.broker.listener.name", value: "PLAINTEXT")])
        for node in cluster.nodes {
            let props = cluster.properties(of: node)
            #expect(props.filter { $0.key == "num.partitions" }.map(\.value) == ["6"])
            #expect(props.filter { $0.key == "inter.broker.listener.name" }.map(\.comment) == ["From --override."])
            #expect(props.last?.key == "num.partitions")
        }
    }

    @Test(arguments: ["node.id=4", "listeners=PLAINTEXT://:1", "log.dirs=/x", "log.dir=/x", "process.roles=broker",
                      "controller.quorum.voters=1@h:1", "advertised.listeners=PLAINTEXT://h:1", "controller.listener.names=C"])
    func overridesOfWhatDevChoosesPerNodeAreRefused(item: String) throws {
        #expect(throws: ConfigError.self) { try Self.threeNodes(overrides: [item]) }
    }

    @Test func oneMetricsListenerOverrideGivesEachNodeItsOwnPort() throws {
        let cluster = try Self.threeNodes(overrides: ["runnel.metrics.listener=http://127.0.0.1:9644"])
        let listeners = cluster.nodes.map { node in
            cluster.properties(of: node).first { $0.key == "runnel.metrics.listener" }?.value
        }
        #expect(listeners == ["http://127.0.0.1:9644", "http://127.0.0.1:9645", "http://127.0.0.1:9646"])
        // No port to offset: passed on as given, for the broker to refuse with its own message.
        let odd = try Self.threeNodes(overrides: ["runnel.metrics.listener=nonsense"])
        #expect(odd.nodes.map { node in odd.properties(of: node).first { $0.key == "runnel.metrics.listener" }?.value }
                == Array(repeating: "nonsense", count: 3))
    }

    @Test func overrideWithoutEqualsIsRefused() {
        #expect(throws: ConfigError.self) { try Self.threeNodes(overrides: ["num.partitions"]) }
    }

    @Test func theNodesShareOneClusterIDAcrossRestarts() throws {
        let dir = try TemporaryDirectory(prefix: "runnel-dev-meta")
        defer { dir.remove() }
        let cluster = try Self.threeNodes(directory: dir.file("dev-3"))
        let id = try DevDirectory.prepare(cluster)
        for node in cluster.nodes {
            let meta = try MetaProperties.read(dataDirectory: node.directory)
            #expect(meta?.clusterID == id)
            #expect(meta?.nodeID == String(node.id))
            #expect(try MetaProperties.load(dataDirectory: node.directory, nodeID: BrokerID(node.id)) == id)
        }
        // A node added later joins the same cluster; the others keep their id.
        let four = try DevCluster(nodeCount: 4, directory: dir.file("dev-3"), clientPorts: [1, 2, 3, 4],
                                  controllerPorts: [5, 6, 7, 8])
        #expect(try DevDirectory.prepare(four) == id)
        #expect(try MetaProperties.read(dataDirectory: four.nodes[3].directory)?.clusterID == id)
    }

    @Test func nodesOfDifferentClustersAreRefused() throws {
        let dir = try TemporaryDirectory(prefix: "runnel-dev-mixed")
        defer { dir.remove() }
        let cluster = try Self.threeNodes(directory: dir.file("dev-3"))
        try DevDirectory.prepare(cluster)
        try MetaProperties.format(dataDirectory: cluster.nodes[2].directory, nodeID: BrokerID(3), clusterID: "other")
        #expect(throws: ConfigError.self) { try DevDirectory.prepare(cluster) }
    }

    @Test func freshWipesOnlyADevDirectory() throws {
        let dir = try TemporaryDirectory(prefix: "runnel-dev-wipe")
        defer { dir.remove() }
        // Missing or empty: nothing to refuse.
        try DevDirectory.wipe(dir.file("missing"))
        let cluster = try Self.threeNodes(directory: dir.file("dev-3"))
        try DevDirectory.prepare(cluster)
        try Data("x".utf8).write(to: URL(fileURLWithPath: cluster.nodes[0].directory + "/some-partition.log"))
        try DevDirectory.wipe(cluster.directory)
        #expect(!FileManager.default.fileExists(atPath: cluster.directory))

        // A directory without the marker, or with something dev did not create, is kept.
        let foreign = dir.file("home")
        try FileManager.default.createDirectory(atPath: foreign + "/node-1", withIntermediateDirectories: true)
        #expect(DevDirectory.refusal(foreign)?.contains("no .runnel-dev file") == true)
        #expect(throws: ConfigError.self) { try DevDirectory.wipe(foreign) }
        #expect(throws: ConfigError.self) { try DevDirectory.prepare(try Self.threeNodes(directory: foreign)) }
        try Data().write(to: URL(fileURLWithPath: foreign + "/" + DevDirectory.markerName))
        try Data("keep".utf8).write(to: URL(fileURLWithPath: foreign + "/notes.txt"))
        #expect(DevDirectory.refusal(foreign)?.contains("'notes.txt'") == true)
        #expect(throws: ConfigError.self) { try DevDirectory.wipe(foreign) }
        #expect(FileManager.default.fileExists(atPath: foreign + "/notes.txt"))
        // A file is not a directory.
        #expect(DevDirectory.refusal(foreign + "/notes.txt") != nil)
    }

    /// config/cluster-node{1,2,3}.properties are accepted by the broker and use the ports that
    /// `runnel dev --base-port 9092` gives its nodes, as their comments say.
    @Test func theThreeNodeExampleIsWhatDevWritesWithBasePort9092() throws {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        let ports = try DevCluster.consecutivePorts(base: 9092, nodeCount: 3)
        let voters = (0..<3).map { "\($0 + 1)@localhost:\(ports.controllers[$0])" }.joined(separator: ",")
        for i in 0..<3 {
            let file = root.appendingPathComponent("config/cluster-node\(i + 1).properties").path
            let config = try BrokerConfig(file: file)
            #expect(config.nodeID.rawValue == Int32(i + 1))
            #expect(config.string("process.roles") == "broker,controller")
            #expect(config.string("controller.quorum.voters") == voters)
            #expect(config.string("controller.listener.names") == "CONTROLLER")
            #expect(config.listeners == [Listener(name: "PLAINTEXT", host: "localhost", port: ports.clients[i]),
                                         Listener(name: "CONTROLLER", host: "localhost", port: ports.controllers[i])])
            #expect(config.advertisedListeners == [Listener(name: "PLAINTEXT", host: "localhost", port: ports.clients[i])])
            #expect(config.dataDirectory == "./data/node-\(i + 1)")
            // The example survives the loss of a node: three replicas, two needed for acks=all.
            #expect(config.int("default.replication.factor") == 3)
            #expect(config.int("offsets.topic.replication.factor") == 3)
            #expect(config.int("min.insync.replicas") == 2)
        }
    }
}
