import RunnelCore
import Testing
import Replication

@Suite struct ProducerStateTests {
    func batch(_ first: Int32, _ last: Int32, at offset: Int64) -> ProducerStateTable.BatchMetadata {
        .init(firstSequence: first, lastSequence: last, baseOffset: Offset(offset), logAppendTimeMs: -1)
    }

    @Test func sequencesMustBeContiguousWithinAnEpoch() {
        var t = ProducerStateTable()
        #expect(t.check(producerId: 1, epoch: 0, firstSequence: 0, lastSequence: 4) == .append)
        t.record(producerId: 1, epoch: 0, batch: batch(0, 4, at: 0))
        #expect(t.check(producerId: 1, epoch: 0, firstSequence: 5, lastSequence: 9) == .append)
        if case .refuse(let code, _) = t.check(producerId: 1, epoch: 0, firstSequence: 7, lastSequence: 9) {
            #expect(code == 45)
        } else { Issue.record("a gap was accepted") }
    }

    @Test func aRetriedBatchGetsItsOriginalOffset() {
        var t = ProducerStateTable()
        t.record(producerId: 1, epoch: 0, batch: batch(0, 4, at: 100))
        t.record(producerId: 1, epoch: 0, batch: batch(5, 9, at: 105))
        #expect(t.check(producerId: 1, epoch: 0, firstSequence: 0, lastSequence: 4) == .duplicate(batch(0, 4, at: 100)))
    }

    @Test func onlyTheLastFiveBatchesAreRemembered() {
        var t = ProducerStateTable()
        for i in 0..<7 { t.record(producerId: 1, epoch: 0, batch: batch(Int32(i), Int32(i), at: Int64(i))) }
        #expect(t.entries[1]!.batches.count == Limits.producerBatchesRemembered)
        #expect(t.check(producerId: 1, epoch: 0, firstSequence: 0, lastSequence: 0) != .duplicate(batch(0, 0, at: 0)))
    }

    @Test func epochsFenceOldProducers() {
        var t = ProducerStateTable()
        t.record(producerId: 1, epoch: 3, batch: batch(0, 0, at: 0))
        if case .refuse(let code, _) = t.check(producerId: 1, epoch: 2, firstSequence: 1, lastSequence: 1) {
            #expect(code == 47)
        } else { Issue.record("an old epoch was accepted") }
        #expect(t.check(producerId: 1, epoch: 4, firstSequence: 0, lastSequence: 0) == .append)
        if case .refuse(let code, _) = t.check(producerId: 1, epoch: 4, firstSequence: 3, lastSequence: 3) {
            #expect(code == 45)
        } else { Issue.record("a new epoch not starting at 0 was accepted") }
    }

    @Test func unknownProducersMayStartAnywhere() {
        let t = ProducerStateTable()
        #expect(t.check(producerId: 9, epoch: 0, firstSequence: 42, lastSequence: 50) == .append)
    }

    @Test func sequencesWrapAtInt32Max() {
        var t = ProducerStateTable()
        t.record(producerId: 1, epoch: 0, batch: batch(Int32.max - 1, Int32.max, at: 0))
        #expect(t.check(producerId: 1, epoch: 0, firstSequence: 0, lastSequence: 3) == .append)
    }
}
