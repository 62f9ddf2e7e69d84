import Foundation
@testable import LogStorage
import RunnelCore
import Testing

/// Bytes damaged while the broker was stopped (a clean-shutdown marker says nothing about them),
/// and what recovery leaves on disk for the next clean start.
@Suite struct DamageAtRestTests {
    /// 4 KiB segments of 20-record batches of ~190-byte records (as in the issue's probe),
    /// an index entry per 1 KiB.
    static let config = LogConfig(segmentBytes: 64 * 1024, indexIntervalBytes: 1024, indexSizeMaxBytes: 4096)

    /// 3000 records in 150 batches of 20 over several segments, closed cleanly. Returns the
    /// base offsets of the segments.
    func cleanLog(_ dir: TempDirectory) throws -> [Offset] {
        let log = try openLog(dir.path, config: Self.config)
        for i in 0..<150 {
            try log.append(TestBatch.make(records: 20, timestamp: 1_000 + Int64(i), valueBytes: 180))
        }
        #expect(log.logEndOffset == Offset(3000))
        let bases = log.segmentBaseOffsets
        try log.close()
        return bases
    }

    /// Byte position of the batch whose base offset is `offset` in the segment file at `path`.
    func position(ofBatch offset: Int64, in path: String) throws -> Int {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var position = 0
        while position + 12 <= data.count {
            let base = data[position..<position + 8].reduce(Int64(0)) { $0 << 8 | Int64($1) }
            let length = Int(data[position + 8..<position + 12].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            if base == offset { return position }
            position += 12 + length
        }
        throw HarnessFailure("no batch at offset \(offset) in \(path)")
    }

    struct HarnessFailure: Error { let message: String; init(_ m: String) { message = m } }

    func segmentPath(_ dir: TempDirectory, _ base: Offset) -> String {
        dir.path + "/" + LogSegment.fileName(baseOffset: base, suffix: ".log")
    }

    /// Issue 9 item 2: the batchLength of a middle batch of the ACTIVE segment is damaged after a
    /// clean stop. The next start notices (it walks the active segment's headers), recovers the
    /// segment with one warning, and the log end is where the damage starts, so records produced
    /// afterwards are readable. Before the fix the start trusted the file, reads at the damage
    /// returned nothing forever, and new records sat behind it.
    @Test func damagedHeaderInTheActiveSegmentIsFoundAtStart() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let bases = try cleanLog(dir)
        let active = bases.last!
        let path = segmentPath(dir, active)
        let damagedOffset = active.rawValue + 20 * 3
        let at = try position(ofBatch: damagedOffset, in: path)
        overwrite(path, at: at + 8, with: [0x7F, 0xFF, 0xFF, 0xF0])

        let capture = LogCapture()
        let log = try openLog(dir.path, config: Self.config, logger: capture.logger)
        #expect(log.logEndOffset == Offset(damagedOffset))
        #expect(capture.warnings.contains { $0.contains("last stop was clean") && $0.contains("batchLength 2147483632") },
                "\(capture.warnings)")
        #expect(capture.warnings.contains { $0.contains("recovery of t-0 cut") })
        // Everything before the damage reads back; a new batch lands right after it and reads back.
        #expect(log.allBatches().count == Int(damagedOffset / 20))
        #expect(try log.append(TestBatch.make(records: 20)).baseOffset == Offset(damagedOffset))
        #expect(log.readBatches(from: damagedOffset)?.first?.0 == damagedOffset)
        try log.close()

        // And the next clean start has nothing to say.
        let again = LogCapture()
        let reopened = try openLog(dir.path, config: Self.config, logger: again.logger)
        #expect(again.warnings.isEmpty, "\(again.warnings)")
        #expect(reopened.logEndOffset == Offset(damagedOffset + 20))
        try reopened.close()
    }

    /// Issue 9 item 3: 100 bytes of 0xFF over the header of the batch at offset 160 in a SEALED
    /// segment. A read at 160 (or at any offset whose scan passes the damage) must not jump to
    /// the next segment: it reports the damage (once in the log). Reads before the damage still
    /// return whole batches up to it. Before the fix a read at 160 silently returned offset 320.
    @Test func damagedHeaderInASealedSegmentIsReportedNotSkipped() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let bases = try cleanLog(dir)
        #expect(bases.count >= 3 && bases[0] == Offset(0) && bases[1] > Offset(180))
        let path = segmentPath(dir, bases[0])
        let at = try position(ofBatch: 160, in: path)
        overwrite(path, at: at, with: [UInt8](repeating: 0xFF, count: 100))

        let capture = LogCapture()
        let log = try openLog(dir.path, config: Self.config, logger: capture.logger)
        for target: Int64 in [160, 170, 179] {
            guard case .unreadable(let offset, let reason) = log.read(from: Offset(target), maxBytes: 1 << 20) else {
                Issue.record("read at \(target) did not report the damage: \(log.readBatches(from: target) ?? [])")
                continue
            }
            #expect(offset == Offset(target))
            #expect(reason.contains("00000000000000000000.log"))
        }
        #expect(capture.lines.filter { $0.level >= .error && $0.message.contains("is damaged") }.count == 1)
        // A read that starts before the damage stops in front of it.
        #expect(log.readBatches(from: 100)?.last?.1 == 159)
        // The later segments are untouched.
        #expect(log.readBatches(from: bases[1].rawValue)?.first?.0 == bases[1].rawValue)
        try log.close()
    }

    /// Issue 9 item 4: after an unclean stop with several segments, the indexes that recovery
    /// rebuilds for SEALED segments are cut to their entries (not left at segment.index.bytes
    /// with a zero tail), so a later clean start trusts them and rescans nothing. Before the fix
    /// every clean start logged "entry N does not increase" and rebuilt them again.
    @Test func rebuiltIndexesOfSealedSegmentsAreTrimmed() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = try openLog(dir.path, config: Self.config)
        for i in 0..<150 {
            try log.append(TestBatch.make(records: 20, timestamp: 1_000 + Int64(i), valueBytes: 180))
        }
        let bases = log.segmentBaseOffsets
        #expect(bases.count >= 3)
        log.abandon()   // kill -9: the recovery point (0) is in the first segment

        let recovered = try openLog(dir.path, config: Self.config, needsRecovery: true)
        #expect(recovered.logEndOffset == Offset(3000))
        for base in bases.dropLast() {
            for suffix in [".index", ".timeindex"] {
                let file = dir.path + "/" + LogSegment.fileName(baseOffset: base, suffix: suffix)
                let size = fileSize(file)
                #expect(size > 0 && size < Self.config.indexSizeMaxBytes, "\(file) is \(size) bytes")
            }
        }
        try recovered.close()

        let capture = LogCapture()
        let clean = try openLog(dir.path, config: Self.config, logger: capture.logger)
        #expect(capture.warnings.isEmpty, "\(capture.warnings)")
        #expect(clean.allBatches().count == 150)
        try clean.close()
    }

    /// Found by FuzzStorageFiles (Fuzz/corpus/FuzzStorageFiles/regression-index-entry-past-its-batch):
    /// after a clean stop, the last offset-index entry names a later offset (10485771) than the
    /// batch at its position holds (9...11). Every index check passed (entries increase, positions
    /// inside the file), so the log opened trusting it, and the next append's index entry went
    /// backwards: a trap in `OffsetIndex.append` that stopped the broker. Now that entry is
    /// checked against its batch, and the segment is recovered (indexes rebuilt) instead.
    @Test func lastOffsetIndexEntryBeyondItsBatchIsNotTrusted() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let config = smallConfig(segmentBytes: 64 * 1024)  // an index entry per batch after the first
        let log = try openLog(dir.path, config: config)
        for _ in 0..<4 { try log.append(TestBatch.make(records: 3)) }
        try log.close()
        let index = dir.path + "/" + LogSegment.fileName(baseOffset: .zero, suffix: ".index")
        #expect(fileSize(index) == 3 * OffsetIndex.entryBytes)
        overwrite(index, at: 2 * OffsetIndex.entryBytes, with: [0x00, 0xA0, 0x00, 0x0B])  // relative offset 10485771

        let capture = LogCapture()
        let reopened = try openLog(dir.path, config: config, logger: capture.logger)
        #expect(capture.warnings.contains { $0.contains("the last offset-index entry says offset 10485771") },
                "\(capture.warnings)")
        #expect(reopened.logEndOffset == Offset(12))
        #expect(try reopened.append(TestBatch.make(records: 3)).baseOffset == Offset(12))
        #expect(reopened.allBatches().count == 5)
        try reopened.close()
    }

    /// Found by FuzzStorageFiles (Fuzz/corpus/FuzzStorageFiles/regression-negative-last-offset-delta):
    /// a batch of a segment that is not re-validated at start (sealed, after a clean stop or
    /// below the recovery point) with a negative lastOffsetDelta and a CRC that matches. Reads
    /// walked it, so a fetch at 0 answered with a next offset before the fetch offset (a loop
    /// reading on from there, like the group coordinator's load, went backwards). Now such a
    /// header is damage like any other: reads serve the batches before it and answer unreadable
    /// (CORRUPT_MESSAGE) at it.
    @Test func batchWithNegativeLastOffsetDeltaIsUnreadable() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let bases = try cleanLog(dir)
        #expect(bases.count > 1)
        let path = segmentPath(dir, bases[0])
        let at = try position(ofBatch: 40, in: path)
        overwrite(path, at: at + 23, with: [0xFF, 0xFF, 0xFF, 0xF0])  // lastOffsetDelta -16
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let length = Int(data[at + 8..<at + 12].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        let crc = CRC32C.checksum(Array(data[(at + 21)..<(at + 12 + length)]))
        overwrite(path, at: at + 17, with: withUnsafeBytes(of: crc.bigEndian) { Array($0) })

        let capture = LogCapture()
        let log = try openLog(dir.path, config: Self.config, logger: capture.logger)
        #expect(log.readBatches(from: 0)?.last?.1 == 39, "the batches before the damaged one, ending at 39")
        guard case .unreadable = log.read(from: Offset(40), maxBytes: 1 << 20) else {
            Issue.record("a read at the damaged batch is not answered as unreadable")
            return
        }
        #expect(capture.warnings.contains { $0.contains("lastOffsetDelta -16") }, "\(capture.warnings)")
        try log.close()
    }
}
