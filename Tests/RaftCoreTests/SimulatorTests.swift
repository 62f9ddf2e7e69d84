// The deterministic simulator as a test: the CI budget of seeds, the canaries, and replay.
import Testing
@testable import RaftCore

/// Seeds and steps of the CI run. About 25 s in a debug build on the 2-core build machine; the
/// README shows the longer run (raft-sim --seeds 100000).
let ciSeeds: UInt64 = 2000
let ciSteps = 1000

@Test func simulatorFindsNoViolationOverTheCISeeds() {
    var committed = 0
    var leaders = 0
    for seed in 1...ciSeeds {
        let report = RaftSimulation.run(RaftSimulationOptions(seed: seed, voters: Int(seed % 5) + 1, steps: ciSteps))
        if let violation = report.violation {
            let history = report.history.joined(separator: "\n")
            Issue.record("seed \(seed): \(violation)\n\(history)")
            return
        }
        committed += Int(report.commitIndex.rawValue)
        leaders += report.leadersElected
    }
    // The runs must do real work, or "no violation" means nothing.
    #expect(committed > Int(ciSeeds) * 10)
    #expect(leaders > Int(ciSeeds) * 2)
}

/// Every canary must be caught, and soon. Bounds are the first catching seed with headroom
/// (raft-sim --seeds 3000 --canary NAME --keep-going, cycling 1–5 voters: double-vote first at
/// seed 2 and 519/3000 seeds; no-log-check 24, 210/3000; commit-old-term 1, 1145/3000 — caught
/// by the commit-rule check; stale-read 1130, 10/3000; volatile-vote 112, 15/3000; with
/// --learners 2: learner-quorum 2, 889/3000 — commit-rule again; learner-campaigns 1,
/// 2999/3000 — learner-role).
@Test(arguments: [("double-vote", 0, 0, 200), ("no-log-check", 0, 0, 300), ("commit-old-term", 0, 0, 100),
                  ("stale-read", 0, 0, 1500), ("volatile-vote", 0, 0, 2000),
                  ("learner-quorum", 0, 2, 50), ("learner-campaigns", 0, 2, 20)])
func canaryIsCaught(_ name: String, _ voters: Int, _ learners: Int, _ seedsMax: UInt64) {
    for seed in 1...seedsMax {
        let options = RaftSimulationOptions(seed: seed, voters: voters == 0 ? Int(seed % 5) + 1 : voters,
                                            learners: learners, steps: ciSteps, canary: name)
        if RaftSimulation.run(options).violation != nil { return }
    }
    Issue.record("canary \(name) survived \(seedsMax) seeds")
}

/// Seeds of the learner run: founding learners 1–3 and cycling voters, shorter runs than the
/// CI run above so that it adds about 3 s in a debug build. `raft-sim --learners L` is the long run.
let learnerSeeds: UInt64 = 300
let learnerSteps = 300

@Test func simulatorFindsNoViolationWithLearners() {
    var committed = 0
    for seed in 1...learnerSeeds {
        let options = RaftSimulationOptions(seed: seed, voters: Int(seed % 5) + 1, learners: Int(seed % 3) + 1, steps: learnerSteps)
        let report = RaftSimulation.run(options)
        if let violation = report.violation {
            Issue.record("seed \(seed) learners \(options.learners): \(violation)\n\(report.history.joined(separator: "\n"))")
            return
        }
        committed += Int(report.commitIndex.rawValue)
    }
    #expect(committed > Int(learnerSeeds) * 10)
}

@Test func canaryNamesAreListed() {
    #expect(RaftSimulation.canaryNames == ["double-vote", "no-log-check", "commit-old-term", "stale-read", "volatile-vote",
                                         "learner-quorum", "learner-campaigns"])
}

@Test func sameSeedGivesTheSameTrace() {
    let options = RaftSimulationOptions(seed: 42, voters: 3, steps: 400, trace: true)
    let a = RaftSimulation.run(options)
    let b = RaftSimulation.run(options)
    #expect(!a.trace.isEmpty)
    #expect(a.trace == b.trace)
    let other = RaftSimulation.run(RaftSimulationOptions(seed: 43, voters: 3, steps: 400, trace: true))
    #expect(other.trace != a.trace)
    let withLearners = RaftSimulationOptions(seed: 42, voters: 3, learners: 2, steps: 400, trace: true)
    #expect(RaftSimulation.run(withLearners).trace == RaftSimulation.run(withLearners).trace)
}

@Test func violationReportCarriesHistory() {
    // double-vote is caught at seed 7 with the cycling voter count (see canaryIsCaught).
    var found: RaftSimulationReport?
    for seed in UInt64(1)...200 {
        let report = RaftSimulation.run(RaftSimulationOptions(seed: seed, voters: Int(seed % 5) + 1, steps: ciSteps, canary: "double-vote"))
        if report.violation != nil { found = report; break }
    }
    let report = try! #require(found)
    #expect(report.violation?.invariant == "election-safety")
    #expect(!report.history.isEmpty && report.history.count <= RaftSimulation.historyEventsMax)
}
