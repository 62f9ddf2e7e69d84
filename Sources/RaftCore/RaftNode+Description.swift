// Text forms used by the scenario tests, the simulator trace and logs. Stable: scenario files
// compare them byte for byte, so a change here means rewriting testdata (RAFT_REWRITE=1).

extension Entry: CustomStringConvertible {
    public var description: String {
        let head = "\(term)/\(index)"
        switch kind {
        case .noop: return head + " noop"
        case .confChange: return head + " conf " + (ConfChange(decoding: data)?.description ?? "?")
        case .normal: return head + " " + Self.text(data)
        }
    }

    /// Printable ASCII in quotes, anything else as hex.
    static func text(_ data: [UInt8]) -> String {
        if data.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 }) {
            return "\"" + String(decoding: data, as: UTF8.self) + "\""
        }
        return "0x" + data.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}

extension RaftMessage: CustomStringConvertible {
    public var description: String {
        var s = "\(from)->\(to) \(kind) term=\(term)"
        switch kind {
        case .append:
            s += " log=\(logTerm)/\(index) commit=\(commit)"
            if !entries.isEmpty { s += " entries=[" + entries.map(\.description).joined(separator: ", ") + "]" }
        case .appendResponse:
            s += reject ? " rejected=\(index) hint=\(logTerm)/\(rejectHint)" : " index=\(index)"
        case .vote, .preVote:
            s += " last=\(logTerm)/\(index)" + (isTransfer ? " transfer" : "")
        case .voteResponse, .preVoteResponse:
            s += reject ? " rejected" : " granted"
        case .heartbeat:
            s += " commit=\(commit)"
            if let seq = RaftNode.decodeSequence(context) { s += " read-seq=\(seq)" }
        case .heartbeatResponse:
            if let seq = RaftNode.decodeSequence(context) { s += " read-seq=\(seq)" }
        case .snapshot:
            if let snapshot { s += " snapshot=\(snapshot.term)/\(snapshot.index) \(snapshot.confState)" }
        case .timeoutNow:
            break
        case .readIndex:
            s += " ctx=" + Entry.text(context)
        case .readIndexResponse:
            s += " index=\(index) ctx=" + Entry.text(context)
        }
        return s
    }
}
