import Testing
@testable import KafkaWire

@Suite struct CompressionTests {
    @Test func codecNumbersFollowKafka() {
        #expect(Compression.allCases.map(\.rawValue) == [0, 1, 2, 3, 4])
        #expect(Compression(attributes: 0x0011) == .gzip)   // transactional bit ignored
        #expect(Compression(attributes: 0x000C) == .zstd)   // LogAppendTime bit ignored
        #expect(Compression(attributes: 0x0005) == nil)
        #expect(Compression(attributes: 0x0007) == nil)
    }

    @Test func allFiveCodecsAreSupported() {
        #expect(Compression.supported == [.none, .gzip, .snappy, .lz4, .zstd])
    }

    @Test func parsesKafkaConfigNames() {
        for codec in Compression.allCases { #expect(Compression(name: codec.description) == codec) }
        #expect(Compression(name: "GZIP") == .gzip)
        #expect(Compression(name: "producer") == nil)
    }
}
