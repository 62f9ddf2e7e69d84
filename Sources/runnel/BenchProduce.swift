import ArgumentParser
import Foundation
import NIOCore
import RunnelClient
import RunnelCore

/// `runnel bench produce`: like kafka-producer-perf-test. Every record's latency is the time from
/// just before `send` to its batch's acknowledgement.
struct BenchProduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Produce records as fast as allowed and report throughput and latency.",
        discussion: """
            Creates the topic when it is missing. With --producers K, K producers (each with its own \
            connection and I/O thread) share the records and the partitions. After the run the log \
            end offsets must have grown by --records (with acks=0 too), else the run fails.
            """
    )

    @OptionGroup var client: ClientOptions
    @OptionGroup var bench: BenchOptions
    @OptionGroup var producer: BenchProducerOptions
    @Option(name: .customLong("record-size"), help: "Value size in bytes (records have no key unless --keys).") var recordSize: Int = 100
    @Option(name: .customLong("keys"), help: "Give records the keys key-0 … key-(N-1) in turn, so that a compacted topic has overwrites to clean (default: no key).")
    var keys: Int?
    @Option(name: .customLong("producers"), help: "Producers sending concurrently.") var producers: Int = 1
    @Option(name: .customLong("throughput"), help: "Records per second over all producers (default: no limit).")
    var throughput: Double?
    @Option(name: .customLong("payload"),
            help: "Record values: repeat (one value for every record), letters (random letters, a new value per record) or json (JSON-like events, a new value per record; compresses like real data).")
    var payload: String = "repeat"

    func validate() throws {
        guard recordSize >= 0 else { throw ValidationError("--record-size must not be negative") }
        guard producers > 0 else { throw ValidationError("--producers must be positive") }
        if let throughput, throughput <= 0 { throw ValidationError("--throughput must be positive") }
        if let keys, keys <= 0 { throw ValidationError("--keys must be positive") }
        guard BenchPayload(rawValue: payload) != nil else {
            throw ValidationError("--payload must be repeat, letters or json (got '\(payload)')")
        }
    }

    func run() async throws {
        let topic = bench.topic, total = bench.records
        let config = producer.config(defaultLingerMs: 5)
        let values = BenchPayload(rawValue: payload)!.values(size: recordSize)
        let value = values[0]
        let summary: BenchSummary = try await client.withClient { admin in
            let metadata = try await Bench.ensureTopic(admin, topic, partitions: producer.partitions,
                                                      replicationFactor: producer.replicationFactor)
            let partitionCount = metadata.partitionCount
            let before = try await Bench.endOffsetSum(admin, topic)

            // Producer k sends records k, k+K, … (its share) to its partitions, moving to the next
            // one after about a batch.
            var clients: [KafkaClient] = [admin]
            for _ in 1..<producers { clients.append(KafkaClient(config: admin.config)) }
            var workers: [ProduceWorker] = []
            let latency = LatencyRecorder()
            for index in 0..<producers {
                let share = total / producers + (index < total % producers ? 1 : 0)
                let owned = (producers <= partitionCount ? (0..<partitionCount).filter { $0 % producers == index }
                    : [index % partitionCount]).map { PartitionID(Int32($0)) }
                let kafkaProducer = try await KafkaProducer(client: clients[index], config: config)
                workers.append(ProduceWorker(producer: kafkaProducer, topic: topic, records: share, partitions: owned,
                                             partitionCount: partitionCount, values: values, latency: latency,
                                             recordsPerBatch: max(1, config.batchBytes / (recordSize + 12)), keyCount: keys ?? 0))
            }
            for worker in workers { try await worker.warmUp() }
            let allWorkers = workers

            let progress = BenchProgress(mode: "produce", total: total, intervalMs: bench.progressMs, latency: latency) {
                let acked = allWorkers.reduce(0) { $0 + $1.counters.acked }
                return (acked, acked * value.count)
            }
            defer { progress.stop() }
            let perProducerRate = throughput.map { $0 / Double(producers) }
            let start = BenchClock.nowNs()
            let idleTimeoutMs = bench.idleTimeoutMs
            let failures: [String] = try await withThrowingTaskGroup(of: String?.self) { group in
                for worker in allWorkers {
                    group.addTask { await worker.run(ratePerSecond: perProducerRate, idleTimeoutMs: idleTimeoutMs) }
                }
                var failures: [String] = []
                for try await failure in group { if let failure { failures.append(failure) } }
                return failures
            }
            let seconds = Double(BenchClock.nowNs() - start) / 1e9
            progress.stop()

            let acked = workers.reduce(0) { $0 + $1.counters.acked }
            var failure = failures.first
            // The log must have grown by every record (acks=0 included: the broker may still be
            // appending the last requests, so look again for a while).
            var growth = try await Bench.endOffsetSum(admin, topic) - before
            let deadline = BenchClock.nowNs() + UInt64(bench.idleTimeoutMs) * 1_000_000
            while failure == nil && growth < Int64(total) && BenchClock.nowNs() < deadline {
                try await Task.sleep(nanoseconds: 50_000_000)
                growth = try await Bench.endOffsetSum(admin, topic) - before
            }
            if failure == nil && acked != total {
                failure = "only \(acked) of \(total) records were acknowledged"
            }
            if failure == nil && growth < Int64(total) {
                failure = "the log grew by \(growth) records, not \(total): \(Int64(total) - growth) records lost"
            }
            var summary = BenchSummary(mode: "produce", topic: topic, records: acked, bytes: acked * value.count,
                                       seconds: seconds, latencyMeaning: "send to acknowledgement",
                                       latency: latency.percentiles)
            summary.settings = [("acks", producer.acksName), ("record_size", "\(recordSize)"),
                                ("batch_bytes", "\(producer.batchBytes)"), ("linger_ms", "\(config.lingerMs)"),
                                ("compression", producer.compression), ("partitions", "\(partitionCount)"),
                                ("producers", "\(producers)"), ("payload", payload)]
            if let throughput { summary.settings.append(("throughput_target", BenchFormat.fixed(throughput, 0))) }
            summary.counters = [("log_growth", Int(growth)),
                                ("failed", workers.reduce(0) { $0 + $1.counters.failed })]
            summary.failure = failure
            summary.batchBytes = workers.reduce((uncompressed: 0, sent: 0)) { sum, worker in
                let counters = worker.counters
                return (sum.uncompressed + counters.uncompressedBytes, sum.sent + counters.sentBytes)
            }
            for worker in workers { try? await worker.producer.close() }
            for extra in clients.dropFirst() { await extra.shutdown() }
            return summary
        }
        try Bench.finish(summary, json: bench.json)
    }
}

/// One producer of `bench produce`: its send loop, and the send times of its outstanding
/// records (one queue per partition, popped a batch at a time when the batch is answered).
final class ProduceWorker: @unchecked Sendable {
    // @unchecked: the queues are single-producer (the send task) single-consumer (the I/O
    // thread), ordered by the accumulator's lock; the counters are behind `lock`.
    struct Counters {
        var acked = 0
        var failed = 0
        var firstError: String?
        var lastAckNs: UInt64 = 0
        /// Bytes of the acknowledged batches before compression and as sent.
        var uncompressedBytes = 0
        var sentBytes = 0
    }

    let producer: KafkaProducer
    let topic: String
    let records: Int
    let partitions: [PartitionID]
    /// Record values, used in turn.
    let values: [ByteBuffer]
    /// Record keys, used in turn (empty: no key).
    let keys: [ByteBuffer]
    let latency: LatencyRecorder
    let recordsPerBatch: Int
    private let queues: [SendTimeQueue]
    private let lock = NSLock()
    private var countersValue = Counters()

    init(producer: KafkaProducer, topic: String, records: Int, partitions: [PartitionID], partitionCount: Int,
         values: [[UInt8]], latency: LatencyRecorder, recordsPerBatch: Int, keyCount: Int = 0) {
        self.producer = producer
        self.topic = topic
        self.records = records
        self.partitions = partitions
        self.values = values.map { ByteBuffer(bytes: $0) }
        self.keys = (0..<keyCount).map { ByteBuffer(string: "key-\($0)") }
        self.latency = latency
        self.recordsPerBatch = recordsPerBatch
        // Enough slots for every record the producer's buffer can hold (12 B of record overhead
        // at least), capped by the run's size.
        let outstandingMax = producer.config.bufferBytesMax / (values[0].count + 12) + 2 * recordsPerBatch
        let capacity = min(max(records, 1), outstandingMax)
        queues = (0..<partitionCount).map { _ in SendTimeQueue(capacity: capacity) }
    }

    var counters: Counters {
        lock.lock()
        defer { lock.unlock() }
        return countersValue
    }

    /// Fetches the topic's metadata into the producer (outside the timed run).
    func warmUp() async throws {
        _ = try await producer.client.topicMetadata(topic)
    }

    /// Sends this worker's records; returns why it failed, or nil.
    func run(ratePerSecond: Double?, idleTimeoutMs: Int64) async -> String? {
        let start = BenchClock.nowNs()
        let intervalNs = ratePerSecond.map { 1e9 / $0 }
        var partitionIndex = 0
        var inChunk = 0
        do {
            for sequence in 0..<records {
                if let intervalNs, sequence & 15 == 0 {
                    let due = start + UInt64(Double(sequence) * intervalNs)
                    let now = BenchClock.nowNs()
                    if due > now + 50_000 { try await Task.sleep(nanoseconds: due - now) }
                }
                if inChunk == recordsPerBatch {
                    inChunk = 0
                    partitionIndex = partitionIndex + 1 == partitions.count ? 0 : partitionIndex + 1
                }
                inChunk += 1
                let partition = partitions[partitionIndex]
                let queue = queues[Int(partition.rawValue)]
                while !queue.hasSpace() {
                    if let failure = stalled(idleTimeoutMs: idleTimeoutMs) { return failure }
                    try await Task.sleep(nanoseconds: 200_000)
                }
                queue.push(BenchClock.nowNs())
                let value = values.count == 1 ? values[0] : values[sequence % values.count]
                let key = keys.isEmpty ? nil : keys[sequence % keys.count]
                let handle = try await producer.send(topic: topic, partition: partition, key: key, value: value)
                if handle.indexInBatch == 0 {
                    handle.whenBatchCompletes { [self] result in self.completed(queue, result) }
                }
            }
            try await producer.flush()
        } catch {
            return counters.firstError ?? Bench.describe(error)
        }
        let counters = self.counters
        if let first = counters.firstError { return "\(counters.failed) batches failed; first error: \(first)" }
        return nil
    }

    /// Why the run is stuck, once nothing was acknowledged for `idleTimeoutMs`.
    private func stalled(idleTimeoutMs: Int64) -> String? {
        let counters = self.counters
        if let first = counters.firstError { return first }
        let last = counters.lastAckNs
        if last > 0 && BenchClock.nowNs() - last > UInt64(idleTimeoutMs) * 1_000_000 {
            return "no acknowledgement for \(idleTimeoutMs) ms (\(counters.acked) of \(records) records acknowledged)"
        }
        return nil
    }

    /// A batch came back (on the producer's I/O thread): times its records.
    private func completed(_ queue: SendTimeQueue, _ result: Result<BatchReport, any Error>) {
        let now = BenchClock.nowNs()
        switch result {
        case .success(let report):
            queue.pop(report.recordCount, now: now, into: latency)
            lock.lock()
            countersValue.acked += report.recordCount
            countersValue.lastAckNs = now
            countersValue.uncompressedBytes += report.uncompressedBytes
            countersValue.sentBytes += report.sizeBytes
            lock.unlock()
        case .failure(let error):
            // The batch's size is unknown here; the flush reports the error and the run fails.
            lock.lock()
            countersValue.failed += 1
            if countersValue.firstError == nil { countersValue.firstError = Bench.describe(error) }
            lock.unlock()
        }
    }
}

/// Send times (CLOCK_MONOTONIC ns) of one partition's outstanding records, in append order. The
/// send task pushes, the I/O thread pops a batch's worth when the batch is answered. Records
/// are appended to the producer's batch after the push, under the accumulator's lock, and the
/// sender takes the batch under the same lock, so a pop never sees a slot before its push.
final class SendTimeQueue: @unchecked Sendable {
    // @unchecked: `times` slots are handed over through the accumulator lock (see above);
    // `head` is behind `lock`; `tail` and `headSeen` belong to the send task.
    private let capacity: Int
    private let times: UnsafeMutablePointer<UInt64>
    private let lock = NSLock()
    private var head = 0
    private var tail = 0
    private var headSeen = 0

    init(capacity: Int) {
        var size = 1
        while size < capacity { size <<= 1 }
        self.capacity = size
        times = .allocate(capacity: size)
    }

    deinit { times.deallocate() }

    /// Send task: true when a push would not overwrite an outstanding record's time.
    func hasSpace() -> Bool {
        if tail - headSeen < capacity { return true }
        lock.lock()
        headSeen = head
        lock.unlock()
        return tail - headSeen < capacity
    }

    func push(_ nanoseconds: UInt64) {
        times[tail & (capacity - 1)] = nanoseconds
        tail += 1
    }

    /// I/O thread: removes `count` records and records their latencies.
    func pop(_ count: Int, now: UInt64, into latency: LatencyRecorder) {
        // Only this thread writes `head`; the slots are read before it moves past them.
        let first = head
        let mask = capacity - 1
        latency.record(microseconds: (first..<(first + count)).lazy.map { index in
            let sent = self.times[index & mask]
            return now > sent ? (now - sent) / 1_000 : 0
        })
        lock.lock()
        head = first + count
        lock.unlock()
    }
}

/// What `bench produce` sends as record values. Compression ratios depend on it: one repeated
/// value compresses far better than any real data, so codec figures use `json`.
enum BenchPayload: String {
    case `repeat`, letters, json

    /// Distinct values cover more than a batch (2 MB), so no value repeats within one.
    static let distinctBytes = 2_000_000

    func values(size: Int) -> [[UInt8]] {
        switch self {
        case .repeat:
            return [Bench.payload(size: size)]
        case .letters, .json:
            let count = max(1, min(65_536, Self.distinctBytes / max(size, 1)))
            var state: UInt64 = 0x2545_F491_4F6C_DD1D
            func next() -> UInt64 {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                return state
            }
            return (0..<count).map { index in
                self == .letters ? (0..<size).map { _ in UInt8(ascii: "a") + UInt8(next() % 26) }
                    : Self.event(index: index, size: size, next)
            }
        }
    }

    /// A JSON-like event of exactly `size` bytes: the same field names, varying values.
    static func event(index: Int, size: Int, _ next: () -> UInt64) -> [UInt8] {
        let kinds = ["page_view", "add_to_cart", "checkout", "search", "login", "logout"]
        let countries = ["DE", "FR", "US", "BR", "JP", "IN", "NG", "GB"]
        var text = "{\"id\":\(index),\"user\":\"user-\(next() % 100_000)\",\"event\":\"\(kinds[Int(next() % 6)])\","
            + "\"path\":\"/products/\(next() % 10_000)\",\"country\":\"\(countries[Int(next() % 8)])\","
            + "\"ts\":\(1_700_000_000_000 + index * 37),\"amount\":\(next() % 100_000),\"ok\":\(next() % 4 != 0)"
        while text.utf8.count < size {
            text += ",\"session\":\"\(String(next(), radix: 36))\""
        }
        // Cut to size, closing the object (valid JSON unless the cut falls inside a value).
        return Array(text.utf8.prefix(max(size - 1, 0))) + (size > 0 ? [UInt8(ascii: "}")] : [])
    }
}
