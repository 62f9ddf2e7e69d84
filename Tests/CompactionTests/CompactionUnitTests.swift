// Corners a scenario would make clumsy: arithmetic at the edges of Int64, the exact rules of one
// record and one batch, and properties over many generated logs.
import Compaction
import Testing

private func record(_ offset: Int64, _ key: String?, value: Bool = true) -> RecordSummary {
    RecordSummary(offset: offset, key: key.map { Array($0.utf8) }, hasValue: value)
}

private func segment(_ base: Int64, _ end: Int64, bytes: Int64 = 100, first: Int64? = 0, largest: Int64 = 0) -> SegmentSummary {
    SegmentSummary(baseOffset: base, endOffset: end, sizeBytes: bytes, firstBatchTimestamp: first, largestTimestamp: largest)
}

/// A seeded linear congruential generator: generated cases are the same on every run.
private struct Generator {
    var seed: UInt64
    mutating func next(_ bound: Int) -> Int {
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        return Int((seed >> 33) % UInt64(bound))
    }
}

@Suite struct CleanerSelectionTests {
    @Test func defaultMaxLagNeverForcesAndDoesNotOverflow() {
        let log = LogToCleanInput(name: "t", segments: [segment(0, 10, first: Int64.min + 1), segment(10, 11)],
                                  logStartOffset: 0, highWatermark: 11, checkpoint: nil, config: CompactionConfig())
        let range = CleanerSelection.cleanableRange(log, nowMs: Int64.max)
        #expect(range.compactionDelayMs == 0)
        #expect(range.firstUncleanableOffset == 10)
    }

    @Test func hugeMinLagKeepsEverythingAndDoesNotOverflow() {
        let config = CompactionConfig(minCompactionLagMs: Int64.max)
        let log = LogToCleanInput(name: "t", segments: [segment(0, 10, largest: Int64.min + 5), segment(10, 11)],
                                  logStartOffset: 0, highWatermark: 11, checkpoint: nil, config: config)
        let range = CleanerSelection.cleanableRange(log, nowMs: 0)
        #expect(range.firstUncleanableOffset == 0)
        #expect(range.uncleanableBecause == .minCompactionLag)
        #expect(CleanerSelection.reason(range, config: config) == nil)
    }

    @Test func negativeTimestampsDoNotCountForTheMaxLag() {
        // A segment with no timestamps (-1) must not look infinitely old.
        let config = CompactionConfig(minCleanableDirtyRatio: 0.99, maxCompactionLagMs: 10)
        let log = LogToCleanInput(name: "t", segments: [segment(0, 10, first: -1), segment(10, 11)],
                                  logStartOffset: 0, highWatermark: 11, checkpoint: nil, config: config)
        #expect(CleanerSelection.cleanableRange(log, nowMs: 1000).compactionDelayMs == 0)
    }

    @Test func theRangeNeverReachesTheActiveSegmentNorTheHighWatermark() {
        // Over many shapes: the uncleanable offset is a segment base, at or below the active base,
        // and every segment below it ends at or below the high watermark.
        var generator = Generator(seed: 0x5eed)
        func next(_ bound: Int64) -> Int64 { Int64(generator.next(Int(bound))) }
        for _ in 0..<2000 {
            var segments: [SegmentSummary] = []
            var base: Int64 = next(5)
            let start = base
            for _ in 0...next(6) {
                let end = base + 1 + next(20)
                segments.append(segment(base, end, bytes: 1 + next(1000), first: next(2000), largest: next(2000)))
                base = end
            }
            let hw = start + next(base - start + 1)
            let config = CompactionConfig(minCompactionLagMs: next(3) * 500, maxCompactionLagMs: 1 + next(3000))
            let log = LogToCleanInput(name: "t", segments: segments, logStartOffset: start, highWatermark: hw,
                                      checkpoint: next(3) == 0 ? nil : next(base + 10), config: config)
            let range = CleanerSelection.cleanableRange(log, nowMs: next(4000))
            #expect(range.firstUncleanableOffset <= segments.last!.baseOffset
                || range.firstUncleanableOffset == range.firstDirtyOffset)
            #expect(range.firstDirtyOffset >= start && range.firstDirtyOffset <= base)
            #expect(range.firstDirtyOffset <= range.firstUncleanableOffset)
            for s in segments.dropLast() where s.endOffset <= range.firstUncleanableOffset && s.endOffset > range.firstDirtyOffset {
                #expect(s.endOffset <= hw)
            }
            #expect((0.0...1.0).contains(range.dirtyRatio))
        }
    }
}

@Suite struct RecordRetentionTests {
    @Test func aKeyTheDirtyRangeNeverSawIsKept() {
        var map = OffsetMap()
        map.add(BatchSummary(baseOffset: 10, lastOffset: 10, records: [record(10, "b")]))
        let old = BatchSummary(baseOffset: 0, lastOffset: 0, records: [record(0, "a")])
        #expect(RecordRetention.keeps(old.records[0], of: old, map: map, nowMs: 0))
    }

    @Test func recordsBeyondTheMapAreKeptEvenWithoutAKey() {
        var map = OffsetMap()
        map.add(BatchSummary(baseOffset: 0, lastOffset: 0, records: [record(0, "a")]))
        let later = BatchSummary(baseOffset: 1, lastOffset: 2, records: [record(1, nil), record(2, "a", value: false)])
        let plan = RecordRetention.plan(later, map: map, nowMs: 0, deleteRetentionMs: 10, producerLastOffsets: [:])
        #expect(plan.action == .copy)
        #expect(plan.kept == [1, 2])
        // Copied as it is: the tombstone beyond the map gets its horizon from the clean that
        // covers it (D143), not from this one.
        #expect(plan.deleteHorizonMs == nil)
    }

    @Test func theHorizonIsStampedOnceAndSaturates() {
        var map = OffsetMap()
        let batch = BatchSummary(baseOffset: 0, lastOffset: 0, records: [record(0, "a", value: false)])
        map.add(batch)
        let first = RecordRetention.plan(batch, map: map, nowMs: 100, deleteRetentionMs: Int64.max, producerLastOffsets: [:])
        #expect(first.action == .rewrite)
        #expect(first.deleteHorizonMs == Int64.max)
        var stamped = batch
        stamped.deleteHorizonMs = 150
        let again = RecordRetention.plan(stamped, map: map, nowMs: 149, deleteRetentionMs: 1000, producerLastOffsets: [:])
        #expect(again.action == .copy)
        #expect(again.deleteHorizonMs == 150)
        let gone = RecordRetention.plan(stamped, map: map, nowMs: 150, deleteRetentionMs: 1000, producerLastOffsets: [:])
        #expect(gone.action == .drop)
    }

    @Test func anEmptyMapStillJudgesTheCleanPart() {
        // Nothing dirty (the map starts and ends at 5): an expired tombstone and a keyless record
        // below it still go; a record at 5 or above is beyond the map.
        let map = OffsetMap(firstDirtyOffset: 5)
        let old = BatchSummary(baseOffset: 0, lastOffset: 1, deleteHorizonMs: 10,
                               records: [record(0, "a", value: false), record(1, nil)])
        #expect(RecordRetention.plan(old, map: map, nowMs: 10, deleteRetentionMs: 0, producerLastOffsets: [:]).action == .drop)
        let later = BatchSummary(baseOffset: 5, lastOffset: 5, records: [record(5, nil)])
        #expect(RecordRetention.plan(later, map: map, nowMs: 10, deleteRetentionMs: 0, producerLastOffsets: [:]).action == .copy)
    }

    @Test func onlyTheProducersLastBatchIsRetainedEmpty() {
        var map = OffsetMap()
        map.add(BatchSummary(baseOffset: 9, lastOffset: 9, records: [record(9, "a")]))
        let batch = BatchSummary(baseOffset: 0, lastOffset: 3, producerId: 5, records: [record(0, "a"), record(3, nil)])
        let last = RecordRetention.plan(batch, map: map, nowMs: 0, deleteRetentionMs: 0, producerLastOffsets: [5: 3])
        #expect(last.action == .retainEmpty)
        #expect(last.kept.isEmpty)
        #expect((last.baseOffset, last.lastOffset) == (0, 3))
        let notLast = RecordRetention.plan(batch, map: map, nowMs: 0, deleteRetentionMs: 0, producerLastOffsets: [5: 8])
        #expect(notLast.action == .drop)
        let other = RecordRetention.plan(batch, map: map, nowMs: 0, deleteRetentionMs: 0, producerLastOffsets: [6: 3])
        #expect(other.action == .drop)
    }

    @Test func theMapBoundStopsAtASegmentEdge() {
        let segments = [
            [BatchSummary(baseOffset: 0, lastOffset: 1, records: [record(0, "a"), record(1, "b")])],
            [BatchSummary(baseOffset: 2, lastOffset: 3, records: [record(2, "a"), record(3, "b")])],
            [BatchSummary(baseOffset: 4, lastOffset: 4, records: [record(4, "c")])],
        ]
        // a and b again in the second segment add no key: both fit in two.
        let map = OffsetMap.build(segments: segments, from: 0, to: 5, maxKeys: 2)
        #expect(map.latestOffset == 3)
        #expect(map[Array("a".utf8)] == 2)
        #expect(map[Array("c".utf8)] == nil)
        // `to` cuts inside a batch: records at or above it are not in the map.
        let cut = OffsetMap.build(segments: segments, from: 0, to: 3)
        #expect(cut.latestOffset == 2)
        #expect(cut[Array("b".utf8)] == 1)
        // `from` skips the clean part.
        let dirty = OffsetMap.build(segments: segments, from: 2, to: 5)
        #expect(dirty.count == 3)
        #expect(dirty[Array("a".utf8)] == 2)
    }

    @Test func cleaningTwiceChangesNothingTheSecondTime() {
        // Idempotence over generated logs: a second clean with the same map keeps every batch as
        // the first clean left it (no tombstone horizon passes in between).
        var generator = Generator(seed: 42)
        func next(_ bound: Int) -> Int { generator.next(bound) }
        for _ in 0..<500 {
            var batches: [BatchSummary] = []
            var offset: Int64 = 0
            for _ in 0..<(1 + next(8)) {
                let count = 1 + next(4)
                let records = (0..<count).map { i in
                    record(offset + Int64(i), next(6) == 0 ? nil : "k\(next(5))", value: next(4) != 0)
                }
                batches.append(BatchSummary(baseOffset: offset, lastOffset: offset + Int64(count) - 1,
                                            producerId: next(2) == 0 ? -1 : Int64(next(3)), records: records))
                offset += Int64(count)
            }
            var map = OffsetMap()
            for batch in batches { map.add(batch) }
            let producers = Dictionary(batches.filter { $0.producerId >= 0 }.map { ($0.producerId, $0.lastOffset) },
                                       uniquingKeysWith: max)
            var once: [BatchSummary] = []
            for batch in batches {
                let plan = RecordRetention.plan(batch, map: map, nowMs: 10, deleteRetentionMs: 100, producerLastOffsets: producers)
                #expect(plan.kept.allSatisfy { offset in batch.records.contains { $0.offset == offset } })
                guard plan.action != .drop else { continue }
                var kept = batch
                kept.records = batch.records.filter { plan.kept.contains($0.offset) }
                kept.deleteHorizonMs = plan.deleteHorizonMs
                once.append(kept)
            }
            for batch in once {
                let plan = RecordRetention.plan(batch, map: map, nowMs: 20, deleteRetentionMs: 100, producerLastOffsets: producers)
                #expect(plan.action == .copy || (plan.action == .retainEmpty && batch.records.isEmpty))
                #expect(plan.kept == batch.records.map(\.offset))
            }
            // Every key's newest record survived.
            var newest: [[UInt8]: Int64] = [:]
            for r in batches.flatMap(\.records) { if let key = r.key { newest[key] = r.offset } }
            let survivors = Set(once.flatMap(\.records).map(\.offset))
            #expect(newest.values.allSatisfy(survivors.contains))
        }
    }
}
