// The interaction harness behind the text scenarios in testdata/ (etcd-raft's datadriven
// style): a few nodes with in-memory storage, a hand-driven network, and one command per block.
// Each command returns its output as text; ScenarioTests compares it with the file.
@testable import RaftCore

struct ScenarioHarness {
    struct Member {
        var node: RaftNode?
        let storage: MemoryRaftStorage
        var config: RaftConfig
        var applied: [String] = []
        var confState = ConfState()
    }

    var members: [NodeID: Member] = [:]
    /// Messages sent (by a processed Ready) and not yet delivered, per recipient, in send order.
    var mailboxes: [NodeID: [RaftMessage]] = [:]
    var cut: Set<[NodeID]> = []

    var ids: [NodeID] { members.keys.sorted() }

    mutating func run(_ line: String) throws -> String {
        let words = line.split(separator: " ").map(String.init)
        guard let command = words.first else { return "" }
        let args = Array(words.dropFirst())
        var out: [String] = []
        switch command {
        case "add-nodes": try addNodes(args, &out)
        case "campaign": try withNode(args) { $0.campaign() }
        case "propose":
            let id = try nodeID(args)
            do { out.append("index \(try members[id]!.node!.propose(Array(args.dropFirst().joined(separator: " ").utf8)))") }
            catch { out.append("refused: \(error)") }
        case "propose-conf-change":
            let id = try nodeID(args)
            // propose-conf-change LEADER add|add-learner|remove NODE (add on a learner promotes it)
            let kinds: [String: ConfChange.Kind] = ["add": .addVoter, "add-learner": .addLearner, "remove": .removeNode]
            guard args.count == 3, let kind = kinds[args[1]], let target = UInt64(args[2]) else { throw ScenarioError.usage(line) }
            let change = ConfChange(kind, NodeID(target))
            do { out.append("index \(try members[id]!.node!.proposeConfChange(change))") }
            catch { out.append("refused: \(error)") }
        case "transfer-leadership":
            guard args.count == 2, let to = UInt64(args[1]) else { throw ScenarioError.usage(line) }
            try withNode(args) { $0.transferLeadership(to: NodeID(to)) }
        case "read-index":
            let id = try nodeID(args)
            do { try members[id]!.node!.readIndex(context: Array((args.count > 1 ? args[1] : "").utf8)) }
            catch { out.append("refused: \(error)") }
        case "tick-election": try withNode(args) { node in
            let n = node.role == .leader ? node.config.electionTicks : node.randomizedElectionTimeout - node.electionElapsed
            for _ in 0..<max(1, n) { node.tick() }
        }
        case "tick":
            guard args.count == 2, let n = Int(args[1]) else { throw ScenarioError.usage(line) }
            try withNode(args) { node in for _ in 0..<n { node.tick() } }
        case "tick-heartbeat": try withNode(args) { node in for _ in 0..<node.config.heartbeatTicks { node.tick() } }
        case "process-ready": for id in try nodeIDs(args) { processReady(id, &out) }
        case "deliver-msgs": for id in try nodeIDs(args) { deliver(to: id, &out) }
        case "stabilize": stabilize(try nodeIDs(args), &out)
        case "partition": partition(args)
        case "isolate":
            let id = try nodeID(args)
            for other in ids where other != id { cut.insert([id, other]); cut.insert([other, id]) }
        case "heal": cut = []
        case "crash":
            let id = try nodeID(args)
            members[id]!.node = nil
            mailboxes[id] = []
        case "restart":
            guard let raw = args.first.flatMap(UInt64.init), members[NodeID(raw)]?.node == nil else {
                throw ScenarioError.usage(line)
            }
            restart(NodeID(raw), &out)
        case "compact": compact(try nodeID(args), &out)
        case "status": for id in ids { out.append(members[id]!.node.map { $0.status.description } ?? "\(id) down") }
        case "progress":
            let progress = members[try nodeID(args)]!.node!.progressStatus
            out += progress.isEmpty ? ["(not leader)"] : progress.map(\.description)
        case "raft-log": raftLog(try nodeID(args), &out)
        case "applied":
            let applied = members[try nodeID(args)]!.applied
            out.append(applied.isEmpty ? "(nothing)" : applied.joined(separator: " "))
        default: throw ScenarioError.usage(line)
        }
        return out.isEmpty ? "ok" : out.joined(separator: "\n")
    }

    // MARK: - Commands

    private mutating func addNodes(_ args: [String], _ out: inout [String]) throws {
        guard let count = args.first.flatMap(Int.init) else { throw ScenarioError.usage("add-nodes N ...") }
        var options: [String: String] = [:]
        for arg in args.dropFirst() {
            let kv = arg.split(separator: "=", maxSplits: 1).map(String.init)
            if kv.count == 2 { options[kv[0]] = kv[1] }
        }
        func idList(_ key: String) -> [NodeID] {
            (options[key] ?? "").split(separator: ",").compactMap { UInt64(String($0)) }.map { NodeID($0) }
        }
        let voters = idList("voters")
        let learners = idList("learners")
        let first = (ids.last?.rawValue ?? 0) + 1
        for raw in first..<(first + UInt64(count)) {
            let id = NodeID(raw)
            var config = RaftConfig(id: id, electionTicks: Int(options["election"] ?? "10") ?? 10,
                                    heartbeatTicks: Int(options["heartbeat"] ?? "1") ?? 1,
                                    preVote: options["prevote"] != "false", checkQuorum: options["checkquorum"] != "false",
                                    maxEntriesPerMessage: Int(options["max-entries"] ?? "64") ?? 64, randomSeed: raw)
            if let canary = options["canary"] { config.canaries = [RaftCanary(rawValue: canary)!] }
            let isFounder = voters.contains(id) || learners.contains(id)
            let storage = isFounder ? MemoryRaftStorage(bootstrap: voters, learners: learners) : MemoryRaftStorage()
            members[id] = Member(node: RaftNode(config: config, storage: storage), storage: storage, config: config)
            var bootstrap: [String] = []
            processReady(id, &bootstrap)  // Applies the founding membership; not worth printing.
            let founders = voters.map { $0.description }.joined(separator: ",")
                + (learners.isEmpty ? "" : " learners=" + learners.map { $0.description }.joined(separator: ","))
            out.append("added \(id) " + (storage.storedEntries.isEmpty ? "empty" : "voters=" + founders))
        }
    }

    private mutating func withNode(_ args: [String], _ body: (inout RaftNode) -> Void) throws {
        let id = try nodeID(args)
        body(&members[id]!.node!)
    }

    private func nodeID(_ args: [String]) throws -> NodeID {
        guard let raw = args.first.flatMap(UInt64.init), members[NodeID(raw)]?.node != nil else {
            throw ScenarioError.usage("node id missing, unknown or down: \(args)")
        }
        return NodeID(raw)
    }

    /// Node ids named in `args` (all live nodes when none is named).
    private func nodeIDs(_ args: [String]) throws -> [NodeID] {
        if args.isEmpty { return ids.filter { members[$0]!.node != nil } }
        return try args.map { try nodeID([$0]) }
    }

    private mutating func partition(_ args: [String]) {
        // partition 1 | 2 3 — cut every link between the two sides, both ways.
        let sides: [[NodeID]] = args.split(separator: "|").map { side in side.compactMap { UInt64($0) }.map { NodeID($0) } }
        guard sides.count == 2 else { return }
        for a in sides[0] {
            for b in sides[1] {
                cut.insert([a, b])
                cut.insert([b, a])
            }
        }
    }

    mutating func processReady(_ id: NodeID, _ out: inout [String]) {
        guard var member = members[id], var node = member.node, node.hasReady else { return }
        let ready = node.ready()
        out.append("> \(id) handling Ready")
        out.append("  role=\(ready.role) lead=\(ready.leader)")
        if let hs = ready.hardState { out.append("  hard state: term=\(hs.term) vote=\(hs.vote) commit=\(hs.commit)") }
        if let snapshot = ready.snapshot { out.append("  snapshot: \(snapshot.term)/\(snapshot.index) \(snapshot.confState)") }
        for entry in ready.entries { out.append("  persist: \(entry)") }
        try! member.storage.save(snapshot: ready.snapshot, entries: ready.entries, hardState: ready.hardState)
        for message in ready.messages {
            if cut.contains([message.from, message.to]) {
                out.append("  send: \(message) (cut)")
            } else if members[message.to]?.node == nil {
                out.append("  send: \(message) (down)")
            } else {
                out.append("  send: \(message)")
                mailboxes[message.to, default: []].append(message)
            }
        }
        if let snapshot = ready.snapshot {
            member.applied = ["<snapshot \(snapshot.index)>"]
            member.confState = snapshot.confState
        }
        for entry in ready.committedEntries {
            out.append("  apply: \(entry)")
            switch entry.kind {
            case .normal: member.applied.append(String(decoding: entry.data, as: UTF8.self))
            case .confChange: member.confState = node.applyConfChange(ConfChange(decoding: entry.data)!)
            case .noop: break
            }
        }
        for state in ready.readStates { out.append("  read: index=\(state.index) ctx=\(Entry.text(state.context))") }
        node.advance()
        member.node = node
        members[id] = member
    }

    mutating func deliver(to id: NodeID, _ out: inout [String]) {
        let messages = mailboxes[id] ?? []
        mailboxes[id] = []
        guard !messages.isEmpty, members[id]?.node != nil else { return }
        out.append("> \(id) receiving messages")
        for message in messages {
            out.append("  \(message)")
            members[id]!.node!.step(message)
        }
    }

    mutating func stabilize(_ which: [NodeID], _ out: inout [String]) {
        for _ in 0..<100 {
            var busy = false
            for id in which where members[id]?.node?.hasReady == true {
                processReady(id, &out)
                busy = true
            }
            for id in which where !(mailboxes[id] ?? []).isEmpty {
                deliver(to: id, &out)
                busy = true
            }
            if !busy { return }
        }
        out.append("did not stabilize within 100 rounds")
    }

    private mutating func restart(_ id: NodeID, _ out: inout [String]) {
        var member = members[id]!
        member.node = RaftNode(config: member.config, storage: member.storage)
        let snapshot = member.storage.snapshot()
        member.applied = snapshot.index == .zero ? [] : ["<snapshot \(snapshot.index)>"]
        member.confState = snapshot.confState
        members[id] = member
        out.append(member.node!.status.description)
    }

    private mutating func compact(_ id: NodeID, _ out: inout [String]) {
        let member = members[id]!
        let index = member.node!.status.applied
        let snapshot = RaftSnapshot(index: index, term: try! member.storage.term(at: index),
                                    confState: member.confState, data: Array(member.applied.joined(separator: ",").utf8))
        try! member.storage.compact(with: snapshot)
        out.append("snapshot \(snapshot.term)/\(snapshot.index) \(snapshot.confState); log starts at \(member.storage.firstIndex)")
    }

    private func raftLog(_ id: NodeID, _ out: inout [String]) {
        let storage = members[id]!.storage
        let snapshot = storage.snapshot()
        if snapshot.index > .zero { out.append("snapshot \(snapshot.term)/\(snapshot.index)") }
        for entry in storage.storedEntries { out.append(entry.description) }
        if out.isEmpty { out.append("empty") }
    }
}

enum ScenarioError: Error, CustomStringConvertible {
    case usage(String)
    var description: String {
        switch self {
        case .usage(let line): "bad scenario command: \(line)"
        }
    }
}
