public import RunnelCore

// OffsetCommit (8), OffsetFetch (9), OffsetDelete (47) and offset expiry.
extension GroupCoordinatorStateMachine {
    /// OffsetCommit. Accepted commits are answered after their records are durable.
    public mutating func offsetCommit(_ r: OffsetCommitRequest, token: RequestToken, now: TimestampMs) -> [GroupAction] {
        func answer(_ e: GroupErrorCode) -> GroupResponse {
            .offsetCommit(r.offsets.map { PartitionResult(topicPartition: $0.0, error: e) })
        }
        if let refused = refusal(token, answer) { return refused }
        return run(now: now) { sm, ctx in
            let error = sm.validateCommit(r, &ctx)
            guard error == .none else { return ctx.fx.respond(token, answer(error)) }
            ctx.fx.touched.insert(r.groupID)
            var results: [PartitionResult] = []
            for (tp, committed) in r.offsets {
                guard committed.metadata.utf8.count <= ctx.config.offsetMetadataMaxBytes else {
                    results.append(PartitionResult(topicPartition: tp, error: .offsetMetadataTooLarge))
                    continue
                }
                let value = OffsetCommitValue(offset: committed.offset, leaderEpoch: committed.leaderEpoch,
                                              metadata: committed.metadata, commitTimestamp: ctx.now)
                sm.offsets[r.groupID, default: [:]][tp] = value
                ctx.fx.records.append(.offsetCommit(group: r.groupID, tp, value))
                results.append(PartitionResult(topicPartition: tp, error: .none))
            }
            ctx.fx.respond(token, .offsetCommit(results))
        }
    }

    /// The group checks of a commit; creates the (simple, classic) group for a generation -1
    /// commit to an unknown group, as Kafka does.
    private mutating func validateCommit(_ r: OffsetCommitRequest, _ ctx: inout GroupContext) -> GroupErrorCode {
        if r.groupID.isEmpty { return .invalidGroupID }
        switch groups[r.groupID] {
        case nil:
            guard r.generationIDOrMemberEpoch < 0 else { return .illegalGeneration }
            guard hasRoomForGroup else { return .coordinatorNotAvailable }
            groups[r.groupID] = .classic(ClassicGroup(groupID: r.groupID, now: ctx.now))
            return .none
        case .classic(let g)?: return g.validateCommit(r)
        case .consumer(let g)?: return g.validateCommit(memberID: r.memberID, memberEpoch: r.generationIDOrMemberEpoch)
        }
    }

    /// OffsetFetch for one or more groups (v8+ batches them). Partitions with nothing committed
    /// answer offset -1. Answered at once (nothing to persist).
    public mutating func offsetFetch(_ requests: [OffsetFetchGroup], token: RequestToken, now: TimestampMs) -> [GroupAction] {
        let refusedAnswer: (GroupErrorCode) -> GroupResponse = { e in
            .offsetFetch(requests.map { OffsetFetchGroupResult(groupID: $0.groupID, error: e, partitions: []) })
        }
        if let refused = refusal(token, refusedAnswer) { return refused }
        return run(now: now) { sm, ctx in
            ctx.fx.respond(token, .offsetFetch(requests.map { sm.fetch($0) }))
        }
    }

    func fetch(_ r: OffsetFetchGroup) -> OffsetFetchGroupResult {
        if case .consumer(let g)? = groups[r.groupID] {
            let error = g.validateFetch(memberID: r.memberID, memberEpoch: r.memberEpoch)
            if error != .none { return OffsetFetchGroupResult(groupID: r.groupID, error: error, partitions: []) }
        }
        let committed = offsets[r.groupID] ?? [:]
        let wanted: [TopicPartition] = r.topics.map { topics in
            topics.flatMap { t in t.partitions.map { TopicPartition(topic: t.topic, partition: $0) } }
        } ?? committed.keys.sorted()
        let partitions = wanted.map { tp in
            let v = committed[tp]
            return OffsetFetchPartition(topicPartition: tp, offset: v?.offset ?? Offset(-1), leaderEpoch: v?.leaderEpoch ?? .none,
                                        metadata: v?.metadata ?? "", error: .none)
        }
        return OffsetFetchGroupResult(groupID: r.groupID, error: .none, partitions: partitions)
    }

    /// OffsetDelete: removes committed offsets of partitions no live member subscribes to.
    /// Classic subscriptions are read from the members' ConsumerProtocolSubscription bytes.
    public mutating func offsetDelete(_ r: OffsetDeleteRequest, token: RequestToken, now: TimestampMs) -> [GroupAction] {
        if let refused = refusal(token, { .offsetDelete(OffsetDeleteResponse(error: $0, partitions: [])) }) { return refused }
        return run(now: now) { sm, ctx in
            ctx.fx.touched.insert(r.groupID)
            ctx.fx.respond(token, .offsetDelete(sm.deleteOffsets(r, &ctx)))
        }
    }

    private mutating func deleteOffsets(_ r: OffsetDeleteRequest, _ ctx: inout GroupContext) -> OffsetDeleteResponse {
        let subscribed: Set<String>?
        switch groups[r.groupID] {
        case nil: return OffsetDeleteResponse(error: .groupIDNotFound, partitions: [])
        case .classic(let g)?:
            if g.members.isEmpty { subscribed = [] } else {
                guard let topics = g.subscribedTopics() else { return OffsetDeleteResponse(error: .nonEmptyGroup, partitions: []) }
                subscribed = topics
            }
        case .consumer(let g)?: subscribed = Set(g.subscribedTopicNames.map(\.rawValue))
        }
        let results = r.partitions.map { tp -> PartitionResult in
            if subscribed?.contains(tp.topic.rawValue) ?? false { return PartitionResult(topicPartition: tp, error: .groupSubscribedToTopic) }
            if offsets[r.groupID]?.removeValue(forKey: tp) != nil { ctx.fx.records.append(.offsetCommit(group: r.groupID, tp, nil)) }
            return PartitionResult(topicPartition: tp, error: .none)
        }
        return OffsetDeleteResponse(error: .none, partitions: results)
    }

    // MARK: expiry

    /// When the group's offsets (or the empty group itself) expire; nil while it has members.
    ///
    /// Kafka's rule: offsets of a group without members expire `offsets.retention.minutes` after
    /// the group became Empty (classic groups that had members), else after their commit. A
    /// group with neither members nor offsets is removed at that instant too (Kafka removes it
    /// at its next retention check).
    func expiryDeadline(_ id: String) -> TimestampMs? {
        guard let base = expiryBases(id) else { return nil }
        let retention = config.offsetsRetentionMs
        if base.isEmpty { return emptySince(id).map { TimestampMs($0.rawValue + retention) } }
        return base.values.min().map { TimestampMs($0.rawValue + retention) }
    }

    /// Per-partition expiry base instants, nil when the group has members.
    private func expiryBases(_ id: String) -> [TopicPartition: TimestampMs]? {
        let committed = offsets[id] ?? [:]
        switch groups[id] {
        case .classic(let g)?:
            guard g.state == .empty else { return nil }
            if g.protocolType != nil { return committed.mapValues { _ in g.stateTimestamp } }
            return committed.mapValues(\.commitTimestamp)
        case .consumer(let g)?:
            guard g.members.isEmpty else { return nil }
            return committed.mapValues(\.commitTimestamp)
        case nil:
            return committed.isEmpty ? nil : committed.mapValues(\.commitTimestamp)
        }
    }

    private func emptySince(_ id: String) -> TimestampMs? {
        switch groups[id] {
        case .classic(let g)?: return g.stateTimestamp
        case .consumer(let g)?: return g.emptySince
        case nil: return nil
        }
    }

    /// Expires offsets whose retention passed (tombstones), then removes a group left with no
    /// members and no offsets.
    mutating func expireOffsets(_ id: String, _ ctx: inout GroupContext) {
        guard let bases = expiryBases(id) else { return }
        let retention = config.offsetsRetentionMs
        for (tp, base) in bases.sorted(by: { $0.key < $1.key }) where base.rawValue + retention <= ctx.now.rawValue {
            offsets[id]![tp] = nil
            ctx.fx.records.append(.offsetCommit(group: id, tp, nil))
        }
        if offsets[id]?.isEmpty ?? false { offsets[id] = nil }
        guard offsets[id] == nil, let since = emptySince(id) else { return }
        if !bases.isEmpty || since.rawValue + retention <= ctx.now.rawValue { removeGroup(id, &ctx) }
    }

    /// Removes a group with its tombstones (DeleteGroups, expiry). Offsets are tombstoned too.
    mutating func removeGroup(_ id: String, _ ctx: inout GroupContext) {
        for tp in (offsets[id] ?? [:]).keys.sorted() { ctx.fx.records.append(.offsetCommit(group: id, tp, nil)) }
        offsets[id] = nil
        switch groups.removeValue(forKey: id) {
        case .classic?: ctx.fx.records.append(.groupMetadata(group: id, nil))
        case .consumer(let g)?: ctx.fx.records += g.deletionRecords()
        case nil: break
        }
        ctx.fx.touched.insert(id)
    }
}
