import Foundation

/// A real multi-node cluster of `runnel broker` processes on loopback ports, every node broker and
/// controller (a voter of the metadata quorum), data in temporary directories formatted with one
/// cluster id (as `kafka-storage format` or `runnel dev` would). Every process is stopped by its
/// PID in `stop()` and when the cluster is dropped.
public final class TestCluster: @unchecked Sendable {
    // @unchecked: owned by the one test that made it.
    public let nodes: [BrokerProcess]
    public let controllerPorts: [Int]
    public let clusterID: String

    /// `size` nodes that are broker and controller (the voters), then `brokerOnly` nodes with
    /// only the broker role (learners of the quorum), ids continuing after the voters.
    /// `overrides` apply to every node (e.g. shorter sessions for fail-over tests).
    public init(size: Int, brokerOnly: Int = 0, overrides: [String] = []) throws {
        var clients: [Int] = []
        var controllers: [Int] = []
        for _ in 0..<size {
            clients.append(try freeLoopbackPort())
            controllers.append(try freeLoopbackPort())
        }
        for _ in 0..<brokerOnly { clients.append(try freeLoopbackPort()) }
        controllerPorts = controllers
        clusterID = "runnel-test-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let voters = (0..<size).map { "\($0 + 1)@127.0.0.1:\(controllers[$0])" }.joined(separator: ",")
        var made: [BrokerProcess] = []
        for i in 0..<(size + brokerOnly) {
            let id = i + 1
            let isVoter = i < size
            let listeners = isVoter ? "PLAINTEXT://127.0.0.1:\(clients[i]),CONTROLLER://127.0.0.1:\(controllers[i])"
                                    : "PLAINTEXT://127.0.0.1:\(clients[i])"
            let node = try BrokerProcess(overrides: [
                "node.id=\(id)",
                "process.roles=\(isVoter ? "broker,controller" : "broker")",
                "listeners=\(listeners)",
                "advertised.listeners=PLAINTEXT://127.0.0.1:\(clients[i])",
                "controller.listener.names=CONTROLLER",
                "controller.quorum.voters=\(voters)",
            ] + overrides, port: clients[i])
            let data = node.dataDirectory.file("data")
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            try "version=1\nnode.id=\(id)\ncluster.id=\(clusterID)\n".write(toFile: data + "/meta.properties", atomically: true,
                                                                          encoding: .utf8)
            made.append(node)
        }
        nodes = made
    }

    public var bootstrap: String { nodes.map(\.bootstrap).joined(separator: ",") }

    /// Launches every node, then waits until each serves clients.
    public func start(timeoutSeconds: Double = 30) throws {
        for node in nodes { try node.launch() }
        for node in nodes { try node.waitUntilReady(timeoutSeconds: timeoutSeconds) }
    }

    /// Node `id` (1-based).
    public func node(_ id: Int) -> BrokerProcess { nodes[id - 1] }

    /// The nodes' logs, for a failure report.
    public var logs: String {
        nodes.enumerated().map { "---- node \($0.offset + 1)\n" + String($0.element.log.suffix(3000)) }.joined(separator: "\n")
    }

    public func stop() {
        for node in nodes where node.isRunning { node.stop(signal: SIGKILL) }
        for node in nodes { node.dataDirectory.remove() }
    }

    deinit { stop() }
}
