// RaftSimulation — the deterministic simulator behind `raft-sim` (TigerBeetle's VOPR idea): up
// to five voters, four learners and a spare node in one process, a simulated network (loss,
// delay, reordering, duplication, two- and one-way partitions), crashes that lose whatever was
// not yet durable (including a torn tail of the last write), and simulated time — all drawn
// from one seed, so a failing seed replays exactly. Invariants are checked after every event;
// then a liveness phase heals everything and requires a leader and progress, applied on every
// voter and learner, within a bound.
//
// It lives in RaftCore (not in the executable) so the test target can run thousands of seeds in
// process, and so canaries stay internal to the module.

/// What one simulation run does.
public struct RaftSimulationOptions: Sendable {
    public var seed: UInt64
    /// Initial voters, 1 ... 5. With fewer than 5 a spare node exists for membership changes.
    public var voters: Int
    /// Founding learners, 0 ... 4 (ids after the voters'). With learners, membership changes
    /// also add, promote and remove learners.
    public var learners: Int
    /// Events in the chaos phase (the liveness phase comes on top).
    public var steps: Int
    /// A name from `RaftSimulation.canaryNames`, or nil.
    public var canary: String?
    /// Record every event in `RaftSimulationReport.trace`.
    public var trace: Bool

    public init(seed: UInt64, voters: Int = 3, learners: Int = 0, steps: Int = 1000, canary: String? = nil, trace: Bool = false) {
        self.seed = seed
        self.voters = voters
        self.learners = learners
        self.steps = steps
        self.canary = canary
        self.trace = trace
    }
}

/// A broken invariant: which, why, and at which event.
public struct RaftViolation: Error, Hashable, Sendable, CustomStringConvertible {
    public var invariant: String
    public var detail: String
    public var event: Int
    public var description: String { "\(invariant): \(detail) (event \(event))" }
}

public struct RaftSimulationReport: Sendable {
    public var seed: UInt64
    public var violation: RaftViolation?
    /// The events just before the violation (at most `RaftSimulation.historyEventsMax`).
    public var history: [String]
    /// Every event, when tracing; byte-identical for the same options.
    public var trace: [String]
    public var events: Int
    /// The highest index known committed at the end.
    public var commitIndex: LogIndex
    /// Distinct (term, leader) pairs seen.
    public var leadersElected: Int
}

public enum RaftSimulation {
    /// How many events a violation report repeats.
    public static let historyEventsMax = 40

    /// The canaries `RaftSimulationOptions.canary` accepts, one per deliberately broken behaviour.
    public static var canaryNames: [String] { RaftCanary.allCases.map(\.rawValue) }

    /// Runs one seed. An unknown canary name, a voter count outside 1 ... 5 or a learner count
    /// outside 0 ... 4 is a programmer error (the CLI validates them).
    public static func run(_ options: RaftSimulationOptions) -> RaftSimulationReport {
        precondition((1...5).contains(options.voters), "voters must be 1 ... 5")
        precondition((0...4).contains(options.learners), "learners must be 0 ... 4")
        let canary = options.canary.map { name -> RaftCanary in
            guard let canary = RaftCanary(rawValue: name) else { preconditionFailure("unknown canary \(name)") }
            return canary
        }
        var simulator = Simulator(options: options, canary: canary)
        simulator.run()
        return simulator.report
    }
}
