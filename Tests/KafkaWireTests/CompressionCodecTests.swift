import NIOCore
import RunnelCore
import Testing
@testable import KafkaWire

/// Every codec: round trips, the batches real clients wrote (captured from a Runnel broker's
/// segment files: confluent-kafka 2.16.1 / librdkafka 2.16, kcat 1.7.1 / librdkafka 2.0.2,
/// kafka-python 3.0.12, aiokafka 0.14.0; baseOffset reset to 0 and the leader epoch to -1, both
/// outside the CRC), framing variants, bounds and damage.
@Suite struct CompressionCodecTests {
    static let codecs: [Compression] = [.gzip, .snappy, .lz4, .zstd]
    static let limit = 1 << 20

    struct GoldenBatch: CustomTestStringConvertible, Sendable {
        var client: String
        var codec: Compression
        var hex: String
        var bytes: [UInt8] { [UInt8](batchHex: hex) }
        var testDescription: String { "\(client) \(codec)" }
    }

    /// Three records, keys k0…k2, values "golden value i: " + "abcdefgh" × 6, header h=v<i>
    /// (kcat: h=v), timestamps 1700000000000 + i (kcat: its own clock); one batch per client and
    /// codec. librdkafka writes raw snappy, kafka-python and aiokafka xerial; the lz4 frames differ
    /// in their flags (kafka-python sets the content size, aiokafka block checksums).
    static let golden: [GoldenBatch] = [
        GoldenBatch(client: "ck", codec: .gzip, hex:
            "00000000000000000000008cffffffff022d4ca4a90001000000020000018bcfe568000000018bcfe56802ffffffffff" +
            "ffffffffffffffffff000000031f8b08000000000000039bc3c8c0c0c0926dd0c0989e9f93929aa7509698539aaa6060" +
            "a59098949c929a969e412ccdc494c1526630879181898925db10cd3c4332cd33049ac7c2c2926d84669e1199e6190100" +
            "55fe3dedf0000000"),
        GoldenBatch(client: "kcat", codec: .gzip, hex:
            "000000000000000000000085ffffffff02a5dd1f5a000100000002000001a24ee4553c000001a24ee4553cffffffffff" +
            "ffffffffffffffffff000000031f8b08000000000000039bc5c8c0c0c0926dd0c0989e9f93929aa7509698539aaa6060" +
            "a59098949c929a969e412ccdc494c154360b681c134bb6219a71861418c7c2926d84669c1199c60100675acc01ed0000" +
            "00"),
        GoldenBatch(client: "kp", codec: .gzip, hex:
            "00000000000000000000008cffffffff02843eb6950001000000020000018bcfe568000000018bcfe568020000000000" +
            "000000000000000000000000031f8b08008d3e166b02ff9bc3c8c0c0c0926dd0c0989e9f93929aa7509698539aaa6060" +
            "a59098949c929a969e412ccdc494c1526630879181898925db10cd3c4332cd33049ac7c2c2926d84669e1199e6190100" +
            "55fe3dedf0000000"),
        GoldenBatch(client: "aio", codec: .gzip, hex:
            "00000000000000000000008cffffffff022e88598e0001000000020000018bcfe568000000018bcfe56802ffffffffff" +
            "ffffffffff00000000000000031f8b08008d3e166b02ff9bc3c8c0c0c0926dd0c0989e9f93929aa7509698539aaa6060" +
            "a59098949c929a969e412ccdc494c1526630879181898925db10cd3c4332cd33049ac7c2c2926d84669e1199e6190100" +
            "55fe3dedf0000000"),
        GoldenBatch(client: "ck", codec: .snappy, hex:
            "000000000000000000000086ffffffff0230fe23230002000000020000018bcfe568000000018bcfe56802ffffffffff" +
            "ffffffffffffffffff00000003f001889c01000000046b308001676f6c64656e2076616c756520303a20616263646566" +
            "6768619a0800380202680476309c01000202046b31803650000031da500020319c01000404046b323a50000032da5000" +
            "0032"),
        GoldenBatch(client: "kcat", codec: .snappy, hex:
            "00000000000000000000007dffffffff0250a4d3e2000200000002000001a24ee4582f000001a24ee4582fffffffffff" +
            "ffffffffffffffffff00000003ed01889a01000000046b308001676f6c64656e2076616c756520303a20616263646566" +
            "6768619a08003002026802769a01000002046b313a4f000031ea4f000c04046b323a4f000032da4f00"),
        GoldenBatch(client: "kp", codec: .snappy, hex:
            "00000000000000000000009affffffff02d3d6f15e0002000000020000018bcfe568000000018bcfe568020000000000" +
            "0000010000000000000000000382534e4150505900000000010000000100000055f001889c01000000046b308001676f" +
            "6c64656e2076616c756520303a206162636465666768619a0800380202680476309c01000202046b31803650000031da" +
            "500020319c01000404046b323a50000032da50000032"),
        GoldenBatch(client: "aio", codec: .snappy, hex:
            "00000000000000000000009affffffff025d55ab1f0002000000020000018bcfe568000000018bcfe56802ffffffffff" +
            "ffffffffff000000000000000382534e4150505900000000010000000100000055f001889c01000000046b308001676f" +
            "6c64656e2076616c756520303a206162636465666768619a0800380202680476309c01000202046b31803650000031da" +
            "500020319c01000404046b323a50000032da50000032"),
        GoldenBatch(client: "ck", codec: .lz4, hex:
            "000000000000000000000094ffffffff02e76c98340003000000020000018bcfe568000000018bcfe56802ffffffffff" +
            "ffffffffffffffffff0000000304224d1860408254000000ff139c01000000046b308001676f6c64656e2076616c7565" +
            "20303a206162636465666768080015eb0202680476309c01000202046b3150001f315000249b319c01000404046b3250" +
            "001f3250002050026804763200000000"),
        GoldenBatch(client: "kcat", codec: .lz4, hex:
            "00000000000000000000008dffffffff0264badd54000300000002000001a24ee45abe000001a24ee45abeffffffffff" +
            "ffffffffffffffffff0000000304224d186040824d000000ff139a01000000046b308001676f6c64656e2076616c7565" +
            "20303a2061626364656667680800155002026802764f004b02046b314f001f314f00284b04046b324f001f324f001f50" +
            "020268027600000000"),
        GoldenBatch(client: "kp", codec: .lz4, hex:
            "00000000000000000000009cffffffff0249325a260003000000020000018bcfe568000000018bcfe568020000000000" +
            "0000020000000000000000000304224d186840f000000000000000b954000000ff139c01000000046b308001676f6c64" +
            "656e2076616c756520303a206162636465666768080015eb0202680476309c01000202046b3150001f315000249b319c" +
            "01000404046b3250001f3250002050026804763200000000"),
        GoldenBatch(client: "aio", codec: .lz4, hex:
            "000000000000000000000098ffffffff02691a432d0003000000020000018bcfe568000000018bcfe56802ffffffffff" +
            "ffffffffff000000000000000304224d187040ad54000000ff139c01000000046b308001676f6c64656e2076616c7565" +
            "20303a206162636465666768080015eb0202680476309c01000202046b3150001f315000249b319c01000404046b3250" +
            "001f325000205002680476326d78f4a300000000"),
        GoldenBatch(client: "ck", codec: .zstd, hex:
            "000000000000000000000087ffffffff026a6c35d10004000000020000018bcfe568000000018bcfe56802ffffffffff" +
            "ffffffffffffffffff0000000328b52ffd00586d0200c4039c01000000046b308001676f6c64656e2076616c75652030" +
            "3a2061626364656667680202680476309c01000202046b3131319c01000404046b323232050004a700dd11ce6b0a9dd2" +
            "95e509"),
        GoldenBatch(client: "kcat", codec: .zstd, hex:
            "000000000000000000000080ffffffff02eefb747c000400000002000001a24ee45cf0000001a24ee45cf0ffffffffff" +
            "ffffffffffffffffff0000000328b52ffd005835020054039a01000000046b308001676f6c64656e2076616c75652030" +
            "3a20616263646566676802026802769a01000002046b313104046b3232050004a7001d01a44b0addd795e509"),
        GoldenBatch(client: "kp", codec: .zstd, hex:
            "000000000000000000000087ffffffff0277d807640004000000020000018bcfe568000000018bcfe568020000000000" +
            "0000030000000000000000000328b52ffd20f06d0200c4039c01000000046b308001676f6c64656e2076616c75652030" +
            "3a2061626364656667680202680476309c01000202046b3131319c01000404046b323232050004a700dd11ce6b0a9dd2" +
            "95e509"),
        GoldenBatch(client: "aio", codec: .zstd, hex:
            "000000000000000000000087ffffffff02291272f40004000000020000018bcfe568000000018bcfe56802ffffffffff" +
            "ffffffffff000000000000000328b52ffd20f06d0200c4039c01000000046b308001676f6c64656e2076616c75652030" +
            "3a2061626364656667680202680476309c01000202046b3131319c01000404046b323232050004a700dd11ce6b0a9dd2" +
            "95e509"),
    ]

    @Test(arguments: golden)
    func realClientBatchesValidateAndDecode(_ golden: GoldenBatch) throws {
        let bytes = golden.bytes
        #expect(Compression(attributes: Int16(bytes[21]) << 8 | Int16(bytes[22])) == golden.codec)
        let validated = try RecordBatchValidator.validateProduce(recordBuffer(bytes), decompressedBytesMax: Self.limit)
        #expect(validated.count == 1 && validated[0].header.recordsCount == 3)
        let batches = try RecordBatchDecoder.decodeAll(recordBuffer(bytes), decompressedBytesMax: Self.limit)
        let records = try #require(batches.first?.records)
        #expect(records.count == 3)
        for (i, record) in records.enumerated() {
            #expect(record.offset == Offset(Int64(i)))
            #expect(record.key == ByteBuffer(string: "k\(i)"))
            #expect(record.value == ByteBuffer(string: "golden value \(i): " + String(repeating: "abcdefgh", count: 6)))
            #expect(record.headers.map(\.key) == ["h"])
            #expect(record.headers.first?.value == ByteBuffer(string: golden.client == "kcat" ? "v" : "v\(i)"))
            if golden.client != "kcat" { #expect(record.timestamp == TimestampMs(1_700_000_000_000 + Int64(i))) }
        }
    }

    @Test func snappyFramingOfEachClient() {
        for golden in Self.golden where golden.codec == .snappy {
            let xerial = Array(golden.bytes[61..<69]) == Snappy.xerialMagic
            #expect(xerial == (golden.client == "kp" || golden.client == "aio"), "\(golden.client)")
        }
    }

    /// Record-like data: repeated structure, varying numbers.
    static func sample(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            out += Array("{\"id\":\(UInt32.random(in: 0...99_999, using: &rng)),\"kind\":\"event\",\"n\":\(UInt16.random(in: 0...999, using: &rng))}".utf8)
        }
        return Array(out.prefix(count))
    }

    static func roundTrip(_ input: [UInt8], _ codec: Compression, level: Int32? = nil, limit: Int = limit) throws -> [UInt8] {
        let context = CompressionContext()
        let compressed = context.compress(input, codec: codec, level: level)
        return try context.decompress(compressed.batchBytes, codec: codec, outputBytesMax: limit).batchBytes
    }

    @Test(arguments: codecs, [0, 1, 100, 32 * 1024, 32 * 1024 + 1, 200_000])
    func roundTripsEverySize(codec: Compression, size: Int) throws {
        let input = Self.sample(size, seed: UInt64(size))
        #expect(try Self.roundTrip(input, codec) == input)
    }

    @Test(arguments: [(Compression.gzip, Int32(1)), (.gzip, 9), (.lz4, 0), (.lz4, 1), (.lz4, 9), (.lz4, 17),
                      (.zstd, -5), (.zstd, 1), (.zstd, 19)])
    func roundTripsAtLevels(codec: Compression, level: Int32) throws {
        let input = Self.sample(100_000)
        #expect(try Self.roundTrip(input, codec, level: level) == input)
    }

    @Test(arguments: codecs)
    func compressesRecordLikeData(codec: Compression) {
        let input = Self.sample(100_000)
        let compressed = CompressionContext().compress(input, codec: codec)
        #expect(compressed.readableBytes < input.count / 2, "\(codec): \(compressed.readableBytes) bytes")
    }

    @Test func aContextIsReusedAcrossCodecsAndCalls() throws {
        let context = CompressionContext()
        for round in 0..<3 {
            for codec in Self.codecs {
                let input = Self.sample(10_000 + round * 777, seed: UInt64(round))
                let compressed = context.compress(input, codec: codec)
                let scratch = try compressed.withUnsafeReadableBytes { bytes in
                    try context.decompressToScratch(bytes, codec: codec, outputBytesMax: Self.limit)
                }
                #expect(scratch.batchBytes == input)
            }
        }
    }

    // MARK: framing variants

    @Test func snappyRawAndXerialBothDecode() throws {
        let input = Self.sample(100_000)
        var raw = ByteBuffer()
        var xerial = ByteBuffer()
        input.withUnsafeBytes { Snappy.compressRaw($0, into: &raw) }
        input.withUnsafeBytes { Snappy.compressXerial($0, blockBytes: 7_000, into: &xerial) }
        #expect(Array(xerial.batchBytes.prefix(8)) == Snappy.xerialMagic)
        let context = CompressionContext()
        #expect(try context.decompress(raw.batchBytes, codec: .snappy, outputBytesMax: Self.limit).batchBytes == input)
        #expect(try context.decompress(xerial.batchBytes, codec: .snappy, outputBytesMax: Self.limit).batchBytes == input)
        // The broker writes xerial with snappy-java's 32 KiB blocks: 4 blocks for 100,000 bytes.
        var blocks = 0
        var index = 16
        let framed = context.compress(input, codec: .snappy).batchBytes
        while index < framed.count {
            index += 4 + Int(UInt32(framed[index]) << 24 | UInt32(framed[index + 1]) << 16 | UInt32(framed[index + 2]) << 8 | UInt32(framed[index + 3]))
            blocks += 1
        }
        #expect(index == framed.count && blocks == 4)
    }

    @Test func concatenatedStreamsDecodeWhole() throws {
        let a = Self.sample(5_000, seed: 1), b = Self.sample(7_000, seed: 2)
        let context = CompressionContext()
        for codec in Self.codecs {
            // gzip members, xerial streams (snappy-java reads a second header mid-stream), lz4 and
            // zstd frames: each format allows concatenation.
            let joined = context.compress(a, codec: codec).batchBytes + context.compress(b, codec: codec).batchBytes
            #expect(try context.decompress(joined, codec: codec, outputBytesMax: Self.limit).batchBytes == a + b, "\(codec)")
        }
    }

    @Test func lz4FramesWithChecksumsAndContentSizeDecode() throws {
        // aiokafka's frame carries a checksum after each block (FLG 0x70), kafka-python's the
        // content size (0x68); both decode above. A damaged block fails its checksum.
        let golden = try #require(Self.golden.first { $0.client == "aio" && $0.codec == .lz4 })
        let section = Array(golden.bytes[61...])
        #expect(section[4] & 0x10 != 0, "aiokafka's frame has block checksums")
        var damaged = section
        damaged[damaged.count - 9] ^= 0x01  // inside the last block's data: the block checksum fails
        let context = CompressionContext()
        #expect(throws: DecompressionError.self) {
            _ = try context.decompress(damaged, codec: .lz4, outputBytesMax: Self.limit)
        }
        #expect(try context.decompress(section, codec: .lz4, outputBytesMax: Self.limit).readableBytes > 0)
    }

    // MARK: bounds

    @Test(arguments: codecs)
    func bombIsRefusedAtTheBound(codec: Compression) throws {
        // 32 MiB of one byte compress to a few KiB (zstd, gzip) or ~1.5 MiB (snappy); the limit is 1 MiB.
        let bomb = CompressionContext().compress([UInt8](repeating: 0x41, count: 32 << 20), codec: codec).batchBytes
        #expect(bomb.count < 2 << 20)
        #expect(throws: DecompressionError(codec, .outputTooLarge(limitBytes: 1 << 20))) {
            _ = try CompressionContext().decompress(bomb, codec: codec, outputBytesMax: 1 << 20)
        }
    }

    @Test(arguments: codecs)
    func outputBoundIsExact(codec: Compression) throws {
        let input = Self.sample(50_000)
        let compressed = CompressionContext().compress(input, codec: codec).batchBytes
        let context = CompressionContext()
        #expect(try context.decompress(compressed, codec: codec, outputBytesMax: 50_000).batchBytes == input)
        #expect(throws: DecompressionError(codec, .outputTooLarge(limitBytes: 49_999))) {
            _ = try context.decompress(compressed, codec: codec, outputBytesMax: 49_999)
        }
        // The context is usable after a refusal.
        #expect(try context.decompress(compressed, codec: codec, outputBytesMax: 50_000).batchBytes == input)
    }

    @Test(arguments: codecs)
    func bombBatchIsMessageTooLargeNamingTheLimit(codec: Compression) throws {
        var builder = RecordBatchBuilder(compression: codec)
        builder.append(timestamp: TimestampMs(0), key: nil, value: recordBuffer([UInt8](repeating: 0, count: 8 << 20)))
        let bomb = builder.finish()
        let error = try #require(Self.validationError(bomb, limit: 1 << 20))
        #expect(error.kind == .decompression(DecompressionError(codec, .outputTooLarge(limitBytes: 1 << 20))))
        #expect(error.kafkaErrorCode == 10)
        #expect(error.description.contains("\(codec)") && error.description.contains("1048576")
                && error.description.contains("batchDecompressedBytesMax"), "\(error)")
    }

    @Test func aBombDoesNotKeepItsMemory() throws {
        // 40 MiB of zeros: refused at a 32 MiB bound after filling the scratch buffer that far.
        var builder = RecordBatchBuilder(compression: .zstd)
        builder.append(timestamp: TimestampMs(0), key: nil, value: recordBuffer([UInt8](repeating: 0, count: 40 << 20)))
        let bomb = builder.finish()
        let context = CompressionContext()
        #expect(throws: RecordBatchError.self) {
            try RecordBatchValidator.validateProduce(bomb, decompressedBytesMax: 32 << 20, context: context)
        }
        #expect(context.scratch.capacity <= CompressionContext.scratchRetainedBytesMax)
        // A batch that fits leaves its (small) buffer for the next one.
        _ = try RecordBatchValidator.validateProduce(Self.build(count: 50, codec: .zstd), decompressedBytesMax: Self.limit,
                                                     context: context)
        #expect(context.scratch.capacity > 0 && context.scratch.capacity <= CompressionContext.scratchRetainedBytesMax)
    }

    static func build(count: Int, codec: Compression) -> ByteBuffer {
        var builder = RecordBatchBuilder(compression: codec)
        for i in 0..<count { builder.append(timestamp: TimestampMs(Int64(i)), key: nil, value: recordBuffer(sample(100, seed: UInt64(i)))) }
        return builder.finish()
    }

    // MARK: damage

    static func validationError(_ batch: ByteBuffer, limit: Int = limit) -> RecordBatchError? {
        do {
            _ = try RecordBatchValidator.validateProduce(batch, decompressedBytesMax: limit)
            return nil
        } catch {
            return error
        }
    }

    /// A batch of `codec` whose record section is replaced by `section` (CRC repaired).
    static func batch(_ codec: Compression, section: [UInt8]) -> [UInt8] {
        var builder = RecordBatchBuilder(compression: codec)
        builder.append(timestamp: TimestampMs(0), key: nil, value: recordBuffer("x"))
        var bytes = Array(builder.finish().batchBytes.prefix(RecordBatchHeader.size)) + section
        bytes.replaceSubrange(8..<12, with: HandBatch.bigEndian(Int32(bytes.count - 12)))
        HandBatch.fixCRC(&bytes)
        return bytes
    }

    @Test(arguments: codecs)
    func corruptSectionIsCorruptMessageNamingTheCodec(codec: Compression) throws {
        var builder = RecordBatchBuilder(compression: codec)
        for i in 0..<20 { builder.append(timestamp: TimestampMs(Int64(i)), key: nil, value: recordBuffer(Self.sample(300, seed: UInt64(i)))) }
        let good = builder.finish().batchBytes
        let section = Array(good[RecordBatchHeader.size...])
        let cases: [(String, [UInt8])] = [
            ("garbage", Array("this is not compressed data at all, not in any codec".utf8)),
            ("truncated", Array(section.prefix(section.count / 2))),
            ("empty", []),
        ]
        for (what, damaged) in cases {
            let error = try #require(Self.validationError(recordBuffer(Self.batch(codec, section: damaged))), "\(what)")
            guard case .decompression(let failure) = error.kind else {
                Issue.record("\(codec) \(what): \(error)")
                continue
            }
            #expect(failure.codec == codec)
            #expect(error.kafkaErrorCode == 2, "\(codec) \(what): \(error)")
            #expect(error.description.contains("\(codec)"), "\(error)")
        }
        // Bytes after a complete stream.
        let trailing = Self.batch(codec, section: section + [0xDE, 0xAD, 0xBE, 0xEF, 0x01])
        let error = try #require(Self.validationError(recordBuffer(trailing)))
        #expect(error.kafkaErrorCode == 2, "\(codec): \(error)")
    }

    @Test(arguments: codecs)
    func flippedBitsNeverCrash(codec: Compression) {
        var builder = RecordBatchBuilder(compression: codec)
        for i in 0..<10 { builder.append(timestamp: TimestampMs(Int64(i)), key: nil, value: recordBuffer(Self.sample(200, seed: UInt64(i)))) }
        let good = builder.finish().batchBytes
        var rng = SeededRandom(seed: UInt64(codec.rawValue))
        var refused = 0
        for _ in 0..<500 {
            var bytes = good
            let position = Int.random(in: RecordBatchHeader.size..<bytes.count, using: &rng)
            bytes[position] ^= UInt8(1 << Int.random(in: 0...7, using: &rng))
            HandBatch.fixCRC(&bytes)
            if Self.validationError(recordBuffer(bytes)) != nil { refused += 1 }
            _ = try? RecordBatchDecoder.decodeAll(recordBuffer(bytes), decompressedBytesMax: Self.limit)
        }
        #expect(refused > 0)
    }

    // MARK: builder and recompression

    @Test(arguments: [Compression.none] + codecs)
    func builderBatchesOfEveryCodecValidateAndDecode(codec: Compression) throws {
        var builder = RecordBatchBuilder(compression: codec, producerId: ProducerID(7), producerEpoch: 2, baseSequence: 40)
        for i in 0..<50 {
            builder.append(timestamp: TimestampMs(1_000 + Int64(i)), key: recordBuffer("k\(i)"),
                           value: recordBuffer(Self.sample(120, seed: UInt64(i))), headers: [RecordHeader(key: "h", value: recordBuffer("\(i)"))])
        }
        let batch = builder.finish()
        #expect(Int16(batch.batchBytes[22]) & 7 == codec.rawValue)
        _ = try RecordBatchValidator.validateProduce(batch, decompressedBytesMax: Self.limit)
        let records = try RecordBatchDecoder.decodeAll(batch, decompressedBytesMax: Self.limit)[0].records
        #expect(records.count == 50 && records[49].key == recordBuffer("k49"))
        #expect(records[49].value == recordBuffer(Self.sample(120, seed: 49)))
    }

    @Test(arguments: [Compression.none] + codecs, [Compression.none] + codecs)
    func recompressionKeepsRecordsAndHeaderFields(from: Compression, to: Compression) throws {
        var builder = RecordBatchBuilder(compression: from, producerId: ProducerID(9), producerEpoch: 3, baseSequence: 100)
        for i in 0..<30 {
            builder.append(timestamp: TimestampMs(5_000 + Int64(i * 3)), key: i % 4 == 0 ? nil : recordBuffer("key-\(i)"),
                           value: recordBuffer(Self.sample(150, seed: UInt64(i))))
        }
        let original = builder.finish()
        let validated = try RecordBatchValidator.validateProduce(original, decompressedBytesMax: Self.limit,
                                                                 recompression: Recompression(codec: to))
        let batch = try #require(validated.first)
        guard from != to else {
            #expect(batch.rebuilt == nil, "a batch already in the topic's codec is stored as sent")
            return
        }
        let rebuilt = try #require(batch.rebuilt)
        #expect(rebuilt.header.compression == Int(to.rawValue))
        #expect(rebuilt.header.totalSize == rebuilt.bytes.readableBytes)
        // Everything but codec, length and CRC is the producer's.
        for field in [\RecordBatchHeader.baseOffset, \.lastOffsetDeltaWide, \.baseTimestamp, \.maxTimestamp, \.producerId,
                      \.baseSequenceWide, \.recordsCountWide, \.partitionLeaderEpochWide] {
            #expect(rebuilt.header[keyPath: field] == batch.header[keyPath: field])
        }
        #expect(rebuilt.header.producerEpoch == batch.header.producerEpoch)
        #expect(rebuilt.header.attributes & ~7 == batch.header.attributes & ~7)
        // The rebuilt batch is valid on its own (new CRC) and holds the same records.
        _ = try RecordBatchValidator.validateProduce(rebuilt.bytes, decompressedBytesMax: Self.limit)
        let before = try RecordBatchDecoder.decodeAll(original, decompressedBytesMax: Self.limit)[0].records
        let after = try RecordBatchDecoder.decodeAll(rebuilt.bytes, decompressedBytesMax: Self.limit)[0].records
        #expect(before == after)
    }

    @Test func recompressionWritesTheRecordsLargestTimestampAsMaxTimestamp() throws {
        var builder = RecordBatchBuilder(compression: .none)
        for i in 0..<5 { builder.append(timestamp: TimestampMs(2_000 + Int64(i)), key: nil, value: recordBuffer("v\(i)")) }
        var bytes = builder.finish().batchBytes
        // A producer whose header disagrees with its records (maxTimestamp sits at byte 35).
        for (i, byte) in withUnsafeBytes(of: Int64(9_999).bigEndian, Array.init).enumerated() { bytes[35 + i] = byte }
        HandBatch.fixCRC(&bytes)
        let createTime = try RecordBatchValidator.validateProduce(recordBuffer(bytes), decompressedBytesMax: Self.limit,
                                                                  recompression: Recompression(codec: .gzip))
        #expect(createTime.first?.header.maxTimestamp == 9_999, "stored as sent, the producer's header stays")
        #expect(try #require(createTime.first?.rebuilt).header.maxTimestamp == 2_004)
        bytes[22] |= 0x08  // LogAppendTime: maxTimestamp is the time every record reads, kept
        HandBatch.fixCRC(&bytes)
        let appendTime = try RecordBatchValidator.validateProduce(recordBuffer(bytes), decompressedBytesMax: Self.limit,
                                                                  recompression: Recompression(codec: .gzip))
        #expect(try #require(appendTime.first?.rebuilt).header.maxTimestamp == 9_999)
    }

    @Test func controlBatchesAreNeverRecompressed() throws {
        var builder = RecordBatchBuilder(compression: .none, isTransactional: true)
        builder.append(timestamp: TimestampMs(0), key: recordBuffer([0, 0, 0, 1]), value: recordBuffer([0, 0, 0, 0, 0, 0]))
        var bytes = builder.finish().batchBytes
        bytes[22] |= 0x20  // control
        HandBatch.fixCRC(&bytes)
        let validated = try RecordBatchValidator.validateProduce(recordBuffer(bytes), decompressedBytesMax: Self.limit,
                                                                 allowControlBatches: true,
                                                                 recompression: Recompression(codec: .zstd))
        #expect(validated.first?.rebuilt == nil)
    }
}

extension RecordBatchHeader {
    /// Header fields widened to one type so a test can compare them through one key-path list.
    fileprivate var lastOffsetDeltaWide: Int64 { Int64(lastOffsetDelta) }
    fileprivate var baseSequenceWide: Int64 { Int64(baseSequence) }
    fileprivate var recordsCountWide: Int64 { Int64(recordsCount) }
    fileprivate var partitionLeaderEpochWide: Int64 { Int64(partitionLeaderEpoch) }
}
