public import NIOCore
public import RunnelCore

/// Builds one RecordBatch v2 the way a producer sends it: baseOffset 0, partitionLeaderEpoch -1,
/// CreateTime timestamps, offset deltas 0, 1, 2…, baseTimestamp = the first record's timestamp.
///
/// Records are encoded straight into one buffer behind a 61-byte header placeholder: each append
/// computes the record's exact size from its varint widths and writes it in one pass, so nothing is
/// allocated per record beyond growing that buffer. `finish()` fills in the header and computes
/// the CRC-32C once. With a codec, the record section is compressed once, at `finish()`, into a
/// second buffer (with this thread's `CompressionContext`, so library state is reused).
///
///     var builder = RecordBatchBuilder(compression: .gzip)
///     builder.append(timestamp: now, key: nil, value: ByteBuffer(string: "hello"))
///     let batch = builder.finish()        // the bytes of a Produce request's `records`
public struct RecordBatchBuilder {
    public let compression: Compression
    /// The codec's level; nil = `Compression.defaultLevel`.
    public let compressionLevel: Int32?
    public var producerId: ProducerID
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var isTransactional: Bool

    /// Header placeholder followed by the uncompressed records.
    private var buffer: ByteBuffer
    private let allocator: ByteBufferAllocator
    /// Records appended so far.
    public private(set) var count: Int = 0
    private var baseTimestamp: Int64 = -1
    private var maxTimestamp: Int64 = -1

    /// - Parameters:
    ///   - producerId, producerEpoch, baseSequence: an idempotent producer's identity and the
    ///     sequence number of the first record (-1 when not idempotent). They can also be set
    ///     after `finish()` with `setProducerState(in:…)`, e.g. when sequences are assigned at send.
    ///   - capacityBytes: initial buffer size; a producer passes its `batch.size`.
    public init(compression: Compression = .none, compressionLevel: Int32? = nil,
                producerId: ProducerID = .none, producerEpoch: Int16 = -1, baseSequence: Int32 = -1,
                isTransactional: Bool = false, capacityBytes: Int = 16 * 1024,
                allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        precondition(compression.isSupported, "compression \(compression) is not supported")
        precondition(compressionLevel.map { compression.levels.contains($0) } ?? true,
                     "\(compression) level \(compressionLevel!) is outside \(compression.levels)")
        self.compression = compression
        self.compressionLevel = compressionLevel
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.isTransactional = isTransactional
        self.allocator = allocator
        buffer = allocator.buffer(capacity: max(capacityBytes, RecordBatchHeader.size))
        buffer.writeRepeatingByte(0, count: RecordBatchHeader.size)
    }

    /// Bytes of the batch so far, uncompressed (header included). A producer compares this with
    /// `batch.size` to decide when a batch is full.
    public var sizeBytes: Int { buffer.readableBytes }

    public var isEmpty: Bool { count == 0 }

    /// An upper bound on the bytes a record adds to a batch, for deciding before `append` whether
    /// it fits (assumes the widest timestamp and offset deltas).
    public static func recordSizeBytesMax(keyBytes: Int?, valueBytes: Int?, headers: [RecordHeader] = []) -> Int {
        let body = RecordWire.bodySize(timestampDelta: .min, offsetDelta: .min, keyLength: keyBytes,
                                       valueLength: valueBytes, headers: headers)
        return ZigZag.size(Int32(clamping: body)) + body
    }

    /// Appends a record; its offsetDelta is its index in the batch.
    public mutating func append(timestamp: TimestampMs, key: ByteBuffer?, value: ByteBuffer?,
                                headers: [RecordHeader] = []) {
        withOptionalBytes(key) { key in
            withOptionalBytes(value) { value in
                appendUnsafe(timestamp: timestamp, key: key, value: value, headers: headers)
            }
        }
    }

    /// Appends a record whose key and value are raw bytes (copied before returning).
    public mutating func appendUnsafe(timestamp: TimestampMs, key: UnsafeRawBufferPointer?,
                                      value: UnsafeRawBufferPointer?, headers: [RecordHeader] = []) {
        precondition(count < Int(Int32.max), "too many records for one batch")
        if count == 0 { baseTimestamp = timestamp.rawValue }
        maxTimestamp = count == 0 ? timestamp.rawValue : max(maxTimestamp, timestamp.rawValue)
        let timestampDelta = timestamp.rawValue &- baseTimestamp
        let offsetDelta = Int32(count)
        let body = RecordWire.bodySize(timestampDelta: timestampDelta, offsetDelta: offsetDelta,
                                       keyLength: key?.count, valueLength: value?.count, headers: headers)
        precondition(body <= Int(Int32.max), "record larger than 2 GiB")
        let total = ZigZag.size(Int32(body)) + body
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { out in
            RecordWire.write(bodySize: body, timestampDelta: timestampDelta, offsetDelta: offsetDelta,
                             key: key, value: value, headers: headers, to: out, at: 0)
        }
        count += 1
    }

    /// The finished batch: header filled in, records compressed if asked, CRC computed. The
    /// builder is consumed. A batch needs at least one record (programmer error otherwise).
    public consuming func finish() -> ByteBuffer {
        precondition(count > 0, "a RecordBatch needs at least one record")
        var batch: ByteBuffer
        switch compression {
        case .none:
            // Move the buffer out so that writing the header does not copy it.
            batch = buffer
            buffer = ByteBuffer()
        case .gzip, .snappy, .lz4, .zstd:
            batch = allocator.buffer(capacity: RecordBatchHeader.size + buffer.readableBytes / 2 + 64)
            batch.writeRepeatingByte(0, count: RecordBatchHeader.size)
            let (codec, level) = (compression, compressionLevel)
            let context = CompressionContext.forCurrentThread
            buffer.withUnsafeReadableBytes { bytes in
                context.compress(UnsafeRawBufferPointer(rebasing: bytes[RecordBatchHeader.size...]), codec: codec,
                                 level: level, into: &batch)
            }
        }
        precondition(batch.readableBytes - RecordBatchHeader.logOverhead <= Int(Int32.max), "batch larger than 2 GiB")
        let attributes = compression.rawValue | (isTransactional ? 0x10 : 0)
        let lastOffsetDelta = Int32(count - 1)
        let fields = (baseTimestamp, maxTimestamp, producerId.rawValue, producerEpoch, baseSequence)
        batch.withUnsafeMutableReadableBytes { bytes in
            typealias F = RecordBatchHeader.Field
            bytes.storeBigEndian(Int64(0), at: F.baseOffset)
            bytes.storeBigEndian(Int32(bytes.count - RecordBatchHeader.logOverhead), at: F.batchLength)
            bytes.storeBigEndian(Int32(-1), at: F.partitionLeaderEpoch)
            bytes[F.magic] = 2
            bytes.storeBigEndian(attributes, at: F.attributes)
            bytes.storeBigEndian(lastOffsetDelta, at: F.lastOffsetDelta)
            bytes.storeBigEndian(fields.0, at: F.baseTimestamp)
            bytes.storeBigEndian(fields.1, at: F.maxTimestamp)
            bytes.storeBigEndian(fields.2, at: F.producerId)
            bytes.storeBigEndian(fields.3, at: F.producerEpoch)
            bytes.storeBigEndian(fields.4, at: F.baseSequence)
            bytes.storeBigEndian(lastOffsetDelta + 1, at: F.recordsCount)
            RecordBatchBuilder.storeCRC(bytes)
        }
        return batch
    }

    /// Rewrites the producer id, epoch and base sequence of a finished batch (at the reader index
    /// of `batch`) and recomputes its CRC, for producers that assign sequences when a batch is
    /// first sent. A retry must resend the bytes unchanged.
    public static func setProducerState(in batch: inout ByteBuffer, producerId: ProducerID, producerEpoch: Int16,
                                        baseSequence: Int32) {
        batch.withUnsafeMutableReadableBytes { bytes in
            precondition(bytes.count >= RecordBatchHeader.size, "not a record batch")
            typealias F = RecordBatchHeader.Field
            bytes.storeBigEndian(producerId.rawValue, at: F.producerId)
            bytes.storeBigEndian(producerEpoch, at: F.producerEpoch)
            bytes.storeBigEndian(baseSequence, at: F.baseSequence)
            storeCRC(bytes)
        }
    }

    /// CRC-32C over attributes…end, stored at offset 17.
    static func storeCRC(_ bytes: UnsafeMutableRawBufferPointer) {
        let total = Int(UnsafeRawBufferPointer(bytes).loadBigEndian(Int32.self, at: RecordBatchHeader.Field.batchLength))
            + RecordBatchHeader.logOverhead
        precondition(total <= bytes.count, "batchLength beyond buffer")
        let covered = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[RecordBatchHeader.crcCoverageStart..<total])
        bytes.storeBigEndian(CRC32C.checksum(covered), at: RecordBatchHeader.Field.crc)
    }
}
