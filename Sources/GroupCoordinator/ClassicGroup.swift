import RunnelCore

/// A classic-protocol group (JoinGroup/SyncGroup/Heartbeat/LeaveGroup, client-side assignment).
///
/// States (Kafka's names, `describe` prints them):
/// Empty → PreparingRebalance (waiting for every known member to rejoin, or the deadline)
/// → CompletingRebalance (join answers sent; waiting for the leader's SyncGroup) → Stable
/// → PreparingRebalance again when a member joins, leaves, expires or changes its protocols.
/// A group that is removed is Dead (it then no longer exists in the coordinator).
///
/// Persistence: a GroupMetadata record is written when a generation becomes Stable (the leader's
/// assignment) or Empty; PreparingRebalance/CompletingRebalance are never persisted, so a reload
/// brings the group back at its last Stable generation with its members, whose sessions then
/// expire if the clients are gone (what Kafka does).
struct ClassicGroup {
    enum State: String {
        case empty = "Empty"
        case preparingRebalance = "PreparingRebalance"
        case completingRebalance = "CompletingRebalance"
        case stable = "Stable"
    }

    struct SupportedProtocol: Equatable {
        var name: String
        var metadata: [UInt8]
    }

    struct Member {
        var memberID: String
        var groupInstanceID: String?
        var clientID: String
        var clientHost: String
        var rebalanceTimeoutMs: Int32
        var sessionTimeoutMs: Int32
        var protocols: [SupportedProtocol]
        var assignment: [UInt8] = []
        /// A JoinGroup parked until the rebalance completes.
        var pendingJoin: RequestToken?
        /// A SyncGroup parked until the leader's assignment arrives.
        var pendingSync: RequestToken?
        var heartbeatDeadline: TimestampMs

        func metadata(for protocolName: String?) -> [UInt8] {
            protocols.first { $0.name == protocolName }?.metadata ?? []
        }
    }

    /// Kafka's InitialDelayedJoin: the first rebalance of an Empty group waits
    /// `initialRebalanceDelayMs`, extended by that much while new members keep arriving, up to
    /// the rebalance timeout.
    struct InitialDelay {
        var remainingMs: Int64
        var newMemberJoined = false
    }

    let groupID: String
    var state: State = .empty
    var generationID: Int32 = 0
    var protocolType: String?
    var protocolName: String?
    var leaderID: String?
    var members: [String: Member] = [:]
    /// Join order; the leader is re-elected from its head.
    var memberOrder: [String] = []
    /// Member ids handed out with MEMBER_ID_REQUIRED, each with its deadline to rejoin.
    var pendingMembers: [String: TimestampMs] = [:]
    /// group.instance.id → member id.
    var staticMembers: [String: String] = [:]
    var joinDeadline: TimestampMs?
    var initialDelay: InitialDelay?
    /// When the group entered its current state (GroupMetadataValue.currentStateTimestamp); for
    /// an Empty group, when it became empty: offsets expire counted from it.
    var stateTimestamp: TimestampMs

    init(groupID: String, now: TimestampMs) {
        self.groupID = groupID
        self.stateTimestamp = now
    }

    var size: Int { members.count + pendingMembers.count }

    var maxRebalanceTimeoutMs: Int64 {
        Int64(members.values.map(\.rebalanceTimeoutMs).max() ?? 0)
    }

    var orderedMembers: [Member] { memberOrder.compactMap { members[$0] } }

    /// Protocols every member supports.
    var candidateProtocols: Set<String> {
        var result: Set<String>?
        for m in members.values {
            let names = Set(m.protocols.map(\.name))
            result = result.map { $0.intersection(names) } ?? names
        }
        return result ?? []
    }

    /// Kafka's supportsProtocols: a joining member must share a protocol with every member.
    func supports(protocolType: String, protocols: [SupportedProtocol]) -> Bool {
        if members.isEmpty { return !protocolType.isEmpty && !protocols.isEmpty }
        guard self.protocolType == protocolType else { return false }
        return !candidateProtocols.isDisjoint(with: protocols.map(\.name))
    }

    /// Each member votes for its most preferred candidate; most votes wins, ties go to the
    /// earliest member's preference.
    func selectProtocol() -> String? {
        let candidates = candidateProtocols
        var votes: [String: Int] = [:]
        for m in members.values {
            if let vote = m.protocols.first(where: { candidates.contains($0.name) }) { votes[vote.name, default: 0] += 1 }
        }
        let preference = orderedMembers.first?.protocols.map(\.name) ?? []
        return preference.filter { votes[$0] != nil }.max { a, b in
            votes[a]! != votes[b]! ? votes[a]! < votes[b]! : preference.firstIndex(of: a)! > preference.firstIndex(of: b)!
        }
    }

    /// The GroupMetadata record of the group as it is now.
    func metadataRecord() -> GroupRecord {
        let value = GroupMetadataValue(
            protocolType: protocolType ?? "", generation: generationID, protocol_: protocolName, leader: leaderID,
            currentStateTimestamp: stateTimestamp,
            members: orderedMembers.map { m in
                GroupMetadataValue.Member(
                    memberID: m.memberID, groupInstanceID: m.groupInstanceID, clientID: m.clientID,
                    clientHost: m.clientHost, rebalanceTimeoutMs: m.rebalanceTimeoutMs,
                    sessionTimeoutMs: m.sessionTimeoutMs, subscription: m.metadata(for: protocolName),
                    assignment: m.assignment)
            })
        return .groupMetadata(group: groupID, value)
    }

    /// The earliest instant at which `tick` has something to do for the members and rebalance.
    var nextDeadline: TimestampMs? {
        var deadlines = pendingMembers.values.map { $0 }
        if let d = joinDeadline { deadlines.append(d) }
        for m in members.values where m.pendingJoin == nil && m.pendingSync == nil {
            deadlines.append(m.heartbeatDeadline)
        }
        return deadlines.min()
    }
}

extension ClassicGroup {
    /// Rebuilds the group from its last GroupMetadata record. Members come back without parked
    /// requests; `restartSessions` gives them a full session from the load instant.
    init(groupID: String, record value: GroupMetadataValue) {
        self.init(groupID: groupID, now: value.currentStateTimestamp)
        protocolType = value.protocolType.isEmpty ? nil : value.protocolType
        generationID = value.generation
        protocolName = value.protocol_
        leaderID = value.leader
        state = value.members.isEmpty ? .empty : .stable
        for m in value.members {
            members[m.memberID] = Member(
                memberID: m.memberID, groupInstanceID: m.groupInstanceID, clientID: m.clientID,
                clientHost: m.clientHost, rebalanceTimeoutMs: m.rebalanceTimeoutMs, sessionTimeoutMs: m.sessionTimeoutMs,
                protocols: [SupportedProtocol(name: value.protocol_ ?? "", metadata: m.subscription)],
                assignment: m.assignment, heartbeatDeadline: value.currentStateTimestamp)
            memberOrder.append(m.memberID)
            if let instance = m.groupInstanceID { staticMembers[instance] = m.memberID }
        }
    }

    mutating func restartSessions(now: TimestampMs) {
        for id in memberOrder {
            members[id]!.heartbeatDeadline = TimestampMs(now.rawValue + Int64(members[id]!.sessionTimeoutMs))
        }
    }
}
