import Benchmark
import RunnelCore

/// CRC-32C (hardware path when SSE4.2 is present): the checksum every produced batch pays once
/// on validation, and every recovered batch on restart.
func crcBenchmarks() {
    for (label, size) in [("64 KiB", 64 * 1024), ("4 KiB", 4 * 1024)] {
        let data = pseudoRandomBytes(size, seed: 0xC3C3)
        Benchmark("crc32c \(label)", configuration: configuration(.kilo, rate: Rate.megabytesPerSecond)) { benchmark in
            if !CRC32C.usesHardware { benchmark.error("CRC32C hardware path is not in use") }
            data.withUnsafeBytes { bytes in
                measureRate(benchmark, Rate.megabytesPerSecond, units: size * benchmark.scaledIterations.count,
                            divisor: 1_000_000) {
                    for _ in benchmark.scaledIterations {
                        blackHole(CRC32C.checksum(bytes))
                    }
                }
            }
        }
    }
}
