// swift-tools-version: 6.1
// Runnel — a Kafka-compatible commit-log broker. Module direction (DESIGN.md §2): arrows point
// down only. Pure modules (RunnelCore, RaftCore, ClusterMetadata, Replication, Compaction,
// GroupCoordinator) depend on nothing that does I/O, reads a clock or owns a thread.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]
// NIO-facing shells are kept in Swift 5 language mode: their state is owned by one event loop
// (DESIGN.md §7), which Swift 6's Sendable checking cannot see. See docs/decisions.md.
let shell: [SwiftSetting] = strict + [.swiftLanguageMode(.v5)]

let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let nioConcurrency = Target.Dependency.product(name: "NIOConcurrencyHelpers", package: "swift-nio")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let nioSSL = Target.Dependency.product(name: "NIOSSL", package: "swift-nio-ssl")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "runnel",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "runnel", targets: ["runnel"]),
        .executable(name: "raft-sim", targets: ["raft-sim"]),
        .executable(name: "cluster-sim", targets: ["cluster-sim"]),
        .executable(name: "kafka-codegen", targets: ["kafka-codegen"]),
        .library(name: "RunnelCore", targets: ["RunnelCore"]),
        .library(name: "KafkaWire", targets: ["KafkaWire"]),
        .library(name: "KafkaMessages", targets: ["KafkaMessages"]),
        .library(name: "LogStorage", targets: ["LogStorage"]),
        .library(name: "RaftCore", targets: ["RaftCore"]),
        .library(name: "RaftStorage", targets: ["RaftStorage"]),
        .library(name: "ClusterMetadata", targets: ["ClusterMetadata"]),
        .library(name: "GroupCoordinator", targets: ["GroupCoordinator"]),
        .library(name: "Replication", targets: ["Replication"]),
        .library(name: "Compaction", targets: ["Compaction"]),
        .library(name: "RunnelServer", targets: ["RunnelServer"]),
        .library(name: "RunnelClient", targets: ["RunnelClient"]),
        .library(name: "RunnelSasl", targets: ["RunnelSasl"]),
        .library(name: "RunnelTesting", targets: ["RunnelTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // TLS listeners and TLS clients (issue 14, docs/decisions.md D160).
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        // HMAC and SHA-256/512 for SASL/SCRAM (docs/decisions.md D170).
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.0"),
    ],
    targets: [
        // C shims
        .target(name: "CCRC32C"),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // The other record-batch codecs (docs/decisions.md D110); scripts/install-deps.sh installs them.
        .systemLibrary(name: "CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"]), .brew(["snappy"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"]), .brew(["lz4"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]),
        // RE2 (C++) behind a C face, for KIP-848 subscription regexes (docs/decisions.md D33).
        // SystemRE2 only carries pkg-config's flags and the install hint; scripts/install-deps.sh
        // installs the package (D23).
        .systemLibrary(name: "SystemRE2", pkgConfig: "re2", providers: [.apt(["libre2-dev"]), .brew(["re2"])]),
        .target(name: "CRE2", dependencies: ["SystemRE2"], linkerSettings: [.linkedLibrary("re2")]),

        // Pure modules ◇
        .target(name: "RunnelCore", dependencies: ["CCRC32C"], swiftSettings: strict),
        .target(name: "RaftCore", swiftSettings: strict),
        .target(name: "ClusterMetadata", dependencies: ["RunnelCore"], swiftSettings: strict),
        .target(name: "Replication", dependencies: ["RunnelCore"], swiftSettings: strict),
        // The log cleaner's decisions: which log, which range, which records and batches stay.
        .target(name: "Compaction", swiftSettings: strict),
        .target(name: "GroupCoordinator", dependencies: ["RunnelCore", "CRE2"], swiftSettings: strict),
        // The whole cluster in one deterministic process (pure too: simulated clock, network, disks).
        .target(name: "ClusterSim", dependencies: ["RaftCore", "ClusterMetadata", "Replication", "RunnelCore"],
                swiftSettings: strict),

        // Wire format and storage
        .target(name: "KafkaWire", dependencies: ["RunnelCore", "CZlib", "CSnappy", "CLZ4", "CZstd", nioCore], swiftSettings: strict),
        .target(name: "KafkaMessages", dependencies: ["KafkaWire", "RunnelCore", nioCore], swiftSettings: strict),
        // KafkaWire and Compaction: the cleaner pass decodes, plans and re-encodes batches (D149).
        .target(name: "LogStorage", dependencies: ["RunnelCore", "KafkaWire", "Compaction", nioCore, logging],
                swiftSettings: strict),
        .target(name: "RaftStorage", dependencies: ["RaftCore", "LogStorage", "KafkaWire", "RunnelCore", nioCore, logging],
                swiftSettings: strict),

        // SASL PLAIN and SCRAM message formats and the SCRAM computations, shared by broker and client
        // (docs/decisions.md D170). Randomness (nonces, salts) is passed in.
        .target(name: "RunnelSasl", dependencies: ["RunnelCore", .product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: strict),

        // Shells
        .target(
            name: "RunnelServer",
            dependencies: ["RunnelCore", "KafkaWire", "KafkaMessages", "LogStorage", "ClusterMetadata", "Compaction",
                           "Replication", "GroupCoordinator", "RaftCore", "RaftStorage", "RunnelClient", "RunnelSasl",
                           nioCore, nioPosix, nioConcurrency, nioSSL, logging,
                           .product(name: "NIOTLS", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio"),
                           .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "Prometheus", package: "swift-prometheus")],
            swiftSettings: shell),
        .target(name: "RunnelClient", dependencies: ["RunnelCore", "KafkaWire", "KafkaMessages", "RunnelSasl", nioCore, nioPosix, nioSSL],
                swiftSettings: shell),
        .target(name: "RunnelTesting", dependencies: ["LogStorage", logging], swiftSettings: shell),

        // Executables
        .executableTarget(name: "runnel", dependencies: ["RunnelServer", "RunnelClient", argumentParser, logging,
                                                        .product(name: "Histogram", package: "hdrhistogram-swift")],
                          swiftSettings: shell),
        .executableTarget(name: "raft-sim", dependencies: ["RaftCore"], swiftSettings: strict),
        .executableTarget(name: "cluster-sim", dependencies: ["ClusterSim"], swiftSettings: strict),
        .target(name: "KafkaCodegen", swiftSettings: strict),
        .executableTarget(name: "kafka-codegen", dependencies: ["KafkaCodegen"], swiftSettings: strict),

        // Tests
        .testTarget(name: "RunnelCoreTests", dependencies: ["RunnelCore"]),
        .testTarget(name: "RunnelSaslTests", dependencies: ["RunnelSasl"]),
        .testTarget(name: "KafkaWireTests", dependencies: ["KafkaWire", "RunnelCore", nioCore]),
        .testTarget(name: "KafkaMessagesTests", dependencies: ["KafkaMessages", "KafkaWire", "KafkaCodegen", "RunnelCore", nioCore]),
        .testTarget(name: "LogStorageTests", dependencies: ["LogStorage", "RunnelCore", "RunnelTesting", "KafkaWire",
                                                           "Compaction", nioCore, logging]),
        .testTarget(name: "RaftCoreTests", dependencies: ["RaftCore", "RunnelTesting"], resources: [.copy("testdata")]),
        .testTarget(name: "RaftStorageTests", dependencies: ["RaftStorage", "RaftCore", "LogStorage", "RunnelCore", logging]),
        .testTarget(name: "ClusterMetadataTests", dependencies: ["ClusterMetadata", "RunnelCore", "RunnelTesting"],
                    resources: [.copy("testdata")]),
        .testTarget(name: "ReplicationTests", dependencies: ["Replication", "RunnelCore", "RunnelTesting"],
                    resources: [.copy("testdata")]),
        .testTarget(name: "CompactionTests", dependencies: ["Compaction", "RunnelTesting"],
                    resources: [.copy("testdata")]),
        .testTarget(name: "ClusterSimTests", dependencies: ["ClusterSim"]),
        .testTarget(name: "GroupCoordinatorTests", dependencies: ["GroupCoordinator", "RunnelCore", "RunnelTesting"],
                    resources: [.copy("testdata")]),
        .testTarget(name: "RunnelServerTests", dependencies: ["RunnelServer", "RunnelClient", "RunnelTesting", "KafkaMessages", "KafkaWire", "RunnelCore", "LogStorage", "ClusterMetadata", "RaftCore", nioCore, nioPosix, .product(name: "NIOEmbedded", package: "swift-nio"), logging],
                    exclude: ["Fixtures"],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "RunnelIntegrationTests",
                    dependencies: ["RunnelClient", "RunnelTesting", "RunnelCore", "KafkaWire", "KafkaMessages", nioCore, nioPosix],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)
