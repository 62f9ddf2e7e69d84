import ArgumentParser
import Foundation
import KafkaWire
import RunnelClient
import RunnelCore

/// `runnel bench produce|consume|e2e`: load generators in the spirit of Kafka's
/// kafka-producer-perf-test, kafka-consumer-perf-test and EndToEndLatency, built on RunnelClient.
///
/// Each prints a progress line on stderr every 2 s, then a summary on stdout (or one JSON line
/// with `--json`), and exits 1 saying why when a record is lost or an error comes back.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput and latency against a broker.",
        discussion: """
            produce: sends --records records of --record-size bytes as fast as allowed (or at \
            --throughput records/s); latency is send to acknowledgement. consume: reads --records \
            records from the start of the topic; latency is one fetch's round trip. e2e: produces at \
            --rate records/s and consumes in the same process; each record carries its send time, \
            latency is send to receipt. MB/s is 10^6 bytes of record values per second.
            """,
        subcommands: [BenchProduceCommand.self, BenchConsumeCommand.self, BenchE2ECommand.self]
    )
}

/// Options every bench mode takes.
struct BenchOptions: ParsableArguments {
    @Option(name: .customLong("topic"), help: "Topic to use.") var topic: String
    @Option(name: .customLong("records"), help: "How many records.") var records: Int
    @Flag(name: .customLong("json"), help: "Print the result as one JSON line instead of text.") var json = false
    @Option(name: .customLong("progress-ms"), help: "Progress line interval on stderr (0: none).")
    var progressMs: Int64 = 2_000
    @Option(name: .customLong("idle-timeout-ms"),
            help: "Fail when no record is acknowledged or arrives for this long.")
    var idleTimeoutMs: Int64 = 10_000

    func validate() throws {
        guard records > 0 else { throw ValidationError("--records must be positive") }
        if let reason = TopicName.invalidReason(topic) { throw ValidationError("--topic: \(reason)") }
        guard progressMs >= 0 else { throw ValidationError("--progress-ms must not be negative") }
        guard idleTimeoutMs > 0 else { throw ValidationError("--idle-timeout-ms must be positive") }
    }
}

/// Producer settings shared by `bench produce` and `bench e2e`.
struct BenchProducerOptions: ParsableArguments {
    @Option(name: .customLong("acks"), help: "all, 1 or 0.") var acks: String = "all"
    @Option(name: .customLong("batch-bytes"), help: "Batch size in bytes.") var batchBytes: Int = 1_000_000
    @Option(name: .customLong("linger-ms"), help: "How long a batch waits for more records (default: produce 5, e2e 0).")
    var lingerMs: Int64?
    @Option(name: .customLong("compression"), help: "none, gzip, snappy, lz4 or zstd.") var compression: String = "none"
    @Option(name: .customLong("buffer-bytes"), help: "Bytes a producer may have outstanding before send waits.")
    var bufferBytes: Int = 16 * 1024 * 1024
    @Option(name: .customLong("partitions"), help: "Partitions when the topic is created (default: the broker's).")
    var partitions: Int32?
    @Option(name: .customLong("replication-factor"),
            help: "Replication factor when the topic is created (default: the broker's).")
    var replicationFactor: Int16?

    func validate() throws {
        guard Acks(name: acks) != nil else { throw ValidationError("--acks must be all, 1 or 0 (got '\(acks)')") }
        guard let codec = Compression(name: compression), codec.isSupported else {
            throw ValidationError("--compression must be none, gzip, snappy, lz4 or zstd (got '\(compression)')")
        }
        guard batchBytes > 0 else { throw ValidationError("--batch-bytes must be positive") }
        if let lingerMs, lingerMs < 0 { throw ValidationError("--linger-ms must not be negative") }
        guard bufferBytes > 0 else { throw ValidationError("--buffer-bytes must be positive") }
        if let partitions, partitions <= 0 { throw ValidationError("--partitions must be positive") }
        if let replicationFactor, replicationFactor <= 0 {
            throw ValidationError("--replication-factor must be positive")
        }
    }

    func config(defaultLingerMs: Int64) -> ProducerConfig {
        var config = ProducerConfig()
        config.acks = Acks(name: acks)!
        config.compression = Compression(name: compression)!
        config.batchBytes = batchBytes
        config.lingerMs = lingerMs ?? defaultLingerMs
        config.bufferBytesMax = max(bufferBytes, batchBytes * 2)
        return config
    }

    /// The name printed in results ("all", "1", "0").
    var acksName: String {
        switch Acks(name: acks)! {
        case .all: return "all"
        case .leader: return "1"
        case .none: return "0"
        }
    }
}

enum Bench {
    /// The topic's metadata; creates it (with `partitions` and `replicationFactor`, else the
    /// broker's defaults) when it does not exist. An existing topic is used as it is.
    static func ensureTopic(_ client: KafkaClient, _ topic: String, partitions: Int32?,
                            replicationFactor: Int16?) async throws -> TopicMetadata {
        do {
            return try await client.topicMetadata(topic)
        } catch KafkaClientError.unknownTopicOrPartition {
            do {
                try await client.createTopic(topic, partitions: partitions ?? -1,
                                             replicationFactor: replicationFactor ?? -1)
            } catch KafkaClientError.kafka(code: .topicAlreadyExists, _, _) {
                // Created concurrently (another producer of this run, or auto-creation).
            }
            // In a cluster the broker asked may learn of the new topic a moment after the
            // controller created it: ask again for up to 10 s.
            for _ in 0..<100 {
                do {
                    return try await client.topicMetadata(topic, refresh: true)
                } catch KafkaClientError.unknownTopicOrPartition {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            return try await client.topicMetadata(topic, refresh: true)
        }
    }

    /// Sum over all partitions of the log end offsets.
    static func endOffsetSum(_ client: KafkaClient, _ topic: String) async throws -> Int64 {
        try await client.listOffsets(topic: topic, spec: .latest).reduce(0) { $0 + ($1.offset?.rawValue ?? 0) }
    }

    /// Prints the summary (text or JSON) on stdout; when the run failed, also says why on stderr
    /// and exits 1.
    static func finish(_ summary: BenchSummary, json: Bool) throws {
        StandardOutput.write(json ? summary.json : summary.text)
        if let failure = summary.failure {
            CommandFailure.printError("bench \(summary.mode) failed: \(failure)")
            throw ExitCode.failure
        }
    }

    /// A value of `size` bytes of pseudo-random letters: incompressible enough that gzip does
    /// not flatter, the same on every run.
    static func payload(size: Int) -> [UInt8] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<size).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(ascii: "a") + UInt8(state % 26)
        }
    }

    static func describe(_ error: any Error) -> String {
        (error as? KafkaClientError)?.description ?? "\(error)"
    }
}
