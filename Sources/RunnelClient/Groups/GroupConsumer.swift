import KafkaMessages
import NIOCore
import RunnelCore

/// A consumer in a KIP-848 consumer group: the coordinator assigns it partitions of the
/// subscribed topics (server-side assignment), it fetches them from their committed offsets
/// and commits its progress with its member id and epoch.
///
/// Everything happens inside the caller's calls, on the caller's task: `poll` first sends a
/// heartbeat when one is due (every HeartbeatIntervalMs the coordinator gives, at once after a
/// change of owned partitions), applies a new assignment (revoked partitions: commit their
/// positions, stop fetching; added ones: committed offset via OffsetFetch, else the reset
/// policy), then fetches. So `poll` must be called at least every heartbeat interval — the
/// coordinator expels a member that stays silent for its session timeout (45 s by default),
/// and the member then re-joins. A `poll` with no partitions assigned waits (at most
/// `maxWaitMs`, or until the next heartbeat) and returns no records.
///
/// `close()` commits and leaves the group (epoch -1) so that its partitions move at once.
///
/// Not thread-safe: use one group consumer from one task.
public final class GroupConsumer {
    public let client: KafkaClient
    public let config: GroupConsumerConfig
    private let fetcher: KafkaConsumer
    private var member: ConsumerGroupMember
    /// The partitions fetched now (= `member.owned`, by name).
    private var owned: Set<TopicPartition> = []
    /// Topic ids of the topics in `owned`.
    private var topicIds: [String: TopicID] = [:]
    /// The offset last committed (or found committed) per owned partition; commits skip
    /// partitions whose position has not moved.
    private var committed: [TopicPartition: Offset] = [:]
    private var nextHeartbeat = NIODeadline.now()
    private var heartbeatNow = true
    private var reconcilePending = false
    private var lastAutoCommit = NIODeadline.now()
    /// Heartbeat failures in a row (transport or retriable errors), for the backoff.
    private var failuresInARow = 0
    private var lastFailure: (any Error)?
    private var heartbeatsSent = 0
    /// Bumped whenever the member loses every partition (fenced); work that awaited across
    /// such a loss stops instead of acting on a membership that is gone.
    private var incarnation = 0
    private var isClosed = false

    /// Fails with `invalidArgument` for an empty group id, or neither topics nor a pattern.
    public init(client: KafkaClient, config: GroupConsumerConfig) throws {
        guard !config.groupId.isEmpty else { throw KafkaClientError.invalidArgument("group id is empty") }
        guard !config.topics.isEmpty || !(config.topicPattern ?? "").isEmpty else {
            throw KafkaClientError.invalidArgument("no topics or pattern to subscribe to")
        }
        for topic in config.topics {
            if let reason = TopicName.invalidReason(topic) { throw KafkaClientError.invalidArgument(reason) }
        }
        self.client = client
        self.config = config
        fetcher = KafkaConsumer(client: client, config: config.consumer)
        var random = SystemRandomNumberGenerator()
        let memberId = config.memberId ?? TopicID.random(using: &random).description
        member = ConsumerGroupMember(
            groupId: config.groupId, memberId: memberId,
            subscription: .init(topics: config.topics, topicRegex: config.topicPattern.flatMap { $0.isEmpty ? nil : $0 },
                                serverAssignor: config.serverAssignor,
                                rebalanceTimeoutMs: config.rebalanceTimeoutMs))
    }

    public var groupId: String { config.groupId }
    public var memberId: String { member.memberId }
    /// 0 until the coordinator has accepted the member.
    public var memberEpoch: Int32 { member.memberEpoch }
    public var heartbeatIntervalMs: Int32 { member.heartbeatIntervalMs }

    /// The partitions this member owns and fetches, by topic (partitions sorted).
    public var assignment: [String: [PartitionID]] {
        var result: [String: [PartitionID]] = [:]
        for key in owned { result[key.topic, default: []].append(key.partition) }
        return result.mapValues { $0.sorted() }
    }

    /// true when the member owns partitions, has no assignment change pending, and every
    /// owned partition's position has reached its high watermark as of the latest fetch.
    public var isAtEnd: Bool {
        !owned.isEmpty && member.target == nil && fetcher.isAtEnd
    }

    /// The next offset `poll` returns for an owned partition.
    public func position(topic: String, partition: PartitionID) -> Offset? {
        fetcher.position(topic: topic, partition: partition)
    }

    /// Moves an owned partition's position; the next commit stores it.
    public func seek(topic: String, partition: PartitionID, to offset: Offset) {
        guard owned.contains(TopicPartition(topic: topic, partition: partition)) else { return }
        fetcher.seek(topic: topic, partition: partition, to: offset)
    }

    /// Heartbeats and rebalances as needed, auto-commits when due, then fetches the owned
    /// partitions once. Throws for errors the member cannot recover from (e.g. the broker
    /// lacks ConsumerGroupHeartbeat v1, UNSUPPORTED_ASSIGNOR, GROUP_MAX_SIZE_REACHED).
    public func poll() async throws -> [ConsumerRecord] {
        guard !isClosed else { throw KafkaClientError.invalidArgument("group consumer is closed") }
        try await autoCommitIfDue()
        try await maintainMembership()
        if fetcher.hasNoAssignment {
            let untilHeartbeat = heartbeatNow ? 0 : max(0, (nextHeartbeat - .now()).nanoseconds / 1_000_000)
            let waitMs = min(Int64(config.consumer.maxWaitMs), untilHeartbeat)
            if waitMs > 0 { try await Task.sleep(nanoseconds: UInt64(waitMs) * 1_000_000) }
            return []
        }
        return try await fetcher.poll()
    }

    /// Commits the position of every owned partition that moved since its last commit.
    public func commit() async throws {
        var offsets: [TopicPartition: Offset] = [:]
        for key in owned {
            if let position = fetcher.position(topic: key.topic, partition: key.partition), committed[key] != position {
                offsets[key] = position
            }
        }
        try await commit(offsets)
    }

    /// Commits the positions of owned partitions, then leaves the group (epoch -1) and stops
    /// fetching. The leave is sent even when the commit fails; the commit's error is thrown
    /// afterwards. Calling it again does nothing.
    public func close(commit shouldCommit: Bool = true) async throws {
        guard !isClosed else { return }
        isClosed = true
        var failure: (any Error)?
        if shouldCommit, member.memberEpoch > 0, !owned.isEmpty {
            do { try await commit() } catch { failure = error }
        }
        if heartbeatsSent > 0 {
            let leave = member.leaveHeartbeat()
            // Best effort: a member that cannot say goodbye is expelled after its session timeout.
            _ = try? await client.sendToCoordinator(group: groupId) { _ in leave }
        }
        dropAllPartitions()
        if let failure { throw failure }
    }

    // MARK: Membership

    /// Heartbeats when due, and reconciles a new assignment; bounded, since each reconcile
    /// asks for one more immediate heartbeat.
    private func maintainMembership() async throws {
        for _ in 0..<4 {
            if heartbeatNow || NIODeadline.now() >= nextHeartbeat {
                try await heartbeat()
            }
            if reconcilePending {
                reconcilePending = false
                try await reconcile()
            }
            if !heartbeatNow { return }
        }
    }

    private func heartbeat() async throws {
        let request = member.nextHeartbeat()
        heartbeatsSent += 1
        let response: ConsumerGroupHeartbeatResponse
        do {
            (response, _) = try await client.sendToCoordinator(group: groupId) { _ in request }
        } catch let error as KafkaClientError where error.isTransient {
            member.requestFailed()
            try backOff(after: error)
            return
        }
        switch member.received(response) {
        case .accepted(let reconcile):
            failuresInARow = 0
            heartbeatNow = false
            nextHeartbeat = .now() + .milliseconds(Int64(member.heartbeatIntervalMs))
            if reconcile { reconcilePending = true }
        case .rejoin:
            // Fenced: the partitions may already be someone else's. No commit (our epoch is void).
            dropAllPartitions()
            heartbeatNow = true
        case .retry(let code):
            if code != .coordinatorLoadInProgress { client.forgetCoordinator(groupId) }
            try backOff(after: KafkaClientError.kafka(code: code, message: response.errorMessage,
                                                      context: "consumer group \(groupId) heartbeat"))
        case .fatal(let code, let message):
            throw KafkaClientError.kafka(code: code, message: message, context: "consumer group \(groupId) heartbeat")
        }
    }

    /// Schedules the next heartbeat after a failure: retryBackoffMs doubling up to 1 s. A
    /// member that has never joined gives up after a few failures (a CLI must not wait
    /// forever on a broker whose coordinator never answers).
    private func backOff(after error: any Error) throws {
        failuresInARow += 1
        lastFailure = error
        if member.memberEpoch == 0 && failuresInARow >= Self.joinFailuresMax { throw error }
        heartbeatNow = false
        let backoffMs = min(client.config.retryBackoffMs << min(failuresInARow - 1, 10), 1_000)
        nextHeartbeat = .now() + .milliseconds(backoffMs)
    }

    /// Join attempts that may fail in a row (each already retried FindCoordinator).
    static let joinFailuresMax = 5

    /// Moves from the owned partitions to the coordinator's latest assignment.
    private func reconcile() async throws {
        guard let target = member.target else { return }
        let incarnationAtStart = incarnation
        var names = knownTopicNames()
        if target.keys.contains(where: { names[$0] == nil }) {
            // A pattern's topics are not known by name here: ask for all (which creates none).
            _ = try? await client.refreshMetadata(topics: member.subscription.topicRegex == nil ? member.subscription.topics : nil)
            names = knownTopicNames()
        }
        let change = AssignmentChange.between(owned: owned, target: target, names: names)
        if !change.revoked.isEmpty {
            await commitBeforeRevoking(change.revoked)
            guard incarnation == incarnationAtStart else { return }
            for key in change.revoked {
                fetcher.unassign(topic: key.topic, partitions: [key.partition])
                owned.remove(key)
                committed[key] = nil
            }
        }
        if !change.added.isEmpty {
            do {
                try await take(change.added)
            } catch let error as KafkaClientError where error.isTransient || error.kafkaCode == .staleMemberEpoch {
                // Taken next time (the target stays pending); report the revocations now.
            }
            guard incarnation == incarnationAtStart else { return }
        }
        for key in owned where topicIds[key.topic] == nil {
            topicIds[key.topic] = names.first { $0.value == key.topic }?.key
        }
        var ownedById: PartitionsByTopicID = [:]
        for key in owned {
            guard let id = topicIds[key.topic] else { continue }
            ownedById[id, default: []].insert(key.partition.rawValue)
        }
        if member.took(ownedById) { heartbeatNow = true }
    }

    /// Commits the positions of partitions about to be revoked. Failures are not fatal: the
    /// next owner then starts from the previous commit (records may be read twice, never lost).
    private func commitBeforeRevoking(_ keys: [TopicPartition]) async {
        var offsets: [TopicPartition: Offset] = [:]
        for key in keys {
            if let position = fetcher.position(topic: key.topic, partition: key.partition), committed[key] != position {
                offsets[key] = position
            }
        }
        try? await commit(offsets)
    }

    /// Looks up where `keys` start and starts fetching them.
    private func take(_ keys: [TopicPartition]) async throws {
        let incarnationAtStart = incarnation
        let found = try await committedOffsets(of: keys)
        guard incarnation == incarnationAtStart else { return }
        for key in keys {
            let start: StartOffset
            if let offset = found[key] {
                start = .offset(offset)
                committed[key] = offset
            } else {
                switch config.consumer.offsetReset {
                case .earliest, .nearest: start = .beginning
                case .latest: start = .end
                case .fail:
                    throw KafkaClientError.kafka(code: .offsetOutOfRange, message: "no committed offset and offset reset is 'fail'",
                                                 context: "group \(groupId) partition \(key.topic)[\(key.partition)]")
                }
            }
            try await fetcher.assign(topic: key.topic, partitions: [key.partition], at: start)
            owned.insert(key)
        }
    }

    private func committedOffsets(of keys: [TopicPartition]) async throws -> [TopicPartition: Offset] {
        var partitions: [String: [PartitionID]] = [:]
        for key in keys { partitions[key.topic, default: []].append(key.partition) }
        let entries = try await withFreshEpoch {
            try await client.fetchCommittedOffsets(group: groupId, partitions: partitions,
                                                   member: (member.memberId, member.memberEpoch))
        }
        var result: [TopicPartition: Offset] = [:]
        for entry in entries { result[TopicPartition(topic: entry.topic, partition: entry.partition)] = entry.offset }
        return result
    }

    /// OffsetCommit v9 with the member's id and epoch.
    private func commit(_ offsets: [TopicPartition: Offset]) async throws {
        guard !offsets.isEmpty else { return }
        guard member.memberEpoch > 0 else {
            throw KafkaClientError.kafka(code: .unknownMemberID, message: "the member has not joined the group yet",
                                         context: "commit offsets of group \(groupId)")
        }
        var byTopic: [String: [PartitionID: Offset]] = [:]
        for (key, offset) in offsets { byTopic[key.topic, default: [:]][key.partition] = offset }
        do {
            try await withFreshEpoch {
                try await client.commitOffsets(group: groupId, memberId: member.memberId,
                                               generationIdOrMemberEpoch: member.memberEpoch, offsets: byTopic,
                                               requireMemberEpochs: true)
            }
        } catch let error as KafkaClientError where error.kafkaCode == .unknownMemberID || error.kafkaCode == .fencedMemberEpoch {
            heartbeatNow = true  // the heartbeat will learn that the member must re-join
            throw error
        }
        for (key, offset) in offsets where owned.contains(key) { committed[key] = offset }
    }

    /// Runs `body`; on STALE_MEMBER_EPOCH (our epoch is behind the coordinator's, e.g. a
    /// heartbeat response was lost) heartbeats once to learn the current epoch and runs it again.
    private func withFreshEpoch<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as KafkaClientError where error.kafkaCode == .staleMemberEpoch {
            let incarnationAtStart = incarnation
            try await heartbeat()
            guard incarnation == incarnationAtStart, member.memberEpoch > 0 else { throw error }
            return try await body()
        }
    }

    private func autoCommitIfDue() async throws {
        guard let intervalMs = config.autoCommitIntervalMs, member.memberEpoch > 0, !owned.isEmpty,
              NIODeadline.now() >= lastAutoCommit + .milliseconds(intervalMs) else { return }
        lastAutoCommit = .now()
        do {
            try await commit()
        } catch let error as KafkaClientError where error.isTransient || error.kafkaCode?.isGroupMembershipError == true {
            // Committed next time, or by the member that gets the partition after a rebalance.
        }
    }

    private func dropAllPartitions() {
        var byTopic: [String: [PartitionID]] = [:]
        for key in owned { byTopic[key.topic, default: []].append(key.partition) }
        for (topic, partitions) in byTopic { fetcher.unassign(topic: topic, partitions: partitions) }
        owned = []
        committed = [:]
        reconcilePending = false
        incarnation += 1
    }

    /// Topic id → name for every topic in the client's metadata.
    private func knownTopicNames() -> [TopicID: String] {
        var names: [TopicID: String] = [:]
        for (name, topic) in client.metadata.topics where topic.id != .zero { names[topic.id] = name }
        return names
    }
}
