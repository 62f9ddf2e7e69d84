// swift-tools-version: 6.1
// libFuzzer targets for Runnel's decoders (docs/decisions.md D80). A separate package, like
// Benchmarks/, so that the root's `swift build` and `swift test` never see them. Build and run
// through scripts/fuzz.sh, which adds the sanitizer flags:
//
//     bash scripts/fuzz.sh                              # every target, 60 s each
//     bash scripts/fuzz.sh --target FuzzFrames --seconds 600
//
// Built without -DFUZZING (`swift run --package-path Fuzz FuzzFrames Fuzz/corpus/FuzzFrames`) a
// target is an ordinary executable that feeds each file it is given to the same function.
import PackageDescription

let runnel = "runnel"

let package = Package(
    name: "runnel-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "runnel", path: ".."),
        // The same range as the root, for NIOCore (ByteBuffer) and NIOEmbedded (the frame decoder's
        // channel) in the harnesses.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
    ],
    targets: [
        // Declares LLVMFuzzerRunDriver; the symbol comes from libFuzzer (-sanitize=fuzzer).
        .target(name: "CLibFuzzer"),
        // The shared @main body: libFuzzer's driver under -DFUZZING, a corpus replay without it.
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"]),
        // The encode → decode → encode check of the generated messages.
        .target(name: "FuzzMessages", dependencies: [
            "FuzzSupport",
            .product(name: "KafkaMessages", package: runnel),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .executableTarget(name: "FuzzFrames", dependencies: [
            "FuzzSupport", "FuzzMessages",
            .product(name: "KafkaWire", package: runnel),
            .product(name: "KafkaMessages", package: runnel),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        .executableTarget(name: "FuzzRecordBatch", dependencies: [
            "FuzzSupport",
            .product(name: "KafkaWire", package: runnel),
            .product(name: "RunnelCore", package: runnel),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .executableTarget(name: "FuzzStorageFiles", dependencies: [
            "FuzzSupport",
            .product(name: "LogStorage", package: runnel),
            .product(name: "KafkaWire", package: runnel),
            .product(name: "RunnelCore", package: runnel),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "FuzzSasl", dependencies: [
            "FuzzSupport",
            .product(name: "RunnelSasl", package: runnel),
        ]),
        .executableTarget(name: "FuzzMetadata", dependencies: [
            "FuzzSupport", "FuzzMessages",
            .product(name: "ClusterMetadata", package: runnel),
            .product(name: "Replication", package: runnel),
            .product(name: "KafkaMessages", package: runnel),
            .product(name: "RunnelCore", package: runnel),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
    ]
)
