import Benchmark
import KafkaWire
import LogStorage
import Logging
import NIOCore
import RunnelCore

/// Builds one uncompressed RecordBatch v2 of 100-byte records, as large as fits in `targetBytes`
/// (at least one record). `timestamp` is every record's CreateTime.
func buildBatch(targetBytes: Int, timestamp: Int64 = 1_700_000_000_000, valueBytes: Int = 100) -> ByteBuffer {
    var builder = RecordBatchBuilder(compression: .none, capacityBytes: targetBytes + 256)
    var index = 0
    repeat {
        let value = eventValue(index, count: valueBytes)
        value.withUnsafeBytes { builder.appendUnsafe(timestamp: TimestampMs(timestamp), key: nil, value: $0) }
        index += 1
    } while builder.sizeBytes + RecordBatchBuilder.recordSizeBytesMax(keyBytes: nil, valueBytes: valueBytes) <= targetBytes
    return builder.finish()
}

private func quietLogger() -> Logger {
    var logger = Logger(label: "runnel.benchmarks")
    logger.logLevel = .error
    return logger
}

/// A partition log in its own temporary directory, recreated empty on demand.
final class ScratchLog: @unchecked Sendable {
    let label: String
    let config: LogConfig
    var directory = ""
    var log: PartitionLog?

    init(label: String, config: LogConfig) {
        self.label = label
        self.config = config
    }

    /// A fresh, empty log (the previous one is dropped without flushing, and its files removed,
    /// so dirty pages are discarded rather than written back).
    func recreate() throws {
        discard()
        directory = makeTemporaryDirectory(label)
        log = try PartitionLog.open(directory: directory + "/bench-0", topic: TopicName("bench"), partition: PartitionID(0),
                                    config: config, needsRecovery: false, now: TimestampMs(1_700_000_000_000),
                                    logger: quietLogger())
    }

    func discard() {
        log?.abandon()
        log = nil
        if !directory.isEmpty { removeTree(directory) }
        directory = ""
    }
}

// MARK: Segment append

/// `PartitionLog.append` of one prebuilt batch: header parse, offset/epoch stamp in place, roll
/// check, one pwritev of the stamped header and the body into the active segment (the kernel's
/// copy into fresh page-cache pages included), index bookkeeping every 4 KiB. segment.bytes is 1 GiB and the log is recreated
/// outside the measurement before a sample would overflow it, so no roll (and no fsync) is timed.
func segmentAppendBenchmarks() {
    for (label, target) in [("1 KiB", 1024), ("16 KiB", 16 * 1024)] {
        let scratch = ScratchLog(label: "append", config: LogConfig(segmentBytes: 1 << 30))
        let batch = buildBatch(targetBytes: target)
        let batchBytes = batch.readableBytes
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: batchBytes, alignment: 8)
        batch.withUnsafeReadableBytes { buffer.copyMemory(from: $0) }
        let now = TimestampMs(1_700_000_000_000)

        Benchmark("LogStorage segment append \(label) batch", configuration: configuration(.kilo, rate: Rate.megabytesPerSecond),
                  closure: { benchmark in
            let appends = benchmark.scaledIterations.count
            if scratch.log == nil || scratch.log!.activeSegment.sizeBytes + appends * batchBytes > scratch.config.segmentBytes {
                try scratch.recreate()
            }
            let log = scratch.log!
            try measureRate(benchmark, Rate.megabytesPerSecond, units: appends * batchBytes, divisor: 1_000_000) {
                for _ in benchmark.scaledIterations {
                    blackHole(try log.append(buffer, leaderEpoch: LeaderEpoch(0), now: now))
                }
            }
        }, setup: {
            try scratch.recreate()
        }, teardown: {
            scratch.discard()
        })
    }
}

// MARK: Index lookups

/// A segment of `batchCount` batches of 4 records (100-byte values) with timestamps increasing
/// by 1 ms per batch, and pre-generated random lookup targets.
final class IndexedLog: @unchecked Sendable {
    static let batchCount = 100_000
    static let recordsPerBatch = 4
    static let firstTimestamp: Int64 = 1_700_000_000_000
    static let targetCount = 1 << 16

    let scratch: ScratchLog
    var offsetTargets: [Offset] = []
    var timestampTargets: [TimestampMs] = []
    var cursor = 0

    init(indexIntervalBytes: Int) {
        scratch = ScratchLog(label: "index", config: LogConfig(segmentBytes: 1 << 30, indexIntervalBytes: indexIntervalBytes))
    }

    var log: PartitionLog { scratch.log! }

    func build() throws {
        try scratch.recreate()
        let log = scratch.log!
        let valueBytes = 100
        for batchIndex in 0..<Self.batchCount {
            let timestamp = Self.firstTimestamp + Int64(batchIndex)
            var builder = RecordBatchBuilder(compression: .none, capacityBytes: 1024)
            for record in 0..<Self.recordsPerBatch {
                let value = eventValue(batchIndex * Self.recordsPerBatch + record, count: valueBytes)
                value.withUnsafeBytes { builder.appendUnsafe(timestamp: TimestampMs(timestamp), key: nil, value: $0) }
            }
            var batch = builder.finish()
            _ = try batch.withUnsafeMutableReadableBytes { bytes in
                try log.append(bytes, leaderEpoch: LeaderEpoch(0), now: TimestampMs(timestamp))
            }
        }
        precondition(log.segmentCount == 1, "the fixture must stay in one segment")
        var random = SeededRandom(seed: 0x1D3)
        let endOffset = log.logEndOffset.rawValue
        offsetTargets = (0..<Self.targetCount).map { _ in Offset(Int64.random(in: 0..<endOffset, using: &random)) }
        timestampTargets = (0..<Self.targetCount).map { _ in
            TimestampMs(Self.firstTimestamp + Int64.random(in: 0..<Int64(Self.batchCount), using: &random))
        }
    }

    /// The next `count` targets' start position (wrapping), so samples do not repeat one pattern.
    func nextStart(_ count: Int) -> Int {
        if cursor + count > Self.targetCount { cursor = 0 }
        defer { cursor += count }
        return cursor
    }
}

/// Offset-index and time-index lookups on one segment of 100k batches of ~497 B (400k records,
/// ~50 MB). With index.interval.bytes 0 every batch has an entry (100k offset-index and
/// time-index entries: binary search only); with Kafka's default 4096 an entry covers 9 batches
/// (~11k entries), so a lookup also walks up to 8 batch headers. Targets are uniformly random.
func indexLookupBenchmarks() {
    for interval in [0, 4096] {
        let fixture = IndexedLog(indexIntervalBytes: interval)
        let suffix = "(index.interval.bytes \(interval))"
        let setup: Benchmark.BenchmarkSetupHook = {
            try fixture.build()
            if fixture.log.activeSegment.offsetIndex.entryCount < 1000 {
                throw FixtureError("offset index has only \(fixture.log.activeSegment.offsetIndex.entryCount) entries")
            }
        }
        let teardown: Benchmark.BenchmarkTeardownHook = { fixture.scratch.discard() }

        if interval == 0 {
            Benchmark("Offset index lookup: OffsetIndex.lookup \(suffix)",
                      configuration: configuration(.kilo, rate: Rate.lookupsPerSecond), closure: { benchmark in
                let index = fixture.log.activeSegment.offsetIndex
                let start = fixture.nextStart(benchmark.scaledIterations.count)
                fixture.offsetTargets.withUnsafeBufferPointer { targets in
                    measureRate(benchmark, Rate.lookupsPerSecond, units: benchmark.scaledIterations.count) {
                        for i in benchmark.scaledIterations {
                            blackHole(index.lookup(targets[start + i]))
                        }
                    }
                }
            }, setup: setup, teardown: teardown)
        }

        Benchmark("Offset index lookup: findBatch(atOrAfter:) \(suffix)",
                  configuration: configuration(.kilo, rate: Rate.lookupsPerSecond), closure: { benchmark in
            let segment = fixture.log.activeSegment
            let start = fixture.nextStart(benchmark.scaledIterations.count)
            fixture.offsetTargets.withUnsafeBufferPointer { targets in
                measureRate(benchmark, Rate.lookupsPerSecond, units: benchmark.scaledIterations.count) {
                    for i in benchmark.scaledIterations {
                        blackHole(segment.findBatch(atOrAfter: targets[start + i]))
                    }
                }
            }
        }, setup: setup, teardown: teardown)

        Benchmark("Time index lookup: offset(forTimestamp:) \(suffix)",
                  configuration: configuration(.kilo, rate: Rate.lookupsPerSecond), closure: { benchmark in
            let log = fixture.log
            let start = fixture.nextStart(benchmark.scaledIterations.count)
            fixture.timestampTargets.withUnsafeBufferPointer { targets in
                measureRate(benchmark, Rate.lookupsPerSecond, units: benchmark.scaledIterations.count) {
                    for i in benchmark.scaledIterations {
                        blackHole(log.offset(forTimestamp: targets[start + i]))
                    }
                }
            }
        }, setup: setup, teardown: teardown)
    }
}
