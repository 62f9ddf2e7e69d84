// Cases a scenario would make clumsy: the corners of FollowerTruncation, of the cache's
// constructors and of LeaderState's bookkeeping.
import Replication
import RunnelCore
import Testing

private func cache(_ entries: (Int32, Int64)...) -> LeaderEpochCache {
    LeaderEpochCache(entries: entries.map { EpochEntry(epoch: LeaderEpoch($0.0), startOffset: Offset($0.1)) })!
}

private func answer(_ epoch: Int32, _ end: Int64) -> (epoch: LeaderEpoch, endOffset: Offset) {
    (LeaderEpoch(epoch), Offset(end))
}

private let b1 = BrokerID(1), b2 = BrokerID(2), b3 = BrokerID(3)

@Suite struct FollowerTruncationTests {
    @Test func sameEpochEndsAtTheSmallerOfTheTwoEnds() {
        // The leader's copy of epoch 2 is the shorter one.
        let local = cache((0, 0), (2, 10))
        #expect(FollowerTruncation.offset(leader: answer(2, 12), local: local, localLogEnd: Offset(15)) == (Offset(12), true))
        // The follower's copy is shorter (it went on to epoch 3, which the leader never had).
        let ahead = cache((0, 0), (2, 10), (3, 13))
        #expect(FollowerTruncation.offset(leader: answer(2, 20), local: ahead, localLogEnd: Offset(18)) == (Offset(13), true))
        // Both agree beyond the follower's log end: nothing to cut.
        #expect(FollowerTruncation.offset(leader: answer(2, 20), local: local, localLogEnd: Offset(15)) == (Offset(15), true))
    }

    @Test func anEpochTheFollowerLacksIsAnIntermediateStep() {
        // The leader answers epoch 1; the follower has 0 then 2: it cuts to where its 0 ends and asks again.
        let local = cache((0, 0), (2, 5))
        #expect(FollowerTruncation.offset(leader: answer(1, 6), local: local, localLogEnd: Offset(8)) == (Offset(5), false))
        // Never past where the leader's epoch ends either.
        #expect(FollowerTruncation.offset(leader: answer(1, 3), local: local, localLogEnd: Offset(8)) == (Offset(3), false))
    }

    @Test func anEpochOlderThanTheFollowersFirstIsWhereItsLogBegins() {
        // The follower's log starts (after retention) in epoch 4 at 100; the leader answers epoch 2
        // ending at 120. The follower's cache answers epoch 2 with its first start: cut to 100.
        let local = cache((4, 100))
        #expect(FollowerTruncation.offset(leader: answer(2, 120), local: local, localLogEnd: Offset(130)) == (Offset(100), true))
    }

    @Test func nothingKnownInCommonMeansEverythingGoes() {
        // UNDEFINED from the leader, or a follower with no epochs at all: Runnel restarts the log
        // (Kafka would trust the leader's offset there, a leftover from logs without epochs).
        #expect(FollowerTruncation.offset(leader: nil, local: cache((0, 0)), localLogEnd: Offset(5)) == (Offset(0), true))
        #expect(FollowerTruncation.offset(leader: answer(0, 3), local: LeaderEpochCache(), localLogEnd: Offset(5)) == (Offset(0), true))
        // An empty log has nothing to cut whatever the answer.
        #expect(FollowerTruncation.offset(leader: answer(0, 3), local: LeaderEpochCache(), localLogEnd: Offset(0)) == (Offset(0), true))
    }

    @Test func neverToTheFollowersHighWatermark() {
        // The answer does not depend on the follower's HW at all: a follower with HW 1 whose
        // epoch 0 (ending at 3 in the leader's log) runs to 5 keeps 0-2.
        #expect(FollowerTruncation.offset(leader: answer(0, 3), local: cache((0, 0)), localLogEnd: Offset(5)) == (Offset(3), true))
    }
}

@Suite struct LeaderEpochCacheTests {
    @Test func entriesMustBeOrderedAndNonNegative() {
        #expect(LeaderEpochCache(entries: [EpochEntry(epoch: LeaderEpoch(2), startOffset: Offset(5)),
                                           EpochEntry(epoch: LeaderEpoch(1), startOffset: Offset(6))]) == nil)
        #expect(LeaderEpochCache(entries: [EpochEntry(epoch: LeaderEpoch(1), startOffset: Offset(6)),
                                           EpochEntry(epoch: LeaderEpoch(2), startOffset: Offset(5))]) == nil)
        #expect(LeaderEpochCache(entries: [EpochEntry(epoch: LeaderEpoch(-1), startOffset: Offset(0))]) == nil)
        #expect(LeaderEpochCache(entries: [EpochEntry(epoch: LeaderEpoch(0), startOffset: Offset(-1))]) == nil)
        #expect(LeaderEpochCache(entries: [])?.entries.isEmpty == true)
    }

    @Test func checkpointRefusesNegativeNumbers() {
        #expect(throws: LeaderEpochCache.CheckpointError.self) { try LeaderEpochCache(checkpointText: "0\n1\n-1 0\n") }
        #expect(throws: LeaderEpochCache.CheckpointError.self) { try LeaderEpochCache(checkpointText: "0\n1\n0 -5\n") }
    }

    @Test func checkpointTextIsKafkasLayout() throws {
        let c = cache((0, 0), (3, 100), (7, 2_000_000_000_000))
        #expect(c.checkpointText == "0\n3\n0 0\n3 100\n7 2000000000000\n")
        #expect(try LeaderEpochCache(checkpointText: c.checkpointText) == c)
    }

    @Test func assignRefusesNegativeNumbers() {
        var c = cache((0, 0))
        let changed = c.assign(epoch: LeaderEpoch(1), startOffset: Offset(-1))
        #expect(!changed)
        #expect(c == cache((0, 0)))
    }

    /// A crash cut the log; the newest epoch — perhaps one this replica took office in, whose
    /// records did not reach the disk — survives at the log end (cluster-sim seed 789: forgotten,
    /// the restarted replica led that epoch again and wrote other records at the same offsets).
    @Test func recoveryKeepsTheNewestEpochAtTheLogEnd() {
        var took = cache((0, 0), (5, 5))
        let tookChanged = took.recover(logEnd: Offset(5))
        #expect(!tookChanged)
        #expect(took == cache((0, 0), (5, 5)))
        var lost = cache((0, 0), (3, 4), (5, 7))
        let lostChanged = lost.recover(logEnd: Offset(3))
        #expect(lostChanged)
        #expect(lost == cache((0, 0), (5, 3)))
        var whole = cache((0, 0), (5, 7))
        let wholeChanged = whole.recover(logEnd: Offset(9))
        #expect(!wholeChanged)
        #expect(whole == cache((0, 0), (5, 7)))
        // What a cut by a follower's truncation does instead: the newest epoch goes.
        var cut = cache((0, 0), (5, 7))
        cut.truncateFromEnd(Offset(3))
        #expect(cut == cache((0, 0)))
    }
}

@Suite struct LeaderStateTests {
    private func leader(isr: [BrokerID] = [b1, b2, b3], highWatermark: Int64 = 0, logEnd: Int64 = 10,
                        now: Int64 = 0) -> LeaderState {
        LeaderState(leader: b1, leaderEpoch: LeaderEpoch(3), replicas: [b1, b2, b3], isr: isr,
                    highWatermark: Offset(highWatermark), logEnd: Offset(logEnd), position: Offset(logEnd), now: now)
    }

    @Test func aLeaderAloneInTheISRHasItsWholeLogCommitted() {
        let s = leader(isr: [b1], highWatermark: 4)
        #expect(s.highWatermark == Offset(10))
    }

    @Test func aHighWatermarkPastTheLogEndIsClamped() {
        #expect(leader(highWatermark: 50).highWatermark == Offset(10))
    }

    @Test func theLeadersPositionNeverGoesBackNorPastItsLogEnd() {
        var s = leader(isr: [b1], logEnd: 10)
        s.leaderAppended(logEnd: Offset(15))
        let forward = s.leaderPositionChanged(Offset(20))
        #expect(forward)
        #expect(s.leaderPosition == Offset(15))
        let backward = s.leaderPositionChanged(Offset(12))
        #expect(!backward)
        #expect(s.leaderPosition == Offset(15) && s.highWatermark == Offset(15))
    }

    @Test func fetchesFromStrangersAreIgnored() {
        var s = leader()
        let moved = s.followerFetched(BrokerID(9), position: Offset(10), now: 5)
        #expect(!moved)
        #expect(s.followers[BrokerID(9)] == nil)
    }

    @Test func aCommittedReassignmentAddsAndDropsFollowers() {
        var s = leader(isr: [b1, b2])
        let b4 = BrokerID(4)
        _ = s.followerFetched(b2, position: Offset(10), now: 1)
        #expect(s.highWatermark == Offset(10))
        let moved = s.committed(replicas: [b1, b2, b4], isr: [b1, b2], now: 2)
        #expect(!moved)
        #expect(s.followers[b3] == nil)
        #expect(s.followers[b4]?.position == nil && s.followers[b4]?.lastCaughtUpMs == 0)
        #expect(s.replicas == [b1, b2, b4])
    }

    @Test func joiningWaitsForTheStartOfTheLeaderEpoch() {
        // Took office at 10 with HW 6; 2, in the ISR, is at 6 and keeps the HW there.
        var s = leader(isr: [b1, b2], highWatermark: 6)
        _ = s.followerFetched(b2, position: Offset(6), now: 1)
        #expect(s.highWatermark == Offset(6))
        // 3 has the HW but not the start of this leader epoch.
        _ = s.followerFetched(b3, position: Offset(8), now: 1)
        #expect(s.isrChange(now: 1, lagTimeMs: 100) == nil)
        _ = s.followerFetched(b3, position: Offset(10), now: 2)
        #expect(s.isrChange(now: 2, lagTimeMs: 100) == [b1, b2, b3])
    }

    @Test func proposalsKeepTheReplicaOrderAndWaitForTheAnswer() {
        var s = LeaderState(leader: b2, leaderEpoch: LeaderEpoch(1), replicas: [b3, b1, b2], isr: [b2],
                            highWatermark: .zero, logEnd: Offset(4), position: Offset(4), now: 0)
        _ = s.followerFetched(b1, position: Offset(4), now: 1)
        _ = s.followerFetched(b3, position: Offset(4), now: 1)
        let change = s.isrChange(now: 1, lagTimeMs: 100)
        #expect(change == [b3, b1, b2])
        s.proposed(change!)
        #expect(s.isrChange(now: 1, lagTimeMs: 100) == nil)
        s.proposalFailed()
        #expect(s.pendingISR == nil && s.isr == [b2])
        #expect(s.isrChange(now: 1, lagTimeMs: 100) == [b3, b1, b2])
    }

    @Test func aFollowerThatStoppedFetchingIsNotProposedBack() {
        // 2 fetched last at 0; at 200 (lag 100) it is dropped. The HW is stuck where 2 stands
        // (the leader has not flushed), so only its silence keeps it out.
        var s = LeaderState(leader: b1, leaderEpoch: LeaderEpoch(0), replicas: [b1, b2], isr: [b1, b2],
                            highWatermark: .zero, logEnd: .zero, position: .zero, now: 0)
        s.leaderAppended(logEnd: Offset(5))
        _ = s.followerFetched(b2, position: .zero, now: 0)
        #expect(s.isrChange(now: 200, lagTimeMs: 100) == [b1])
        s.proposed([b1])
        _ = s.committed(replicas: [b1, b2], isr: [b1], now: 200)
        #expect(s.highWatermark == .zero)
        #expect(s.isrChange(now: 201, lagTimeMs: 100) == nil)
        _ = s.followerFetched(b2, position: .zero, now: 202)
        #expect(s.isrChange(now: 202, lagTimeMs: 100) == [b1, b2])
    }

    @Test func ackStateWaitsForTheHighWatermark() {
        var s = leader(isr: [b1, b2], logEnd: 10)
        #expect(s.ackState(end: Offset(10), minISR: 2) == .waiting)
        _ = s.followerFetched(b2, position: Offset(10), now: 1)
        #expect(s.ackState(end: Offset(10), minISR: 2) == .done)
        #expect(s.ackState(end: Offset(10), minISR: 3) == .notEnoughReplicasAfterAppend)
        #expect(s.acceptsAcksAll(minISR: 2) && !s.acceptsAcksAll(minISR: 3))
    }
}
