// ClusterSimulation — the deterministic simulator behind `cluster-sim`, one level above
// `raft-sim`: 3–5 combined broker+controller nodes and up to 3 broker-only observers in one
// process, each running the real pure modules — a `RaftNode` for the metadata quorum (observers
// as learners), `MetadataImage` built from its committed `MetadataRecord` batches,
// `MetadataController` on the active controller, and per partition replica a `LeaderState`,
// `LeaderEpochCache`, `FollowerTruncation` and `ProducerStateTable` — over a simulated network
// (loss, delay, reordering, duplication, one-way and full partitions), a simulated clock and
// simulated disks that lose unsynced writes on a crash. A seeded workload creates topics,
// produces (acks=all and acks=1, idempotent and not) and consumes. Invariants are checked after
// every event; then a liveness phase heals everything and requires a leader for every partition,
// every acknowledged record readable and a new acks=all write acknowledged.
//
// What the broker's shell does around the pure modules (Partition, ReplicaFetchers, the produce
// and fetch handlers, the controller service) is modelled in this module, rule for rule; where
// it is modelled rather than shared, the file says which shell code it mirrors.

/// What one simulation run does.
public struct ClusterSimulationOptions: Sendable {
    public var seed: UInt64
    /// Combined broker+controller nodes (the Raft voters), 3 ... 5.
    public var nodes: Int
    /// Broker-only nodes (Raft learners), 0 ... 3.
    public var observers: Int
    /// Events in the chaos phase (the liveness phase comes on top).
    public var steps: Int
    /// A name from `ClusterSimulation.canaryNames`, or nil.
    public var canary: String?
    /// Record every event in `ClusterSimulationReport.trace`.
    public var trace: Bool

    public init(seed: UInt64, nodes: Int = 3, observers: Int = 0, steps: Int = 1500, canary: String? = nil,
                trace: Bool = false) {
        self.seed = seed
        self.nodes = nodes
        self.observers = observers
        self.steps = steps
        self.canary = canary
        self.trace = trace
    }
}

/// A broken invariant: which, why, and at which event.
public struct ClusterViolation: Error, Hashable, Sendable, CustomStringConvertible {
    public var invariant: String
    public var detail: String
    public var event: Int
    public var description: String { "\(invariant): \(detail) (event \(event))" }
}

public struct ClusterSimulationReport: Sendable {
    public var seed: UInt64
    public var violation: ClusterViolation?
    /// The events just before the violation (at most `ClusterSimulation.historyEventsMax`).
    public var history: [String]
    /// Every event, when tracing; byte-identical for the same options.
    public var trace: [String]
    public var events: Int
    /// Records acknowledged to producers: acks=all, and acks=1.
    public var ackedAll: Int
    public var ackedOne: Int
    /// Leader epochs seen over all partitions (leader changes + 1 per partition).
    public var leaderEpochs: Int
    /// Records below the high watermark at the end, over all partitions.
    public var committed: Int
}

public enum ClusterSimulation {
    /// How many events a violation report repeats.
    public static let historyEventsMax = 40

    /// The canaries `ClusterSimulationOptions.canary` accepts, one per deliberately broken rule.
    public static var canaryNames: [String] { ClusterCanary.allCases.map(\.rawValue) }

    /// Runs one seed. An unknown canary name or a node count out of range is a programmer error
    /// (the CLI validates them).
    public static func run(_ options: ClusterSimulationOptions) -> ClusterSimulationReport {
        precondition((3...5).contains(options.nodes), "nodes must be 3 ... 5")
        precondition((0...3).contains(options.observers), "observers must be 0 ... 3")
        let canary = options.canary.map { name -> ClusterCanary in
            guard let canary = ClusterCanary(rawValue: name) else { preconditionFailure("unknown canary \(name)") }
            return canary
        }
        var cluster = Cluster(options: options, canary: canary)
        cluster.run()
        return cluster.report
    }
}
