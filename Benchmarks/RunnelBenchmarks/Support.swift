import Benchmark
#if canImport(Glibc)
import Glibc
#endif

/// Custom rate metrics: larger is better, and not divided by the scaling factor (they are
/// already per second over the whole sample).
enum Rate {
    static let megabytesPerSecond = BenchmarkMetric.custom("MB/s", polarity: .prefersLarger, useScalingFactor: false)
    static let recordsPerSecond = BenchmarkMetric.custom("records/s", polarity: .prefersLarger, useScalingFactor: false)
    static let lookupsPerSecond = BenchmarkMetric.custom("lookups/s", polarity: .prefersLarger, useScalingFactor: false)
    static let requestsPerSecond = BenchmarkMetric.custom("requests/s", polarity: .prefersLarger, useScalingFactor: false)
    static let batchesPerSecond = BenchmarkMetric.custom("batches/s", polarity: .prefersLarger, useScalingFactor: false)
}

/// The standard configuration: short runs (the machine has two shared cores), bounded samples.
func configuration(_ scaling: BenchmarkScalingFactor, rate: BenchmarkMetric,
                   maxDurationSeconds: Int = 3, maxIterations: Int = 10_000) -> Benchmark.Configuration {
    .init(metrics: [.throughput, .wallClock, .mallocCountTotal, rate],
          warmupIterations: 3,
          scalingFactor: scaling,
          maxDuration: .seconds(maxDurationSeconds),
          maxIterations: maxIterations)
}

/// Times `body` (the measured part of a sample) and records `units / seconds` (divided by
/// `divisor`, e.g. 1_000_000 for MB/s) as the custom `rate` metric of that sample.
@inline(__always)
func measureRate(_ benchmark: Benchmark, _ rate: BenchmarkMetric, units: Int, divisor: Double = 1,
                 _ body: () throws -> Void) rethrows {
    try measureRate(benchmark, rate, divisor: divisor) { () throws -> Int in
        try body()
        return units
    }
}

/// The same, for a body that only knows its units once it has run (it returns them).
@inline(__always)
func measureRate(_ benchmark: Benchmark, _ rate: BenchmarkMetric, divisor: Double = 1,
                 _ body: () throws -> Int) rethrows {
    let clock = ContinuousClock()
    benchmark.startMeasurement()
    let start = clock.now
    let units = try body()
    let elapsed = start.duration(to: clock.now)
    benchmark.stopMeasurement()
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    if seconds > 0 {
        benchmark.measurement(rate, Int((Double(units) / seconds / divisor).rounded()))
    }
}

/// A fresh directory under $TMPDIR (or /tmp), removed by `removeTree`.
func makeTemporaryDirectory(_ label: String) -> String {
    let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    var template = Array("\(base)/runnel-bench-\(label)-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(made != nil, "mkdtemp failed in \(base): errno \(errno)")
    return String(cString: made!)
}

/// `rm -r` of a directory tree made by the benchmarks (files and one level of directories).
func removeTree(_ path: String) {
    guard let dir = opendir(path) else { return }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
    }
    closedir(dir)
    for name in names {
        let child = path + "/" + name
        if unlink(child) != 0 { removeTree(child) }
    }
    rmdir(path)
}

/// Deterministic pseudo-random bytes (SplitMix64), so runs are comparable.
func pseudoRandomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    var out: [UInt8] = []
    out.reserveCapacity(count)
    while out.count < count {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        withUnsafeBytes(of: z) { out.append(contentsOf: $0.prefix(count - out.count)) }
    }
    return out
}

/// A record value of `count` bytes that compresses like typical JSON events (some repetition,
/// some varying digits), so gzip figures are neither best nor worst case.
func eventValue(_ index: Int, count: Int = 100) -> [UInt8] {
    var text = "{\"id\":\(100_000 + index),\"user\":\"user-\(index % 977)\",\"event\":\"page_view\",\"ts\":\(1_700_000_000_000 + index * 7),\"path\":\"/items/\(index % 313)/detail\""
    while text.utf8.count < count - 1 { text += " " }
    var bytes = Array(text.utf8.prefix(count - 1))
    bytes.append(UInt8(ascii: "}"))
    return bytes
}

/// A fixture that did not come out as the benchmark needs (reported by package-benchmark).
struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
