// RaftCore ◇ — etcd-style Raft as a pure state machine: no I/O, no clock, no threads and no
// randomness of its own. Time arrives as `tick()`, randomness from the seed in `RaftConfig`, and
// every effect leaves through a `Ready` whose ordering obligations are documented on `RaftNode`.
//
// RaftCore deliberately depends on nothing (not even RunnelCore), so its ids are its own types.

/// A Raft voter's id. Zero means "nobody" (no leader, no vote).
public struct NodeID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }
    public static func < (a: NodeID, b: NodeID) -> Bool { a.rawValue < b.rawValue }
    public static let none = NodeID(0)
    public var description: String { String(rawValue) }
}

/// A Raft term. Terms only grow, on every node, across restarts too.
public struct Term: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }
    public static func < (a: Term, b: Term) -> Bool { a.rawValue < b.rawValue }
    public static func + (a: Term, n: UInt64) -> Term { Term(a.rawValue + n) }
    public static let zero = Term(0)
    public var description: String { String(rawValue) }
}

/// A position in the Raft log. The first entry has index 1; index 0 is the empty log's "last".
public struct LogIndex: RawRepresentable, Hashable, Comparable, Strideable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }
    public static func < (a: LogIndex, b: LogIndex) -> Bool { a.rawValue < b.rawValue }
    public func distance(to other: LogIndex) -> Int { Int(other.rawValue) - Int(rawValue) }
    public func advanced(by n: Int) -> LogIndex { LogIndex(UInt64(Int(rawValue) + n)) }
    public static func + (a: LogIndex, n: UInt64) -> LogIndex { LogIndex(a.rawValue + n) }
    public static func - (a: LogIndex, n: UInt64) -> LogIndex { LogIndex(a.rawValue - n) }
    public static let zero = LogIndex(0)
    public var description: String { String(rawValue) }
}

/// One log entry. `data` is opaque to Raft except for `.confChange`, which holds an encoded
/// `ConfChange`.
public struct Entry: Hashable, Sendable {
    public enum Kind: UInt8, Sendable {
        /// An application command.
        case normal = 0
        /// Appended by every new leader so it can commit in its own term (Raft §5.4.2, Figure 8).
        case noop = 1
        /// A single-server membership change; `data` is `ConfChange.encoded`.
        case confChange = 2
    }
    public var term: Term
    public var index: LogIndex
    public var kind: Kind
    public var data: [UInt8]
    public init(term: Term, index: LogIndex, kind: Kind = .normal, data: [UInt8] = []) {
        self.term = term
        self.index = index
        self.kind = kind
        self.data = data
    }
}

/// The state that MUST be durable before any message of the same `Ready` is sent: a vote is
/// answered only once term and vote are on disk, and `commit` never goes back across a restart.
public struct HardState: Hashable, Sendable {
    public var term: Term
    public var vote: NodeID
    public var commit: LogIndex
    public init(term: Term = .zero, vote: NodeID = .none, commit: LogIndex = .zero) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }
    public static let empty = HardState()
}

/// The membership of the group: the voters, and the learners (non-voting members that receive
/// the log and apply it but never vote, campaign or count towards any quorum). Both lists are
/// sorted, so printing and iteration are deterministic, and disjoint.
public struct ConfState: Hashable, Sendable, CustomStringConvertible {
    public private(set) var voters: [NodeID]
    public private(set) var learners: [NodeID]

    /// A node listed in both `voters` and `learners` is a programmer error.
    public init(voters: [NodeID] = [], learners: [NodeID] = []) {
        let voterSet = Set(voters)
        precondition(voterSet.isDisjoint(with: learners), "a node cannot be both a voter and a learner")
        self.voters = voterSet.sorted()
        self.learners = Set(learners).sorted()
    }

    public func isVoter(_ id: NodeID) -> Bool { voters.contains(id) }
    public func isLearner(_ id: NodeID) -> Bool { learners.contains(id) }
    /// A voter or a learner: a node the leader replicates to.
    public func isMember(_ id: NodeID) -> Bool { isVoter(id) || isLearner(id) }
    /// The number of votes (or acknowledgements) that make a majority of `voters`. Learners never count.
    public var quorum: Int { voters.count / 2 + 1 }
    /// `voters=(1 2 3)`, then ` learners=(4 5)` when there are learners (the form without learners
    /// is the one scenario files written before learners existed compare against).
    public var description: String {
        func list(_ ids: [NodeID]) -> String { "(" + ids.map(\.description).joined(separator: " ") + ")" }
        return "voters=" + list(voters) + (learners.isEmpty ? "" : " learners=" + list(learners))
    }

    /// Applies a committed change. Every node applies the same changes in the same order, so the
    /// rules here must not depend on anything but the change and the current membership.
    mutating func apply(_ change: ConfChange) {
        let node = change.node
        switch change.kind {
        case .addVoter:
            // Promotes a learner, or adds a new voter.
            learners.removeAll { $0 == node }
            if !isVoter(node) { voters.append(node); voters.sort() }
        case .addLearner:
            // Demoting a voter is refused when proposed (`RaftProposalError.demotionRefused`); an
            // entry that would demote is ignored, the same way on every node.
            if !isMember(node) { learners.append(node); learners.sort() }
        case .removeNode:
            voters.removeAll { $0 == node }
            learners.removeAll { $0 == node }
        }
    }
}

/// A single-server membership change. Only one may be in flight at a time, and a leader accepts
/// one only after it has committed an entry of its own term (the fix for the single-server
/// change bug described on the raft-dev list, 2015). It takes effect when applied.
public struct ConfChange: Hashable, Sendable, CustomStringConvertible {
    /// The raw values are the encoding's first byte: existing kinds keep theirs forever.
    public enum Kind: UInt8, Sendable {
        /// Adds a voter; for a node that is a learner, promotes it (it keeps its replication progress).
        case addVoter = 0
        /// Removes a node, voter or learner (before learners existed: "remove voter", same byte).
        case removeNode = 1
        /// Adds a non-voting learner. Refused for a node that is a voter (no demotion).
        case addLearner = 2
    }
    public var kind: Kind
    public var node: NodeID
    public init(_ kind: Kind, _ node: NodeID) {
        self.kind = kind
        self.node = node
    }

    /// Layout: one byte kind, then the node id as 8 bytes big-endian.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = [kind.rawValue]
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: node.rawValue >> UInt64(shift))) }
        return bytes
    }

    /// Decodes `encoded`; nil when the bytes are not a conf change (wrong length or kind).
    public init?(decoding bytes: [UInt8]) {
        guard bytes.count == 9, let kind = Kind(rawValue: bytes[0]) else { return nil }
        var raw: UInt64 = 0
        for byte in bytes[1...] { raw = raw << 8 | UInt64(byte) }
        self.init(kind, NodeID(raw))
    }

    public var description: String {
        switch kind {
        case .addVoter: "add \(node)"
        case .removeNode: "remove \(node)"
        case .addLearner: "add-learner \(node)"
        }
    }
}

/// A point-in-time image of the application state machine, replacing the log up to `index`.
public struct RaftSnapshot: Hashable, Sendable {
    public var index: LogIndex
    public var term: Term
    /// The membership as of `index`: a node restoring the snapshot adopts it.
    public var confState: ConfState
    public var data: [UInt8]
    public init(index: LogIndex, term: Term, confState: ConfState, data: [UInt8] = []) {
        self.index = index
        self.term = term
        self.confState = confState
        self.data = data
    }
}

/// The node's role. `preCandidate` polls the voters without raising its term (PreVote, §9.6).
public enum RaftRole: String, Sendable, CustomStringConvertible {
    case follower, preCandidate, candidate, leader
    public var description: String { rawValue }
}

/// The result of a ReadIndex request: once the application has applied `index`, a read served
/// from its state machine is linearizable. `context` is the caller's request tag.
public struct ReadState: Hashable, Sendable {
    public var index: LogIndex
    public var context: [UInt8]
    public init(index: LogIndex, context: [UInt8]) {
        self.index = index
        self.context = context
    }
}
