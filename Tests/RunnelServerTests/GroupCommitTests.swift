import NIOCore
import NIOEmbedded
import RunnelCore
import Testing
@testable import RunnelServer

/// `GroupCommit` with a flush the test completes by hand: which flushes start, what they make
/// durable, and who is told.
@Suite struct GroupCommitTests {
    /// A GroupCommit whose flushes park in `pending` until the test completes them.
    final class Harness {
        let loop = EmbeddedEventLoop()
        let commit: GroupCommit
        /// Flushes started and not yet completed, with the end each was started for.
        var pending: [(end: Offset, complete: (Result<Offset, any Error>) -> Void)] = []
        var logEnd: Offset
        var durableReports: [Offset] = []

        init(durableEnd: Offset = .zero) {
            logEnd = durableEnd
            commit = GroupCommit(loop: loop, durableEnd: durableEnd)
            commit.flush = { [unowned self] completion in pending.append((logEnd, completion)) }
            commit.onDurable = { [unowned self] end in durableReports.append(end) }
        }

        /// Completes the oldest running flush as a successful fdatasync of what it was started for.
        func completeFlush() {
            let flush = pending.removeFirst()
            flush.complete(.success(flush.end))
        }
    }

    @Test func backgroundRequestsCoalesceIntoOneFlushAndOneAfterIt() {
        let h = Harness()
        h.logEnd = Offset(10)
        h.commit.requestFlush(end: h.logEnd)
        #expect(h.pending.count == 1)
        // Appends while it runs ask again: no second flush until the first completes.
        for end in 11...20 {
            h.logEnd = Offset(Int64(end))
            h.commit.requestFlush(end: h.logEnd)
        }
        #expect(h.pending.count == 1)
        h.completeFlush()
        #expect(h.commit.durableEnd == Offset(10))
        // One more flush covers everything requested meanwhile, then nothing runs.
        #expect(h.pending.count == 1)
        h.completeFlush()
        #expect(h.commit.durableEnd == Offset(20))
        #expect(h.pending.isEmpty)
        #expect(h.durableReports == [Offset(10), Offset(20)])
        // A request for what is already durable starts nothing.
        h.commit.requestFlush(end: Offset(20))
        #expect(h.pending.isEmpty)
    }

    @Test func waitersAreAnsweredByTheFlushThatCoversThem() {
        let h = Harness()
        var answered: [Int] = []
        h.logEnd = Offset(5)
        h.commit.waitDurable(end: Offset(5)) { _ in answered.append(5) }
        h.logEnd = Offset(8)
        h.commit.waitDurable(end: Offset(8)) { _ in answered.append(8) }
        h.completeFlush()
        #expect(answered == [5])
        h.completeFlush()
        #expect(answered == [5, 8])
        h.commit.waitDurable(end: Offset(3)) { _ in answered.append(3) }
        #expect(answered == [5, 8, 3])
    }

    /// A follower truncates (a diverging epoch) while a flush of the old tail runs, and appends
    /// new batches at the same offsets: the flush's completion must not count the new batches,
    /// which it never synced, as durable.
    @Test func aFlushRunningAcrossATruncationCountsOnlyBelowTheCut() {
        let h = Harness(durableEnd: Offset(100))
        h.logEnd = Offset(150)
        h.commit.requestFlush(end: h.logEnd)
        #expect(h.pending.count == 1)
        h.commit.truncated(to: Offset(120))
        h.logEnd = Offset(160)   // new leader's batches at 120..<160
        var answered = false
        h.commit.waitDurable(end: Offset(140)) { _ in answered = true }
        h.completeFlush()        // reports 150, started before the cut
        #expect(h.commit.durableEnd == Offset(120))
        #expect(!answered)
        // The next flush syncs the new tail.
        #expect(h.pending.count == 1)
        h.completeFlush()
        #expect(h.commit.durableEnd == Offset(160))
        #expect(answered)
    }

    @Test func aFlushWithoutProgressFailsWaitersAndDropsRequests() {
        let h = Harness(durableEnd: Offset(10))
        h.commit.flush = { completion in completion(.success(Offset(10))) }   // cannot make progress
        h.commit.requestFlush(end: Offset(20))
        var result: Result<Void, any Error>?
        h.commit.waitDurable(end: Offset(20)) { result = $0 }
        #expect(h.commit.durableEnd == Offset(10))
        guard case .failure(let error)? = result else {
            Issue.record("the waiter was not failed")
            return
        }
        #expect(error is GroupCommitError)
    }

    @Test func aFailedFlushFailsEveryWaiter() {
        struct Broken: Error {}
        let h = Harness()
        var results: [Bool] = []
        h.logEnd = Offset(4)
        h.commit.waitDurable(end: Offset(4)) { results.append((try? $0.get()) != nil) }
        h.commit.waitDurable(end: Offset(4)) { results.append((try? $0.get()) != nil) }
        h.pending.removeFirst().complete(.failure(Broken()))
        #expect(results == [false, false])
        #expect(h.commit.durableEnd == .zero)
    }
}
