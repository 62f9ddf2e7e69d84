public import RunnelCore

/// The group coordinator of ONE `__consumer_offsets` partition: classic and KIP-848 groups
/// whose id maps to that partition (`CoordinatorPartition.partition(forGroup:)`), and their
/// committed offsets. A pure value: events in, `[GroupAction]` out (see `GroupAction` for the
/// ordering obligations). Time arrives as the `now` of each event; member ids come from the
/// seeded generator given at init.
///
/// Life cycle, driven by the shell when this broker becomes the partition's leader:
/// 1. `init` — the coordinator starts in `.loading`: every request is answered with
///    COORDINATOR_LOAD_IN_PROGRESS (14).
/// 2. `load(_:)` for every record read back from the partition, in log order.
/// 3. `finishLoading(now:)` — `.active`; members found in the records get a fresh session.
/// 4. Requests, `topicsChanged`, and `tick(now:)` at the wakeups it asks for.
/// 5. `unload()` when leadership moves away: parked requests get NOT_COORDINATOR (16), and so
///    does everything after.
///
/// The shell routes a multi-group request (OffsetFetch v8+, DescribeGroups, DeleteGroups) by
/// splitting it per coordinator partition and merging the answers.
public struct GroupCoordinatorStateMachine: Sendable {
    public enum Phase: Sendable { case loading, active, unloaded }

    enum Group {
        case classic(ClassicGroup)
        case consumer(ConsumerGroup)
    }

    public internal(set) var phase: Phase = .loading
    let config: GroupConfig
    var random: SeededRandom
    var groups: [String: Group] = [:]
    /// Committed offsets per group.
    var offsets: [String: [TopicPartition: OffsetCommitValue]] = [:]
    var topics: [TopicName: TopicInfo] = [:]
    /// Each group's next deadline, refreshed for the groups an event touched.
    var deadlines: [String: TimestampMs] = [:]
    var lastWakeup: TimestampMs?

    public init(config: GroupConfig = GroupConfig(), seed: UInt64) {
        self.config = config
        self.random = SeededRandom(seed: seed)
    }

    // MARK: running an event

    /// Runs `body` with a fresh context, then turns the gathered effects into actions: records
    /// first (responses that depend on them wait), then responses, then the next wakeup.
    mutating func run(now: TimestampMs, _ body: (inout Self, inout GroupContext) -> Void) -> [GroupAction] {
        var ctx = GroupContext(config: config, now: now, random: random)
        body(&self, &ctx)
        random = ctx.random
        for id in ctx.fx.touched { refreshDeadline(id) }
        var actions: [GroupAction] = []
        if !ctx.fx.records.isEmpty { actions.append(.append(ctx.fx.records)) }
        actions += ctx.fx.responses.map { .respond($0.0, $0.1) }
        if let next = deadlines.values.min(), next != lastWakeup {
            lastWakeup = next
            actions.append(.wakeup(at: next))
        }
        return actions
    }

    /// Answers `token` with `error` unless the coordinator is active.
    func refusal(_ token: RequestToken, _ make: (GroupErrorCode) -> GroupResponse) -> [GroupAction]? {
        switch phase {
        case .active: return nil
        case .loading: return [.respond(token, make(.coordinatorLoadInProgress))]
        case .unloaded: return [.respond(token, make(.notCoordinator))]
        }
    }

    /// Applies `body` to the group's stored value and writes it back.
    mutating func withClassic<T>(_ id: String, _ body: (inout ClassicGroup) -> T) -> T? {
        guard case .classic(var g) = groups[id] else { return nil }
        defer { groups[id] = .classic(g) }
        return body(&g)
    }

    mutating func withConsumer<T>(_ id: String, _ body: (inout ConsumerGroup) -> T) -> T? {
        guard case .consumer(var g) = groups[id] else { return nil }
        defer { groups[id] = .consumer(g) }
        return body(&g)
    }

    /// Whether a new group may be created (bounded map).
    var hasRoomForGroup: Bool { groups.count < GroupLimits.groupsPerCoordinatorMax }

    // MARK: deadlines

    mutating func refreshDeadline(_ id: String) {
        var candidates: [TimestampMs] = []
        switch groups[id] {
        case .classic(let g)?: if let d = g.nextDeadline { candidates.append(d) }
        case .consumer(let g)?: if let d = g.nextDeadline { candidates.append(d) }
        case nil: break
        }
        if let d = expiryDeadline(id) { candidates.append(d) }
        deadlines[id] = candidates.min()
    }

    /// Fires every deadline that has passed: sessions, rebalance and revocation timeouts,
    /// initial-delay steps, pending member ids, offset and empty-group expiry.
    public mutating func tick(now: TimestampMs) -> [GroupAction] {
        guard phase == .active else { return [] }
        let due = deadlines.filter { $0.value <= now }.keys.sorted()
        lastWakeup = nil
        return run(now: now) { sm, ctx in
            for id in due {
                ctx.fx.touched.insert(id)
                sm.withClassic(id) { $0.tick(&ctx) }
                let topics = sm.topics
                sm.withConsumer(id) { $0.tick(topics: topics, &ctx) }
                sm.expireOffsets(id, &ctx)
            }
        }
    }

    /// The shell's view of the cluster's topics changed (created, deleted, partitions added).
    /// KIP-848 groups resolve their regexes again; those whose subscribed topics changed (by name
    /// or regex) bump their epoch and reassign.
    public mutating func topicsChanged(_ topics: [TopicInfo], now: TimestampMs) -> [GroupAction] {
        self.topics = Dictionary(topics.map { ($0.name, $0) }, uniquingKeysWith: { _, b in b })
        guard phase == .active else { return [] }
        return run(now: now) { sm, ctx in
            for id in sm.groups.keys.sorted() {
                let topics = sm.topics
                sm.withConsumer(id) { $0.topicsChanged(topics: topics, &ctx) }
            }
        }
    }

    /// Leadership of the partition moved away: parked requests get NOT_COORDINATOR and the state
    /// is dropped (the new leader rebuilds it from the log).
    public mutating func unload() -> [GroupAction] {
        var actions: [GroupAction] = []
        for id in groups.keys.sorted() {
            guard case .classic(let g) = groups[id] else { continue }
            for m in g.orderedMembers {
                if let t = m.pendingJoin { actions.append(.respond(t, .joinGroup(JoinGroupResponse(error: .notCoordinator, memberID: m.memberID)))) }
                if let t = m.pendingSync {
                    actions.append(.respond(t, .syncGroup(SyncGroupResponse(error: .notCoordinator, protocolType: g.protocolType, protocolName: g.protocolName, assignment: []))))
                }
            }
        }
        phase = .unloaded
        groups = [:]
        offsets = [:]
        deadlines = [:]
        lastWakeup = nil
        return actions
    }
}
