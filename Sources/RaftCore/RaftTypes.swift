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

/// The voters of the group. Kept sorted so that printing and iteration are deterministic.
public struct ConfState: Hashable, Sendable, CustomStringConvertible {
    public private(set) var voters: [NodeID]
    public init(voters: [NodeID] = []) { self.voters = Array(Set(voters)).sorted() }
    public func contains(_ id: NodeID) -> Bool { voters.contains(id) }
    /// The number of votes (or acknowledgements) that make a majority of `voters`.
    public var quorum: Int { voters.count / 2 + 1 }
    public var description: String { "voters=(" + voters.map(\.description).joined(separator: " ") + ")" }

    mutating func apply(_ change: ConfChange) {
        switch change.kind {
        case .addVoter: if !contains(change.node) { voters.append(change.node); voters.sort() }
        case .removeVoter: voters.removeAll { $0 == change.node }
        }
    }
}

/// A single-server membership change. Only one may be in flight at a time, and a leader accepts
/// one only after it has committed an entry of its own term (the fix for the single-server
/// change bug described on the raft-dev list, 2015). It takes effect when applied.
public struct ConfChange: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: UInt8, Sendable { case addVoter = 0, removeVoter = 1 }
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

    public var description: String { (kind == .addVoter ? "add " : "remove ") + node.description }
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
