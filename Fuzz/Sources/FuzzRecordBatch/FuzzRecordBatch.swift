import FuzzSupport
import KafkaWire
import NIOCore
import RunnelCore

/// Produce records as the broker receives them: `RecordBatchValidator.validateProduce` (the
/// produce hot path, raw memory) and `RecordBatchDecoder` (Fetch-side and test decoding), on
/// the same bytes, including compressed sections of every codec (gzip, snappy raw and xerial, lz4
/// frames, zstd).
///
/// Input: `flags` byte, then the records bytes (one or more concatenated batches).
/// - bit 0: recompute each batch's CRC-32C first, so mutations reach the checks behind it;
/// - bit 1: allow control batches (the broker's own writes);
/// - bit 2: a small decompression limit (256 bytes) instead of 1 MiB;
/// - bit 3: decode without CRC verification.
///
/// Batches the validator accepts must decode with `RecordBatchDecoder` to the same number of
/// records (the two walk the same format separately).
@main
enum FuzzRecordBatch {
    static func main() {
        FuzzMain.run("FuzzRecordBatch") { bytes in
            var input = FuzzInput(bytes)
            let flags = input.byte()
            var records = Array(input.rest())
            if flags & 1 != 0 { fixCRCs(&records) }
            let limit = flags & 4 != 0 ? 256 : 1 << 20
            let buffer = ByteBuffer(bytes: records)

            let validated = try? RecordBatchValidator.validateProduce(buffer, decompressedBytesMax: limit,
                                                                      allowControlBatches: flags & 2 != 0)
            var decoder = RecordBatchDecoder(buffer, decompressedBytesMax: limit, verifyCRC: flags & 8 == 0)
            var decoded: [DecodedBatch] = []
            do {
                while let batch = try decoder.next() {
                    decoded.append(batch)
                    for record in batch.records { _ = (record.offset, record.key?.readableBytes, record.headers.count) }
                    _ = batch.controlType
                }
            } catch {
                decoded = []
            }

            guard let validated, flags & 8 == 0 else { return }
            guard decoded.count == validated.count, !decoder.endsWithPartialBatch else {
                fatalError("validator accepted \(validated.count) batches, decoder read \(decoded.count)")
            }
            for (v, d) in zip(validated, decoded) where Int(v.header.recordsCount) != d.records.count {
                fatalError("validator accepted \(v.header.recordsCount) records, decoder read \(d.records.count)")
            }
        }
    }

    /// Recomputes the CRC (bytes 17..<21, over 21..<end) of every batch whose length fits.
    static func fixCRCs(_ bytes: inout [UInt8]) {
        var position = 0
        while position + 61 <= bytes.count {
            let length = bytes[(position + 8)..<(position + 12)].reduce(0) { $0 << 8 | Int($1) }
            let end = position + 12 + length
            guard length >= 49, end <= bytes.count else { return }
            let crc = bytes[(position + 21)..<end].withUnsafeBytes { CRC32C.checksum($0) }
            withUnsafeBytes(of: crc.bigEndian) { bytes.replaceSubrange((position + 17)..<(position + 21), with: $0) }
            position = end
        }
    }
}
