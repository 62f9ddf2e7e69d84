import Benchmark
import KafkaMessages
import KafkaWire
import LogStorage
import NIOCore
import RunnelCore

// MARK: Fetch read path

/// The broker's Fetch read path without the network: `PartitionLog.read` (offset index lookup,
/// batch walk to the byte limit) and the encoding of a FetchResponse v12 whose records come
/// straight from the segment mapping (`ResponseRecords(source:)`, one copy into an output
/// buffer sized up front, as `01_Fetch.swift` does). Fetch offsets are random over a 64 MiB log.
final class FetchFixture: @unchecked Sendable {
    let scratch: ScratchLog
    let batchBytes: Int
    var endOffset: Int64 = 0
    var random = SeededRandom(seed: 0xFE7C)

    init(batchBytes: Int) {
        self.batchBytes = batchBytes
        scratch = ScratchLog(label: "fetch", config: LogConfig(segmentBytes: 1 << 30))
    }

    func build(totalBytes: Int) throws {
        try scratch.recreate()
        let log = scratch.log!
        let batch = buildBatch(targetBytes: batchBytes)
        let now = TimestampMs(1_700_000_000_000)
        for _ in 0..<(totalBytes / batch.readableBytes) {
            var copy = batch
            _ = try copy.withUnsafeMutableReadableBytes { try log.append($0, leaderEpoch: LeaderEpoch(0), now: now) }
        }
        endOffset = log.logEndOffset.rawValue
    }
}

/// Stored batches written into the response when it is encoded (the broker's own adapter is
/// internal to RunnelServer; this is the same three lines).
struct SliceRecords: RecordsSource {
    let slice: LogSlice
    var byteCount: Int { slice.byteCount }
    func write(to buffer: inout ByteBuffer) { slice.write(to: &buffer) }
}

func fetchPathBenchmarks() {
    for (label, batchBytes, maxBytes) in [("16 KiB batches, 1 MiB per fetch", 16 * 1024, 1 << 20),
                                          ("1 KiB batches, 64 KiB per fetch", 1024, 64 * 1024)] {
        let fixture = FetchFixture(batchBytes: batchBytes)
        let allocator = ByteBufferAllocator()
        Benchmark("Fetch read path: read + FetchResponse v12 encode, \(label)",
                  configuration: configuration(.one, rate: Rate.megabytesPerSecond), closure: { benchmark in
            let log = fixture.scratch.log!
            measureRate(benchmark, Rate.megabytesPerSecond, divisor: 1_000_000) { () -> Int in
                var bytes = 0
                for _ in benchmark.scaledIterations {
                    let offset = Offset(Int64.random(in: 0..<fixture.endOffset, using: &fixture.random))
                    guard case .records(let slice) = log.read(from: offset, maxBytes: maxBytes, upperBound: log.logEndOffset) else {
                        fatalError("fixture offset out of range")
                    }
                    var partition = FetchResponse.PartitionData()
                    partition.highWatermark = fixture.endOffset
                    partition.abortedTransactions = []
                    partition.records = ResponseRecords(source: SliceRecords(slice: slice))
                    var response = FetchResponse()
                    response.responses = [.init(topic: "bench", partitions: [partition])]
                    var out = allocator.buffer(capacity: 512 + slice.byteCount)
                    response.encode(into: &out, version: 12)
                    bytes += slice.byteCount
                    blackHole(out)
                }
                return bytes
            }
        }, setup: {
            try fixture.build(totalBytes: 64 << 20)
        }, teardown: {
            fixture.scratch.discard()
        })
    }
}

// MARK: Group commit

/// The two-phase flush the broker's group commit drives for acks=all: `batches` appends of a
/// 1 KiB batch, then one `makeFlushRequest` / `perform` (fdatasync) / `flushCompleted`. The
/// rate is batches made durable per second: with 1 batch per flush it is the fsync rate, with
/// 64 it shows what sharing one fsync buys. (fdatasync on this VM takes ~0.13 ms or a multiple
/// of 4 ms, so these samples are noisy; they are here to show the amortisation, not for CI.)
func groupCommitBenchmarks() {
    for batches in [1, 64] {
        let scratch = ScratchLog(label: "commit", config: LogConfig(segmentBytes: 1 << 30))
        let batch = buildBatch(targetBytes: 1024)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: batch.readableBytes, alignment: 8)
        batch.withUnsafeReadableBytes { buffer.copyMemory(from: $0) }
        let now = TimestampMs(1_700_000_000_000)
        Benchmark("Group commit: \(batches) × 1 KiB append, one fdatasync",
                  configuration: configuration(.one, rate: Rate.batchesPerSecond, maxIterations: 2_000), closure: { benchmark in
            let log = scratch.log!
            try measureRate(benchmark, Rate.batchesPerSecond, units: batches * benchmark.scaledIterations.count) {
                for _ in benchmark.scaledIterations {
                    for _ in 0..<batches { blackHole(try log.append(buffer, leaderEpoch: LeaderEpoch(0), now: now)) }
                    let request = log.makeFlushRequest()!
                    _ = try request.perform()
                    log.flushCompleted(request, now: now)
                }
            }
        }, setup: {
            try scratch.recreate()
        }, teardown: {
            scratch.discard()
        })
    }
}
