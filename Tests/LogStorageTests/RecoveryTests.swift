import Foundation
@testable import LogStorage
import RunnelCore
import Testing

@Suite struct RecoveryTests {
    static let config = smallConfig(segmentBytes: 16 * 1024, indexIntervalBytes: 100)

    /// Writes `count` batches of 2 records and simulates a crash (no close). Returns the start
    /// position of every batch in the single segment and the segment's log path.
    func crashedLog(_ dir: TempDirectory, batches count: Int) throws -> (starts: [Int], path: String) {
        let log = try openLog(dir.path, config: Self.config)
        var starts: [Int] = []
        for i in 0..<count {
            starts.append(log.activeSegment.sizeBytes)
            try log.append(TestBatch.make(records: 2, timestamp: 1_000 + Int64(i)))
        }
        starts.append(log.activeSegment.sizeBytes)
        log.abandon()
        return (starts, dir.path + "/00000000000000000000.log")
    }

    /// A torn last batch, cut at every byte position: recovery keeps exactly the earlier batches,
    /// both when the tail reads as zeros (preallocated file) and when the file ends there.
    @Test func tornTailAtEveryBytePositionRecoversTheEarlierBatches() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let (starts, path) = try crashedLog(dir, batches: 6)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        let lastStart = starts[5], lastEnd = starts[6]
        for tornAt in lastStart..<lastEnd {
            for zeroTail in [true, false] {
                try original.write(to: URL(fileURLWithPath: path))
                if zeroTail {
                    overwrite(path, at: tornAt, with: [UInt8](repeating: 0, count: lastEnd - tornAt))
                } else {
                    setFileSize(path, tornAt)
                }
                let capture = LogCapture()
                let log = try openLog(dir.path, config: Self.config, needsRecovery: true, logger: capture.logger)
                // Zeroing bytes that were already zero (the last record's header count) tears nothing.
                if zeroTail && original[tornAt..<lastEnd].allSatisfy({ $0 == 0 }) {
                    #expect(log.logEndOffset == Offset(12))
                    log.abandon()
                    continue
                }
                #expect(log.logEndOffset == Offset(10), "torn at \(tornAt), zero tail \(zeroTail)")
                #expect(log.allBatches().map(\.0) == [0, 2, 4, 6, 8])
                #expect(log.activeSegment.sizeBytes == lastStart)
                #expect(capture.warnings.count <= 1)
                // A torn batch whose surviving bytes are not all zero is a cut worth a line.
                let survivingNonZero = original[lastStart..<tornAt].contains { $0 != 0 }
                if survivingNonZero { #expect(capture.warnings.count == 1, "torn at \(tornAt), zero tail \(zeroTail)") }
                #expect(try log.append(TestBatch.make(records: 1)).baseOffset == Offset(10))
                log.abandon()
            }
        }
    }

    @Test func zeroedTailIsTheQuietEndOfTheData() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let (starts, path) = try crashedLog(dir, batches: 8)
        overwrite(path, at: starts[5], with: [UInt8](repeating: 0, count: starts[8] - starts[5]))
        let capture = LogCapture()
        let log = try openLog(dir.path, config: Self.config, needsRecovery: true, logger: capture.logger)
        #expect(log.logEndOffset == Offset(10))
        #expect(capture.warnings.isEmpty)
        #expect(log.recoveryPoint == Offset(10))
    }

    @Test func corruptBatchInTheMiddleCutsThereAndLogsOneLine() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let (starts, path) = try crashedLog(dir, batches: 8)
        // Flip a byte inside batch 3's records: its CRC no longer matches.
        overwrite(path, at: starts[3] + 70, with: [0xFF])
        let capture = LogCapture()
        let log = try openLog(dir.path, config: Self.config, needsRecovery: true, logger: capture.logger)
        #expect(log.logEndOffset == Offset(6))
        #expect(log.allBatches().map(\.0) == [0, 2, 4])
        #expect(capture.warnings.count == 1)
        let line = try #require(capture.warnings.first)
        #expect(line.contains(path) && line.contains("position \(starts[3])") && line.contains("CRC"), "\(line)")
    }

    @Test func offsetsThatDoNotIncreaseAreCut() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let (starts, path) = try crashedLog(dir, batches: 4)
        // Batch 3 claims base offset 0 (valid CRC: the base offset is outside it).
        overwrite(path, at: starts[3], with: [UInt8](repeating: 0, count: 8))
        let capture = LogCapture()
        let log = try openLog(dir.path, config: Self.config, needsRecovery: true, logger: capture.logger)
        #expect(log.logEndOffset == Offset(6))
        #expect(capture.warnings.count == 1)
        #expect(capture.warnings.first?.contains("offsets must increase") == true)
    }

    @Test func cutInAnEarlierSegmentDeletesTheLaterOnes() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        var log = try openLog(dir.path, config: smallConfig())
        for _ in 0..<40 { try log.append(TestBatch.make(records: 2)) }
        let bases = log.segmentBaseOffsets
        #expect(bases.count >= 4)
        log.abandon()
        // Corrupt the first batch of the second segment.
        let second = dir.path + "/" + LogSegment.fileName(baseOffset: bases[1], suffix: ".log")
        overwrite(second, at: 70, with: [0xFF])
        let capture = LogCapture()
        log = try openLog(dir.path, config: smallConfig(), needsRecovery: true, logger: capture.logger)
        #expect(log.segmentBaseOffsets == [bases[0], bases[1]])
        #expect(log.logEndOffset == bases[1])
        #expect(dir.files(in: "").filter { $0.hasSuffix(".log") }.count == 2)
        #expect(capture.warnings.count == 1)
        #expect(capture.warnings.first?.contains("\(bases.count - 2) later segments deleted") == true)
        #expect(try log.append(TestBatch.make(records: 1)).baseOffset == bases[1])
    }

    @Test func segmentsBeforeTheRecoveryPointAreNotScanned() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        var log = try openLog(dir.path, config: smallConfig())
        for _ in 0..<40 { try log.append(TestBatch.make(records: 2)) }
        let bases = log.segmentBaseOffsets
        let end = log.logEndOffset
        log.abandon()
        // Corrupt a record inside the first (sealed) segment: a CRC problem only a scan sees.
        overwrite(dir.path + "/" + LogSegment.fileName(baseOffset: bases[0], suffix: ".log"), at: 70, with: [0xFF])
        log = try openLog(dir.path, config: smallConfig(), needsRecovery: true, recoveryPoint: bases[2].rawValue)
        #expect(log.logEndOffset == end)
        log.abandon()
        log = try openLog(dir.path, config: smallConfig(), needsRecovery: true, recoveryPoint: 0)
        #expect(log.logEndOffset == bases[0])
    }

    /// Index files that are truncated, garbage or point past the log are rebuilt, and lookups
    /// stay right.
    @Test(arguments: ["truncated-odd", "truncated-even", "garbage", "past-end", "time-garbage", "missing"])
    func damagedIndexIsRebuilt(damage: String) throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        var log = try openLog(dir.path, config: smallConfig(indexIntervalBytes: 0))
        for i in 0..<40 { try log.append(TestBatch.make(records: 2, timestamp: 1_000 + Int64(i) * 10)) }
        let bases = log.segmentBaseOffsets
        try log.close()
        let index = dir.path + "/" + LogSegment.fileName(baseOffset: bases[0], suffix: ".index")
        let timeIndex = dir.path + "/" + LogSegment.fileName(baseOffset: bases[0], suffix: ".timeindex")
        let size = fileSize(index)
        #expect(size > 16)
        switch damage {
        case "truncated-odd": setFileSize(index, size - 3)
        case "truncated-even": setFileSize(index, 8)
        case "garbage": overwrite(index, at: 0, with: [UInt8](repeating: 0xAB, count: size))
        case "past-end": overwrite(index, at: size - 8, with: [0, 0, 0, 1, 0x7F, 0, 0, 0])
        case "time-garbage": overwrite(timeIndex, at: 0, with: [UInt8](repeating: 0x7F, count: 12))
        default: try FileManager.default.removeItem(atPath: index)
        }
        let capture = LogCapture()
        log = try openLog(dir.path, config: smallConfig(indexIntervalBytes: 0), logger: capture.logger)
        #expect(log.segmentBaseOffsets == bases)
        #expect(log.logEndOffset == Offset(80))
        for offset in Int64(0)..<80 { #expect(log.readBatches(from: offset)?.first?.0 == offset / 2 * 2) }
        #expect(log.offset(forTimestamp: TimestampMs(1_055))?.offset == Offset(12))
        let segment = log.segments[0]
        #expect(segment.offsetIndex.problem(logBytes: segment.sizeBytes) == nil)
        if damage != "truncated-even" {
            #expect(capture.warnings.count == 1, "\(capture.warnings)")
            #expect(segment.offsetIndex.entryCount == Int(bases[1].rawValue / 2) - 1)
        }
    }
}
