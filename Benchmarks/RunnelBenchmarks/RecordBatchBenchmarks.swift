import Benchmark
import KafkaWire
import NIOCore
import RunnelCore

/// RecordBatch v2 codec work per produced batch of 100 records × 100 B (JSON-like values):
/// building it (client side), decoding it (client fetch side), and the broker's produce
/// validation (CRC + record walk; compressed sections decompressed first, into the reused buffer
/// of the thread's CompressionContext), for every codec.
func recordBatchBenchmarks() {
    let recordCount = 100
    let values = (0..<recordCount).map { eventValue($0, count: 100) }
    let timestamp: Int64 = 1_700_000_000_000

    func build(_ compression: Compression) -> ByteBuffer {
        var builder = RecordBatchBuilder(compression: compression)
        for (index, value) in values.enumerated() {
            value.withUnsafeBytes { builder.appendUnsafe(timestamp: TimestampMs(timestamp + Int64(index)), key: nil, value: $0) }
        }
        return builder.finish()
    }

    for compression in Compression.allCases {
        let name = "\(compression)"
        let batch = build(compression)
        let scaling: BenchmarkScalingFactor = compression == .none ? .kilo : .one

        Benchmark("RecordBatch encode 100×100 B \(name)",
                  configuration: configuration(scaling, rate: Rate.recordsPerSecond)) { benchmark in
            measureRate(benchmark, Rate.recordsPerSecond, units: recordCount * benchmark.scaledIterations.count) {
                for _ in benchmark.scaledIterations {
                    var builder = RecordBatchBuilder(compression: compression)
                    for (index, value) in values.enumerated() {
                        value.withUnsafeBytes {
                            builder.appendUnsafe(timestamp: TimestampMs(timestamp + Int64(index)), key: nil, value: $0)
                        }
                    }
                    blackHole(builder.finish())
                }
            }
        }

        Benchmark("RecordBatch decode 100×100 B \(name)",
                  configuration: configuration(scaling, rate: Rate.recordsPerSecond)) { benchmark in
            try measureRate(benchmark, Rate.recordsPerSecond, units: recordCount * benchmark.scaledIterations.count) {
                for _ in benchmark.scaledIterations {
                    var decoder = RecordBatchDecoder(batch, decompressedBytesMax: Limits.batchDecompressedBytesMax)
                    while let decoded = try decoder.next() {
                        precondition(decoded.records.count == recordCount)
                        blackHole(decoded)
                    }
                }
            }
        }

        Benchmark("RecordBatch produce validation 100×100 B \(name)",
                  configuration: configuration(scaling, rate: Rate.recordsPerSecond)) { benchmark in
            try measureRate(benchmark, Rate.recordsPerSecond, units: recordCount * benchmark.scaledIterations.count) {
                for _ in benchmark.scaledIterations {
                    blackHole(try RecordBatchValidator.validateProduce(batch, decompressedBytesMax: Limits.batchDecompressedBytesMax))
                }
            }
        }
    }
}
