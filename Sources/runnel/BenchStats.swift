import Foundation
import Histogram
import RunnelServer

/// Monotonic time for the bench commands: CLOCK_MONOTONIC, the clock every thread of the
/// process shares (an e2e record carries it from producer to consumer).
enum BenchClock {
    @inline(__always)
    static func nowNs() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }
}

/// Latencies in microseconds (1 µs to 1 h, three significant digits), safe to record from the
/// producer's I/O thread while the progress reporter reads it.
final class LatencyRecorder: @unchecked Sendable {
    // @unchecked: `histogram` is only touched under `lock`.
    private let lock = NSLock()
    private var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000,
                                              numberOfSignificantValueDigits: .three)

    func record(microseconds: UInt64) {
        lock.lock()
        _ = histogram.record(min(max(microseconds, 1), 3_600_000_000))
        lock.unlock()
    }

    /// Records a batch of values in one critical section.
    func record<S: Sequence>(microseconds values: S) where S.Element == UInt64 {
        lock.lock()
        for value in values { _ = histogram.record(min(max(value, 1), 3_600_000_000)) }
        lock.unlock()
    }

    func merge(_ other: LatencyRecorder) {
        let copy = other.snapshot()
        lock.lock()
        histogram.add(copy)
        lock.unlock()
    }

    func snapshot() -> Histogram<UInt64> {
        lock.lock()
        defer { lock.unlock() }
        return histogram
    }

    var percentiles: BenchPercentiles { BenchPercentiles(snapshot()) }
}

/// The latency figures a bench run reports, in milliseconds.
struct BenchPercentiles: Equatable {
    var count: UInt64
    var p50Ms: Double
    var p95Ms: Double
    var p99Ms: Double
    var p999Ms: Double
    var maxMs: Double

    init(count: UInt64, p50Ms: Double, p95Ms: Double, p99Ms: Double, p999Ms: Double, maxMs: Double) {
        self.count = count
        self.p50Ms = p50Ms
        self.p95Ms = p95Ms
        self.p99Ms = p99Ms
        self.p999Ms = p999Ms
        self.maxMs = maxMs
    }

    init(_ histogram: Histogram<UInt64>) {
        let ms = { (micros: UInt64) in Double(micros) / 1000 }
        if histogram.totalCount == 0 {
            self.init(count: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0)
        } else {
            self.init(count: histogram.totalCount, p50Ms: ms(histogram.valueAtPercentile(50)),
                      p95Ms: ms(histogram.valueAtPercentile(95)), p99Ms: ms(histogram.valueAtPercentile(99)),
                      p999Ms: ms(histogram.valueAtPercentile(99.9)), maxMs: ms(histogram.max))
        }
    }
}

/// The result of one bench run: what the summary line and `--json` print.
struct BenchSummary {
    /// produce, consume or e2e.
    var mode: String
    var topic: String
    /// Records counted (acknowledged, received).
    var records: Int
    /// Payload bytes of those records (key + value).
    var bytes: Int
    var seconds: Double
    /// What the latency measures (e.g. "send to acknowledgement").
    var latencyMeaning: String
    var latency: BenchPercentiles
    /// Settings worth keeping next to the figures (acks, record size, …), printed in order.
    var settings: [(String, String)] = []
    /// Extra counters (e.g. log growth, offset gaps), printed in order.
    var counters: [(String, Int)] = []
    /// Why the run failed (records lost, an error came back); nil when it passed.
    var failure: String?
    /// Produce: the batches' bytes before compression and as sent (header included), when known.
    var batchBytes: (uncompressed: Int, sent: Int)?

    /// uncompressed ÷ sent (1 without a codec).
    var compressionRatio: Double? {
        guard let batchBytes, batchBytes.sent > 0 else { return nil }
        return Double(batchBytes.uncompressed) / Double(batchBytes.sent)
    }

    var recordsPerSecond: Double { seconds > 0 ? Double(records) / seconds : 0 }
    /// 10⁶ bytes per second.
    var megabytesPerSecond: Double { seconds > 0 ? Double(bytes) / seconds / 1e6 : 0 }

    /// Two human lines (figures, then latency), plus the failure.
    var text: String {
        var lines = ["bench \(mode): \(records) records (\(BenchFormat.bytes(bytes))) in \(BenchFormat.fixed(seconds, 3)) s: "
            + "\(BenchFormat.grouped(recordsPerSecond)) records/s, \(BenchFormat.fixed(megabytesPerSecond, 1)) MB/s"]
        if latency.count > 0 {
            lines.append("latency (\(latencyMeaning)) ms: p50 \(BenchFormat.fixed(latency.p50Ms, 3)), "
                + "p95 \(BenchFormat.fixed(latency.p95Ms, 3)), p99 \(BenchFormat.fixed(latency.p99Ms, 3)), "
                + "p99.9 \(BenchFormat.fixed(latency.p999Ms, 3)), max \(BenchFormat.fixed(latency.maxMs, 3))")
        }
        if let batchBytes, let ratio = compressionRatio {
            lines.append("batches: \(BenchFormat.bytes(batchBytes.uncompressed)) before compression, "
                + "\(BenchFormat.bytes(batchBytes.sent)) sent: compression ratio \(BenchFormat.fixed(ratio, 2)), "
                + "\(BenchFormat.fixed(seconds > 0 ? Double(batchBytes.sent) / seconds / 1e6 : 0, 1)) MB/s sent")
        }
        if !settings.isEmpty || !counters.isEmpty {
            lines.append((settings.map { "\($0.0)=\($0.1)" } + counters.map { "\($0.0)=\($0.1)" }).joined(separator: " "))
        }
        if let failure { lines.append("FAILED: \(failure)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One JSON object on one line.
    var json: String {
        var fields: [String] = [
            "\"bench\":\(BenchFormat.jsonString(mode))",
            "\"topic\":\(BenchFormat.jsonString(topic))",
            "\"ok\":\(failure == nil)",
            "\"records\":\(records)",
            "\"bytes\":\(bytes)",
            "\"seconds\":\(BenchFormat.fixed(seconds, 6))",
            "\"records_per_s\":\(BenchFormat.fixed(recordsPerSecond, 1))",
            "\"mb_per_s\":\(BenchFormat.fixed(megabytesPerSecond, 3))",
        ]
        for (key, value) in settings { fields.append("\(BenchFormat.jsonString(key)):\(BenchFormat.jsonString(value))") }
        for (key, value) in counters { fields.append("\(BenchFormat.jsonString(key)):\(value)") }
        if let batchBytes, let ratio = compressionRatio {
            fields.append("\"batch_bytes_uncompressed\":\(batchBytes.uncompressed)")
            fields.append("\"batch_bytes_sent\":\(batchBytes.sent)")
            fields.append("\"compression_ratio\":\(BenchFormat.fixed(ratio, 3))")
        }
        fields.append("\"latency\":\(BenchFormat.jsonString(latencyMeaning))")
        fields.append("\"latency_ms\":{\"count\":\(latency.count),\"p50\":\(BenchFormat.fixed(latency.p50Ms, 3)),"
            + "\"p95\":\(BenchFormat.fixed(latency.p95Ms, 3)),\"p99\":\(BenchFormat.fixed(latency.p99Ms, 3)),"
            + "\"p99_9\":\(BenchFormat.fixed(latency.p999Ms, 3)),\"max\":\(BenchFormat.fixed(latency.maxMs, 3))}")
        if let failure { fields.append("\"error\":\(BenchFormat.jsonString(failure))") }
        return "{" + fields.joined(separator: ",") + "}\n"
    }
}

enum BenchFormat {
    /// `value` with `digits` decimals, '.' as separator whatever the locale.
    static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "0" }
        return String(format: "%.\(digits)f", value)
    }

    /// An integer figure with thousands separators: 1,234,567.
    static func grouped(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let digits = String(Int64(value.rounded()))
        let negative = digits.hasPrefix("-")
        var body = Array(negative ? digits.dropFirst() : digits[...])
        var index = body.count - 3
        while index > 0 {
            body.insert(",", at: index)
            index -= 3
        }
        return (negative ? "-" : "") + String(body)
    }

    static func bytes(_ count: Int) -> String {
        let value = Double(count)
        if value >= 1e9 { return fixed(value / 1e9, 2) + " GB" }
        if value >= 1e6 { return fixed(value / 1e6, 1) + " MB" }
        if value >= 1e3 { return fixed(value / 1e3, 1) + " kB" }
        return "\(count) B"
    }

    static func jsonString(_ text: String) -> String { JSONText.quoted(text) }
}

/// A progress line on stderr every `intervalMs` (0: never): records so far, the rate over the
/// last interval, and the latency percentiles so far.
final class BenchProgress: @unchecked Sendable {
    // @unchecked: the task handle is set once before any other thread sees it.
    private var task: Task<Void, Never>?

    /// `sample` returns (records so far, payload bytes so far) and is called from another task.
    init(mode: String, total: Int, intervalMs: Int64, latency: LatencyRecorder?, sample: @escaping @Sendable () -> (Int, Int)) {
        guard intervalMs > 0 else { return }
        task = Task.detached {
            var last = (records: 0, bytes: 0, at: BenchClock.nowNs())
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(intervalMs) * 1_000_000)
                if Task.isCancelled { return }
                let now = BenchClock.nowNs()
                let (records, bytes) = sample()
                let seconds = Double(now - last.at) / 1e9
                var line = "bench \(mode): \(BenchFormat.grouped(Double(records))) records"
                if total > 0 { line += " (\(Int(Double(records) * 100 / Double(total)))%)" }
                line += ", \(BenchFormat.grouped(Double(records - last.records) / seconds)) records/s"
                line += ", \(BenchFormat.fixed(Double(bytes - last.bytes) / seconds / 1e6, 1)) MB/s"
                if let latency {
                    let figures = latency.percentiles
                    if figures.count > 0 {
                        line += ", latency p50 \(BenchFormat.fixed(figures.p50Ms, 2)) ms"
                        line += " p99 \(BenchFormat.fixed(figures.p99Ms, 2)) ms"
                    }
                }
                FileHandle.standardError.write(Data((line + "\n").utf8))
                last = (records, bytes, now)
            }
        }
    }

    func stop() {
        task?.cancel()
    }
}
