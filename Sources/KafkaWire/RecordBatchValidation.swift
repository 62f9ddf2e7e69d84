public import NIOCore
public import RunnelCore

/// One batch of a partition's produce records that passed validation.
public struct ValidatedBatch: Equatable, Sendable {
    /// Where the batch lies in the bytes passed to `RecordBatchValidator.validateProduce`.
    public var range: Range<Int>
    public var header: RecordBatchHeader
    /// The largest record timestamp (baseTimestamp + timestampDelta) in the batch. Kafka rewrites
    /// a CreateTime batch's maxTimestamp when it disagrees with this; a broker may do the same.
    public var maxRecordTimestamp: TimestampMs
    /// The batch recompressed with the codec a `Recompression` asked for, when it differs from the
    /// batch's own; nil when the batch is to be stored as sent.
    public var rebuilt: RebuiltBatch? = nil
}

/// A produced batch rewritten with another codec (topic `compression.type`, docs/decisions.md
/// D114): the same header fields, offsets deltas, timestamps, producer id, epoch and sequence,
/// and the same records, in a new record section with new codec bits, batchLength and CRC.
public struct RebuiltBatch: Equatable, Sendable {
    public var bytes: ByteBuffer
    public var header: RecordBatchHeader
}

/// The codec a topic stores its batches in, when it is not "as the producer sent them".
public struct Recompression: Equatable, Sendable {
    public var codec: Compression
    /// The codec's level; its default when nil.
    public var level: Int32?

    public init(codec: Compression, level: Int32? = nil) {
        self.codec = codec
        self.level = level
    }
}

/// Broker-side checks of a Produce request's `records` for one partition (one or more
/// concatenated batches), before anything is appended:
///
/// - the header is complete and batchLength fits the bytes;
/// - magic is 2 (0 and 1 get their own error: pre-0.11 formats are neither stored nor converted);
/// - CRC-32C over attributes…end;
/// - recordsCount == lastOffsetDelta + 1 ≥ 1;
/// - the codec is one of the five (5-7 → UNSUPPORTED_COMPRESSION_TYPE);
/// - no control batch (only the broker writes transaction markers), and an idempotent batch has
///   a sequence;
/// - the records really parse: each length varint and field fits, offset deltas are 0, 1, 2…, and
///   there are exactly recordsCount records and no byte after them. Compressed sections are
///   decompressed first, bounded by `decompressedBytesMax`.
///
/// With a `Recompression` whose codec differs from a batch's, the batch is also rebuilt in that
/// codec (`ValidatedBatch.rebuilt`), from the records just checked: one decompression serves both.
///
/// Apache Kafka accepts exactly one batch per partition in Produce v3+; Runnel accepts several
/// and reports each.
///
/// This runs on the produce hot path: an uncompressed batch is walked in place over raw memory,
/// with no allocation per record; a compressed one is decompressed into the reused buffer of a
/// `CompressionContext` (this thread's unless one is given), so once warm the only allocation is
/// the result array (and a rebuilt batch's bytes).
public enum RecordBatchValidator {
    public static func validateProduce(_ records: ByteBuffer, decompressedBytesMax: Int,
                                       allowControlBatches: Bool = false, recompression: Recompression? = nil,
                                       context: CompressionContext? = nil) throws(RecordBatchError) -> [ValidatedBatch] {
        try records.withUnsafeReadableBytes { bytes throws(RecordBatchError) in
            try validateProduce(bytes, decompressedBytesMax: decompressedBytesMax, allowControlBatches: allowControlBatches,
                                recompression: recompression, context: context)
        }
    }

    /// - Parameter allowControlBatches: true for the broker's own writes (transaction markers).
    public static func validateProduce(_ records: UnsafeRawBufferPointer, decompressedBytesMax: Int,
                                       allowControlBatches: Bool = false, recompression: Recompression? = nil,
                                       context: CompressionContext? = nil) throws(RecordBatchError) -> [ValidatedBatch] {
        guard records.count > 0 else { throw RecordBatchError(batchPosition: 0, kind: .noBatches) }
        var batches: [ValidatedBatch] = []
        var position = 0
        while position < records.count {
            let batch = try validateBatch(records, at: position, decompressedBytesMax: decompressedBytesMax,
                                          allowControlBatches: allowControlBatches, recompression: recompression,
                                          context: context)
            batches.append(batch)
            position = batch.range.upperBound
        }
        return batches
    }

    /// Validates the one batch starting at `position` of `records`.
    public static func validateBatch(_ records: UnsafeRawBufferPointer, at position: Int, decompressedBytesMax: Int,
                                     allowControlBatches: Bool = false, recompression: Recompression? = nil,
                                     context: CompressionContext? = nil) throws(RecordBatchError) -> ValidatedBatch {
        func fail(_ kind: RecordBatchError.Kind) -> RecordBatchError { RecordBatchError(batchPosition: position, kind: kind) }
        let header = try RecordBatchFrame.checkHeader(records, at: position, verifyCRC: true)
        guard header.recordsCount >= 1, header.lastOffsetDelta >= 0,
              Int64(header.recordsCount) == Int64(header.lastOffsetDelta) + 1 else {
            throw fail(.badCounts(recordsCount: header.recordsCount, lastOffsetDelta: header.lastOffsetDelta))
        }
        let compression = try RecordBatchFrame.supportedCompression(header, at: position)
        guard allowControlBatches || !header.isControl else { throw fail(.controlBatchFromClient) }
        guard header.producerId < 0 || header.baseSequence >= 0 || header.isControl else {
            throw fail(.missingSequence(producerId: header.producerId, baseSequence: header.baseSequence))
        }
        let range = position..<(position + header.totalSize)
        let section = UnsafeRawBufferPointer(rebasing: records[(position + RecordBatchHeader.size)..<range.upperBound])
        // Control batches (the broker's transaction markers) are never compressed.
        let target = recompression.flatMap { $0.codec != compression && !header.isControl ? $0 : nil }
        let original = UnsafeRawBufferPointer(rebasing: records[range])
        let maxTimestampDelta: Int64
        var rebuilt: RebuiltBatch?
        switch compression {
        case .none:
            maxTimestampDelta = try RecordBatchFrame.walkRecords(section, header: header, at: position, contiguous: true) { _ in }
            if let target {
                rebuilt = rebuild(original, records: section, as: target, maxTimestamp: header.baseTimestamp &+ maxTimestampDelta,
                                  context: context ?? .forCurrentThread)
            }
        default:
            let context = context ?? .forCurrentThread
            defer { context.trimScratch() }
            let inflated: ByteBuffer
            do {
                inflated = try context.decompressToScratch(section, codec: compression, outputBytesMax: decompressedBytesMax)
            } catch {
                throw fail(.decompression(error))
            }
            (maxTimestampDelta, rebuilt) = try inflated.withUnsafeReadableBytes { bytes throws(RecordBatchError) in
                let delta = try RecordBatchFrame.walkRecords(bytes, header: header, at: position, contiguous: true) { _ in }
                return (delta, target.map { rebuild(original, records: bytes, as: $0, maxTimestamp: header.baseTimestamp &+ delta,
                                                    context: context) })
            }
        }
        let maxTimestamp = header.baseTimestamp &+ maxTimestampDelta
        return ValidatedBatch(range: range, header: header, maxRecordTimestamp: TimestampMs(maxTimestamp), rebuilt: rebuilt)
    }

    /// `batch` with its (uncompressed, already checked) `records` compressed with `target`: the
    /// header is copied, then codec bits, batchLength and CRC are set anew, and a CreateTime
    /// batch's maxTimestamp becomes its records' largest (`maxTimestamp`), as Kafka's builder
    /// writes it when it recompresses; a LogAppendTime batch keeps its own.
    static func rebuild(_ batch: UnsafeRawBufferPointer, records: UnsafeRawBufferPointer, as target: Recompression,
                        maxTimestamp: Int64, context: CompressionContext) -> RebuiltBatch {
        let estimate = target.codec == .none ? records.count : records.count / 2 + 64
        var bytes = ByteBufferAllocator().buffer(capacity: RecordBatchHeader.size + estimate)
        bytes.writeBytes(UnsafeRawBufferPointer(rebasing: batch[0..<RecordBatchHeader.size]))
        context.compress(records, codec: target.codec, level: target.level, into: &bytes)
        precondition(bytes.readableBytes - RecordBatchHeader.logOverhead <= Int(Int32.max), "batch larger than 2 GiB")
        let header = bytes.withUnsafeMutableReadableBytes { out in
            typealias F = RecordBatchHeader.Field
            let attributes = UnsafeRawBufferPointer(out).loadBigEndian(Int16.self, at: F.attributes)
            out.storeBigEndian((attributes & ~Compression.attributeMask) | target.codec.rawValue, at: F.attributes)
            if attributes & 0x8 == 0 { out.storeBigEndian(maxTimestamp, at: F.maxTimestamp) }   // bit 3: LogAppendTime
            out.storeBigEndian(Int32(out.count - RecordBatchHeader.logOverhead), at: F.batchLength)
            RecordBatchBuilder.storeCRC(out)
            return RecordBatchHeader(UnsafeRawBufferPointer(out))!
        }
        return RebuiltBatch(bytes: bytes, header: header)
    }
}

/// The checks shared by produce validation and the consumer's decoder.
enum RecordBatchFrame {
    /// Header complete, batchLength within `bytes`, magic 2, and (if asked) CRC-32C. Does not check
    /// counts: compacted batches legitimately hold fewer records than their offset span.
    static func checkHeader(_ bytes: UnsafeRawBufferPointer, at position: Int,
                            verifyCRC: Bool) throws(RecordBatchError) -> RecordBatchHeader {
        func fail(_ kind: RecordBatchError.Kind) -> RecordBatchError { RecordBatchError(batchPosition: position, kind: kind) }
        let available = bytes.count - position
        // magic sits at byte 16 in every message format, so an old message set is recognised
        // before its (shorter) header is mistaken for a truncated v2 one.
        if available > RecordBatchHeader.Field.magic {
            let magic = Int8(bitPattern: bytes[position + RecordBatchHeader.Field.magic])
            if magic == 0 || magic == 1 { throw fail(.oldMessageFormat(magic: magic)) }
        }
        let rest = UnsafeRawBufferPointer(rebasing: bytes[position...])
        guard let header = RecordBatchHeader(rest) else { throw fail(.truncatedHeader(available: available)) }
        guard header.batchLength >= Int32(RecordBatchHeader.size - RecordBatchHeader.logOverhead),
              header.totalSize <= available else {
            throw fail(.badLength(batchLength: header.batchLength, available: available))
        }
        guard header.magic == 2 else { throw fail(.badMagic(header.magic)) }
        if verifyCRC {
            let covered = UnsafeRawBufferPointer(rebasing: rest[RecordBatchHeader.crcCoverageStart..<header.totalSize])
            let computed = CRC32C.checksum(covered)
            guard computed == header.crc else { throw fail(.badCRC(stored: header.crc, computed: computed)) }
        }
        return header
    }

    static func supportedCompression(_ header: RecordBatchHeader, at position: Int) throws(RecordBatchError) -> Compression {
        guard let compression = Compression(attributes: header.attributes), compression.isSupported else {
            throw RecordBatchError(batchPosition: position,
                                   kind: .unsupportedCompression(codec: header.attributes & Compression.attributeMask))
        }
        return compression
    }

    /// The decompressed section in a buffer of its own (decoded records keep slices of it).
    static func decompress(_ section: UnsafeRawBufferPointer, compression: Compression, at position: Int,
                           outputBytesMax: Int, allocator: ByteBufferAllocator) throws(RecordBatchError) -> ByteBuffer {
        var output = allocator.buffer(capacity: min(outputBytesMax, max(256, min(section.count * 4, 1 << 20))))
        do {
            try CompressionContext.forCurrentThread.decompress(section, codec: compression, outputBytesMax: outputBytesMax,
                                                              into: &output)
        } catch {
            throw RecordBatchError(batchPosition: position, kind: .decompression(error))
        }
        return output
    }

    /// Parses every record of an (uncompressed) record section and calls `visit` with each
    /// layout, whose positions are indices into `section`. Requires exactly recordsCount records
    /// filling the section; with `contiguous`, offset deltas 0, 1, 2…, else strictly increasing
    /// deltas up to lastOffsetDelta (compaction leaves gaps). Returns the largest timestampDelta
    /// (Int64.min when there is no record).
    @discardableResult
    static func walkRecords(_ section: UnsafeRawBufferPointer, header: RecordBatchHeader, at position: Int,
                            contiguous: Bool, _ visit: (RecordLayout) -> Void) throws(RecordBatchError) -> Int64 {
        func fail(_ kind: RecordBatchError.Kind) -> RecordBatchError { RecordBatchError(batchPosition: position, kind: kind) }
        let declared = Int(max(header.recordsCount, 0))
        var index = 0
        var found = 0
        var previousDelta: Int32 = -1
        var maxTimestampDelta = Int64.min
        while index < section.count {
            guard found < declared else { throw fail(.trailingBytes(count: section.count - index)) }
            let layout: RecordLayout
            do {
                layout = try RecordWire.parse(section, at: index)
            } catch {
                throw fail(.badRecord(index: found, error))
            }
            let delta = layout.offsetDelta
            if contiguous {
                guard delta == Int32(found) else {
                    throw fail(.badRecord(index: found, .offsetDelta(expected: Int32(found), found: delta)))
                }
            } else {
                guard delta > previousDelta, delta <= header.lastOffsetDelta else {
                    throw fail(.badRecord(index: found, .offsetDelta(expected: previousDelta + 1, found: delta)))
                }
            }
            previousDelta = delta
            maxTimestampDelta = max(maxTimestampDelta, layout.timestampDelta)
            visit(layout)
            index = layout.end
            found += 1
        }
        guard found == declared else { throw fail(.recordCountMismatch(declared: header.recordsCount, found: found)) }
        return maxTimestampDelta
    }
}
