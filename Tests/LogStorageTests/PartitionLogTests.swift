import Foundation
@testable import LogStorage
import NIOCore
import RunnelCore
import Testing

@Suite struct PartitionLogTests {
    /// 60 batches of 3 records in 1 KiB segments: several segments, every offset readable.
    @Test func appendAssignsOffsetsAndReadsAcrossSegments() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = try openLog(dir.path)
        for i in 0..<60 {
            let result = try log.append(TestBatch.make(records: 3, timestamp: 1_000 + Int64(i)), epoch: 7)
            #expect(result.baseOffset == Offset(Int64(i) * 3))
            #expect(result.lastOffset == Offset(Int64(i) * 3 + 2))
            #expect(result.logAppendTime == TimestampMs.none)
        }
        #expect(log.logEndOffset == Offset(180))
        #expect(log.segmentCount > 5)
        let files = dir.files(in: "")
        #expect(files.contains("00000000000000000000.log"))
        #expect(files.filter { $0.hasSuffix(".log") }.count == log.segmentCount)
        #expect(files.filter { $0.hasSuffix(".index") }.count == log.segmentCount)
        #expect(files.filter { $0.hasSuffix(".timeindex") }.count == log.segmentCount)
        for offset in Int64(0)..<180 {
            let batches = try #require(log.readBatches(from: offset))
            #expect(batches.first?.0 == offset / 3 * 3, "first batch holds \(offset)")
            // One segment per read, whole batches, contiguous.
            for (a, b) in zip(batches, batches.dropFirst()) { #expect(b.0 == a.1 + 1) }
        }
        #expect(log.allBatches().count == 60)
        // Stored bytes carry the assigned offset and the leader epoch, and still pass the CRC.
        guard case .records(let slice) = log.read(from: Offset(30), maxBytes: 1) else { Issue.record("out of range"); return }
        #expect(slice.batchCount == 1)
        let buffer = slice.makeByteBuffer()
        #expect(buffer.readableBytes == slice.byteCount)
        buffer.withUnsafeReadableBytes { raw in
            guard case .success(let header) = RecordBatchHeader.validate(raw) else { Issue.record("invalid"); return }
            #expect(header.baseOffset == 30)
            #expect(header.partitionLeaderEpoch == 7)
        }
    }

    /// Releasing the mapped pages drops them from the process, not from the file: everything
    /// reads back the same afterwards, appends go on, and the data survives a reopen.
    @Test func releasedMappedPagesReadBackUnchanged() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = try openLog(dir.path, config: smallConfig(segmentBytes: 64 * 1024))
        for i in 0..<40 { try log.append(TestBatch.make(records: 3, timestamp: 1_000 + Int64(i))) }
        let before = log.allBatches()
        guard case .records(let slice) = log.read(from: Offset(0), maxBytes: Int.max) else { Issue.record(); return }
        let bytesBefore = slice.makeByteBuffer()
        log.releaseMappedPages()
        #expect(log.allBatches().map(\.0) == before.map(\.0))
        guard case .records(let again) = log.read(from: Offset(0), maxBytes: Int.max) else { Issue.record(); return }
        #expect(again.makeByteBuffer() == bytesBefore)
        try log.append(TestBatch.make(records: 2))
        #expect(log.logEndOffset == Offset(122))
        try log.close()
        let reopened = try openLog(dir.path, config: smallConfig(segmentBytes: 64 * 1024))
        #expect(reopened.logEndOffset == Offset(122))
        #expect(reopened.allBatches().count == 41)
    }

    @Test func readHonoursMaxBytesUpperBoundAndRange() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = try openLog(dir.path, config: smallConfig(segmentBytes: 64 * 1024))
        let batchBytes = TestBatch.make(records: 2).count
        for _ in 0..<10 { try log.append(TestBatch.make(records: 2)) }
        // Max bytes: whole batches only; the first even when larger than max bytes.
        #expect(log.readBatches(from: 0, maxBytes: 3 * batchBytes + 5)?.count == 3)
        #expect(log.readBatches(from: 0, maxBytes: 10)?.count == 1)
        guard case .records(let none) = log.read(from: Offset(0), maxBytes: 10, minOneBatch: false) else { Issue.record(); return }
        #expect(none.isEmpty)
        // A fetch inside a batch starts with that batch.
        #expect(log.readBatches(from: 5)?.first?.0 == 4)
        // Upper bound (high watermark): nothing at or after it.
        #expect(log.readBatches(from: 0, upperBound: 6)?.map(\.1) == [1, 3, 5])
        #expect(log.readBatches(from: 6, upperBound: 6)?.isEmpty == true)
        // The log end is readable (empty); beyond it and below the start are out of range.
        #expect(log.readBatches(from: 20)?.isEmpty == true)
        #expect(log.readBatches(from: 21) == nil)
        #expect(log.readBatches(from: -1) == nil)
        guard case .offsetOutOfRange(let start, let end) = log.read(from: Offset(99), maxBytes: 100) else { Issue.record(); return }
        #expect(start == Offset(0) && end == Offset(20))
    }

    @Test func sliceCopiesIntoAnExistingBuffer() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = try openLog(dir.path, config: smallConfig(segmentBytes: 64 * 1024))
        for _ in 0..<3 { try log.append(TestBatch.make(records: 1)) }
        guard case .records(let slice) = log.read(from: Offset(0), maxBytes: 1 << 20) else { Issue.record(); return }
        var buffer = ByteBuffer(bytes: [1, 2, 3])
        slice.write(to: &buffer)
        #expect(buffer.readableBytes == 3 + slice.byteCount)
        #expect(slice.firstOffset == Offset(0) && slice.nextOffset == Offset(3) && slice.batchCount == 3)
    }

    @Test func batchLargerThanTheSegmentIsRefusedAndChangesNothing() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = try openLog(dir.path)
        try log.append(TestBatch.make(records: 1))
        let huge = TestBatch.make(records: 1, valueBytes: 2000)
        #expect(throws: StorageError.batchTooLarge(bytes: huge.count, segmentBytes: 1024, path: dir.path)) {
            try log.append(huge)
        }
        #expect(String(describing: StorageError.batchTooLarge(bytes: huge.count, segmentBytes: 1024, path: dir.path))
            .contains("\(huge.count) bytes"))
        #expect(log.logEndOffset == Offset(1))
        #expect(try log.append(TestBatch.make(records: 1)).baseOffset == Offset(1))
        #expect(log.allBatches().map(\.0) == [0, 1])
    }

    @Test func raisingSegmentBytesAtRuntimeLetsABiggerBatchIn() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = try openLog(dir.path)
        let big = TestBatch.make(records: 1, valueBytes: 1500)
        #expect(throws: StorageError.self) { try log.append(big) }
        log.config.segmentBytes = 4096
        #expect(try log.append(big).baseOffset == Offset(0))
        #expect(try log.append(big).baseOffset == Offset(1))
        #expect(log.segmentCount == 1)
        #expect(log.allBatches().map(\.0) == [0, 1])
    }

    @Test func malformedBatchBytesAreRefused() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = try openLog(dir.path)
        let batch = TestBatch.make(records: 1)
        #expect(throws: StorageError.self) { try log.append(Array(batch.dropLast())) }
        #expect(log.logEndOffset == Offset(0))
    }

    @Test func logAppendTimeStampsMaxTimestampAndKeepsTheCRCValid() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        var config = smallConfig(segmentBytes: 64 * 1024)
        config.messageTimestampType = .logAppendTime
        let log = try openLog(dir.path, config: config)
        let result = try log.append(TestBatch.make(records: 2, timestamp: 5), now: 777_000)
        #expect(result.logAppendTime == TimestampMs(777_000))
        guard case .records(let slice) = log.read(from: Offset(0), maxBytes: 1 << 20) else { Issue.record(); return }
        slice.withUnsafeBytes { raw in
            guard case .success(let header) = RecordBatchHeader.validate(raw) else { Issue.record("CRC"); return }
            #expect(header.maxTimestamp == 777_000)
            #expect(header.isLogAppendTime)
        }
        #expect(log.offset(forTimestamp: TimestampMs(777_000))?.offset == Offset(0))
    }

    @Test func offsetForTimestampUsesTheTimeIndexAcrossSegments() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = try openLog(dir.path)
        // Batch i: records at 10_000 + 100 i + {0, 10, 20}.
        for i in 0..<40 { try log.append(TestBatch.make(records: 3, timestamp: 10_000 + Int64(i) * 100, timestampStep: 10)) }
        #expect(log.segmentCount > 3)
        #expect(log.offset(forTimestamp: TimestampMs(0))?.offset == Offset(0))
        #expect(log.offset(forTimestamp: TimestampMs(10_000 + 2_500))?.offset == Offset(75))
        let within = try #require(log.offset(forTimestamp: TimestampMs(10_000 + 1_715)))
        #expect(within.offset == Offset(17 * 3 + 2))
        #expect(within.timestamp == TimestampMs(10_000 + 1_720))
        #expect(log.offset(forTimestamp: TimestampMs(10_000 + 3_920))?.offset == Offset(119))
        #expect(log.offset(forTimestamp: TimestampMs(10_000 + 3_921)) == nil)
        #expect(log.earliestOffset == Offset(0) && log.latestOffset == Offset(120))
    }

    @Test func segmentMsRollsTheActiveSegment() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        var config = smallConfig(segmentBytes: 64 * 1024)
        config.segmentMs = 1_000
        let log = try openLog(dir.path, config: config)
        try log.append(TestBatch.make(records: 1, timestamp: 10_000), now: 10_000)
        try log.append(TestBatch.make(records: 1, timestamp: 10_500), now: 10_500)
        #expect(log.segmentCount == 1)
        try log.append(TestBatch.make(records: 1, timestamp: 11_001), now: 11_001)
        #expect(log.segmentBaseOffsets == [Offset(0), Offset(2)])
    }

    @Test func fullIndexRollsTheActiveSegment() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        // 32-byte indexes: 4 offset entries, time index full at 1 entry + the reserved slot.
        let config = LogConfig(segmentBytes: 64 * 1024, indexIntervalBytes: 0, indexSizeMaxBytes: 48)
        let log = try openLog(dir.path, config: config)
        for i in 0..<20 { try log.append(TestBatch.make(records: 1, timestamp: 1_000 + Int64(i))) }
        #expect(log.segmentCount > 3)
        #expect(log.allBatches().count == 20)
    }

    @Test func appendAssignedKeepsTheLeadersOffsets() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = try openLog(dir.path, config: smallConfig(segmentBytes: 64 * 1024))
        var bytes: [UInt8] = []
        for base in [0, 3] as [Int64] {
            var batch = TestBatch.make(records: 3)
            batch.withUnsafeMutableBytes { RecordBatchHeader.stamp($0, baseOffset: base, leaderEpoch: 4) }
            bytes += batch
        }
        let end = try bytes.withUnsafeBytes { raw in
            Result { () throws(StorageError) -> Offset in try log.appendAssigned(raw, now: TimestampMs(0)) }
        }.get()
        #expect(end == Offset(6))
        let again = bytes.withUnsafeBytes { raw in
            Result { () throws(StorageError) -> Offset in try log.appendAssigned(raw, now: TimestampMs(0)) }
        }
        #expect(throws: StorageError.self) { try again.get() }
    }

    @Test func cleanCloseAndReopenKeepsEverything() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        var log = try openLog(dir.path)
        for i in 0..<50 { try log.append(TestBatch.make(records: 2, timestamp: 1_000 + Int64(i) * 10)) }
        let bases = log.segmentBaseOffsets
        try log.close()
        // Closed cleanly: every file is cut to its data.
        let activeLog = dir.path + "/" + LogSegment.fileName(baseOffset: bases.last!, suffix: ".log")
        #expect(fileSize(activeLog) < 1024)
        let capture = LogCapture()
        log = try openLog(dir.path, logger: capture.logger)
        #expect(capture.warnings.isEmpty)
        #expect(log.segmentBaseOffsets == bases)
        #expect(log.logEndOffset == Offset(100))
        #expect(log.allBatches().count == 50)
        #expect(log.offset(forTimestamp: TimestampMs(1_255))?.offset == Offset(52))
        #expect(try log.append(TestBatch.make(records: 1)).baseOffset == Offset(100))
    }
}
