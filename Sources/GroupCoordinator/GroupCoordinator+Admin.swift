public import RunnelCore

// DescribeGroups (15), ListGroups (16), DeleteGroups (42), ConsumerGroupDescribe (69).
extension GroupCoordinatorStateMachine {
    public mutating func describeGroups(_ ids: [String], token: RequestToken, now: TimestampMs) -> [GroupAction] {
        let refused: (GroupErrorCode) -> GroupResponse = { e in
            .describeGroups(ids.map { DescribedGroup(groupID: $0, error: e, exists: false, state: "", protocolType: "", protocolData: "", members: []) })
        }
        if let r = refusal(token, refused) { return r }
        return [.respond(token, .describeGroups(ids.map(describe)))]
    }

    /// A classic group as DescribeGroups shows it; unknown and KIP-848 groups are "Dead".
    public func describe(_ id: String) -> DescribedGroup {
        guard case .classic(let g)? = groups[id] else {
            return DescribedGroup(groupID: id, error: .none, exists: false, state: "Dead", protocolType: "", protocolData: "", members: [])
        }
        let showBytes = g.state == .stable
        let members = g.orderedMembers.map { m in
            DescribedMember(memberID: m.memberID, groupInstanceID: m.groupInstanceID, clientID: m.clientID, clientHost: m.clientHost,
                            metadata: showBytes ? m.metadata(for: g.protocolName) : [], assignment: showBytes ? m.assignment : [])
        }
        return DescribedGroup(groupID: id, error: .none, exists: true, state: g.state.rawValue, protocolType: g.protocolType ?? "",
                              protocolData: g.protocolName ?? "", members: members)
    }

    /// ListGroups with Kafka's filters (case-insensitive state names; types "classic"/"consumer").
    public mutating func listGroups(statesFilter: [String] = [], typesFilter: [String] = [], token: RequestToken, now: TimestampMs) -> [GroupAction] {
        if let r = refusal(token, { _ in .listGroups([]) }) { return r }
        let states = Set(statesFilter.map { $0.lowercased() })
        let types = Set(typesFilter.map { $0.lowercased() })
        let listed = groups.keys.sorted().map(listed).filter {
            (states.isEmpty || states.contains($0.state.lowercased())) && (types.isEmpty || types.contains($0.type))
        }
        return [.respond(token, .listGroups(listed))]
    }

    func listed(_ id: String) -> ListedGroup {
        switch groups[id]! {
        case .classic(let g): ListedGroup(groupID: id, protocolType: g.protocolType ?? "", state: g.state.rawValue, type: "classic")
        case .consumer(let g): ListedGroup(groupID: id, protocolType: "consumer", state: g.stateName, type: "consumer")
        }
    }

    /// DeleteGroups: only groups without members; answered after the tombstones are durable.
    public mutating func deleteGroups(_ ids: [String], token: RequestToken, now: TimestampMs) -> [GroupAction] {
        if let r = refusal(token, { e in .deleteGroups(ids.map { DeleteGroupResult(groupID: $0, error: e) }) }) { return r }
        return run(now: now) { sm, ctx in
            let results = ids.map { id -> DeleteGroupResult in
                if id.isEmpty { return DeleteGroupResult(groupID: id, error: .invalidGroupID) }
                let hasMembers: Bool
                switch sm.groups[id] {
                case nil: return DeleteGroupResult(groupID: id, error: .groupIDNotFound)
                case .classic(let g)?: hasMembers = g.state != .empty
                case .consumer(let g)?: hasMembers = !g.members.isEmpty
                }
                if hasMembers { return DeleteGroupResult(groupID: id, error: .nonEmptyGroup) }
                sm.removeGroup(id, &ctx)
                return DeleteGroupResult(groupID: id, error: .none)
            }
            ctx.fx.respond(token, .deleteGroups(results))
        }
    }

    public mutating func consumerGroupDescribe(_ ids: [String], token: RequestToken, now: TimestampMs) -> [GroupAction] {
        let refused: (GroupErrorCode) -> GroupResponse = { e in
            .consumerGroupDescribe(ids.map { ConsumerGroupDescription(groupID: $0, error: e, state: "", groupEpoch: -1, assignmentEpoch: -1, assignorName: "", members: []) })
        }
        if let r = refusal(token, refused) { return r }
        return [.respond(token, .consumerGroupDescribe(ids.map(describeConsumerGroup)))]
    }

    /// A KIP-848 group with its members' epochs, current and target assignments.
    public func describeConsumerGroup(_ id: String) -> ConsumerGroupDescription {
        guard case .consumer(let g)? = groups[id] else {
            return ConsumerGroupDescription(groupID: id, error: .groupIDNotFound, state: "Dead", groupEpoch: -1, assignmentEpoch: -1,
                                            assignorName: "", members: [])
        }
        let members = g.members.keys.sorted().map { mid in
            let m = g.members[mid]!
            return ConsumerGroupMemberDescription(
                memberID: mid, instanceID: m.instanceID, rackID: m.rackID, memberEpoch: m.memberEpoch, clientID: m.clientID,
                clientHost: m.clientHost, subscribedTopicNames: m.subscribedTopicNames, subscribedTopicRegex: m.subscribedTopicRegex,
                assignment: m.assigned.topics,
                targetAssignment: (g.targetAssignment[mid] ?? PartitionAssignment()).topics)
        }
        return ConsumerGroupDescription(groupID: id, error: .none, state: g.stateName, groupEpoch: g.groupEpoch,
                                        assignmentEpoch: g.assignmentEpoch, assignorName: g.assignorName.rawValue, members: members)
    }

    /// The committed offsets of a group, sorted (tests, tools, the `runnel group` CLI).
    public func committedOffsets(_ id: String) -> [(TopicPartition, OffsetCommitValue)] {
        (offsets[id] ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Every group id this coordinator holds.
    public var groupIDs: [String] { groups.keys.sorted() }
}
