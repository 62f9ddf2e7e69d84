import Testing
@testable import RunnelCore

@Suite struct CRC32CTests {
    // Known vectors: RFC 3720 (iSCSI) appendix B.4 and the common "123456789" check value.
    @Test func checkValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }
    @Test func rfc3720Vectors() {
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
    }
    // Lengths around the three-stream thresholds (3 × 256 and 3 × 8192 bytes) and past them,
    // with every tail length class, so each block size and the combination step are covered.
    @Test(arguments: [0, 1, 7, 8, 9, 63, 64, 65, 767, 768, 769, 775, 1536, 4097,
                      24_575, 24_576, 24_577, 24_576 + 768 + 13, 3 * 24_576 + 5 * 768 + 7, 1 << 20])
    func hardwareMatchesTable(length: Int) {
        var rng = SeededRandom(seed: UInt64(length))
        let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
        bytes.withUnsafeBytes { raw in
            #expect(CRC32C.checksum(raw) == CRC32C.tableChecksum(raw))
        }
    }
    /// Chained over uneven pieces (each large enough for three streams) equals one pass.
    @Test func chainingAcrossThreeStreamPieces() {
        var rng = SeededRandom(seed: 42)
        let bytes = (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        bytes.withUnsafeBytes { raw in
            var crc: UInt32 = 0
            var start = 0
            for cut in [1_000, 30_001, 30_002, 99_999, 100_000] {
                crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[start..<cut]), continuing: crc)
                start = cut
            }
            #expect(crc == CRC32C.tableChecksum(raw))
        }
    }
    @Test func chaining() {
        let all = Array("hello, runnel".utf8)
        let first = all.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<5])) }
        let chained = all.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[5...]), continuing: first) }
        #expect(chained == CRC32C.checksum(all))
    }
}
