import CLZ4
import CSnappy
import CZlib
import CZstd
public import NIOCore
import RunnelCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Compression and bounded decompression of record sections for every codec, with the library
/// state and the output buffer kept between calls so that the produce path allocates nothing per
/// batch once warm (docs/decisions.md D111). One context belongs to one thread at a time; the
/// broker's owner loop uses `forCurrentThread`.
///
/// Decompression appends to the caller's buffer and never writes more than `outputBytesMax`
/// bytes: a section that would inflate further throws `.outputTooLarge` (a decompression bomb
/// costs at most the bound in memory, and only the CPU to reach it). zstd and snappy frames that
/// declare a larger size are refused before any work.
public final class CompressionContext {
    private let allocator: ByteBufferAllocator
    private var inflateStream: UnsafeMutablePointer<z_stream>?
    private var lz4Decoder: OpaquePointer?
    private var zstdDecoder: OpaquePointer?
    private var zstdEncoder: OpaquePointer?
    /// Output of the last `decompressToScratch`, reused (cleared, never shrunk below
    /// `scratchRetainedBytesMax`).
    public private(set) var scratch: ByteBuffer

    /// Memory kept between calls; a context that needed more (one huge batch) lets it go after.
    static let scratchRetainedBytesMax = 8 << 20
    static let zstdRetainedBytesMax = 16 << 20

    public init(allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.allocator = allocator
        scratch = allocator.buffer(capacity: 0)
    }

    deinit {
        if let inflateStream { Gzip.freeInflateStream(inflateStream) }
        if let lz4Decoder { LZ4F_freeDecompressionContext(lz4Decoder) }
        if let zstdDecoder { ZSTD_freeDCtx(zstdDecoder) }
        if let zstdEncoder { ZSTD_freeCCtx(zstdEncoder) }
    }

    // MARK: Decompression

    /// Lets go of a scratch buffer that one large batch grew beyond `scratchRetainedBytesMax` (a
    /// bomb's 64 MiB is not kept until the next compressed batch).
    public func trimScratch() {
        if scratch.capacity > Self.scratchRetainedBytesMax {
            scratch = allocator.buffer(capacity: 0)
        }
    }

    /// Decompresses `input` into `scratch` (replacing what it held) and returns it; the bytes are
    /// valid until the next call on this context.
    public func decompressToScratch(_ input: UnsafeRawBufferPointer, codec: Compression,
                                    outputBytesMax: Int) throws(DecompressionError) -> ByteBuffer {
        trimScratch()
        scratch.clear()
        try decompress(input, codec: codec, outputBytesMax: outputBytesMax, into: &scratch)
        return scratch
    }

    /// Appends the decompressed `input` to `output`, at most `outputBytesMax` bytes.
    public func decompress(_ input: UnsafeRawBufferPointer, codec: Compression, outputBytesMax: Int,
                           into output: inout ByteBuffer) throws(DecompressionError) {
        precondition(outputBytesMax >= 0)
        switch codec {
        case .none:
            guard input.count <= outputBytesMax else { throw DecompressionError(.none, .outputTooLarge(limitBytes: outputBytesMax)) }
            output.writeBytes(input)
        case .gzip:
            if inflateStream == nil { inflateStream = Gzip.makeInflateStream() }
            do {
                try Gzip.decompress(input, outputBytesMax: outputBytesMax, stream: inflateStream!, into: &output)
            } catch {
                throw error.asDecompressionError
            }
        case .snappy:
            try Snappy.decompress(input, outputBytesMax: outputBytesMax, into: &output)
        case .lz4:
            if lz4Decoder == nil {
                var decoder: OpaquePointer?
                let status = LZ4F_createDecompressionContext(&decoder, UInt32(LZ4F_VERSION))
                precondition(LZ4F_isError(status) == 0 && decoder != nil, "LZ4F_createDecompressionContext failed")
                lz4Decoder = decoder
            }
            try LZ4Frame.decompress(input, outputBytesMax: outputBytesMax, decoder: lz4Decoder!, into: &output)
        case .zstd:
            if zstdDecoder == nil {
                let decoder = ZSTD_createDCtx()
                precondition(decoder != nil, "ZSTD_createDCtx failed")
                zstdDecoder = decoder
            }
            defer {
                if ZSTD_sizeof_DCtx(zstdDecoder) > Self.zstdRetainedBytesMax {
                    ZSTD_freeDCtx(zstdDecoder)
                    zstdDecoder = nil
                }
            }
            try Zstd.decompress(input, outputBytesMax: outputBytesMax, decoder: zstdDecoder!, into: &output)
        }
    }

    // MARK: Compression

    /// Appends `input` compressed with `codec` at `level` (the codec's default when nil).
    public func compress(_ input: UnsafeRawBufferPointer, codec: Compression, level: Int32? = nil,
                         into output: inout ByteBuffer) {
        let level = level ?? codec.defaultLevel
        precondition(codec.levels.contains(level), "\(codec) level \(level) is outside \(codec.levels)")
        switch codec {
        case .none:
            output.writeBytes(input)
        case .gzip:
            Gzip.compress(input, level: level, into: &output)
        case .snappy:
            Snappy.compressXerial(input, into: &output)
        case .lz4:
            LZ4Frame.compress(input, level: level, into: &output)
        case .zstd:
            if zstdEncoder == nil {
                let encoder = ZSTD_createCCtx()
                precondition(encoder != nil, "ZSTD_createCCtx failed")
                zstdEncoder = encoder
            }
            Zstd.compress(input, level: level, encoder: zstdEncoder!, into: &output)
        }
    }

    /// Compresses `input` into a new buffer.
    public func compress(_ input: [UInt8], codec: Compression, level: Int32? = nil) -> ByteBuffer {
        var output = allocator.buffer(capacity: input.count / 2 + 64)
        input.withUnsafeBytes { compress($0, codec: codec, level: level, into: &output) }
        return output
    }

    /// Decompresses `input` into a new buffer.
    public func decompress(_ input: [UInt8], codec: Compression, outputBytesMax: Int) throws(DecompressionError) -> ByteBuffer {
        var output = allocator.buffer(capacity: min(outputBytesMax, max(256, input.count * 4)))
        let result = input.withUnsafeBytes { bytes in
            Result { () throws(DecompressionError) in
                try decompress(bytes, codec: codec, outputBytesMax: outputBytesMax, into: &output)
            }
        }
        try result.get()
        return output
    }

    // MARK: One per thread

    #if os(Linux)
    private static let threadKey: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { pointer in
            if let pointer { Unmanaged<CompressionContext>.fromOpaque(pointer).release() }
        }
        precondition(status == 0, "pthread_key_create failed: \(status)")
        return key
    }()

    /// This thread's context, created on first use and freed with the thread. Producers seal
    /// batches on whatever thread appended the last record; the broker validates on its owner loop.
    public static var forCurrentThread: CompressionContext {
        if let pointer = pthread_getspecific(threadKey) {
            return Unmanaged<CompressionContext>.fromOpaque(pointer).takeUnretainedValue()
        }
        let context = CompressionContext()
        pthread_setspecific(threadKey, Unmanaged.passRetained(context).toOpaque())
        return context
    }
    #else
    /// Elsewhere a new context per use (correct, slower).
    public static var forCurrentThread: CompressionContext { CompressionContext() }
    #endif
}

// MARK: - snappy

/// snappy through libsnappy. Kafka's Java client (snappy-java) and kafka-python/aiokafka write the
/// xerial framing — a 16-byte header (magic `82 'SNAPPY' 00`, version, compatible version) and
/// then blocks of [int32 big-endian length, raw snappy block] —, librdkafka writes one raw snappy
/// block. Both are read, told apart by the magic (as librdkafka does); Runnel writes xerial,
/// which every client reads (docs/decisions.md D112).
public enum Snappy {
    static let xerialMagic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]
    static let xerialHeaderBytes = 16
    /// Uncompressed bytes per xerial block: snappy-java's and kafka-python's default.
    public static let xerialBlockBytes = 32 * 1024

    static func startsWithXerialMagic(_ input: UnsafeRawBufferPointer, at index: Int) -> Bool {
        guard input.count - index >= xerialMagic.count else { return false }
        for i in 0..<xerialMagic.count where input[index + i] != xerialMagic[i] { return false }
        return true
    }

    /// Appends the decompressed `input` (xerial-framed or one raw block) to `output`.
    public static func decompress(_ input: UnsafeRawBufferPointer, outputBytesMax: Int,
                                  into output: inout ByteBuffer) throws(DecompressionError) {
        guard startsWithXerialMagic(input, at: 0) else {
            var written = 0
            try decompressBlock(input, written: &written, outputBytesMax: outputBytesMax, into: &output)
            return
        }
        var index = 0
        var written = 0
        while index < input.count {
            if startsWithXerialMagic(input, at: index) {
                // A header, at the start or between concatenated streams (snappy-java reads both).
                guard input.count - index >= xerialHeaderBytes else { throw DecompressionError(.snappy, .truncated) }
                index += xerialHeaderBytes
                continue
            }
            guard input.count - index >= 4 else { throw DecompressionError(.snappy, .truncated) }
            let length = Int(input.loadBigEndian(Int32.self, at: index))
            index += 4
            guard length >= 0 else { throw DecompressionError(.snappy, .corrupt("negative xerial block length \(length)")) }
            guard length <= input.count - index else { throw DecompressionError(.snappy, .truncated) }
            let block = UnsafeRawBufferPointer(rebasing: input[index..<(index + length)])
            try decompressBlock(block, written: &written, outputBytesMax: outputBytesMax, into: &output)
            index += length
        }
    }

    /// One raw snappy block: its declared length is checked against the bound before anything is
    /// written.
    static func decompressBlock(_ block: UnsafeRawBufferPointer, written: inout Int, outputBytesMax: Int,
                                into output: inout ByteBuffer) throws(DecompressionError) {
        guard let base = block.baseAddress?.assumingMemoryBound(to: CChar.self), block.count > 0 else {
            throw DecompressionError(.snappy, .truncated)
        }
        var length = 0
        guard snappy_uncompressed_length(base, block.count, &length) == SNAPPY_OK else {
            throw DecompressionError(.snappy, .corrupt("invalid snappy block length"))
        }
        guard length <= outputBytesMax - written else {
            throw DecompressionError(.snappy, .outputTooLarge(limitBytes: outputBytesMax))
        }
        var status = SNAPPY_OK
        output.writeWithUnsafeMutableBytes(minimumWritableBytes: max(length, 1)) { out in
            var produced = length
            status = snappy_uncompress(base, block.count, out.baseAddress!.assumingMemoryBound(to: CChar.self), &produced)
            return status == SNAPPY_OK ? produced : 0
        }
        guard status == SNAPPY_OK else {
            throw DecompressionError(.snappy, .corrupt("invalid snappy block (status \(status.rawValue))"))
        }
        written += length
    }

    /// Appends `input` as one raw snappy block (librdkafka's form).
    public static func compressRaw(_ input: UnsafeRawBufferPointer, into output: inout ByteBuffer) {
        let bound = snappy_max_compressed_length(input.count)
        output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { out in
            compressBlock(input, into: out)
        }
    }

    /// Appends `input` in xerial framing, `xerialBlockBytes` of input per block.
    public static func compressXerial(_ input: UnsafeRawBufferPointer, blockBytes: Int = xerialBlockBytes,
                                      into output: inout ByteBuffer) {
        precondition(blockBytes > 0)
        output.writeBytes(xerialMagic)
        output.writeInteger(Int32(1))  // version
        output.writeInteger(Int32(1))  // compatible version
        var index = 0
        repeat {
            let end = min(index + blockBytes, input.count)
            let block = UnsafeRawBufferPointer(rebasing: input[index..<end])
            let bound = 4 + snappy_max_compressed_length(block.count)
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { out in
                let written = compressBlock(block, into: UnsafeMutableRawBufferPointer(rebasing: out[4...]))
                out.storeBytes(of: Int32(written).bigEndian, toByteOffset: 0, as: Int32.self)
                return 4 + written
            }
            index = end
        } while index < input.count
    }

    private static func compressBlock(_ input: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int {
        var produced = out.count
        var empty: CChar = 0
        let status = withUnsafePointer(to: &empty) { emptyPointer in
            snappy_compress(input.baseAddress?.assumingMemoryBound(to: CChar.self) ?? emptyPointer, input.count,
                            out.baseAddress!.assumingMemoryBound(to: CChar.self), &produced)
        }
        precondition(status == SNAPPY_OK, "snappy_compress failed: \(status.rawValue)")
        return produced
    }
}

// MARK: - lz4

/// The LZ4 frame format through liblz4, as Kafka uses it for magic v2 (KIP-57): written with
/// independent 64 KiB blocks and no content size or checksum (what Kafka's Java client and
/// aiokafka write); any valid frame is read, including concatenated and skippable frames.
public enum LZ4Frame {
    /// Fast mode (librdkafka's default). Kafka's `compression.lz4.level` defaults to 9 (HC).
    public static let defaultLevel: Int32 = 0

    static func preferences(level: Int32) -> LZ4F_preferences_t {
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.blockSizeID = LZ4F_max64KB
        preferences.frameInfo.blockMode = LZ4F_blockIndependent
        preferences.compressionLevel = level
        return preferences
    }

    public static func compress(_ input: UnsafeRawBufferPointer, level: Int32 = defaultLevel, into output: inout ByteBuffer) {
        var preferences = preferences(level: level)
        let bound = LZ4F_compressFrameBound(input.count, &preferences)
        output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { out in
            let written = LZ4F_compressFrame(out.baseAddress, out.count, input.baseAddress, input.count, &preferences)
            precondition(LZ4F_isError(written) == 0, "LZ4F_compressFrame failed: \(String(cString: LZ4F_getErrorName(written)))")
            return written
        }
    }

    /// Frame magic numbers: a frame, or a skippable frame (0x184D2A50…5F), little-endian.
    static func startsFrame(_ input: UnsafeRawBufferPointer, at index: Int) -> Bool {
        guard input.count - index >= 4 else { return false }
        let magic = UInt32(input[index]) | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2]) << 16
            | UInt32(input[index + 3]) << 24
        return magic == 0x184D_2204 || (magic & 0xFFFF_FFF0) == 0x184D_2A50
    }

    static func decompress(_ input: UnsafeRawBufferPointer, outputBytesMax: Int, decoder: OpaquePointer,
                           into output: inout ByteBuffer) throws(DecompressionError) {
        LZ4F_resetDecompressionContext(decoder)
        guard input.count > 0 else { throw DecompressionError(.lz4, .truncated) }
        var consumed = 0
        var written = 0
        var chunkBytes = max(4096, min(input.count * 4, 1 << 20))
        while true {
            var srcSize = input.count - consumed
            var dstSize = 0
            let hint: Int
            let source = input.baseAddress! + consumed
            if written < outputBytesMax {
                let want = min(chunkBytes, outputBytesMax - written)
                var result = 0
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { out in
                    dstSize = want
                    result = LZ4F_decompress(decoder, out.baseAddress, &dstSize, source, &srcSize, nil)
                    return LZ4F_isError(result) == 0 ? dstSize : 0
                }
                hint = result
                chunkBytes = min(chunkBytes * 2, 64 << 20)
            } else {
                var probe: UInt8 = 0
                dstSize = 1
                hint = LZ4F_decompress(decoder, &probe, &dstSize, source, &srcSize, nil)
                if LZ4F_isError(hint) == 0 && dstSize > 0 {
                    throw DecompressionError(.lz4, .outputTooLarge(limitBytes: outputBytesMax))
                }
            }
            if LZ4F_isError(hint) != 0 {
                throw DecompressionError(.lz4, .corrupt(String(cString: LZ4F_getErrorName(hint))))
            }
            consumed += srcSize
            written += dstSize
            if hint == 0 {
                // A frame ended; another may follow (the format allows concatenation).
                guard consumed < input.count else { return }
                guard startsFrame(input, at: consumed) else {
                    throw DecompressionError(.lz4, .trailingBytes(count: input.count - consumed))
                }
            } else if consumed == input.count && dstSize == 0 && srcSize == 0 {
                throw DecompressionError(.lz4, .truncated)
            }
        }
    }
}

// MARK: - zstd

/// zstd frames through libzstd. The decoder's window is limited to 2^26 bytes (64 MiB, no more
/// than a batch may inflate to) so a frame cannot make it reserve more (docs/decisions.md D111).
public enum Zstd {
    /// Kafka's default `compression.zstd.level`, and librdkafka's.
    public static let defaultLevel: Int32 = 3
    static let windowLogMax: Int32 = 26

    static func compress(_ input: UnsafeRawBufferPointer, level: Int32, encoder: OpaquePointer,
                         into output: inout ByteBuffer) {
        let bound = ZSTD_compressBound(input.count)
        output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { out in
            let written = ZSTD_compressCCtx(encoder, out.baseAddress, out.count, input.baseAddress, input.count, level)
            precondition(ZSTD_isError(written) == 0, "ZSTD_compressCCtx failed: \(String(cString: ZSTD_getErrorName(written)))")
            return written
        }
    }

    static func decompress(_ input: UnsafeRawBufferPointer, outputBytesMax: Int, decoder: OpaquePointer,
                           into output: inout ByteBuffer) throws(DecompressionError) {
        ZSTD_DCtx_reset(decoder, ZSTD_reset_session_and_parameters)
        ZSTD_DCtx_setParameter(decoder, ZSTD_d_windowLogMax, windowLogMax)
        guard input.count > 0 else { throw DecompressionError(.zstd, .truncated) }
        // A frame that declares its size (ZSTD_compress does) is refused before any work.
        let declared = ZSTD_getFrameContentSize(input.baseAddress, input.count)
        if declared < UInt64.max - 1, declared > UInt64(outputBytesMax) {
            throw DecompressionError(.zstd, .outputTooLarge(limitBytes: outputBytesMax))
        }
        var chunkBytes = declared < UInt64.max - 1 ? max(1, Int(declared)) : max(4096, min(input.count * 4, 1 << 20))
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var written = 0
        while true {
            let result: Int
            var produced = 0
            var room = 0
            if written < outputBytesMax {
                let want = min(chunkBytes, outputBytesMax - written)
                room = want
                var status = 0
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { out in
                    var target = ZSTD_outBuffer(dst: out.baseAddress, size: want, pos: 0)
                    status = ZSTD_decompressStream(decoder, &target, &source)
                    produced = ZSTD_isError(status) == 0 ? target.pos : 0
                    return produced
                }
                result = status
                chunkBytes = min(chunkBytes * 2, 64 << 20)
            } else {
                var probe: UInt8 = 0
                room = 1
                var probed = 0
                result = withUnsafeMutableBytes(of: &probe) { probeBytes in
                    var target = ZSTD_outBuffer(dst: probeBytes.baseAddress, size: 1, pos: 0)
                    let status = ZSTD_decompressStream(decoder, &target, &source)
                    probed = target.pos
                    return status
                }
                if ZSTD_isError(result) == 0 && probed > 0 {
                    throw DecompressionError(.zstd, .outputTooLarge(limitBytes: outputBytesMax))
                }
            }
            if ZSTD_isError(result) != 0 {
                throw DecompressionError(.zstd, .corrupt(String(cString: ZSTD_getErrorName(result))))
            }
            written += produced
            if result == 0 {
                // A frame ended and is flushed; another may follow.
                if source.pos == source.size { return }
            } else if source.pos == source.size && produced < room {
                // All input read, room left, and the decoder still wants more: cut short.
                throw DecompressionError(.zstd, .truncated)
            }
        }
    }
}
