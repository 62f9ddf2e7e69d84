import ArgumentParser
import Foundation
import RunnelServer

/// `runnel dev`: a local cluster of N `runnel broker` processes, each broker and controller,
/// until Ctrl-C or SIGTERM.
struct DevCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run a local cluster: N broker processes, each also a controller, until Ctrl-C.",
        discussion: """
            Every node gets node.id 1..N, a PLAINTEXT listener for clients and a CONTROLLER listener \
            on 127.0.0.1, and all nodes are the controller.quorum.voters. Each node's configuration \
            is written to <data>/node-<id>/server.properties. Prints 'bootstrap: host:port,...' once \
            every node accepts connections, and each node's log lines prefixed with '[node <id>]'. \
            Ctrl-C or SIGTERM stops every node (SIGTERM, SIGKILL after 30 s) and exits 0 when all \
            stopped cleanly; a node that exits by itself stops the others and exits 1.
            """
    )

    @Option(name: .long, help: "Number of nodes, 1 to 9.")
    var nodes: Int = 3

    @Option(name: .customLong("base-port"),
            help: ArgumentHelp("Client ports P..P+N-1 and controller ports P+100..P+100+N-1 (default: free ports).",
                               valueName: "P"))
    var basePort: Int?

    @Option(name: .long, help: ArgumentHelp("The cluster's data directory (default: ./data/dev-N).", valueName: "DIR"))
    var data: String?

    @Flag(name: .long, help: "Delete the data directory first (only one that runnel dev created).")
    var fresh = false

    @Option(name: .long, help: ArgumentHelp("Set one broker key on every node (repeatable).", valueName: "key=value"))
    var override: [String] = []

    /// How long the nodes get to stop after SIGTERM before they are killed.
    static let stopGraceSeconds: Double = 30

    func validate() throws {
        guard DevCluster.nodeCounts.contains(nodes) else {
            throw ValidationError("--nodes must be between \(DevCluster.nodeCounts.lowerBound) and \(DevCluster.nodeCounts.upperBound), got \(nodes)")
        }
    }

    func run() throws {
        let cluster: DevCluster
        do {
            cluster = try plan()
            if fresh { try DevDirectory.wipe(cluster.directory) }
            try DevDirectory.prepare(cluster)
        } catch {
            FileHandle.standardError.write(Data("runnel dev: \(error)\n".utf8))
            throw ExitCode(2)
        }
        // Every node would refuse a bad --override the same way: say it once, before starting any.
        for node in cluster.nodes {
            do {
                _ = try BrokerConfig(file: node.propertiesFile)
            } catch {
                FileHandle.standardError.write(Data("runnel dev: configuration error in \(node.propertiesFile): \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
        let supervisor = DevSupervisor(cluster: cluster, executable: Self.runningExecutable(),
                                       stopGraceSeconds: Self.stopGraceSeconds)
        let code = supervisor.run()
        if code != 0 { throw ExitCode(code) }
    }

    /// The nodes, their ports and the directory, from the options.
    func plan() throws -> DevCluster {
        let directory = Self.absolute(data ?? DevCluster.defaultDirectory(nodeCount: nodes))
        let ports: (clients: [Int], controllers: [Int])
        if let basePort {
            ports = try DevCluster.consecutivePorts(base: basePort, nodeCount: nodes)
            try LoopbackPorts.checkFree(ports.clients + ports.controllers)
        } else {
            let free = try LoopbackPorts.free(count: 2 * nodes)
            ports = (Array(free[..<nodes]), Array(free[nodes...]))
        }
        return try DevCluster(nodeCount: nodes, directory: directory, clientPorts: ports.clients,
                              controllerPorts: ports.controllers, overrides: override)
    }

    /// `path` made absolute against the working directory, so that the generated files name it
    /// whatever directory a node is started from.
    static func absolute(_ path: String) -> String {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path)
            : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path)
        return url.standardizedFileURL.path
    }

    /// The binary that is running now, so that the nodes run exactly this build.
    static func runningExecutable() -> String {
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
        return Bundle.main.executablePath ?? CommandLine.arguments[0]
    }
}
