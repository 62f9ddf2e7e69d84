import RunnelCore

/// A replica of a partition that takes partition states from the metadata: the broker's
/// `Partition` and cluster-sim's `Replica`. `ReplicaRules.adopt` decides what a state means to
/// the replica; `adopt(leader:leaderEpoch:partitionEpoch:replicas:isr:now:)` carries the
/// decision out, once for both, through the few steps each does its own way (its log, its
/// acks=all waiters, its fetcher).
public protocol AdoptingReplica {
    /// What `ReplicaRules.adopt` needs to know of this replica.
    var adoptionView: ReplicaRules.Replica { get }
    /// Takes office as leader in `leaderEpoch`, from its log's end.
    mutating func takeOffice(leaderEpoch: LeaderEpoch, replicas: [BrokerID], isr: [BrokerID], now: Int64)
    /// Stops leading: the leader state goes, acks=all waiters fail. Called only while leading.
    mutating func leaveOffice()
    /// The controller committed a new state of the epoch this replica leads:
    /// `LeaderState.committed` with it, and what follows when the high watermark moves.
    mutating func committedInOffice(replicas: [BrokerID], isr: [BrokerID], now: Int64)
    /// Records the state's epochs, leader and replicas as the ones it last applied.
    mutating func takeEpochs(leaderEpoch: LeaderEpoch, partitionEpoch: Int32, leader: BrokerID?, replicas: [BrokerID])
}

extension ReplicaRules {
    /// What an adopted state changes for the replica fetcher.
    public enum RoleChange: Sendable, Equatable {
        case becameLeader
        /// Follows `leader` (nil: the partition has no leader the replica can follow now).
        case becameFollower(leader: BrokerID?)
    }
}

extension AdoptingReplica {
    /// Takes the role, epochs, replicas and ISR of a state naming `leader` (nil: none), by
    /// `ReplicaRules.adopt`. Returns the role change the replica's fetching must follow, if any.
    public mutating func adopt(leader: BrokerID?, leaderEpoch: LeaderEpoch, partitionEpoch: Int32, replicas: [BrokerID],
                               isr: [BrokerID], now: Int64) -> ReplicaRules.RoleChange? {
        let view = adoptionView
        let adoption = ReplicaRules.adopt(leader: leader, leaderEpoch: leaderEpoch, partitionEpoch: partitionEpoch,
                                          replicas: replicas, by: view)
        let leading = view.leadingEpoch != nil
        let change: ReplicaRules.RoleChange?
        switch adoption {
        case .unchanged:
            return nil
        case .behindLog:
            if leading { leaveOffice() }
            change = .becameFollower(leader: nil)
        case .committedInEpoch:
            committedInOffice(replicas: replicas, isr: isr, now: now)
            change = nil
        case .becomeLeader:
            takeOffice(leaderEpoch: leaderEpoch, replicas: replicas, isr: isr, now: now)
            change = .becameLeader
        case .follow(let roleChanged):
            if leading { leaveOffice() }
            change = roleChanged ? .becameFollower(leader: leader) : nil
        }
        takeEpochs(leaderEpoch: leaderEpoch, partitionEpoch: partitionEpoch, leader: adoption == .behindLog ? nil : leader,
                   replicas: replicas)
        return change
    }
}
