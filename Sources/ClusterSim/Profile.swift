import RunnelCore

// Swarm testing, as raft-sim does: each seed draws its own fault profile (how lossy, how
// partitioned, how crash-prone, how busy), so the seeds cover calm runs and violent ones
// instead of one average.

struct Profile {
    enum Event: CaseIterable {
        case deliver, ready, tick, produce, consume, sync, partition, heal, crash, restart, pause
    }

    var faults: NetworkFaults
    /// Relative weights of `Event.allCases`, same order.
    var weights: [Int]
    private var total: Int

    init(faults: NetworkFaults, weights: [Int]) {
        precondition(weights.count == Event.allCases.count, "one weight per event")
        self.faults = faults
        self.weights = weights
        self.total = weights.reduce(0, +)
    }

    static func draw(_ random: inout SeededRandom) -> Profile {
        let faults = NetworkFaults(lossPerMille: random.pick([0, 10, 50, 150]),
                                   duplicatePerMille: random.pick([0, 20, 80]),
                                   delayTicksMax: UInt64(random.pick([0, 1, 3])))
        let partitions = random.pick([0, 2, 5, 10])
        let crashes = random.pick([0, 2, 4, 8])
        let pauses = random.pick([0, 0, 2, 4])
        let weights = [
            400,                              // deliver
            220,                              // ready
            random.pick([50, 80, 120]),       // tick
            random.pick([40, 80, 150]),       // produce
            20,                               // consume
            random.pick([40, 80, 160]),       // sync
            partitions,                       // partition
            partitions == 0 ? 0 : 8,          // heal
            crashes,                          // crash
            3 * (crashes + pauses),           // restart or resume
            pauses,                           // pause
        ]
        return Profile(faults: faults, weights: weights)
    }

    func pick(_ random: inout SeededRandom) -> Event {
        var roll = random.below(total)
        for (event, weight) in zip(Event.allCases, weights) {
            if roll < weight { return event }
            roll -= weight
        }
        preconditionFailure("weights do not sum to total")
    }
}
