// The cluster simulator as a test: the CI budget of seeds, the canaries, and replay.
import ClusterSim
import Testing

/// Seeds and steps of the CI run: about 30 s in a debug build on the loaded 2-core build
/// machine. The README shows the longer run (cluster-sim --seeds 2000).
let ciSeeds: UInt64 = 200
let ciSteps = 600

/// Nodes cycle through 3 ... 5 with the seed, as `cluster-sim` does without --nodes.
func options(_ seed: UInt64, steps: Int, canary: String? = nil) -> ClusterSimulationOptions {
    ClusterSimulationOptions(seed: seed, nodes: Int(seed % 3) + 3, steps: steps, canary: canary)
}

@Test func simulatorFindsNoViolationOverTheCISeeds() {
    var ackedAll = 0
    var epochs = 0
    for seed in 1...ciSeeds {
        let report = ClusterSimulation.run(options(seed, steps: ciSteps))
        if let violation = report.violation {
            Issue.record("seed \(seed): \(violation)\n\(report.history.joined(separator: "\n"))")
            return
        }
        ackedAll += report.ackedAll
        epochs += report.leaderEpochs
    }
    // The runs must do real work, or "no violation" means nothing (the liveness phase alone
    // acknowledges a write per partition and seed).
    #expect(ackedAll > Int(ciSeeds) * 3)
    #expect(epochs > Int(ciSeeds) * 2)
}

/// Seeds that once broke an invariant past the CI budget, each fixed in the broker's rules
/// (RELIABILITY.md, cluster-sim): they must stay clean. Seconds at most, on top of the CI seeds.
@Test(arguments: [(UInt64(103), 1500), (105, 1500), (342, 1500), (789, 1500), (1476, 1500), (1983, 1500)])
func seedThatOnceFailedStaysClean(_ seed: UInt64, _ steps: Int) {
    let report = ClusterSimulation.run(options(seed, steps: steps))
    #expect(report.violation == nil, "seed \(seed): \(report.violation.map(\.description) ?? "")")
}

/// Every canary must be caught, and soon. Bounds are the first catching seed with headroom
/// (cluster-sim --seeds 30 --canary NAME --keep-going, 1500 steps: hw-outside-isr first at
/// seed 1, 15/30; elect-outside-isr 9, 6/30; truncate-to-hw 1, 7/30; early-ack 1, 11/30;
/// unsynced-position 1, 30/30).
@Test(arguments: [("hw-outside-isr", 8), ("elect-outside-isr", 30), ("truncate-to-hw", 8), ("early-ack", 8),
                  ("unsynced-position", 4)])
func canaryIsCaught(_ name: String, _ seedsMax: UInt64) {
    for seed in 1...seedsMax where ClusterSimulation.run(options(seed, steps: 1500, canary: name)).violation != nil { return }
    Issue.record("canary \(name) survived \(seedsMax) seeds")
}

@Test func sameSeedGivesTheSameTrace() {
    let options = ClusterSimulationOptions(seed: 42, nodes: 3, steps: 400, trace: true)
    let a = ClusterSimulation.run(options)
    let b = ClusterSimulation.run(options)
    #expect(!a.trace.isEmpty)
    #expect(a.trace == b.trace)
    let other = ClusterSimulation.run(ClusterSimulationOptions(seed: 43, nodes: 3, steps: 400, trace: true))
    #expect(other.trace != a.trace)
}

@Test func canaryNamesAreListed() {
    #expect(ClusterSimulation.canaryNames == ["hw-outside-isr", "elect-outside-isr", "truncate-to-hw", "early-ack",
                                              "unsynced-position"])
}
