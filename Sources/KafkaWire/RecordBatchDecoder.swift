public import NIOCore
public import RunnelCore

/// A record as a consumer sees it: absolute offset and timestamp. Key, value and header values
/// are slices of the fetched buffer (or of the inflated section), not copies.
public struct DecodedRecord: Equatable, Sendable {
    public var offset: Offset
    public var timestamp: TimestampMs
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [RecordHeader]
}

/// The type of a transaction marker, from the key of a control batch's single record.
public enum ControlRecordType: Int16, Sendable {
    case abort = 0
    case commit = 1
}

/// One decoded batch of a fetch response.
public struct DecodedBatch: Sendable {
    public var header: RecordBatchHeader
    public var records: [DecodedRecord]

    public var baseOffset: Offset { Offset(header.baseOffset) }
    public var lastOffset: Offset { Offset(header.lastOffset) }
    /// The offset a consumer fetches next after this batch (also right for compacted batches
    /// whose last records were removed).
    public var nextOffset: Offset { Offset(header.lastOffset + 1) }
    public var isControl: Bool { header.isControl }
    public var isTransactional: Bool { header.isTransactional }
    public var producerId: ProducerID { ProducerID(header.producerId) }

    /// For a control batch, whether it commits or aborts the producer's transaction; nil for data
    /// batches and for control keys of an unknown type or version.
    public var controlType: ControlRecordType? {
        guard isControl, let key = records.first?.key, key.readableBytes >= 4,
              key.getInteger(at: key.readerIndex, as: Int16.self) == 0,
              let type = key.getInteger(at: key.readerIndex + 2, as: Int16.self) else { return nil }
        return ControlRecordType(rawValue: type)
    }
}

/// Iterates the batches in the `records` of a Fetch response partition: whole batches, checked
/// (magic 2, CRC-32C unless disabled, codec, every record's structure), compressed sections
/// decompressed (every codec) within `decompressedBytesMax`. A partial batch at the end — the broker cuts responses at a byte
/// boundary — ends the iteration quietly, as Kafka clients do.
///
/// Batches may start before the offset the consumer asked for; skipping those records, and
/// skipping control batches and aborted transactions, is the consumer's job.
public struct RecordBatchDecoder {
    private let records: ByteBuffer
    private let decompressedBytesMax: Int
    private let verifyCRC: Bool
    private let allocator: ByteBufferAllocator
    /// Bytes of `records` consumed so far (whole batches).
    public private(set) var position: Int = 0

    public init(_ records: ByteBuffer, decompressedBytesMax: Int, verifyCRC: Bool = true,
                allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.records = records
        self.decompressedBytesMax = decompressedBytesMax
        self.verifyCRC = verifyCRC
        self.allocator = allocator
    }

    /// true when the bytes left after the last whole batch are a partial batch.
    public var endsWithPartialBatch: Bool { position < records.readableBytes }

    /// Decodes every whole batch.
    public static func decodeAll(_ records: ByteBuffer, decompressedBytesMax: Int,
                                 verifyCRC: Bool = true) throws(RecordBatchError) -> [DecodedBatch] {
        var decoder = RecordBatchDecoder(records, decompressedBytesMax: decompressedBytesMax, verifyCRC: verifyCRC)
        var batches: [DecodedBatch] = []
        while let batch = try decoder.next() { batches.append(batch) }
        return batches
    }

    /// The next whole batch, or nil when none is left (or only a partial one).
    public mutating func next() throws(RecordBatchError) -> DecodedBatch? {
        let start = position
        let available = records.readableBytes - start
        guard available >= RecordBatchHeader.size else {
            // Too short for a header, unless it is visibly an old-format message set.
            if available > RecordBatchHeader.Field.magic,
               let magic = records.getInteger(at: records.readerIndex + start + RecordBatchHeader.Field.magic, as: Int8.self),
               magic == 0 || magic == 1 {
                throw RecordBatchError(batchPosition: start, kind: .oldMessageFormat(magic: magic))
            }
            return nil
        }
        let batchLength = records.getInteger(at: records.readerIndex + start + RecordBatchHeader.Field.batchLength,
                                             as: Int32.self)!
        if batchLength >= Int32(RecordBatchHeader.size - RecordBatchHeader.logOverhead),
           Int(batchLength) + RecordBatchHeader.logOverhead > available {
            return nil  // partial trailing batch
        }
        let verify = verifyCRC
        let header = try records.withUnsafeReadableBytes { bytes throws(RecordBatchError) in
            try RecordBatchFrame.checkHeader(bytes, at: start, verifyCRC: verify)
        }
        let compression = try RecordBatchFrame.supportedCompression(header, at: start)
        let sectionStart = records.readerIndex + start + RecordBatchHeader.size
        let sectionLength = header.totalSize - RecordBatchHeader.size
        let decoded: [DecodedRecord]
        switch compression {
        case .none:
            decoded = try Self.decodeRecords(in: records, sectionStart: sectionStart, sectionLength: sectionLength,
                                             header: header, at: start)
        default:
            let inflated = try records.withUnsafeReadableBytes { bytes throws(RecordBatchError) in
                let section = UnsafeRawBufferPointer(rebasing: bytes[(start + RecordBatchHeader.size)..<(start + header.totalSize)])
                return try RecordBatchFrame.decompress(section, compression: compression, at: start,
                                                       outputBytesMax: decompressedBytesMax, allocator: allocator)
            }
            decoded = try Self.decodeRecords(in: inflated, sectionStart: inflated.readerIndex,
                                             sectionLength: inflated.readableBytes, header: header, at: start)
        }
        position = start + header.totalSize
        return DecodedBatch(header: header, records: decoded)
    }

    /// Decodes the uncompressed record section at `sectionStart` (an index of `buffer`).
    private static func decodeRecords(in buffer: ByteBuffer, sectionStart: Int, sectionLength: Int,
                                      header: RecordBatchHeader, at position: Int) throws(RecordBatchError) -> [DecodedRecord] {
        var decoded: [DecodedRecord] = []
        decoded.reserveCapacity(Int(min(max(header.recordsCount, 0), Int32(sectionLength / 7 + 1))))
        let shift = sectionStart - buffer.readerIndex
        try buffer.withUnsafeReadableBytes { bytes throws(RecordBatchError) in
            let section = UnsafeRawBufferPointer(rebasing: bytes[shift..<(shift + sectionLength)])
            // Compacted batches have gaps in their offset deltas, so only increasing is required.
            try RecordBatchFrame.walkRecords(section, header: header, at: position, contiguous: false) { layout in
                let record = Record(layout: layout, in: buffer, base: sectionStart)
                let timestamp = header.isLogAppendTime ? header.maxTimestamp : header.baseTimestamp &+ record.timestampDelta
                decoded.append(DecodedRecord(offset: Offset(header.baseOffset &+ Int64(record.offsetDelta)),
                                             timestamp: TimestampMs(timestamp), key: record.key,
                                             value: record.value, headers: record.headers))
            }
        }
        return decoded
    }
}
