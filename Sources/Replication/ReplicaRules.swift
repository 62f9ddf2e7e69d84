import RunnelCore

/// The rules by which one replica of a partition takes what the metadata and the controller
/// tell it — which metadata is news and what it makes of the replica, and what settles an ISR
/// change in flight (docs/decisions.md D65). Pure, and shared: the broker's `Partition` and
/// `cluster-sim`'s replica both follow these, so the rule the simulator checks is the one the
/// broker runs.
public enum ReplicaRules {
    /// What the replica knows of itself when metadata for its partition arrives.
    public struct Replica: Sendable, Equatable {
        public var me: BrokerID
        /// The leader and partition epochs of the state it last applied (or took from an answer).
        public var leaderEpoch: LeaderEpoch
        public var partitionEpoch: Int32
        /// The leader it last applied (nil: none).
        public var leader: BrokerID?
        /// Whether it applied any state yet (a replica with no replicas list has not).
        public var applied: Bool
        /// The epoch of the `LeaderState` it holds, if it leads.
        public var leadingEpoch: LeaderEpoch?
        /// The latest epoch in its leader-epoch cache (its log's newest epoch).
        public var latestLogEpoch: LeaderEpoch?

        public init(me: BrokerID, leaderEpoch: LeaderEpoch, partitionEpoch: Int32, leader: BrokerID?, applied: Bool,
                    leadingEpoch: LeaderEpoch?, latestLogEpoch: LeaderEpoch?) {
            self.me = me
            self.leaderEpoch = leaderEpoch
            self.partitionEpoch = partitionEpoch
            self.leader = leader
            self.applied = applied
            self.leadingEpoch = leadingEpoch
            self.latestLogEpoch = latestLogEpoch
        }
    }

    /// What a replica does with a partition state from the metadata.
    public enum Adoption: Sendable, Equatable {
        /// Metadata older than the replica's own log (a restarted broker replaying the metadata
        /// log applies its history), or naming this replica leader of the epoch its log ends in
        /// when it does not lead in this life: only that epoch's leader writes it, so an earlier
        /// life of this replica led it and may have left an ISR change in flight that this life
        /// cannot know of — leading again, its high watermark would pass a newcomer that change
        /// puts in the ISR (cluster-sim seed 103). The controller moves leadership away from a
        /// broker that registers again, so the metadata soon names a newer epoch. Resign if
        /// leading, take the state's epochs, replicas and no leader, and follow nobody until the
        /// metadata reaches an epoch the log can follow.
        case behindLog
        /// Nothing new for this leader: a state of its own leader epoch whose partition epoch is
        /// not above the one it has. Taken as is, it would settle an ISR change in flight on an
        /// unrelated batch (every metadata batch reaches every replica) or roll back the ISR of
        /// an answer it already took. Ignored, epochs included.
        case unchanged
        /// The controller committed a new state of this leader's epoch: the leader takes its
        /// replicas and ISR (`LeaderState.committed`), which settles a pending change.
        case committedInEpoch
        /// Lead, from the log's end, in the state's epoch.
        case becomeLeader
        /// Follow the state's leader (resigning first if leading); `roleChanged` when the
        /// follower's fetching must follow a new leader or epoch.
        case follow(roleChanged: Bool)
    }

    /// The adoption of a state naming `leader` (nil: no leader) in `leaderEpoch` and
    /// `partitionEpoch`. Whatever the answer but `.unchanged`, the replica takes the state's
    /// epochs, leader (none for `.behindLog`) and replicas afterwards.
    ///
    /// A partition whose only replica is this one (`replicas == [me]`) is led again in the epoch
    /// its log ends in: no other replica can join its ISR or hold a record it lost, so nothing an
    /// earlier life left in flight can be passed — and a single node whose metadata never moves
    /// the epoch (a data directory converted from a single-node release) would otherwise never
    /// lead it.
    public static func adopt(leader: BrokerID?, leaderEpoch: LeaderEpoch, partitionEpoch: Int32,
                             replicas: [BrokerID] = [], by replica: Replica) -> Adoption {
        if let latest = replica.latestLogEpoch, leaderEpoch < latest { return .behindLog }
        if leader == replica.me {
            if replica.leadingEpoch == leaderEpoch {
                return partitionEpoch > replica.partitionEpoch ? .committedInEpoch : .unchanged
            }
            if leaderEpoch == replica.latestLogEpoch && replicas != [replica.me] { return .behindLog }
            return .becomeLeader
        }
        let changed = replica.leadingEpoch != nil || leader != replica.leader || leaderEpoch != replica.leaderEpoch
            || !replica.applied
        return .follow(roleChanged: changed)
    }

    /// Whether a leader may propose `change` to a partition whose committed ISR is `isr`: as
    /// Kafka (KIP-841), it adds only replicas the metadata shows `usable` (registered, unfenced,
    /// not shutting down). The controller refuses anything else (INELIGIBLE_REPLICA), and each
    /// refused expansion costs a commit to retire it (D86), so a follower that fetches while
    /// fenced — restarted and catching up, or cut off from the controller — is not proposed.
    public static func mayPropose(_ change: [BrokerID], isr: [BrokerID], usable: (BrokerID) -> Bool) -> Bool {
        change.allSatisfy { isr.contains($0) || usable($0) }
    }

    /// How the controller answered an AlterPartition.
    public enum ISRAnswer: Sendable, Equatable {
        /// Accepted: the partition's committed state (as far as the answer says it).
        case accepted(isr: [BrokerID], leaderEpoch: LeaderEpoch, partitionEpoch: Int32)
        /// Refused with this error.
        case refused(KafkaErrorCode)
        /// No answer: the request was not delivered, or timed out on the way.
        case notDelivered
    }

    /// What an answer does to the ISR change it answers.
    public enum Settlement: Sendable, Equatable {
        /// The controller committed the change: `LeaderState.committed` with the answer's ISR,
        /// and the answer's partition epoch becomes the replica's.
        case committed
        /// Refused: the change is no longer proposed (`LeaderState.proposalFailed`) and the leader
        /// waits `isrRetryBackoffMs` before proposing again. Its newcomers keep bounding the high
        /// watermark until the partition epoch moves: the refusal answers one copy of the
        /// request, and another copy (a resend, or one delayed on the way) may yet be committed.
        case refused
        /// Not settled (not delivered, NOT_CONTROLLER, REQUEST_TIMED_OUT, a stale partition
        /// epoch): the controller may have committed it, so it stays pending and is sent again
        /// after `isrRetryBackoffMs`, unless settled meanwhile.
        case resend
        /// Not about the replica's current leadership (another leader epoch, or it no longer
        /// leads): nothing to do.
        case ignored
    }

    /// Errors after which the controller may still have committed the change, or will take the
    /// same request later: the change stays pending and is sent again.
    public static let unsettlingErrors: Set<KafkaErrorCode> = [.notController, .requestTimedOut, .invalidUpdateVersion]

    /// How long a leader waits before sending a pending ISR change again, or before proposing a
    /// new one after a refusal (Kafka's AlterPartition manager backs off too).
    public static let isrRetryBackoffMs: Int64 = 500

    /// The settlement of `answer` to the change to `proposedISR` proposed in `proposedEpoch`, for a
    /// replica that now leads in `leadingEpoch` (nil: it does not lead) at `partitionEpoch` with
    /// `pendingISR` in flight. Only an answer to the change still pending settles anything: a late
    /// answer to an earlier proposal (settled meanwhile by the metadata) is ignored, as Kafka
    /// ignores answers that are not for its current pending state.
    public static func settle(_ answer: ISRAnswer, proposedEpoch: LeaderEpoch, proposedISR: [BrokerID],
                              leadingEpoch: LeaderEpoch?, pendingISR: [BrokerID]?, partitionEpoch: Int32) -> Settlement {
        guard pendingISR == proposedISR else { return .ignored }
        switch answer {
        case .accepted(_, let epoch, let newPartitionEpoch):
            // An acceptance older than the partition epoch the replica has answers a copy of an
            // earlier proposal of the same ISR, settled since by the metadata.
            guard leadingEpoch == epoch, newPartitionEpoch >= partitionEpoch else { return .ignored }
            return .committed
        case .refused(let code):
            guard leadingEpoch == proposedEpoch else { return .ignored }
            return unsettlingErrors.contains(code) ? .resend : .refused
        case .notDelivered:
            guard leadingEpoch == proposedEpoch else { return .ignored }
            return .resend
        }
    }

    /// Settles `answer` on a replica whose leader state is `leader` at `partitionEpoch` with
    /// `replicas`: a commit takes the answer's ISR (`LeaderState.committed`) and partition
    /// epoch, a refusal withdraws the change (`LeaderState.proposalFailed`). Returns the
    /// settlement and whether the high watermark moved.
    public static func apply(_ answer: ISRAnswer, proposedEpoch: LeaderEpoch, proposedISR: [BrokerID], to leader: inout LeaderState?,
                             partitionEpoch: inout Int32, replicas: [BrokerID], now: Int64) -> (Settlement, highWatermarkMoved: Bool) {
        let settlement = settle(answer, proposedEpoch: proposedEpoch, proposedISR: proposedISR, leadingEpoch: leader?.leaderEpoch,
                                pendingISR: leader?.pendingISR, partitionEpoch: partitionEpoch)
        switch (settlement, answer) {
        case (.committed, .accepted(let isr, _, let newEpoch)):
            partitionEpoch = newEpoch
            let moved = leader?.committed(replicas: replicas, isr: isr, now: now) ?? false
            return (settlement, moved)
        case (.refused, _):
            leader?.proposalFailed()
            return (settlement, false)
        default:
            return (settlement, false)
        }
    }
}
