/// The local cluster `runnel dev` runs: N nodes on 127.0.0.1, every one both broker and
/// controller, configured exactly as a KRaft operator configures combined nodes — ids 1…N, a
/// PLAINTEXT listener for clients and a CONTROLLER listener for the quorum on each, and every
/// node listed in `controller.quorum.voters`. A value: it computes the nodes, their ports,
/// directories and properties; `DevDirectory` does the file work and `runnel dev` the processes.
public struct DevCluster: Sendable, Equatable {
    public static let nodeCounts = 1...9
    /// With a base port P, node i's client listener is P+i-1 and its controller listener P+100+i-1.
    public static let controllerPortOffset = 100
    /// Each node's generated configuration, in its data directory (Kafka's file name).
    public static let propertiesFileName = "server.properties"

    /// Keys that give a node its identity, addresses, roles, quorum or directory. `runnel dev`
    /// owns them (--nodes, --base-port and --data choose them), so --override may not set them.
    public static let ownedKeys: Set<String> = [
        "node.id", "process.roles", "listeners", "advertised.listeners", "controller.listener.names",
        "controller.quorum.voters", "log.dirs", "log.dir",
    ]

    public struct Node: Sendable, Equatable {
        public let id: Int32
        public let clientPort: Int
        public let controllerPort: Int
        /// The node's `log.dirs`: `<cluster directory>/node-<id>`.
        public let directory: String

        public var clientAddress: String { "127.0.0.1:\(clientPort)" }
        public var controllerAddress: String { "127.0.0.1:\(controllerPort)" }
        public var propertiesFile: String { directory + "/" + DevCluster.propertiesFileName }
    }

    /// One `--override key=value`, in the order given.
    public struct Override: Sendable, Equatable {
        public let key: String
        public let value: String
    }

    /// The cluster's directory; each node's data is in `node-<id>` below it.
    public let directory: String
    public let nodes: [Node]
    /// The overrides every node gets; a key given twice keeps its last value, in its first place.
    public let overrides: [Override]

    /// `./data/dev-N` (relative to the working directory) unless --data says otherwise.
    public static func defaultDirectory(nodeCount: Int) -> String { "./data/dev-\(nodeCount)" }

    /// The name of node `id`'s directory below the cluster directory.
    public static func nodeDirectoryName(_ id: Int32) -> String { "node-\(id)" }

    /// Client ports base…base+N-1 and controller ports base+100…base+100+N-1.
    public static func consecutivePorts(base: Int, nodeCount: Int) throws(ConfigError) -> (clients: [Int], controllers: [Int]) {
        let last = base + controllerPortOffset + nodeCount - 1
        guard base >= 1, last <= 65535 else {
            throw ConfigError("--base-port \(base) does not leave room for \(nodeCount) client ports and \(nodeCount) controller ports "
                + "(up to base+\(controllerPortOffset + nodeCount - 1)) below 65536")
        }
        let clients = Array(base..<(base + nodeCount))
        return (clients, clients.map { $0 + controllerPortOffset })
    }

    public init(nodeCount: Int, directory: String, clientPorts: [Int], controllerPorts: [Int],
                overrides: [String] = []) throws(ConfigError) {
        guard Self.nodeCounts.contains(nodeCount) else {
            throw ConfigError("--nodes must be between \(Self.nodeCounts.lowerBound) and \(Self.nodeCounts.upperBound), got \(nodeCount)")
        }
        guard clientPorts.count == nodeCount, controllerPorts.count == nodeCount else {
            throw ConfigError("\(nodeCount) nodes need \(nodeCount) client and \(nodeCount) controller ports")
        }
        let ports = clientPorts + controllerPorts
        guard Set(ports).count == ports.count, ports.allSatisfy({ (1...65535).contains($0) }) else {
            throw ConfigError("ports \(ports.map(String.init).joined(separator: ",")) are not \(ports.count) distinct ports in 1-65535")
        }
        self.directory = directory
        nodes = (0..<nodeCount).map { i in
            let id = Int32(i + 1)
            let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
            return Node(id: id, clientPort: clientPorts[i], controllerPort: controllerPorts[i],
                        directory: base + "/" + Self.nodeDirectoryName(id))
        }
        var parsed: [Override] = []
        for item in overrides {
            guard let eq = item.firstIndex(of: "=") else { throw ConfigError("override '\(item)' is not key=value") }
            let key = String(item[..<eq]).trimmingWhitespace()
            let value = String(item[item.index(after: eq)...]).trimmingWhitespace()
            guard !Self.ownedKeys.contains(key) else {
                throw ConfigError("--override \(key) is set by runnel dev for each node (use --nodes, --base-port or --data)")
            }
            if let at = parsed.firstIndex(where: { $0.key == key }) {
                parsed[at] = Override(key: key, value: value)
            } else {
                parsed.append(Override(key: key, value: value))
            }
        }
        self.overrides = parsed
    }

    /// The list clients bootstrap from: every node's client listener.
    public var bootstrap: String { nodes.map(\.clientAddress).joined(separator: ",") }

    /// `controller.quorum.voters`: every node, as id@host:port of its CONTROLLER listener.
    public var quorumVoters: String { nodes.map { "\($0.id)@\($0.controllerAddress)" }.joined(separator: ",") }

    /// One generated line of a node's configuration.
    public struct Property: Sendable, Equatable {
        public let key: String
        public let value: String
        public let comment: String
    }

    /// What `runnel dev` sets for `node`, before overrides, with a comment for each key.
    public func generatedProperties(of node: Node) -> [Property] {
        [
            Property(key: "process.roles", value: "broker,controller",
                     comment: "Both roles: this node serves clients and is a voter of the metadata quorum."),
            Property(key: "node.id", value: String(node.id), comment: "Unique in the cluster; also its id in the quorum."),
            Property(key: "controller.quorum.voters", value: quorumVoters,
                     comment: "Every voter as id@host:port of its CONTROLLER listener; the same line on every node."),
            Property(key: "listeners", value: "PLAINTEXT://\(node.clientAddress),CONTROLLER://\(node.controllerAddress)",
                     comment: "Clients connect to PLAINTEXT; the other voters reach this one on CONTROLLER."),
            Property(key: "advertised.listeners", value: "PLAINTEXT://\(node.clientAddress)",
                     comment: "What Metadata tells clients; never the CONTROLLER listener."),
            Property(key: "controller.listener.names", value: "CONTROLLER",
                     comment: "Which listener carries the quorum's traffic."),
            Property(key: "inter.broker.listener.name", value: "PLAINTEXT",
                     comment: "The listener brokers use to reach each other."),
            Property(key: "listener.security.protocol.map", value: "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                     comment: "Both listeners speak plain TCP."),
            Property(key: "log.dirs", value: node.directory,
                     comment: "This node's own data: partitions, the metadata log, meta.properties."),
        ]
    }

    /// `node`'s whole configuration: the generated keys with overrides applied (an override of a
    /// generated key replaces its value), then the other overrides.
    public func properties(of node: Node) -> [Property] {
        let generated = generatedProperties(of: node)
        let replaced = generated.map { p in
            overrides.last(where: { $0.key == p.key }).map { Property(key: p.key, value: $0.value, comment: "From --override.") } ?? p
        }
        let added = overrides.filter { o in !generated.contains(where: { $0.key == o.key }) }
            .map { o in
                if o.key == "runnel.metrics.listener", let perNode = Self.metricsListener(o.value, node: node) {
                    return Property(key: o.key, value: perNode,
                                    comment: "From --override, its port plus \(node.id - 1): each node has its own metrics port.")
                }
                return Property(key: o.key, value: o.value, comment: "From --override.")
            }
        return replaced + added
    }

    /// `runnel.metrics.listener` for `node`: the given URL's port plus the node's index, so that
    /// one --override gives node 1 the port named and the others the ones after it (the nodes
    /// share one host). nil when the value has no port to offset (the broker then refuses it).
    static func metricsListener(_ value: String, node: Node) -> String? {
        var url = value
        let slash = url.hasSuffix("/") ? "/" : ""
        if !slash.isEmpty { url.removeLast() }
        guard let colon = url.lastIndex(of: ":"), let port = Int(url[url.index(after: colon)...]),
              url[..<colon].contains("//") else { return nil }
        let shifted = port + Int(node.id) - 1
        guard (1...65535).contains(shifted) else { return nil }
        return String(url[..<colon]) + ":" + String(shifted) + slash
    }

    /// The text of `node`'s properties file: every line of `properties(of:)`, each after its comment.
    public func propertiesText(of node: Node) -> String {
        var text = """
            # Written by `runnel dev` for node \(node.id) of a local \(nodes.count)-node cluster, and written again at
            # every start: this is the whole configuration the node runs with
            # (runnel broker --config \(node.propertiesFile)).

            """
        for p in properties(of: node) {
            text += "\n# \(p.comment)\n\(p.key)=\(p.value)\n"
        }
        return text
    }
}
