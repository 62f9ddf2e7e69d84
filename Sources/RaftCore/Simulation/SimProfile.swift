// Swarm testing: each seed draws its own fault profile (how lossy, how partitioned, how
// crash-prone, how busy), so the seeds cover calm runs and violent ones instead of one average.

struct SimProfile {
    enum Event: CaseIterable {
        case deliver, ready, tick, propose, read, membership, transfer, compact, partition, heal, crash, restart
    }

    var faults: SimFaults
    /// Chance that a new leader is partitioned away before its first Ready's messages leave.
    var isolateNewLeaderPerMille = 0
    /// Chance that a leader is partitioned away right after persisting a commit advance.
    var isolateCommittingLeaderPerMille = 0
    /// Relative weights of `Event.allCases`, same order.
    var weights: [Int]
    private var total: Int

    init(faults: SimFaults, weights: [Int]) {
        precondition(weights.count == Event.allCases.count, "one weight per event")
        self.faults = faults
        self.weights = weights
        self.total = weights.reduce(0, +)
    }

    static func draw(_ random: inout RaftRandom) -> SimProfile {
        func oneOf(_ values: [Int]) -> Int { values[random.below(values.count)] }
        let faults = SimFaults(lossPerMille: oneOf([0, 20, 50, 150, 300]),
                               duplicatePerMille: oneOf([0, 30, 100]),
                               delayTicksMax: UInt64(oneOf([0, 2, 5])))
        let partitions = oneOf([0, 20, 40, 80])
        let crashes = oneOf([0, 10, 25, 50])
        let weights = [
            380,                     // deliver
            300,                     // ready
            oneOf([40, 70, 100]),    // tick
            oneOf([40, 70, 150]),    // propose
            20,                      // read
            oneOf([0, 5, 15]),       // membership
            oneOf([0, 10]),          // transfer
            oneOf([5, 15, 40]),      // compact
            partitions,              // partition
            partitions == 0 ? 0 : 15, // heal
            crashes,                 // crash
            crashes == 0 ? 5 : 25,   // restart (or a forced campaign when nobody is down)
        ]
        var profile = SimProfile(faults: faults, weights: weights)
        profile.isolateNewLeaderPerMille = partitions == 0 ? 0 : oneOf([0, 200, 500])
        profile.isolateCommittingLeaderPerMille = partitions == 0 ? 0 : oneOf([0, 50, 200])
        return profile
    }

    func pick(_ random: inout RaftRandom) -> Event {
        var roll = random.below(total)
        for (event, weight) in zip(Event.allCases, weights) {
            if roll < weight { return event }
            roll -= weight
        }
        preconditionFailure("weights do not sum to total")
    }
}
