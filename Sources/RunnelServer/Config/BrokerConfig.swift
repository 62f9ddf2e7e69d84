import Foundation
import RunnelClient
import RunnelCore

/// The broker's resolved configuration. Sources, lowest precedence first: the embedded defaults
/// (a single node on localhost:9092 with data in ./data), the `--config` properties file,
/// `RUNNEL_*` environment variables (`RUNNEL_LOG_DIRS` → `log.dirs`), then `--override k=v`.
/// Unknown keys and bad values throw a `ConfigError` naming the key, value and what is allowed.
public struct BrokerConfig: Sendable {
    /// Where each explicitly set value came from (for DescribeConfigs and error messages).
    public enum Source: String, Sendable {
        case defaultValue = "default", file, environment, override
        /// From the metadata log (AlterConfigs): this broker's own, or the cluster-wide default.
        case dynamicBroker = "dynamic", dynamicDefault = "dynamic default"
    }

    /// Normalized values of every set key (explicit or defaulted).
    public private(set) var values: [String: String]
    public private(set) var sources: [String: Source]
    /// Dynamic keys from the metadata log (see `withDynamic`): this broker's, and the cluster-wide
    /// defaults. Both override the static values above.
    public private(set) var dynamicValues: [String: String] = [:]
    public private(set) var dynamicDefaults: [String: String] = [:]

    // Typed views, derived once.
    public let nodeID: BrokerID
    public let listeners: [Listener]
    public let advertisedListeners: [Listener]
    public let dataDirectory: String
    public let requestBytesMax: Int
    public let networkThreads: Int
    public let ioThreads: Int
    /// controller.quorum.voters, parsed; empty means this node alone (a one-voter quorum).
    public let quorumVoters: [QuorumVoter]
    /// process.roles includes "controller".
    public let isController: Bool
    /// process.roles includes "broker".
    public let isBroker: Bool
    /// `runnel.metrics.listener`: where /metrics and /health are served (nil: off).
    public let metricsListener: MetricsListener?
    /// Each listener's security protocol, from listener.security.protocol.map (a listener not in
    /// the map is named after its protocol, as in Kafka).
    public let listenerProtocols: [String: SecurityProtocol]
    /// The TLS contexts of the SSL and SASL_SSL listeners and of this node's own connections,
    /// loaded by `loadingTLS()` (BrokerRuntime does, before anything else; D162).
    public private(set) var tls = BrokerTLS.none

    public init(file: String? = nil, environment: [String: String] = [:], overrides: [String] = []) throws(ConfigError) {
        var values: [String: String] = [:]
        var sources: [String: Source] = [:]
        for key in BrokerKeys.all { if let d = key.defaultValue { values[key.name] = d; sources[key.name] = .defaultValue } }

        func set(_ name: String, _ raw: String, _ source: Source, origin: String) throws(ConfigError) {
            guard let key = BrokerKeys.byName[name] ?? SSLKeys.listenerOverride(name) else {
                throw ConfigError("unknown configuration key '\(name)' (\(origin)); see the README's configuration reference for the keys Runnel accepts")
            }
            do {
                values[key.name] = try key.validate(raw)
            } catch {
                throw ConfigError("\(error.message) (\(origin))")
            }
            sources[key.name] = source
        }

        if let file {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw ConfigError("cannot read config file '\(file)': \(error.localizedDescription)")
            }
            for (line, key, value) in try Self.parseProperties(text, file: file) {
                try set(key, value, .file, origin: "\(file):\(line)")
            }
        }
        for (envName, value) in environment.sorted(by: { $0.key < $1.key }) where envName.hasPrefix("RUNNEL_") {
            let key = envName.dropFirst("RUNNEL_".count).lowercased().replacingOccurrences(of: "_", with: ".")
            // Client-side variables (RUNNEL_BOOTSTRAP_SERVERS) share the prefix; only broker keys apply.
            guard BrokerKeys.byName[key] != nil else { continue }
            try set(key, value, .environment, origin: "environment \(envName)")
        }
        for item in overrides {
            guard let eq = item.firstIndex(of: "=") else {
                throw ConfigError("override '\(item)' is not key=value")
            }
            try set(String(item[..<eq]).trimmingWhitespace(), String(item[item.index(after: eq)...]), .override,
                    origin: "--override")
        }
        self.values = values
        self.sources = sources

        // Derived, cross-key checks.
        nodeID = BrokerID(Int32(values["node.id"]!)!)
        listeners = try Listener.parseList(values["listeners"]!)
        advertisedListeners = try values["advertised.listeners"].map { v throws(ConfigError) in try Listener.parseList(v) } ?? listeners
        let securityMap = Self.securityMap(values["listener.security.protocol.map"]!)
        var protocols: [String: SecurityProtocol] = [:]
        for l in listeners {
            let proto = securityMap[l.name] ?? l.name
            guard let parsed = SecurityProtocol(rawValue: proto) else {
                throw ConfigError("listener '\(l)' has security protocol '\(proto)' (listener.security.protocol.map); "
                    + "expected one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL")
            }
            // Brokers and controllers do not authenticate to each other with SASL (D171).
            let internalNames = [values["inter.broker.listener.name"]!.uppercased()] + values["controller.listener.names"]!.splitList().map { $0.uppercased() }
            if parsed.usesSASL, internalNames.contains(l.name) {
                throw ConfigError("listener '\(l)' uses \(proto), but it is the inter-broker or a controller listener; those must not use SASL")
            }
            protocols[l.name] = parsed
        }
        listenerProtocols = protocols
        let explicitDirs = sources["log.dirs"] != .defaultValue ? values["log.dirs"] : nil
        let dirs = (explicitDirs ?? values["log.dir"] ?? values["log.dirs"]!).splitList()
        guard dirs.count == 1 else {
            throw ConfigError("log.dirs '\(values["log.dirs"]!)' lists \(dirs.count) directories; Runnel uses exactly one")
        }
        dataDirectory = dirs[0]
        requestBytesMax = Int(values["socket.request.max.bytes"]!)!
        networkThreads = Int(values["num.network.threads"]!)!
        ioThreads = Int(values["num.io.threads"]!)!
        let roles = values["process.roles"]!.splitList()
        isController = roles.contains("controller")
        isBroker = roles.contains("broker")
        // Kafka's rule: other brokers reach this one on a listener it has (D167).
        let interBroker = values["inter.broker.listener.name"]!.uppercased()
        if isBroker && !advertisedListeners.contains(where: { $0.name == interBroker }) {
            throw ConfigError("inter.broker.listener.name '\(values["inter.broker.listener.name"]!)' is not one of this broker's "
                + "advertised listeners (\(advertisedListeners.map(\.name).joined(separator: ", "))); set it to the listener other brokers use")
        }
        metricsListener = try MetricsListener.parse(values["runnel.metrics.listener"])
        quorumVoters = try QuorumVoter.parseList(values["controller.quorum.voters"]!)
        if isController && !quorumVoters.isEmpty && !quorumVoters.contains(where: { $0.id == nodeID }) {
            throw ConfigError("controller.quorum.voters '\(values["controller.quorum.voters"]!)' does not list this node (node.id \(nodeID)), "
                + "but process.roles includes controller")
        }
        if !isController && quorumVoters.isEmpty {
            throw ConfigError("process.roles '\(values["process.roles"]!)' has no controller role, so controller.quorum.voters must name the controllers")
        }
        let minSession = Int64(values["group.min.session.timeout.ms"]!)!
        let maxSession = Int64(values["group.max.session.timeout.ms"]!)!
        guard minSession <= maxSession else {
            throw ConfigError("group.min.session.timeout.ms \(minSession) is above group.max.session.timeout.ms \(maxSession)")
        }
    }

    /// This configuration with its TLS files loaded and checked (a bad one throws, naming the key
    /// and the file).
    public func loadingTLS() throws(ConfigError) -> BrokerConfig {
        var copy = self
        copy.tls = try BrokerTLS(config: self)
        return copy
    }

    /// The security protocol of listener `name` (PLAINTEXT when it is not configured).
    public func securityProtocol(ofListener name: String) -> SecurityProtocol {
        listenerProtocols[name] ?? Self.securityMap(values["listener.security.protocol.map"]!)[name].flatMap(SecurityProtocol.init(rawValue:))
            ?? .plaintext
    }

    /// inter.broker.listener.name, upper-cased as listener names are.
    public var interBrokerListenerName: String { values["inter.broker.listener.name"]!.uppercased() }

    /// controller.listener.names, parsed.
    public var controllerListenerNames: [String] { values["controller.listener.names"]!.splitList() }

    /// The voters of the metadata quorum: the configured ones, or this node alone.
    public var effectiveVoters: [BrokerID] { quorumVoters.isEmpty ? [nodeID] : quorumVoters.map(\.id) }

    /// This configuration with the dynamic layers of the metadata log (validated when written).
    public func withDynamic(broker: [String: String], defaults: [String: String]) -> BrokerConfig {
        var copy = self
        copy.dynamicValues = broker
        copy.dynamicDefaults = defaults
        return copy
    }

    public func string(_ key: String) -> String? { dynamicValues[key] ?? dynamicDefaults[key] ?? values[key] }
    public func int(_ key: String) -> Int64? { string(key).flatMap { Int64($0) } }
    public func bool(_ key: String) -> Bool { string(key) == "true" }

    /// log.retention.ms, else minutes, else hours (Kafka's precedence).
    public var retentionMs: Int64 { Int64(resolve(BrokerKeys.chain(of: "log.retention.ms"))!)! }

    /// log.roll.ms, else log.roll.hours.
    public var rollMs: Int64 { Int64(resolve(BrokerKeys.chain(of: "log.roll.ms"))!)! }

    /// Explicitly set broker keys that only supply defaults of topic keys Runnel does not act on
    /// yet (README: "accepted, not yet in effect"), as key=value, sorted.
    public var explicitKeysNotYetInEffect: [String] {
        let active = Set(TopicKeys.all.filter(\.inEffect).flatMap(\.synonyms).map(\.name))
        let pending = Set(TopicKeys.all.filter { !$0.inEffect }.flatMap(\.synonyms).map(\.name)).subtracting(active)
        return pending.filter { sources[$0].map { $0 != .defaultValue } ?? false }.sorted().map { "\($0)=\(values[$0]!)" }
    }

    /// One broker key of a synonym chain that has a value, as DescribeConfigs reports it.
    public struct SynonymValue: Equatable, Sendable {
        public let synonym: BrokerSynonym
        public let value: String
        /// Where it comes from: the dynamic layers, the static configuration, or the key's default.
        public let source: Source
        /// Set by an operator (dynamically, file, environment, --override) rather than by its default.
        public var isExplicit: Bool { source != .defaultValue }
    }

    /// The values of the keys of `chain`, in Kafka's order: this broker's dynamic ones in chain
    /// order, then the cluster-wide dynamic ones, then the statically set ones, then the keys'
    /// defaults (a key set in several layers is listed in each).
    public func synonymValues(_ chain: [BrokerSynonym]) -> [SynonymValue] {
        let dynamic = chain.compactMap { s in dynamicValues[s.name].map { SynonymValue(synonym: s, value: $0, source: .dynamicBroker) } }
        let dynamicDefault = chain.compactMap { s in
            dynamicDefaults[s.name].map { SynonymValue(synonym: s, value: $0, source: .dynamicDefault) }
        }
        let set = chain.compactMap { s in
            sources[s.name].flatMap { $0 == .defaultValue ? nil : SynonymValue(synonym: s, value: values[s.name]!, source: $0) }
        }
        let defaults = chain.compactMap { s in
            BrokerKeys.byName[s.name]?.defaultValue.map { SynonymValue(synonym: s, value: $0, source: .defaultValue) }
        }
        return dynamic + dynamicDefault + set + defaults
    }

    /// The value `chain` resolves to (its first key that has a value), converted to the unit of
    /// `msPerUnit` when the key that supplies it counts in another unit; a negative time stays -1.
    public func resolve(_ chain: [BrokerSynonym], msPerUnit: Int64 = 1) -> String? {
        guard let first = synonymValues(chain).first else { return nil }
        guard first.synonym.msPerUnit != msPerUnit, let n = Int64(first.value) else { return first.value }
        if n < 0 { return "-1" }
        let (product, overflow) = n.multipliedReportingOverflow(by: first.synonym.msPerUnit)
        return String(overflow ? Int64.max : product / msPerUnit)
    }

    static func securityMap(_ text: String) -> [String: String] {
        var map: [String: String] = [:]
        for item in text.splitList() {
            let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
            if parts.count == 2 { map[parts[0].uppercased()] = parts[1].uppercased() }
        }
        return map
    }

    /// Parses Java properties text: `key=value` or `key: value`, `#`/`!` comments, blank lines.
    /// (Line continuations and escapes are not supported; a line ending in `\` is an error.)
    static func parseProperties(_ text: String, file: String) throws(ConfigError) -> [(Int, String, String)] {
        var out: [(Int, String, String)] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw).trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
            if line.hasSuffix("\\") { throw ConfigError("\(file):\(n + 1): line continuations are not supported") }
            guard let sep = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw ConfigError("\(file):\(n + 1): expected key=value, got '\(line)'")
            }
            out.append((n + 1, String(line[..<sep]).trimmingWhitespace(), String(line[line.index(after: sep)...]).trimmingWhitespace()))
        }
        return out
    }
}

/// One entry of controller.quorum.voters: `id@host:port`.
public struct QuorumVoter: Sendable, Equatable, CustomStringConvertible {
    public var id: BrokerID
    public var host: String
    public var port: Int

    public var description: String { "\(id.rawValue)@\(host):\(port)" }

    static func parseList(_ text: String) throws(ConfigError) -> [QuorumVoter] {
        var voters: [QuorumVoter] = []
        for item in text.splitList() {
            guard let at = item.firstIndex(of: "@"), let id = Int32(item[..<at]), id >= 0,
                  let colon = item.lastIndex(of: ":"), colon > at, let port = Int(item[item.index(after: colon)...]),
                  port > 0, port <= 65535 else {
                throw ConfigError("controller.quorum.voters entry '\(item)' is not id@host:port (e.g. 1@localhost:9093)")
            }
            var host = String(item[item.index(after: at)..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { throw ConfigError("controller.quorum.voters entry '\(item)' has no host") }
            guard !voters.contains(where: { $0.id.rawValue == id }) else {
                throw ConfigError("controller.quorum.voters names node \(id) twice")
            }
            voters.append(QuorumVoter(id: BrokerID(id), host: host, port: port))
        }
        return voters
    }
}
