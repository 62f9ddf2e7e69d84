import ClusterMetadata
import RaftCore
import Replication
import RunnelCore

// The liveness phase: after the chaos, heal the network, restart and resume every node, calm
// the network and let disks sync; then within a bound every topic must exist, every partition
// must have a leader that took office, every acks=all acknowledgement must be readable below
// that leader's high watermark, and every partition must acknowledge a new acks=all batch.

extension Cluster {
    static let livenessTicksMax = 500
    /// Bound on the rounds of message delivery within one tick; a calm network quiesces sooner.
    static let settleRoundsMax = 200

    mutating func livenessPhase() {
        record("liveness: heal, restart and resume all, no faults")
        network.heal()
        network.faults = .none
        for node in nodes where !node.isUp { restart(node.address) }
        for i in nodes.indices { nodes[i].paused = false }
        let acksBefore = ackedAll.mapValues(\.count)
        for round in 0..<Self.livenessTicksMax {
            tick()
            checkAfterEvent()
            // A gentle load, so that followers can catch up and rejoin the ISR.
            if round % 4 == 0 { for n in workload.producers.indices { produce(n) } }
            settle()
            for address in running { sync(address) }
            checkAfterEvent()
            if violation != nil { return }
            if livenessReached(acksBefore: acksBefore) {
                record("liveness: every partition led, acknowledged records readable, new writes acknowledged")
                return
            }
        }
        fail("liveness", "not reached within \(Self.livenessTicksMax) ticks of healing: " + livenessState(acksBefore: acksBefore))
    }

    private func livenessReached(acksBefore: [TopicPartition: Int]) -> Bool {
        workload.allPartitions.allSatisfy { partitionIsLive($0, acksBefore: acksBefore) }
    }

    private func partitionIsLive(_ key: TopicPartition, acksBefore: [TopicPartition: Int]) -> Bool {
        guard let state = newestState(key), state.hasLeader,
              let leader = nodes[index(Address(state.leader.rawValue))].replicas[key],
              leader.leaderState?.leaderEpoch == state.leaderEpoch,
              (ackedAll[key]?.count ?? 0) > (acksBefore[key] ?? 0) else { return false }
        let highestAck = ackedAll[key]?.keys.max() ?? -1
        return leader.highWatermark.rawValue > highestAck && unconfirmedAcks.isEmpty
    }

    private func livenessState(acksBefore: [TopicPartition: Int]) -> String {
        workload.allPartitions.map { key in
            guard let state = newestState(key) else { return "\(key): no metadata" }
            let leader = state.hasLeader ? nodes[index(Address(state.leader.rawValue))].replicas[key] : nil
            return "\(key): leader \(state.leader) epoch \(state.leaderEpoch) ISR \(state.isr) "
                + "took office \(leader?.leaderState?.leaderEpoch == state.leaderEpoch) hw \(leader?.highWatermark.description ?? "-") "
                + "acks \(acksBefore[key] ?? 0)->\(ackedAll[key]?.count ?? 0)"
        }.joined(separator: "; ")
    }

    /// Delivers everything in order and handles every Ready until the network is quiet.
    private mutating func settle() {
        for _ in 0..<Self.settleRoundsMax {
            var busy = false
            for address in running where nodes[index(address)].raft!.hasReady {
                processReady(address)
                checkAfterEvent()
                busy = true
            }
            let accepting = Set(addresses.filter(accepts))
            // The messages queued now; what they cause waits for the next round (an exchange
            // that answers itself at once, such as a fetch loop, would otherwise never end).
            for _ in 0..<network.inFlight.count {
                guard let message = network.takeFirst(accepts: { $0 >= Self.clientBase || accepting.contains($0) }) else { break }
                deliver(message)
                checkAfterEvent()
                busy = true
            }
            if !busy || violation != nil { return }
        }
        fail("liveness", "the network did not quiesce within \(Self.settleRoundsMax) rounds")
    }
}
