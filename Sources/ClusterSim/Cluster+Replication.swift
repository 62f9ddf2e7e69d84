import ClusterMetadata
import Replication
import RunnelCore

// Replication between brokers, mirroring `ReplicaFetchers` (the follower's round: fetch → append
// or truncate at a diverging epoch → fsync → next fetch, whose offset is therefore durable) and
// the replica branch of `01_Fetch` (epoch checks, the diverging-epoch answer, the follower's
// position recorded in `LeaderState`, records up to the log end).

extension Cluster {
    /// Sends the follower's next fetch, unless one is out (and not yet given up), the last one's
    /// data awaits its fsync, or the follower is backing off.
    mutating func maybeFetch(_ address: Address, _ key: TopicPartition) {
        let i = index(address)
        let replica = nodes[i].replicas[key]!
        guard !replica.isLeader, let leader = replica.leaderID, leader != replica.broker, !replica.awaitingSync,
              now >= replica.backoffUntil else { return }
        if let out = replica.fetchOut, out.sentAt + Self.requestTimeoutTicks > now { return }
        nextRequestID += 1
        let request = FetchRequest(partition: key, replica: replica.broker, currentLeaderEpoch: replica.leaderEpoch,
                                   fetchOffset: replica.logEnd, lastFetchedEpoch: replica.epochCache.latestEpoch,
                                   recordsMax: 1 + random.below(8), id: nextRequestID)
        nodes[i].replicas[key]!.fetchOut = (replica.leaderEpoch, replica.logEnd, now, nextRequestID)
        send(Message(from: address, to: Address(leader.rawValue), body: .fetch(request)))
    }

    /// The leader's answer to a follower's fetch.
    mutating func serveFetch(_ request: FetchRequest, from follower: Address, at address: Address) {
        let i = index(address)
        let key = request.partition
        var reply = FetchReply(partition: key, askedEpoch: request.currentLeaderEpoch, askedOffset: request.fetchOffset,
                               error: .none, diverging: nil, records: [], highWatermark: Offset(-1), id: request.id)
        defer { send(Message(from: address, to: follower, body: .fetchReply(reply))) }
        guard nodes[i].serving, let replica = nodes[i].replicas[key], replica.isLeader else { return reply.error = .notLeaderOrFollower }
        reply.highWatermark = replica.highWatermark
        if request.currentLeaderEpoch < replica.leaderEpoch { return reply.error = .fencedLeaderEpoch }
        if request.currentLeaderEpoch > replica.leaderEpoch { return reply.error = KafkaErrorCode(75) }  // UNKNOWN_LEADER_EPOCH
        if let diverging = divergence(request, replica) { return reply.diverging = diverging }
        if request.fetchOffset <= replica.logEnd {
            var state = replica.leaderState!
            let moved = state.followerFetched(request.replica, position: request.fetchOffset, now: nowMs)
            nodes[i].replicas[key]!.leaderState = state
            if moved { nodes[i].replicas[key]!.highWatermarkMoved() }
            reply.highWatermark = nodes[i].replicas[key]!.highWatermark
            sendAnswers(address, key)
            // Broker.replicaFetched: an expansion only of replicas the metadata shows usable.
            if let change = nodes[i].replicas[key]!.isrChange(now: nowMs, lagTimeMs: Self.replicaLagTimeMs),
               change.allSatisfy({ state.isr.contains($0) || nodes[i].image.isUsable($0) }) {
                proposeISR(change, at: address, key)
            }
        }
        guard request.fetchOffset <= replica.logEnd else { return reply.error = .offsetOutOfRange }
        let from = Int(request.fetchOffset.rawValue)
        reply.records = Array(replica.log[from..<min(replica.log.count, from + request.recordsMax)])
    }

    /// KIP-320 (Broker.divergence): the follower's last fetched epoch ends earlier here than its
    /// fetch offset, or this log knows only an older epoch.
    private func divergence(_ request: FetchRequest, _ replica: Replica) -> (epoch: LeaderEpoch, endOffset: Offset)? {
        guard let last = request.lastFetchedEpoch,
              let end = replica.epochCache.endOffset(for: last, logEndOffset: replica.logEnd) else { return nil }
        guard end.epoch < last || end.endOffset < request.fetchOffset else { return nil }
        return end
    }

    /// The follower applies the answer to the fetch it has out, if nothing changed since it asked
    /// (ReplicaFetcher.handle).
    mutating func applyFetchReply(_ reply: FetchReply, at address: Address) {
        let i = index(address)
        let key = reply.partition
        guard let replica = nodes[i].replicas[key], let out = replica.fetchOut, !replica.isLeader,
              replica.leaderEpoch == reply.askedEpoch, replica.logEnd == reply.askedOffset,
              out.epoch == reply.askedEpoch, out.offset == reply.askedOffset, out.id == reply.id else { return }
        nodes[i].replicas[key]!.fetchOut = nil
        switch reply.error {
        case .none:
            if let diverging = reply.diverging {
                let cut = FollowerTruncation.offset(leader: diverging, local: replica.epochCache, localLogEnd: replica.logEnd)
                record("truncate \(address) \(key) from \(replica.logEnd) to \(cut.offset) (diverging \(diverging.epoch)@\(diverging.endOffset))")
                nodes[i].replicas[key]!.truncate(to: max(cut.offset, .zero))
            } else if !reply.records.isEmpty {
                nodes[i].replicas[key]!.appendReplicated(reply.records)
                // The next fetch waits for the fsync of these records if its position can count
                // (reaches the leader's high watermark; a follower far behind defers the fsync,
                // D63), unless the canary reports the unsynced end.
                nodes[i].replicas[key]!.awaitingSync = canary != .unsyncedPosition
                    && nodes[i].replicas[key]!.logEnd >= reply.highWatermark
            }
            nodes[i].replicas[key]!.followerHighWatermark(reply.highWatermark)
            // An empty answer stands for a long poll that expired: the next fetch waits for a tick.
            if reply.diverging != nil || !reply.records.isEmpty { maybeFetch(address, key) }
        case .offsetOutOfRange:
            nodes[i].replicas[key]!.truncate(to: max(.zero, reply.highWatermark))
        default:
            nodes[i].replicas[key]!.backoffUntil = now + 2
        }
    }
}
