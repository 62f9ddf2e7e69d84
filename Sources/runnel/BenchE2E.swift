import ArgumentParser
import Foundation
import NIOCore
import RunnelClient
import RunnelCore

/// `runnel bench e2e`: end-to-end latency, like Kafka's EndToEndLatency but paced. A producer sends
/// `--rate` records a second; a consumer in the same process (its own connection and I/O thread)
/// reads them. Each value starts with the record's sequence number and its CLOCK_MONOTONIC send
/// time (8 bytes each, little-endian); latency is receipt minus send time, and every sequence
/// number must arrive exactly once.
struct BenchE2ECommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e",
        abstract: "Measure end-to-end latency (produce → consume) at a fixed rate.",
        discussion: """
            The consumer starts at the end of every partition before the first record is sent. \
            Fails when a record is lost (none arrives for --idle-timeout-ms), arrives twice, or a \
            send fails.
            """
    )

    @OptionGroup var client: ClientOptions
    @OptionGroup var bench: BenchOptions
    @OptionGroup var producer: BenchProducerOptions
    @Option(name: .customLong("record-size"), help: "Value size in bytes (at least 16).") var recordSize: Int = 100
    @Option(name: .customLong("rate"), help: "Records per second.") var rate: Double
    @Option(name: .customLong("max-wait-ms"), help: "How long one fetch may wait for data.") var maxWaitMs: Int32 = 500

    func validate() throws {
        guard recordSize >= 16 else { throw ValidationError("--record-size must be at least 16 (sequence and send time)") }
        guard rate > 0 else { throw ValidationError("--rate must be positive") }
        guard maxWaitMs >= 0 else { throw ValidationError("--max-wait-ms must not be negative") }
    }

    func run() async throws {
        let topic = bench.topic, total = bench.records, idleTimeoutMs = bench.idleTimeoutMs
        // Sends at once by default: a linger would be part of every record's latency.
        let producerConfig = producer.config(defaultLingerMs: 0)
        var consumerConfig = ConsumerConfig()
        consumerConfig.maxWaitMs = maxWaitMs
        consumerConfig.offsetReset = .latest
        let rate = self.rate, recordSize = self.recordSize
        let summary: BenchSummary = try await client.withClient { producerClient in
            let metadata = try await Bench.ensureTopic(producerClient, topic, partitions: producer.partitions,
                                                      replicationFactor: producer.replicationFactor)
            let consumerClient = KafkaClient(config: producerClient.config)
            let consumer = KafkaConsumer(client: consumerClient, config: consumerConfig)
            do {
                try await consumer.assign(topic: topic, at: .end)
            } catch {
                await consumerClient.shutdown()
                throw error
            }
            let kafkaProducer = try await KafkaProducer(client: producerClient, config: producerConfig)
            _ = try await producerClient.topicMetadata(topic)

            let latency = LatencyRecorder()
            let receiver = E2EReceiver(total: total, latency: latency)
            let progress = BenchProgress(mode: "e2e", total: total, intervalMs: bench.progressMs, latency: latency) {
                let received = receiver.received
                return (received, received * recordSize)
            }
            defer { progress.stop() }
            // The consumer runs until every record arrived or none arrived for the idle timeout.
            let consuming = Task { () -> String? in
                var lastArrival = BenchClock.nowNs()
                while !receiver.isComplete {
                    let records: [ConsumerRecord]
                    do { records = try await consumer.poll() } catch { return Bench.describe(error) }
                    let now = BenchClock.nowNs()
                    if !records.isEmpty {
                        lastArrival = now
                        receiver.absorb(records, now: now)
                    } else if receiver.sendingDone && now - lastArrival > UInt64(idleTimeoutMs) * 1_000_000 {
                        return "\(total - receiver.received) of \(total) records never arrived (none for \(idleTimeoutMs) ms)"
                    }
                }
                return nil
            }

            var value = ByteBuffer(bytes: Bench.payload(size: recordSize))
            let intervalNs = 1e9 / rate
            let start = BenchClock.nowNs()
            var sendFailure: String?
            do {
                var sequence = 0
                while sequence < total {
                    let now = BenchClock.nowNs()
                    let due = start + UInt64(Double(sequence) * intervalNs)
                    if due > now {
                        try await Task.sleep(nanoseconds: due - now)
                        continue
                    }
                    // Send every record that is due (after a late wake-up, more than one).
                    while sequence < total && start + UInt64(Double(sequence) * intervalNs) <= BenchClock.nowNs() {
                        value.setInteger(UInt64(sequence), at: 0, endianness: .little)
                        value.setInteger(BenchClock.nowNs(), at: 8, endianness: .little)
                        try await kafkaProducer.send(topic: topic, key: nil, value: value)
                        sequence += 1
                    }
                }
                try await kafkaProducer.flush()
            } catch {
                sendFailure = Bench.describe(error)
            }
            let sendSeconds = Double(BenchClock.nowNs() - start) / 1e9
            receiver.sendingDone = true
            if sendFailure != nil { consuming.cancel() }
            let receiveFailure = await consuming.value
            let seconds = Double(BenchClock.nowNs() - start) / 1e9
            progress.stop()
            try? await kafkaProducer.close()
            await consumerClient.shutdown()

            var failure = sendFailure ?? receiveFailure
            if failure == nil && receiver.duplicates > 0 { failure = "\(receiver.duplicates) records arrived twice" }
            if failure == nil && receiver.foreign > 0 {
                failure = "\(receiver.foreign) records were not sent by this run (another producer on the topic?)"
            }
            var summary = BenchSummary(mode: "e2e", topic: topic, records: receiver.received,
                                       bytes: receiver.received * recordSize, seconds: seconds,
                                       latencyMeaning: "send to receipt", latency: latency.percentiles)
            summary.settings = [("acks", producer.acksName), ("record_size", "\(recordSize)"),
                                ("rate_target", BenchFormat.fixed(rate, 0)),
                                ("rate_sent", BenchFormat.fixed(Double(total) / sendSeconds, 0)),
                                ("linger_ms", "\(producerConfig.lingerMs)"),
                                ("partitions", "\(metadata.partitionCount)")]
            summary.counters = [("duplicates", receiver.duplicates), ("missing", total - receiver.received)]
            summary.failure = failure
            return summary
        }
        try Bench.finish(summary, json: bench.json)
    }
}

/// What the e2e consumer has seen: one bit per sequence number, the latencies.
final class E2EReceiver: @unchecked Sendable {
    // @unchecked: `seen` and the counts are behind `lock`; `sendingDone` is a flag written once.
    private let lock = NSLock()
    private var seen: [UInt64]
    private var receivedValue = 0
    private var duplicatesValue = 0
    private var foreignValue = 0
    private var sendingDoneValue = false
    let total: Int
    let latency: LatencyRecorder

    init(total: Int, latency: LatencyRecorder) {
        self.total = total
        self.latency = latency
        seen = Array(repeating: 0, count: (total + 63) / 64)
    }

    func absorb(_ records: [ConsumerRecord], now: UInt64) {
        var latencies: [UInt64] = []
        latencies.reserveCapacity(records.count)
        lock.lock()
        for record in records {
            guard let value = record.value, value.readableBytes >= 16,
                  let sequence = value.getInteger(at: value.readerIndex, endianness: .little, as: UInt64.self),
                  let sent = value.getInteger(at: value.readerIndex + 8, endianness: .little, as: UInt64.self),
                  sequence < UInt64(total) else {
                foreignValue += 1
                continue
            }
            let word = Int(sequence / 64), bit = UInt64(1) << (sequence % 64)
            if seen[word] & bit != 0 {
                duplicatesValue += 1
                continue
            }
            seen[word] |= bit
            receivedValue += 1
            latencies.append(now > sent ? (now - sent) / 1_000 : 0)
        }
        lock.unlock()
        latency.record(microseconds: latencies)
    }

    var received: Int { locked { receivedValue } }
    var duplicates: Int { locked { duplicatesValue } }
    var foreign: Int { locked { foreignValue } }
    var isComplete: Bool { locked { receivedValue >= total } }
    var sendingDone: Bool {
        get { locked { sendingDoneValue } }
        set { locked { sendingDoneValue = newValue } }
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }
}
