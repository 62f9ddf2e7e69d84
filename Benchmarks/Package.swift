// swift-tools-version: 6.1
// Micro-benchmarks for Runnel's hot paths (package-benchmark). A separate package so that the
// root never resolves or builds package-benchmark and its malloc interposer.
//
//     cd Benchmarks && swift package benchmark                      # run everything
//     swift package benchmark --filter "crc32c.*"                   # one group
//
// See README.md for baselines and the figures measured so far.
import PackageDescription

let package = Package(
    name: "runnel-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "runnel", path: ".."),
        // The same ranges as the root, for NIOCore (ByteBuffer) and Logging in the benchmark code.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        // The default trait (RuntimeInterposer) pulls ordo-one/swift-runtime-interposer on
        // Linux + Swift 6.3, which the mirror does not hold; MallocInterposer alone is enough
        // for the malloc counts.
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "RunnelBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RunnelCore", package: "runnel"),
                .product(name: "KafkaWire", package: "runnel"),
                .product(name: "KafkaMessages", package: "runnel"),
                .product(name: "LogStorage", package: "runnel"),
                .product(name: "GroupCoordinator", package: "runnel"),
                .product(name: "RaftCore", package: "runnel"),
                .product(name: "RunnelServer", package: "runnel"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "RunnelBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
