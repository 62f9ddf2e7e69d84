import Benchmark
import GroupCoordinator
import RunnelCore

/// OffsetCommit through the pure group coordinator: the decision work per commit (validation,
/// state update, the records it emits), without the log append and fsync the broker adds.
func groupBenchmarks() {
    let now = TimestampMs(1_700_000_000_000)
    func coordinator() -> GroupCoordinatorStateMachine {
        var c = GroupCoordinatorStateMachine(seed: 1)
        _ = c.finishLoading(now: now)
        return c
    }
    for partitions in [1, 10] {
        let offsets = (0..<partitions).map {
            (TopicPartition(topic: TopicName("events"), partition: PartitionID(Int32($0))), CommittedOffset(offset: Offset(42)))
        }
        Benchmark("Group OffsetCommit, \(partitions) partition(s) per request, simple group",
                  configuration: configuration(.kilo, rate: Rate.requestsPerSecond)) { benchmark in
            var c = coordinator()
            var token: UInt64 = 0
            let request = OffsetCommitRequest(groupID: "bench-group", offsets: offsets)
            measureRate(benchmark, Rate.requestsPerSecond, units: benchmark.scaledIterations.count) {
                for _ in benchmark.scaledIterations {
                    token += 1
                    blackHole(c.offsetCommit(request, token: RequestToken(token), now: now))
                }
            }
        }
    }
}
