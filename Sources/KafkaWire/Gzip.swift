import CZlib
public import NIOCore

/// gzip (RFC 1952) through libz. Kafka's gzip codec
/// is a plain gzip stream: zlib deflate with the gzip wrapper (windowBits 15 + 16).
///
/// Decompression is always bounded by the caller's `outputBytesMax`: a batch of a few kilobytes
/// can inflate to gigabytes ("zip bomb"), and the broker decompresses untrusted produce input.
/// Exceeding the bound throws `.outputTooLarge` after at most `outputBytesMax` bytes were written.
public enum Gzip {
    /// zlib's default level (6). Kafka's Java producer uses the same default.
    public static let defaultLevel: Int32 = -1

    /// windowBits for a gzip (not zlib, not raw deflate) stream with a 32 KiB window.
    static let gzipWindowBits: Int32 = 15 + 16

    /// Why a gzip stream could not be decompressed.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        /// libz rejected the data (bad header, bad deflate data, CRC or length trailer mismatch).
        case corrupt(String)
        /// The input ended before the gzip stream did.
        case truncated
        /// The stream inflates to more than `limitBytes`.
        case outputTooLarge(limitBytes: Int)
        /// Bytes after the last gzip member that do not start another member.
        case trailingBytes(count: Int)

        public var description: String {
            switch self {
            case .corrupt(let message): return "gzip data is corrupt: \(message)"
            case .truncated: return "gzip data is truncated"
            case .outputTooLarge(let limit): return "gzip data inflates to more than \(limit) bytes"
            case .trailingBytes(let count): return "\(count) bytes follow the gzip stream"
            }
        }
    }

    /// Compresses `input` as one gzip member and appends it to `output`. Reserves libz's
    /// worst-case bound first, so deflate runs once with no growth.
    public static func compress(_ input: UnsafeRawBufferPointer, level: Int32 = defaultLevel, into output: inout ByteBuffer) {
        precondition(input.count <= Int(UInt32.max), "gzip input larger than 4 GiB")
        precondition(level == defaultLevel || (0...9).contains(level), "gzip level \(level) is not -1 or 0...9")
        var stream = z_stream()
        let initStatus = deflateInit2_(&stream, level, Z_DEFLATED, gzipWindowBits, 8, Z_DEFAULT_STRATEGY,
                                       zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(initStatus == Z_OK, "deflateInit2 failed: \(initStatus)")
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { out in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(min(out.count, Int(UInt32.max)))
            let status = deflate(&stream, Z_FINISH)
            // With deflateBound bytes of room a single Z_FINISH always completes.
            precondition(status == Z_STREAM_END, "deflate did not finish within deflateBound: \(status)")
            return Int(stream.total_out)
        }
    }

    /// Compresses `input` into a new buffer.
    public static func compress(_ input: [UInt8], level: Int32 = defaultLevel,
                                allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var output = allocator.buffer(capacity: 0)
        input.withUnsafeBytes { compress($0, level: level, into: &output) }
        return output
    }

    /// Decompresses the gzip stream `input` (one or more members) into a new buffer of at most
    /// `outputBytesMax` bytes.
    public static func decompress(_ input: UnsafeRawBufferPointer, outputBytesMax: Int,
                                  allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(Failure) -> ByteBuffer {
        let stream = makeInflateStream()
        defer { freeInflateStream(stream) }
        var output = allocator.buffer(capacity: min(outputBytesMax, max(4096, min(input.count * 4, 1 << 20))))
        try decompress(input, outputBytesMax: outputBytesMax, stream: stream, into: &output)
        return output
    }

    /// An inflate stream for gzip, on the heap: libz keeps a pointer back to it, so it must not
    /// move. Reused across calls by `CompressionContext` (inflateReset instead of a new one).
    static func makeInflateStream() -> UnsafeMutablePointer<z_stream> {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let initStatus = inflateInit2_(stream, gzipWindowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(initStatus == Z_OK, "inflateInit2 failed: \(initStatus)")
        return stream
    }

    static func freeInflateStream(_ stream: UnsafeMutablePointer<z_stream>) {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Decompresses `input` with an initialized inflate `stream` (reset first), appending at most
    /// `outputBytesMax` bytes to `output`.
    static func decompress(_ input: UnsafeRawBufferPointer, outputBytesMax: Int, stream: UnsafeMutablePointer<z_stream>,
                           into output: inout ByteBuffer) throws(Failure) {
        precondition(outputBytesMax >= 0)
        precondition(input.count <= Int(UInt32.max), "gzip input larger than 4 GiB")
        inflateReset(stream)
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)

        // Start from a guess of 4× the input (typical for record data) and double; never reserve
        // beyond the bound.
        var chunkBytes = max(4096, min(input.count * 4, 1 << 20))
        var written = 0
        while true {
            let status: Int32
            if written < outputBytesMax {
                let want = min(chunkBytes, outputBytesMax - written)
                status = output.writeReturning(minimumWritableBytes: want) { out in
                    stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.pointee.avail_out = uInt(want)
                    let status = inflate(stream, Z_NO_FLUSH)
                    return (status, want - Int(stream.pointee.avail_out))
                }
                written = Int(stream.pointee.total_out)
                chunkBytes = min(chunkBytes * 2, 64 << 20)
            } else {
                // At the bound: one more byte of output means the stream is too large.
                var probe: UInt8 = 0
                status = withUnsafeMutablePointer(to: &probe) { pointer in
                    stream.pointee.next_out = pointer
                    stream.pointee.avail_out = 1
                    return inflate(stream, Z_NO_FLUSH)
                }
                if stream.pointee.avail_out == 0 { throw .outputTooLarge(limitBytes: outputBytesMax) }
            }
            switch status {
            case Z_STREAM_END:
                guard stream.pointee.avail_in > 0 else { return }
                // Another member follows (RFC 1952 allows several; Java's GZIPInputStream reads them).
                let next = stream.pointee.next_in!
                guard stream.pointee.avail_in >= 2, next[0] == 0x1F, next[1] == 0x8B else {
                    throw .trailingBytes(count: Int(stream.pointee.avail_in))
                }
                // inflateReset clears total_out: count what the earlier members wrote.
                let before = written
                inflateReset(stream)
                written = before
                stream.pointee.total_out = uLong(before)
            case Z_OK, Z_BUF_ERROR:
                // No input left yet room to write: the stream stopped early.
                if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { throw .truncated }
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                throw .corrupt(message)
            }
        }
    }
}

extension ByteBuffer {
    /// Variant of `writeWithUnsafeMutableBytes` whose closure also returns a value.
    mutating func writeReturning<T>(
        minimumWritableBytes: Int, _ body: (UnsafeMutableRawBufferPointer) -> (T, Int)
    ) -> T {
        var result: T?
        writeWithUnsafeMutableBytes(minimumWritableBytes: minimumWritableBytes) { pointer in
            let (value, written) = body(pointer)
            result = value
            return written
        }
        return result!
    }
}
