import KafkaMessages
import RaftCore

/// RaftCore's messages ⇄ the RunnelRaft API's fields (`specs/kraft-protocol/RunnelRaftRequest.json`).
/// Node ids, terms and indexes are unsigned in RaftCore and travel as int64 bit patterns.
enum RaftWire {
    struct DecodeError: Error, CustomStringConvertible {
        let description: String
    }

    static func encode(_ m: RaftMessage) -> RunnelRaftRequest.RaftMessageData {
        var d = RunnelRaftRequest.RaftMessageData()
        d.kind = Int8(m.kind.rawValue)
        d.from = Int64(bitPattern: m.from.rawValue)
        d.to = Int64(bitPattern: m.to.rawValue)
        d.term = Int64(bitPattern: m.term.rawValue)
        d.logTerm = Int64(bitPattern: m.logTerm.rawValue)
        d.index = Int64(bitPattern: m.index.rawValue)
        d.commit = Int64(bitPattern: m.commit.rawValue)
        d.reject = m.reject
        d.rejectHint = Int64(bitPattern: m.rejectHint.rawValue)
        d.isTransfer = m.isTransfer
        d.context = m.context
        d.entries = m.entries.map { e in
            var w = RunnelRaftRequest.RaftEntryData()
            w.term = Int64(bitPattern: e.term.rawValue)
            w.index = Int64(bitPattern: e.index.rawValue)
            w.kind = Int8(e.kind.rawValue)
            w.data = e.data
            return w
        }
        d.snapshot = m.snapshot.map { s in
            var w = RunnelRaftRequest.RaftSnapshotData()
            w.index = Int64(bitPattern: s.index.rawValue)
            w.term = Int64(bitPattern: s.term.rawValue)
            w.voters = s.confState.voters.map { Int64(bitPattern: $0.rawValue) }
            w.learners = s.confState.learners.map { Int64(bitPattern: $0.rawValue) }
            w.data = s.data
            return w
        }
        return d
    }

    static func decode(_ d: RunnelRaftRequest.RaftMessageData) throws(DecodeError) -> RaftMessage {
        guard let kind = RaftMessage.Kind(rawValue: UInt8(bitPattern: d.kind)) else {
            throw DecodeError(description: "unknown Raft message kind \(d.kind)")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(d.entries.count)
        for e in d.entries {
            guard let entryKind = Entry.Kind(rawValue: UInt8(bitPattern: e.kind)) else {
                throw DecodeError(description: "unknown Raft entry kind \(e.kind)")
            }
            entries.append(Entry(term: Term(UInt64(bitPattern: e.term)), index: LogIndex(UInt64(bitPattern: e.index)),
                                 kind: entryKind, data: e.data))
        }
        var snapshot: RaftSnapshot?
        if let s = d.snapshot {
            let voters = s.voters.map { NodeID(UInt64(bitPattern: $0)) }
            let learners = s.learners.map { NodeID(UInt64(bitPattern: $0)) }
            guard Set(voters).isDisjoint(with: learners) else {
                throw DecodeError(description: "a snapshot names nodes as voters and learners at once")
            }
            snapshot = RaftSnapshot(index: LogIndex(UInt64(bitPattern: s.index)), term: Term(UInt64(bitPattern: s.term)),
                                    confState: ConfState(voters: voters, learners: learners), data: s.data)
        }
        return RaftMessage(kind: kind, from: NodeID(UInt64(bitPattern: d.from)), to: NodeID(UInt64(bitPattern: d.to)),
                           term: Term(UInt64(bitPattern: d.term)), logTerm: Term(UInt64(bitPattern: d.logTerm)),
                           index: LogIndex(UInt64(bitPattern: d.index)), entries: entries,
                           commit: LogIndex(UInt64(bitPattern: d.commit)), reject: d.reject,
                           rejectHint: LogIndex(UInt64(bitPattern: d.rejectHint)), snapshot: snapshot,
                           isTransfer: d.isTransfer, context: d.context)
    }
}
