// cluster-sim — runs ClusterSimulation over many seeds. See `usage` below; exit 0 when no
// invariant broke, 1 on a violation (with the seed, the invariant, the history and the command
// that replays it), 2 on bad arguments.
import ClusterSim
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let usage = """
    usage: cluster-sim --seeds N [--first-seed S] [--nodes K] [--observers L] [--steps M] [--canary NAME] [--trace] [--keep-going]
           cluster-sim --list-canaries
    """

struct Arguments {
    var seeds = 1
    var firstSeed: UInt64 = 1
    /// Combined broker+controller nodes, 3 ... 5; without it, seeds cycle through 3 ... 5.
    var nodes: Int?
    /// Broker-only nodes, 0 ... 3.
    var observers = 0
    var steps = 1500
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
        case "--nodes": guard let v = value().flatMap(Int.init), (3...5).contains(v) else { return nil }; result.nodes = v
        case "--observers": guard let v = value().flatMap(Int.init), (0...3).contains(v) else { return nil }; result.observers = v
        case "--steps": guard let v = value().flatMap(Int.init), v > 0 else { return nil }; result.steps = v
        case "--canary":
            guard let v = value(), ClusterSimulation.canaryNames.contains(v) else { return nil }
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
    for name in ClusterSimulation.canaryNames { print(name) }
    exit(0)
}

func replayCommand(seed: UInt64, nodes: Int) -> String {
    "cluster-sim --seeds 1 --first-seed \(seed) --nodes \(nodes) --observers \(arguments.observers) --steps \(arguments.steps)"
        + (arguments.canary.map { " --canary \($0)" } ?? "") + " --trace"
}

var totals = (events: 0, ackedAll: 0, ackedOne: 0, epochs: 0, committed: 0)
var violations = 0
for offset in 0..<arguments.seeds {
    let seed = arguments.firstSeed &+ UInt64(offset)
    let nodes = arguments.nodes ?? Int(seed % 3) + 3
    let options = ClusterSimulationOptions(seed: seed, nodes: nodes, observers: arguments.observers, steps: arguments.steps,
                                           canary: arguments.canary, trace: arguments.trace)
    let report = ClusterSimulation.run(options)
    totals.events += report.events
    totals.ackedAll += report.ackedAll
    totals.ackedOne += report.ackedOne
    totals.epochs += report.leaderEpochs
    totals.committed += report.committed
    if arguments.trace {
        print("seed \(seed) nodes \(nodes) observers \(arguments.observers)")
        for line in report.trace { print(line) }
    }
    guard let violation = report.violation else { continue }
    violations += 1
    if arguments.keepGoing {
        print("VIOLATION seed=\(seed) nodes=\(nodes) observers=\(arguments.observers) \(violation)")
        continue
    }
    print("VIOLATION seed=\(seed) nodes=\(nodes) observers=\(arguments.observers) steps=\(arguments.steps)"
          + (arguments.canary.map { " canary=\($0)" } ?? ""))
    print("invariant: \(violation.invariant)")
    print("detail: \(violation.detail) (event \(violation.event))")
    print("history:")
    for line in report.history { print("  " + line) }
    print("replay: " + replayCommand(seed: seed, nodes: nodes))
    exit(1)
}
if violations > 0 {
    print("\(violations) of \(arguments.seeds) seeds violated an invariant")
    exit(1)
}
print("ok: \(arguments.seeds) seeds from \(arguments.firstSeed), \(totals.events) events, \(totals.ackedAll) acks=all and "
      + "\(totals.ackedOne) acks=1 records acknowledged, \(totals.committed) committed, \(totals.epochs) leader epochs, no violation")
