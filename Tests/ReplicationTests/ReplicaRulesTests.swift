// ReplicaRules: which metadata a replica takes and what settles an ISR change in flight (D65).
import Replication
import RunnelCore
import Testing

@Suite struct ReplicaRulesTests {
    let me = BrokerID(1)

    func replica(epoch: Int32 = 3, partitionEpoch: Int32 = 5, leader: Int32? = 1, leading: Bool = true,
                 logEpoch: Int32? = 3) -> ReplicaRules.Replica {
        ReplicaRules.Replica(me: me, leaderEpoch: LeaderEpoch(epoch), partitionEpoch: partitionEpoch,
                             leader: leader.map { BrokerID($0) }, applied: true,
                             leadingEpoch: leading ? LeaderEpoch(epoch) : nil, latestLogEpoch: logEpoch.map { LeaderEpoch($0) })
    }

    func adopt(leader: Int32?, epoch: Int32, partitionEpoch: Int32, by replica: ReplicaRules.Replica) -> ReplicaRules.Adoption {
        ReplicaRules.adopt(leader: leader.map { BrokerID($0) }, leaderEpoch: LeaderEpoch(epoch), partitionEpoch: partitionEpoch,
                           by: replica)
    }

    @Test func aLeaderTakesOnlyANewerPartitionEpochOfItsOwnLeaderEpoch() {
        #expect(adopt(leader: 1, epoch: 3, partitionEpoch: 6, by: replica()) == .committedInEpoch)
        #expect(adopt(leader: 1, epoch: 3, partitionEpoch: 5, by: replica()) == .unchanged)
        #expect(adopt(leader: 1, epoch: 3, partitionEpoch: 4, by: replica()) == .unchanged)
        #expect(adopt(leader: 1, epoch: 4, partitionEpoch: 7, by: replica()) == .becomeLeader)
        #expect(adopt(leader: 2, epoch: 4, partitionEpoch: 7, by: replica()) == .follow(roleChanged: true))
    }

    @Test func metadataOlderThanTheLogGivesNoRole() {
        #expect(adopt(leader: 1, epoch: 2, partitionEpoch: 9, by: replica(logEpoch: 3)) == .behindLog)
        #expect(adopt(leader: 2, epoch: 2, partitionEpoch: 9, by: replica(leading: false, logEpoch: 3)) == .behindLog)
    }

    /// A restarted broker whose metadata still names it leader of the epoch its log ends in: an
    /// earlier life led that epoch and may have had an ISR change in flight (cluster-sim seed 103).
    @Test func anEpochAnEarlierLifeLedGivesNoRole() {
        let restarted = replica(leader: nil, leading: false, logEpoch: 3)
        #expect(adopt(leader: 1, epoch: 3, partitionEpoch: 6, by: restarted) == .behindLog)
        #expect(adopt(leader: 1, epoch: 4, partitionEpoch: 7, by: restarted) == .becomeLeader)
        // An empty log, or one that ends in an epoch another leader wrote, leads as before.
        #expect(adopt(leader: 1, epoch: 3, partitionEpoch: 6, by: replica(leader: nil, leading: false, logEpoch: nil)) == .becomeLeader)
        #expect(adopt(leader: 1, epoch: 3, partitionEpoch: 6, by: replica(leader: nil, leading: false, logEpoch: 2)) == .becomeLeader)
        // A partition with no other replica is led again in its log's epoch (a converted
        // single-node data directory keeps its epochs); with others it is not.
        #expect(ReplicaRules.adopt(leader: me, leaderEpoch: LeaderEpoch(3), partitionEpoch: 6, replicas: [me],
                                   by: restarted) == .becomeLeader)
        #expect(ReplicaRules.adopt(leader: me, leaderEpoch: LeaderEpoch(3), partitionEpoch: 6, replicas: [me, BrokerID(2)],
                                   by: restarted) == .behindLog)
    }

    @Test func aFollowerIsToldOnlyOfANewLeaderOrEpoch() {
        let follower = replica(leader: 2, leading: false)
        #expect(adopt(leader: 2, epoch: 3, partitionEpoch: 6, by: follower) == .follow(roleChanged: false))
        #expect(adopt(leader: 3, epoch: 4, partitionEpoch: 6, by: follower) == .follow(roleChanged: true))
        #expect(adopt(leader: nil, epoch: 4, partitionEpoch: 6, by: follower) == .follow(roleChanged: true))
    }

    @Test func onlyUsableReplicasAreProposedToJoin() {
        let usable: Set<BrokerID> = [me, BrokerID(2)]
        let isr = [me, BrokerID(3)]
        #expect(ReplicaRules.mayPropose([me, BrokerID(2), BrokerID(3)], isr: isr, usable: usable.contains))
        #expect(!ReplicaRules.mayPropose([me, BrokerID(3), BrokerID(4)], isr: isr, usable: usable.contains))
        // A shrink, or the committed ISR again, never needs the metadata's blessing.
        #expect(ReplicaRules.mayPropose([me], isr: isr, usable: { _ in false }))
        #expect(ReplicaRules.mayPropose(isr, isr: isr, usable: { _ in false }))
    }

    @Test func onlyAnAnswerOrARefusalSettlesAChange() {
        let epoch = LeaderEpoch(3)
        func settle(_ answer: ReplicaRules.ISRAnswer, leading: LeaderEpoch? = LeaderEpoch(3),
                    pending: [BrokerID]? = [me]) -> ReplicaRules.Settlement {
            ReplicaRules.settle(answer, proposedEpoch: epoch, proposedISR: [me], leadingEpoch: leading, pendingISR: pending,
                                partitionEpoch: 5)
        }
        #expect(settle(.accepted(isr: [me], leaderEpoch: epoch, partitionEpoch: 6)) == .committed)
        #expect(settle(.accepted(isr: [me], leaderEpoch: LeaderEpoch(2), partitionEpoch: 6)) == .ignored)
        #expect(settle(.notDelivered) == .resend)
        for code in [KafkaErrorCode.notController, .requestTimedOut, .invalidUpdateVersion] {
            #expect(settle(.refused(code)) == .resend)
        }
        #expect(settle(.refused(.fencedLeaderEpoch)) == .refused)
        #expect(settle(.refused(.ineligibleReplica)) == .refused)
        #expect(settle(.notDelivered, leading: nil) == .ignored)
        #expect(settle(.refused(.notController), leading: LeaderEpoch(4)) == .ignored)
        // A late answer to an earlier proposal, after the metadata settled it and another change
        // was proposed (or none is pending), settles nothing.
        let other = [me, BrokerID(9)]
        #expect(settle(.accepted(isr: [me], leaderEpoch: epoch, partitionEpoch: 6), pending: other) == .ignored)
        #expect(settle(.refused(.ineligibleReplica), pending: other) == .ignored)
        #expect(settle(.notDelivered, pending: nil) == .ignored)
    }
}
