import ArgumentParser
import Foundation
import NIOCore
import RunnelClient
import RunnelCore

/// `runnel bench consume`: like kafka-consumer-perf-test. Reads `--records` records from the start
/// of every partition (or, with `--group`, from the group's committed offsets) and checks that the
/// offsets of each partition follow each other without gaps.
struct BenchConsumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Consume records as fast as possible and report throughput.",
        discussion: """
            Latency is the round trip of one fetch. Fails when fewer than --records records arrive \
            (no record for --idle-timeout-ms) or a partition's offsets have a gap.
            """
    )

    @OptionGroup var client: ClientOptions
    @OptionGroup var bench: BenchOptions
    @Option(name: [.short, .customLong("group")], help: "Consume as a member of this consumer group.") var group: String?
    @Option(name: .customLong("max-wait-ms"), help: "How long one fetch may wait for data.") var maxWaitMs: Int32 = 100
    @Option(name: .customLong("partition-max-bytes"), help: "Bytes per partition in one fetch response.")
    var partitionMaxBytes: Int32 = 8 * 1024 * 1024
    @Flag(name: .customLong("no-crc-check"), help: "Do not verify each batch's CRC-32C.") var noCRCCheck = false

    func validate() throws {
        if let group, group.isEmpty { throw ValidationError("--group needs a non-empty group id") }
        guard maxWaitMs >= 0 else { throw ValidationError("--max-wait-ms must not be negative") }
        guard partitionMaxBytes > 0 else { throw ValidationError("--partition-max-bytes must be positive") }
    }

    func run() async throws {
        var config = ConsumerConfig()
        config.maxWaitMs = maxWaitMs
        config.partitionMaxBytes = partitionMaxBytes
        config.maxBytes = max(config.maxBytes, partitionMaxBytes)
        config.offsetReset = .earliest
        config.verifyCRC = !noCRCCheck
        let topic = bench.topic, total = bench.records, idleTimeoutMs = bench.idleTimeoutMs
        let summary: BenchSummary = try await client.withClient { client in
            _ = try await client.topicMetadata(topic)
            let poll: () async throws -> [ConsumerRecord]
            var close: () async throws -> Void = {}
            if let group {
                var groupConfig = GroupConsumerConfig(groupId: group, topics: [topic])
                groupConfig.consumer = config
                let consumer = try GroupConsumer(client: client, config: groupConfig)
                poll = { try await consumer.poll() }
                close = { try await consumer.close() }
            } else {
                let consumer = KafkaConsumer(client: client, config: config)
                try await consumer.assign(topic: topic, at: .beginning)
                poll = { try await consumer.poll() }
            }
            let counter = ConsumeCounter()
            let latency = LatencyRecorder()
            let progress = BenchProgress(mode: "consume", total: total, intervalMs: bench.progressMs, latency: latency) {
                counter.sample
            }
            defer { progress.stop() }
            var failure: String?
            // The next offset expected per partition (-1: none seen yet), indexed by partition id:
            // a dictionary would cost two hashes per record.
            var next: [Int64] = []
            var gaps = 0
            var received = 0, bytes = 0
            let start = BenchClock.nowNs()
            var lastArrival = start
            do {
                while received < total {
                    let before = BenchClock.nowNs()
                    let records = try await poll()
                    let now = BenchClock.nowNs()
                    latency.record(microseconds: (now - before) / 1_000)
                    for record in records {
                        let partition = Int(record.partition.rawValue)
                        if partition >= next.count { next += Array(repeating: -1, count: partition + 1 - next.count) }
                        if next[partition] >= 0 && record.offset.rawValue != next[partition] { gaps += 1 }
                        next[partition] = record.offset.rawValue + 1
                        received += 1
                        bytes += (record.key?.readableBytes ?? 0) + (record.value?.readableBytes ?? 0)
                        if received == total { break }
                    }
                    counter.set(received, bytes)
                    if !records.isEmpty { lastArrival = now }
                    if now - lastArrival > UInt64(idleTimeoutMs) * 1_000_000 {
                        failure = "only \(received) of \(total) records arrived: none for \(idleTimeoutMs) ms"
                        break
                    }
                }
            } catch {
                failure = Bench.describe(error)
            }
            let seconds = Double(BenchClock.nowNs() - start) / 1e9
            progress.stop()
            if failure == nil && gaps > 0 { failure = "\(gaps) gaps in the offsets of a partition (records missing)" }
            do { try await close() } catch { if failure == nil { failure = "leaving the group: \(Bench.describe(error))" } }
            var summary = BenchSummary(mode: "consume", topic: topic, records: received, bytes: bytes, seconds: seconds,
                                       latencyMeaning: "fetch round trip", latency: latency.percentiles)
            summary.settings = [("partitions_read", "\(next.filter { $0 >= 0 }.count)"), ("max_wait_ms", "\(maxWaitMs)")]
            if let group { summary.settings.append(("group", group)) }
            summary.counters = [("offset_gaps", gaps)]
            summary.failure = failure
            return summary
        }
        try Bench.finish(summary, json: bench.json)
    }
}

/// Records and bytes consumed so far, for the progress line.
final class ConsumeCounter: @unchecked Sendable {
    // @unchecked: behind `lock`.
    private let lock = NSLock()
    private var records = 0
    private var bytes = 0

    func set(_ records: Int, _ bytes: Int) {
        lock.lock()
        self.records = records
        self.bytes = bytes
        lock.unlock()
    }

    var sample: (Int, Int) {
        lock.lock()
        defer { lock.unlock() }
        return (records, bytes)
    }
}
