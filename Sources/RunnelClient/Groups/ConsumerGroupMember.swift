import KafkaMessages
import RunnelCore

/// Partitions by topic id, as KIP-848 heartbeats carry them.
typealias PartitionsByTopicID = [TopicID: Set<Int32>]

/// One member of a KIP-848 consumer group as the protocol sees it, without I/O or clocks:
/// it builds the next ConsumerGroupHeartbeat (v1) and folds the response in. `GroupConsumer`
/// sends the requests, keeps time and moves the partitions.
///
/// Protocol rules it follows (KIP-848, KIP-1082):
/// - The member id is the client's own (a random UUID string), kept for the member's lifetime,
///   also across re-joins.
/// - Epoch 0 joins, -1 leaves. A join carries every field: RebalanceTimeoutMs, the subscribed
///   topic names and regex (when there is one; the coordinator resolves it, whole names), the
///   server assignor (when chosen) and an empty owned-partition list.
/// - Later heartbeats carry only what changed since the previous one (null / -1 otherwise); the
///   first heartbeat after any failed or refused one carries everything again.
/// - The response's Assignment, when present, is the whole set of partitions the member may
///   own now. The member revokes what it owns beyond it, takes the rest, and reports the result
///   in its next heartbeat (TopicPartitions), which is how the coordinator learns that
///   revoked partitions are free.
/// - FENCED_MEMBER_EPOCH (110) and UNKNOWN_MEMBER_ID (25) mean the coordinator dropped the
///   member: it loses every partition (no commit: its epoch is no longer valid) and joins
///   again with epoch 0.
struct ConsumerGroupMember {
    struct Subscription: Equatable {
        /// Sorted, without duplicates.
        var topics: [String]
        /// SubscribedTopicRegex (Kafka resolves it on the broker, RE2/J syntax); nil: none.
        var topicRegex: String?
        var serverAssignor: String?
        var rebalanceTimeoutMs: Int32

        init(topics: [String], topicRegex: String? = nil, serverAssignor: String?, rebalanceTimeoutMs: Int32) {
            self.topics = Array(Set(topics)).sorted()
            self.topicRegex = topicRegex
            self.serverAssignor = serverAssignor
            self.rebalanceTimeoutMs = rebalanceTimeoutMs
        }
    }

    /// What a heartbeat decided.
    enum Outcome: Equatable {
        /// Accepted. `reconcile` is true when the coordinator sent an assignment that differs
        /// from what the member owns (`target` is set).
        case accepted(reconcile: Bool)
        /// The coordinator no longer knows this member (or its epoch): every partition is lost
        /// and the member joins again with epoch 0 (the next heartbeat does).
        case rejoin(KafkaErrorCode)
        /// The coordinator moved, is unavailable or loading, or another retriable error: send
        /// again (with every field) after a backoff.
        case retry(KafkaErrorCode)
        /// An error this member cannot recover from (e.g. UNSUPPORTED_ASSIGNOR,
        /// GROUP_MAX_SIZE_REACHED, INVALID_REQUEST).
        case fatal(KafkaErrorCode, String?)
    }

    enum State: Equatable {
        /// Epoch 0 sent or about to be sent.
        case joining
        /// Epoch > 0.
        case member
        /// The leave heartbeat (epoch -1) was built.
        case leaving
    }

    /// The fields the previous heartbeat carried (for change detection).
    private struct Sent: Equatable {
        var subscription: Subscription
        var owned: PartitionsByTopicID
    }

    let groupId: String
    let memberId: String
    var subscription: Subscription
    private(set) var memberEpoch: Int32 = 0
    private(set) var state: State = .joining
    /// From the latest response; Kafka's default until the first one.
    private(set) var heartbeatIntervalMs: Int32 = 5_000
    /// The partitions the member has taken (reconciled), by topic id.
    private(set) var owned: PartitionsByTopicID = [:]
    /// The latest assignment from the coordinator while it differs from `owned`.
    private(set) var target: PartitionsByTopicID?
    /// nil: the next heartbeat carries every field.
    private var sent: Sent?

    init(groupId: String, memberId: String, subscription: Subscription) {
        precondition(!memberId.isEmpty, "ConsumerGroupHeartbeat v1 needs a client-generated member id")
        self.groupId = groupId
        self.memberId = memberId
        self.subscription = subscription
    }

    /// The next heartbeat; records what it carries so that the one after sends only changes.
    mutating func nextHeartbeat() -> ConsumerGroupHeartbeatRequest {
        precondition(state != .leaving, "heartbeat after leaving")
        precondition(memberEpoch != 0 || owned.isEmpty, "a joining member owns nothing")
        var request = ConsumerGroupHeartbeatRequest(groupId: groupId, memberId: memberId, memberEpoch: memberEpoch)
        let previous = memberEpoch == 0 ? nil : sent
        if previous?.subscription.rebalanceTimeoutMs != subscription.rebalanceTimeoutMs {
            request.rebalanceTimeoutMs = subscription.rebalanceTimeoutMs
        }
        if previous?.subscription.topics != subscription.topics {
            request.subscribedTopicNames = subscription.topics
        }
        if previous?.subscription.topicRegex != subscription.topicRegex, previous != nil || subscription.topicRegex != nil {
            request.subscribedTopicRegex = subscription.topicRegex ?? ""
        }
        if previous == nil || previous?.subscription.serverAssignor != subscription.serverAssignor {
            request.serverAssignor = subscription.serverAssignor
        }
        if previous?.owned != owned {
            request.topicPartitions = Self.wire(owned)
        }
        sent = Sent(subscription: subscription, owned: owned)
        return request
    }

    /// The leave heartbeat (epoch -1). After it, the member is done.
    mutating func leaveHeartbeat() -> ConsumerGroupHeartbeatRequest {
        state = .leaving
        return ConsumerGroupHeartbeatRequest(groupId: groupId, memberId: memberId, memberEpoch: -1)
    }

    /// Folds a heartbeat response in.
    mutating func received(_ response: ConsumerGroupHeartbeatResponse) -> Outcome {
        let code = KafkaErrorCode(response.errorCode)
        guard code == .none else {
            sent = nil
            switch code {
            case .fencedMemberEpoch, .unknownMemberID:
                memberEpoch = 0
                state = .joining
                owned = [:]
                target = nil
                return .rejoin(code)
            default:
                if code.isRetriable { return .retry(code) }
                return .fatal(code, response.errorMessage)
            }
        }
        memberEpoch = response.memberEpoch
        if state == .joining, memberEpoch > 0 { state = .member }
        if response.heartbeatIntervalMs > 0 { heartbeatIntervalMs = response.heartbeatIntervalMs }
        if let assignment = response.assignment {
            var assigned: PartitionsByTopicID = [:]
            for topic in assignment.topicPartitions {
                assigned[topic.topicId, default: []].formUnion(topic.partitions)
            }
            target = assigned == owned ? nil : assigned
        }
        return .accepted(reconcile: target != nil)
    }

    /// The heartbeat could not be sent or got no answer: the next one carries every field.
    mutating func requestFailed() {
        sent = nil
    }

    /// The member now owns `partitions`. When they are the whole target, the target is done.
    /// Returns true when ownership changed (the coordinator must hear about it now).
    @discardableResult
    mutating func took(_ partitions: PartitionsByTopicID) -> Bool {
        precondition(memberEpoch > 0, "only a member with an epoch owns partitions")
        let changed = partitions != owned
        owned = partitions
        if target == partitions { target = nil }
        return changed
    }

    /// Owned partitions in wire form, topics and partitions sorted (deterministic requests).
    static func wire(_ partitions: PartitionsByTopicID) -> [ConsumerGroupHeartbeatRequest.TopicPartitions] {
        partitions.filter { !$0.value.isEmpty }
            .sorted { ($0.key.high, $0.key.low) < ($1.key.high, $1.key.low) }
            .map { ConsumerGroupHeartbeatRequest.TopicPartitions(topicId: $0.key, partitions: $0.value.sorted()) }
    }
}

/// What a member must do to go from the partitions it owns to its target.
struct AssignmentChange: Equatable {
    /// Owned, not in the target: commit, then stop fetching.
    var revoked: [TopicPartition]
    /// In the target, not owned: look up committed offsets, then fetch.
    var added: [TopicPartition]
    /// Target topic ids that metadata cannot name yet; their partitions wait.
    var unresolved: Set<TopicID>

    /// The change from `owned` (by name) to `target` (by topic id), naming ids with `names`.
    static func between(owned: Set<TopicPartition>, target: PartitionsByTopicID, names: [TopicID: String]) -> AssignmentChange {
        var resolved = Set<TopicPartition>()
        var unresolved = Set<TopicID>()
        for (id, partitions) in target {
            guard let name = names[id] else {
                unresolved.insert(id)
                continue
            }
            for partition in partitions { resolved.insert(TopicPartition(topic: name, partition: PartitionID(partition))) }
        }
        return AssignmentChange(revoked: owned.subtracting(resolved).sorted(by: TopicPartition.ordered),
                                added: resolved.subtracting(owned).sorted(by: TopicPartition.ordered),
                                unresolved: unresolved)
    }
}

extension TopicPartition {
    static func ordered(_ a: TopicPartition, _ b: TopicPartition) -> Bool {
        (a.topic, a.partition) < (b.topic, b.partition)
    }
}
