import RunnelCore

/// What a partition's leader knows about its replicas (Kafka's `Partition` on the leader,
/// DESIGN.md §5): each follower's reported position and when it was last caught up, the ISR
/// (as committed by the controller, plus a proposed change in flight), and the high watermark.
/// Pure: the shell feeds it the leader's own position, follower fetches and committed metadata,
/// and asks it what to propose and whether an acks=all batch is done. Time is passed in.
///
/// Positions are "everything below this offset is held": a follower's is the fetch offset it
/// sends (with `runnel.acks.all.fsync=true` only after it fsynced what it holds), the leader's
/// own is its durable end (or its log end when fsync is off). So the high watermark — the
/// smallest position in the ISR — is an offset below which every in-sync replica holds the log.
public struct LeaderState: Sendable, Equatable {
    public struct Follower: Sendable, Equatable {
        /// The last position the follower reported; nil until its first fetch in this epoch.
        public var position: Offset?
        /// The last time its position reached the leader's log end as it was then (Kafka's
        /// lastCaughtUpTimeMs).
        public var lastCaughtUpMs: Int64
        public var lastFetchMs: Int64?
        /// The leader's log end at the follower's previous fetch.
        public var leaderLogEndAtLastFetch: Offset?
    }

    public enum AckState: Equatable, Sendable {
        /// The high watermark has not reached the batch yet.
        case waiting
        /// Every in-sync replica holds it, and the ISR has at least `min.insync.replicas`.
        case done
        /// Held by every in-sync replica, but the ISR shrank below `min.insync.replicas` meanwhile.
        case notEnoughReplicasAfterAppend
    }

    public let leader: BrokerID
    public let leaderEpoch: LeaderEpoch
    /// The leader's log end when it took office: a follower must reach it to join the ISR.
    public let epochStartOffset: Offset
    public private(set) var replicas: [BrokerID]
    /// The ISR as the controller last committed it.
    public private(set) var isr: [BrokerID]
    /// An ISR change sent to the controller and not yet answered.
    public private(set) var pendingISR: [BrokerID]?
    /// Newcomers of a change the controller refused, at the partition epoch the leader still
    /// has: another copy of that request (a resend, or one delayed on the way) may yet be
    /// committed, so they keep bounding the high watermark until the partition epoch moves
    /// (`committed`). While there are any, `isrChange` proposes at least the committed ISR again,
    /// which the controller commits with a new partition epoch (docs/decisions.md D86).
    public private(set) var withdrawnNewcomers: [BrokerID] = []
    public private(set) var highWatermark: Offset
    /// The leader's own position (its durable end with fsync on, else its log end).
    public private(set) var leaderPosition: Offset
    public private(set) var leaderLogEnd: Offset
    public private(set) var followers: [BrokerID: Follower]
    /// Deliberately broken rules for `cluster-sim`'s canaries; empty (and unreachable from any
    /// configuration) everywhere else.
    package var canaries: Set<ReplicationCanary> = []

    /// A leader taking office at `logEnd` with the controller's `replicas` and `isr`;
    /// `highWatermark` is the one this replica had (as a follower or from its checkpoint).
    public init(leader: BrokerID, leaderEpoch: LeaderEpoch, replicas: [BrokerID], isr: [BrokerID],
                highWatermark: Offset, logEnd: Offset, position: Offset, now: Int64) {
        self.leader = leader
        self.leaderEpoch = leaderEpoch
        self.epochStartOffset = logEnd
        self.replicas = replicas
        self.isr = isr
        self.highWatermark = min(highWatermark, logEnd)
        self.leaderPosition = min(position, logEnd)
        self.leaderLogEnd = logEnd
        self.followers = [:]
        for id in replicas where id != leader {
            followers[id] = Follower(position: nil, lastCaughtUpMs: isr.contains(id) ? now : 0)
        }
        _ = advanceHighWatermark()
    }

    /// The replicas whose position bounds the high watermark: the committed ISR and, while a
    /// change is pending, its members too (an expansion counts the newcomer at once; a shrink
    /// does not take effect before it is committed).
    public var maximalISR: [BrokerID] {
        guard pendingISR != nil || !withdrawnNewcomers.isEmpty else { return isr }
        return replicas.filter { isr.contains($0) || pendingISR?.contains($0) == true || withdrawnNewcomers.contains($0) }
    }

    // MARK: Events

    /// The leader's log end moved (an append, or a truncation before it took office).
    public mutating func leaderAppended(logEnd: Offset) {
        leaderLogEnd = logEnd
    }

    /// The leader's own position moved (a flush completed). Returns whether the HW moved.
    public mutating func leaderPositionChanged(_ position: Offset) -> Bool {
        leaderPosition = max(leaderPosition, min(position, leaderLogEnd))
        return advanceHighWatermark()
    }

    /// A follower fetched from `position`. Returns whether the HW moved. A replica that is not
    /// one of the partition's is ignored.
    public mutating func followerFetched(_ id: BrokerID, position: Offset, now: Int64) -> Bool {
        guard var follower = followers[id] else { return false }
        if position >= leaderLogEnd {
            follower.lastCaughtUpMs = max(follower.lastCaughtUpMs, now)
        } else if let previous = follower.leaderLogEndAtLastFetch, let at = follower.lastFetchMs, position >= previous {
            follower.lastCaughtUpMs = max(follower.lastCaughtUpMs, at)
        }
        follower.position = position
        follower.lastFetchMs = now
        follower.leaderLogEndAtLastFetch = leaderLogEnd
        followers[id] = follower
        return advanceHighWatermark()
    }

    /// The controller committed a new state for the partition in this leader epoch: its ISR
    /// replaces ours and a pending change is settled. Every request sent before named an older
    /// partition epoch and can no longer be committed, so withdrawn newcomers stop counting.
    /// Returns whether the HW moved.
    public mutating func committed(replicas: [BrokerID], isr: [BrokerID], now: Int64) -> Bool {
        for id in replicas where id != leader && followers[id] == nil {
            followers[id] = Follower(position: nil, lastCaughtUpMs: 0)
        }
        for id in followers.keys where !replicas.contains(id) { followers[id] = nil }
        self.replicas = replicas
        self.isr = isr
        pendingISR = nil
        withdrawnNewcomers = []
        return advanceHighWatermark()
    }

    /// An ISR change was sent to the controller.
    public mutating func proposed(_ newISR: [BrokerID]) { pendingISR = newISR }

    /// The controller refused the change: it is no longer proposed, but its newcomers keep
    /// bounding the high watermark (`withdrawnNewcomers`) until the partition epoch moves — the
    /// refusal answers one copy of the request, and another may still be committed.
    public mutating func proposalFailed() {
        let pending = pendingISR ?? []
        withdrawnNewcomers = replicas.filter { !isr.contains($0) && (withdrawnNewcomers.contains($0) || pending.contains($0)) }
        pendingISR = nil
    }

    // MARK: Decisions

    /// The ISR change to propose now, if any (none while one is pending): first a shrink —
    /// in-sync followers not caught up within `lagTimeMs` leave, unless their position is the
    /// leader's log end right now (Kafka's `Replica.isCaughtUp`: a follower of an idle
    /// partition that holds everything is not lagging, however long ago it fetched) — else an
    /// expansion — out-of-sync followers that fetched within `lagTimeMs` and whose position
    /// reached both the high watermark and the start of this leader epoch join. The result
    /// keeps the replicas' order.
    ///
    /// Kafka considers adding a follower only as that follower fetches (and never a fenced
    /// one); here positions can be stale, so the recent-fetch test stands for that: a follower
    /// that stopped fetching is not proposed again because its old position still equals a
    /// stuck high watermark.
    ///
    /// With neither, but newcomers of a refused change still counted (`withdrawnNewcomers`),
    /// the committed ISR itself is proposed: its commit moves the partition epoch, after which no
    /// copy of the refused request can be committed and the newcomers stop holding the high
    /// watermark back.
    public func isrChange(now: Int64, lagTimeMs: Int64) -> [BrokerID]? {
        guard pendingISR == nil else { return nil }
        let lagging = isr.filter { id in
            guard id != leader, let follower = followers[id] else { return false }
            if let position = follower.position, position >= leaderLogEnd { return false }
            return now - follower.lastCaughtUpMs > lagTimeMs
        }
        if !lagging.isEmpty { return isr.filter { !lagging.contains($0) } }
        let joining = replicas.filter { id in
            guard !isr.contains(id), id != leader, let follower = followers[id], let position = follower.position,
                  let fetched = follower.lastFetchMs, now - fetched <= lagTimeMs else { return false }
            return position >= highWatermark && position >= epochStartOffset
        }
        if !joining.isEmpty { return replicas.filter { isr.contains($0) || joining.contains($0) } }
        return withdrawnNewcomers.isEmpty ? nil : isr
    }

    /// Whether an acks=all produce may be appended now: the ISR has `minISR` members.
    public func acceptsAcksAll(minISR: Int) -> Bool { isr.count >= minISR }

    /// Whether an acks=all batch ending before `end` is done. The count is the maximal ISR's,
    /// as Kafka's `checkEnoughReplicasReachOffset`: a replica whose joining is in flight already
    /// holds the batch (the high watermark waited for it).
    public func ackState(end: Offset, minISR: Int) -> AckState {
        guard highWatermark >= end else { return .waiting }
        return maximalISR.count >= minISR ? .done : .notEnoughReplicasAfterAppend
    }

    /// Recomputes the HW from the maximal ISR; it never moves backwards, and a member with no
    /// reported position holds it where it is.
    private mutating func advanceHighWatermark() -> Bool {
        var candidate = leaderPosition
        let members = canaries.contains(.hwOutsideISR) ? mostAdvancedReplicas(maximalISR.count) : maximalISR
        for id in members where id != leader {
            guard let position = followers[id]?.position else { return false }
            candidate = min(candidate, position)
        }
        candidate = min(candidate, leaderLogEnd)
        guard candidate > highWatermark else { return false }
        highWatermark = candidate
        return true
    }

    /// The canary's wrong set: the leader and the followers with the highest positions, as many
    /// as the ISR has members, whether they are in the ISR or not.
    private func mostAdvancedReplicas(_ count: Int) -> [BrokerID] {
        let ranked = followers.filter { $0.value.position != nil }
            .sorted { ($0.value.position!, $1.key) > ($1.value.position!, $0.key) }.map(\.key)
        return [leader] + ranked.prefix(max(0, count - 1))
    }
}

/// Deliberately broken replication rules, one per canary of `cluster-sim` (which must catch each).
/// Package access: no configuration of the broker can switch one on.
package enum ReplicationCanary: String, CaseIterable, Sendable {
    /// The high watermark counts the most advanced replicas, in the ISR or not.
    case hwOutsideISR = "hw-outside-isr"
}

/// What a follower does when the leader says its log diverges (KIP-101/279/320): the leader
/// answered the follower's last fetched epoch with the largest epoch it knows at or below it
/// and where that epoch ends in the leader's log.
public enum FollowerTruncation {
    /// Where to truncate. `complete` is false when the follower did not know the leader's epoch
    /// and cut back to the end of an older one: it asks again (its next fetch names the epoch
    /// it now ends with) and may cut further. Never to the follower's own high watermark.
    /// A leader that has no epoch at or below (nil) shares nothing known with the follower:
    /// everything goes.
    public static func offset(leader: (epoch: LeaderEpoch, endOffset: Offset)?, local: LeaderEpochCache,
                              localLogEnd: Offset) -> (offset: Offset, complete: Bool) {
        guard let leader else { return (.zero, true) }
        guard let mine = local.endOffset(for: leader.epoch, logEndOffset: localLogEnd) else {
            // The follower has no epoch at or below the leader's: nothing is known to be shared.
            return (.zero, true)
        }
        if mine.epoch != leader.epoch {
            return (min(mine.endOffset, leader.endOffset, localLogEnd), false)
        }
        // Both logs hold the epoch; it ends where the shorter of the two ends it. The follower's
        // own end matters when it went on to a later epoch the leader never had: its entries
        // there sit where the leader has more of this epoch, and must go.
        return (min(mine.endOffset, leader.endOffset, localLogEnd), true)
    }
}
