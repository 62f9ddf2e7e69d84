import CZlib
import NIOCore
import RunnelCore
import Testing
@testable import KafkaWire

@Suite struct GzipTests {
    static func randomBytes(_ count: Int, seed: UInt64, alphabet: ClosedRange<UInt8> = 0...255) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { _ in UInt8.random(in: alphabet, using: &rng) }
    }

    static func inflate(_ bytes: [UInt8], max: Int) throws(Gzip.Failure) -> [UInt8] {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(Gzip.Failure) in try Gzip.decompress(raw, outputBytesMax: max) } }
        return try result.get().batchBytes
    }

    @Test(arguments: [0, 1, 100, 4096, 4097, 300_000])
    func roundTrip(count: Int) throws {
        let input = Self.randomBytes(count, seed: UInt64(count), alphabet: 0...9)
        let compressed = Gzip.compress(input).batchBytes
        #expect(compressed.prefix(3) == [0x1F, 0x8B, 0x08])  // gzip magic, deflate
        #expect(try Self.inflate(compressed, max: count) == input)
    }

    @Test(arguments: [Int32(0), 1, 9, -1])
    func everyLevelRoundTrips(level: Int32) throws {
        let input = Array(String(repeating: "runnel ", count: 1000).utf8)
        var out = ByteBuffer()
        input.withUnsafeBytes { Gzip.compress($0, level: level, into: &out) }
        #expect(try Self.inflate(out.batchBytes, max: input.count) == input)
    }

    @Test func compressAppendsAfterExistingBytes() throws {
        var out = ByteBuffer(bytes: [7, 7])
        [UInt8](repeating: 1, count: 50).withUnsafeBytes { Gzip.compress($0, into: &out) }
        #expect(out.getBytes(at: 0, length: 2) == [7, 7])
        #expect(try Self.inflate(Array(out.batchBytes.dropFirst(2)), max: 50) == [UInt8](repeating: 1, count: 50))
    }

    @Test func outputBoundIsExact() throws {
        let input = Self.randomBytes(10_000, seed: 1, alphabet: 0...3)
        let compressed = Gzip.compress(input).batchBytes
        #expect(try Self.inflate(compressed, max: 10_000) == input)
        #expect(throws: Gzip.Failure.outputTooLarge(limitBytes: 9_999)) { _ = try Self.inflate(compressed, max: 9_999) }
        #expect(throws: Gzip.Failure.outputTooLarge(limitBytes: 0)) { _ = try Self.inflate(compressed, max: 0) }
    }

    @Test func bombStopsAtTheBound() throws {
        // 64 MiB of one byte → about 64 KiB compressed; inflating with a 1 MiB bound must stop.
        let compressed = Gzip.compress([UInt8](repeating: 0x41, count: 64 << 20), level: 1).batchBytes
        #expect(compressed.count < 512 << 10)
        #expect(throws: Gzip.Failure.outputTooLarge(limitBytes: 1 << 20)) { _ = try Self.inflate(compressed, max: 1 << 20) }
    }

    @Test func multipleMembersAreConcatenated() throws {
        let a = Gzip.compress(Array("hello, ".utf8)).batchBytes
        let b = Gzip.compress(Array("world".utf8)).batchBytes
        #expect(try Self.inflate(a + b, max: 100) == Array("hello, world".utf8))
    }

    @Test func truncatedCorruptAndTrailingInputsAreNamed() {
        let compressed = Gzip.compress(Self.randomBytes(1000, seed: 3, alphabet: 0...5)).batchBytes
        for cut in [0, 1, 10, compressed.count / 2, compressed.count - 1] {
            #expect(throws: (any Error).self, "cut \(cut)") { _ = try Self.inflate(Array(compressed.prefix(cut)), max: 1 << 20) }
        }
        #expect(throws: Gzip.Failure.truncated) { _ = try Self.inflate(Array(compressed.dropLast(4)), max: 1 << 20) }
        var badTrailer = compressed
        badTrailer[badTrailer.count - 5] ^= 0xFF  // CRC-32 of the gzip trailer
        #expect(throws: Gzip.Failure.self) { _ = try Self.inflate(badTrailer, max: 1 << 20) }
        do {
            _ = try Self.inflate(badTrailer, max: 1 << 20)
        } catch {
            guard case .corrupt = error else { Issue.record("expected .corrupt, got \(error)"); return }
        }
        #expect(throws: Gzip.Failure.trailingBytes(count: 3)) { _ = try Self.inflate(compressed + [1, 2, 3], max: 1 << 20) }
        #expect(throws: Gzip.Failure.self) { _ = try Self.inflate(Array("not gzip at all".utf8), max: 1 << 20) }
    }

    @Test func readsPythonGzipOutput() throws {
        // `python3 -c 'import gzip,sys; sys.stdout.buffer.write(gzip.compress(b"runnel", mtime=0))' | xxd -p`
        let python = [UInt8](batchHex: "1f8b08000000000002032b2acdcb4bcd01005db6240306000000")
        #expect(try Self.inflate(python, max: 6) == Array("runnel".utf8))
    }
}
