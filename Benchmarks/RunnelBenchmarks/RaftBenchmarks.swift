import Benchmark
import RaftCore

/// The Raft core's two figures (issue 5): how fast the deterministic simulator runs (events/s,
/// which bounds how many seeds a CI minute covers), and the commit throughput of the pure state
/// machine itself — a 3-voter group over the in-memory log and a perfect in-process network, so
/// the figure is the cost of Raft's bookkeeping alone, without fsync or sockets.
func raftBenchmarks() {
    let eventsPerSecond = BenchmarkMetric.custom("events/s", polarity: .prefersLarger, useScalingFactor: false)
    let entriesPerSecond = BenchmarkMetric.custom("entries/s", polarity: .prefersLarger, useScalingFactor: false)

    // One sample = one seed of 1,000 chaos events plus its liveness phase; each sample runs the
    // next seed, so the figure averages calm and violent fault profiles.
    Benchmark("Raft simulated events",
              configuration: .init(metrics: [.throughput, .wallClock, eventsPerSecond], warmupIterations: 1,
                                   scalingFactor: .one, maxDuration: .seconds(5), maxIterations: 2_000)) { benchmark in
        var seed: UInt64 = 1
        for _ in benchmark.scaledIterations {
            let clock = ContinuousClock()
            benchmark.startMeasurement()
            let start = clock.now
            let events = RaftBenchmarks.simulatedEvents(seeds: 1, steps: 1_000, firstSeed: seed)
            let elapsed = start.duration(to: clock.now)
            benchmark.stopMeasurement()
            recordRate(benchmark, eventsPerSecond, units: events, elapsed: elapsed)
            seed += 1
        }
    }

    // One sample = elect a leader, then propose and commit 10,000 entries of 64 bytes in batches
    // of 64 and apply them on all three voters.
    let entries = 10_000
    Benchmark("Raft 3-voter commit throughput, in-memory log",
              configuration: .init(metrics: [.throughput, .wallClock, .mallocCountTotal, entriesPerSecond],
                                   warmupIterations: 1, scalingFactor: .one, maxDuration: .seconds(5),
                                   maxIterations: 500)) { benchmark in
        for _ in benchmark.scaledIterations {
            measureRate(benchmark, entriesPerSecond, units: entries) {
                blackHole(RaftBenchmarks.commitThroughput(entries: entries, payloadBytes: 64, batch: 64))
            }
        }
    }
}

/// Records `units / elapsed` as `rate` for one sample (the simulator's event count is only known
/// after the run, so `measureRate` cannot be used for it).
private func recordRate(_ benchmark: Benchmark, _ rate: BenchmarkMetric, units: Int, elapsed: Duration) {
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    if seconds > 0 { benchmark.measurement(rate, Int((Double(units) / seconds).rounded())) }
}
