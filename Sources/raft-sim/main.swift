// raft-sim — runs RaftSimulation over many seeds. See `usage` below; exit 0 when no invariant
// broke, 1 on a violation (with the seed, the invariant and the history), 2 on bad arguments.
import RaftCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let usage = """
    usage: raft-sim --seeds N [--first-seed S] [--voters K] [--learners L] [--steps M] [--canary NAME] [--trace] [--keep-going]
           raft-sim --list-canaries
    """

struct Arguments {
    var seeds = 1
    var firstSeed: UInt64 = 1
    var voters: Int?
    /// Founding learners per run, 0 ... 4.
    var learners = 0
    var steps = 1000
    var canary: String?
    var trace = false
    var listCanaries = false
    /// Report every violating seed (one line each) instead of stopping at the first.
    var keepGoing = false
}

func parse(_ args: [String]) -> Arguments? {
    var result = Arguments()
    var i = 0
    func value() -> String? {
        i += 1
        return i < args.count ? args[i] : nil
    }
    while i < args.count {
        switch args[i] {
        case "--seeds": guard let v = value().flatMap(Int.init), v > 0 else { return nil }; result.seeds = v
        case "--first-seed": guard let v = value().flatMap(UInt64.init) else { return nil }; result.firstSeed = v
        case "--voters": guard let v = value().flatMap(Int.init), (1...5).contains(v) else { return nil }; result.voters = v
        case "--learners": guard let v = value().flatMap(Int.init), (0...4).contains(v) else { return nil }; result.learners = v
        case "--steps": guard let v = value().flatMap(Int.init), v > 0 else { return nil }; result.steps = v
        case "--canary":
            guard let v = value(), RaftSimulation.canaryNames.contains(v) else { return nil }
            result.canary = v
        case "--trace": result.trace = true
        case "--list-canaries": result.listCanaries = true
        case "--keep-going": result.keepGoing = true
        default: return nil
        }
        i += 1
    }
    return result
}

guard let arguments = parse(Array(CommandLine.arguments.dropFirst())) else {
    print(usage)
    exit(2)
}
if arguments.listCanaries {
    for name in RaftSimulation.canaryNames { print(name) }
    exit(0)
}

var totalEvents = 0
var violations = 0
var totalCommitted = 0
var totalLeaders = 0
for offset in 0..<arguments.seeds {
    let seed = arguments.firstSeed &+ UInt64(offset)
    // Without --voters, cycle 1 ... 5 voters over the seeds.
    let voters = arguments.voters ?? Int(seed % 5) + 1
    let options = RaftSimulationOptions(seed: seed, voters: voters, learners: arguments.learners, steps: arguments.steps,
                                        canary: arguments.canary, trace: arguments.trace)
    let report = RaftSimulation.run(options)
    totalEvents += report.events
    totalCommitted += Int(report.commitIndex.rawValue)
    totalLeaders += report.leadersElected
    if arguments.trace {
        print("seed \(seed) voters \(voters)" + (arguments.learners > 0 ? " learners \(arguments.learners)" : ""))
        for line in report.trace { print(line) }
    }
    if let violation = report.violation, arguments.keepGoing {
        violations += 1
        print("VIOLATION seed=\(seed) voters=\(voters) learners=\(arguments.learners) \(violation)")
    } else if let violation = report.violation {
        print("VIOLATION seed=\(seed) voters=\(voters) learners=\(arguments.learners) steps=\(arguments.steps)\(arguments.canary.map { " canary=\($0)" } ?? "")")
        print("invariant: \(violation.invariant)")
        print("detail: \(violation.detail) (event \(violation.event))")
        print("history:")
        for line in report.history { print("  " + line) }
        print("replay: raft-sim --seeds 1 --first-seed \(seed) --voters \(voters) --learners \(arguments.learners) --steps \(arguments.steps)"
              + (arguments.canary.map { " --canary \($0)" } ?? "") + " --trace")
        exit(1)
    }
}
if violations > 0 {
    print("\(violations) of \(arguments.seeds) seeds violated an invariant")
    exit(1)
}
print("ok: \(arguments.seeds) seeds from \(arguments.firstSeed), \(totalEvents) events, "
      + "\(totalCommitted) entries committed, \(totalLeaders) leaders elected, no violation")
