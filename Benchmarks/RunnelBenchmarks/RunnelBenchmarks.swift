import Benchmark

// Entry point read by package-benchmark's generated `main`. Each benchmark runs in its own
// process, so heavy fixtures (logs on disk) are built in `setup` hooks, only for the benchmarks a
// `--filter` selects.
//
// Figures per benchmark:
//   - throughput: operations (scaled iterations) per second; with `scalingFactor: .kilo` the
//     table shows K ops/s.
//   - the custom rate metrics ("MB/s", "records/s", "lookups/s"): the same figure in the unit
//     that matters, timed per sample around the measured loop.
//   - mallocCountTotal: mallocs per sample; divide by the scaling factor for per-operation.
let benchmarks: @Sendable () -> Void = {
    crcBenchmarks()
    segmentAppendBenchmarks()
    indexLookupBenchmarks()
    fetchPathBenchmarks()
    groupCommitBenchmarks()
    recordBatchBenchmarks()
    requestDecodeBenchmarks()
    groupBenchmarks()
    raftBenchmarks()
    handlerMetricsBenchmarks()
}
