// The simulator's world: nodes with their storage and state machines, the network, the clock,
// and the chaos-phase events. Checks are in Simulator+Checks.swift, the liveness phase in
// Simulator+Liveness.swift.

struct SimStateMachine {
    var applied: LogIndex
    /// SimHash of every entry applied so far (equal to the log's prefix hash at `applied`).
    var hash: UInt64
    var confState: ConfState
}

/// Prefix hashes of a node's persisted log: `hashes[k]` covers everything up to `base + k`.
struct SimMirror {
    var base: LogIndex
    var hashes: [UInt64]
    func hash(at index: LogIndex) -> UInt64? {
        guard index >= base, index.rawValue - base.rawValue < UInt64(hashes.count) else { return nil }
        return hashes[Int(index.rawValue - base.rawValue)]
    }
    var lastIndex: LogIndex { base + UInt64(hashes.count - 1) }
}

struct SimSlot {
    var node: RaftNode?
    let storage: MemoryRaftStorage
    var config: RaftConfig
    var machine: SimStateMachine
    var mirror: SimMirror
    /// In-memory term and commit seen during this life (they must never go back).
    var seenTerm: Term = .zero
    var seenCommit: LogIndex = .zero
    /// Highest term and commit ever persisted (must never go back, across restarts too).
    var persistedTerm: Term = .zero
    var persistedCommit: LogIndex = .zero
    /// Leader append-only: (term, last index) as of this node's last Ready as leader.
    var leaderTail: (term: Term, last: LogIndex)?
    /// ReadIndex requests in flight: context → the highest committed index when it was issued.
    var reads: [UInt64: LogIndex] = [:]
}

struct Simulator {
    let options: RaftSimulationOptions
    let canary: RaftCanary?
    var random: RaftRandom
    var slots: [NodeID: SimSlot] = [:]
    var ids: [NodeID] = []
    var network = SimNetwork()
    var profile: SimProfile
    var now: UInt64 = 0
    var eventNumber = 0
    var nextValue: UInt64 = 1

    // Global knowledge for the checks.
    /// `committedHash[i - 1]`: prefix hash at committed index i; `commitTerm[i - 1]`: the lowest
    /// term in which some node had persisted a commit index ≥ i.
    var committedHash: [UInt64] = []
    var commitTerm: [Term] = []
    var appliedHash: [LogIndex: UInt64] = [:]
    var prefixByEntry: [PrefixKey: UInt64] = [:]
    var leaderOfTerm: [Term: NodeID] = [:]

    var violation: RaftViolation?
    var history: [String] = []
    var trace: [String] = []

    struct PrefixKey: Hashable {
        var index: LogIndex
        var term: Term
    }

    static let electionTicks = 8
    static let heartbeatTicks = 1

    init(options: RaftSimulationOptions, canary: RaftCanary?) {
        self.options = options
        self.canary = canary
        self.random = RaftRandom(seed: options.seed)
        self.profile = SimProfile.draw(&random)
        self.network.faults = profile.faults
        // Voters 1 ... V, then learners V+1 ... V+L, then (with fewer than 5 voters) a spare node
        // outside the group for membership changes to add.
        let voters = (1...options.voters).map { NodeID(UInt64($0)) }
        let learners = (0..<options.learners).map { NodeID(UInt64(options.voters + 1 + $0)) }
        let founders = voters + learners
        let all = options.voters < 5 ? founders + [NodeID(UInt64(founders.count + 1))] : founders
        ids = all
        for id in all {
            let isFounder = founders.contains(id)
            var config = RaftConfig(id: id, electionTicks: Self.electionTicks, heartbeatTicks: Self.heartbeatTicks,
                                    maxEntriesPerMessage: 1 + random.below(4), maxInflightMessages: 2 + random.below(3),
                                    maxCommittedEntriesPerReady: 8, randomSeed: random.next())
            if let canary { config.canaries = [canary] }
            let storage = isFounder ? MemoryRaftStorage(bootstrap: voters, learners: learners) : MemoryRaftStorage()
            var slot = SimSlot(node: nil, storage: storage, config: config,
                               machine: SimStateMachine(applied: .zero, hash: 0, confState: ConfState()),
                               mirror: SimMirror(base: .zero, hashes: [0]))
            slot.node = RaftNode(config: config, storage: storage)
            slots[id] = slot
            mirrorAppend(id, storage.storedEntries)
            checkPersisted(id, storage.hardState)
        }
    }

    var report: RaftSimulationReport {
        var leaders = 0
        leaders = leaderOfTerm.count
        return RaftSimulationReport(seed: options.seed, violation: violation, history: history, trace: trace,
                                    events: eventNumber, commitIndex: LogIndex(UInt64(committedHash.count)),
                                    leadersElected: leaders)
    }

    var live: [NodeID] { ids.filter { slots[$0]!.node != nil } }

    mutating func run() {
        for _ in 0..<options.steps where violation == nil {
            chaosEvent()
            checkAfterEvent()
        }
        if violation == nil { livenessPhase() }
    }

    mutating func record(_ line: String) {
        eventNumber += 1
        let text = "t=\(now) #\(eventNumber) " + line
        if options.trace { trace.append(text) }
        guard violation == nil else { return }  // The history ends at the violation.
        history.append(text)
        if history.count > RaftSimulation.historyEventsMax * 2 { history.removeFirst(history.count - RaftSimulation.historyEventsMax) }
    }

    mutating func fail(_ invariant: String, _ detail: String) {
        guard violation == nil else { return }
        violation = RaftViolation(invariant: invariant, detail: detail, event: eventNumber)
        if history.count > RaftSimulation.historyEventsMax { history.removeFirst(history.count - RaftSimulation.historyEventsMax) }
    }

    // MARK: - Chaos phase

    mutating func chaosEvent() {
        switch profile.pick(&random) {
        case .deliver: if !deliverOne() { tickAll() }
        case .ready: if !processSomeReady() { _ = deliverOne() || tickAll() }
        case .tick: tickAll()
        case .propose: propose()
        case .read: requestRead()
        case .membership: changeMembership()
        case .transfer: transferLeadership()
        case .compact: compact()
        case .partition: partition()
        case .heal: heal()
        case .crash: crash()
        case .restart: restartOrCampaign()
        }
    }

    @discardableResult
    mutating func tickAll() -> Bool {
        now += 1
        record("tick")
        for id in live { slots[id]!.node!.tick() }
        return true
    }

    mutating func deliverOne() -> Bool {
        guard let message = network.takeDeliverable(now: now, random: &random) else { return false }
        deliver(message)
        return true
    }

    mutating func deliver(_ message: RaftMessage) {
        guard slots[message.to]?.node != nil else {
            let line = "drop \(describe(message)) (down)"
            record(line)
            return
        }
        let line = "deliver \(describe(message))"
        record(line)
        slots[message.to]!.node!.step(message)
    }

    mutating func processSomeReady() -> Bool {
        let ready = live.filter { slots[$0]!.node!.hasReady }
        guard !ready.isEmpty else { return false }
        processReady(ready[random.below(ready.count)])
        return true
    }

    mutating func propose() {
        let candidates = live
        guard !candidates.isEmpty else { return }
        // Clients mostly find the leader; sometimes they ask whoever they reach.
        let leaders = candidates.filter { slots[$0]!.node!.role == .leader }
        let pool = !leaders.isEmpty && random.below(4) != 0 ? leaders : candidates
        let id = pool[random.below(pool.count)]
        let value = nextValue
        nextValue += 1
        do {
            let index = try slots[id]!.node!.propose(SimHash.encode(value))
            record("propose \(id) value=\(value) index=\(index)")
        } catch {
            record("propose \(id) value=\(value) refused: \(error)")
        }
    }

    mutating func requestRead() {
        let candidates = live
        guard !candidates.isEmpty else { return }
        let id = candidates[random.below(candidates.count)]
        let context = nextValue
        nextValue += 1
        do {
            try slots[id]!.node!.readIndex(context: SimHash.encode(context))
            slots[id]!.reads[context] = LogIndex(UInt64(committedHash.count))
            record("read \(id) ctx=\(context)")
        } catch {
            record("read \(id) ctx=\(context) refused: \(error)")
        }
    }

    mutating func changeMembership() {
        guard let leader = live.first(where: { slots[$0]!.node!.role == .leader }) else { return }
        let conf = slots[leader]!.node!.confState
        let outside = ids.filter { !conf.isMember($0) }
        let change: ConfChange
        if options.learners > 0 {
            guard let drawn = drawLearnerRunChange(conf, outside: outside) else { return }
            change = drawn
        } else if !outside.isEmpty && (conf.voters.count <= 1 || random.below(2) == 0) {
            // Runs without learners draw exactly as they did before learners existed, so their
            // seeds replay the same histories.
            change = ConfChange(.addVoter, outside[random.below(outside.count)])
        } else if conf.voters.count > 1 {
            change = ConfChange(.removeNode, conf.voters[random.below(conf.voters.count)])
        } else {
            return
        }
        do {
            let index = try slots[leader]!.node!.proposeConfChange(change)
            record("conf-change \(leader) \(change) index=\(index)")
        } catch {
            record("conf-change \(leader) \(change) refused: \(error)")
        }
    }

    /// Any change a leader may be asked for in a run with learners: add a node from outside as a
    /// voter or a learner, promote or remove a learner, remove a voter, and now and then a
    /// demotion (which must be refused).
    private mutating func drawLearnerRunChange(_ conf: ConfState, outside: [NodeID]) -> ConfChange? {
        var choices: [ConfChange] = []
        for node in outside { choices += [ConfChange(.addVoter, node), ConfChange(.addLearner, node)] }
        for node in conf.learners { choices += [ConfChange(.addVoter, node), ConfChange(.removeNode, node)] }
        if conf.voters.count > 1 { choices += conf.voters.map { ConfChange(.removeNode, $0) } }
        if let voter = conf.voters.first, random.below(8) == 0 { choices.append(ConfChange(.addLearner, voter)) }
        return choices.isEmpty ? nil : choices[random.below(choices.count)]
    }

    mutating func transferLeadership() {
        guard let leader = live.first(where: { slots[$0]!.node!.role == .leader }) else { return }
        let others = slots[leader]!.node!.confState.voters.filter { $0 != leader }
        guard !others.isEmpty else { return }
        let target = others[random.below(others.count)]
        record("transfer \(leader) -> \(target)")
        slots[leader]!.node!.transferLeadership(to: target)
    }

    mutating func compact() {
        let candidates = live.filter { slots[$0]!.machine.applied > slots[$0]!.storage.snapshot().index }
        guard !candidates.isEmpty else { return }
        let id = candidates[random.below(candidates.count)]
        let slot = slots[id]!
        let index = slot.machine.applied
        let snapshot = RaftSnapshot(index: index, term: (try? slot.storage.term(at: index)) ?? .zero,
                                    confState: slot.machine.confState, data: SimHash.encode(slot.machine.hash))
        try! slot.storage.compact(with: snapshot)  // MemoryRaftStorage.compact does not throw.
        let dropped = Int(index.rawValue - slots[id]!.mirror.base.rawValue)
        slots[id]!.mirror.hashes.removeFirst(dropped)
        slots[id]!.mirror.base = index
        record("compact \(id) at \(index)")
    }

    mutating func partition() {
        let shuffled = ids.map { ($0, random.next()) }.sorted { $0.1 < $1.1 }.map(\.0)
        if random.below(2) == 0, let leader = live.first(where: { slots[$0]!.node!.role == .leader }) {
            // The classic: the leader alone on the minority side, still taking proposals.
            network.heal()
            network.partition([leader], from: ids.filter { $0 != leader })
            record("isolate leader \(leader)")
            return
        }
        if random.below(3) == 0 {
            let from = shuffled[0]
            let to = shuffled[shuffled.count - 1]
            network.blocked.insert(SimLink(from: from, to: to))
            record("cut \(from) -> \(to)")
            return
        }
        let cut = 1 + random.below(max(1, shuffled.count - 1))
        let side = Array(shuffled[..<cut]).sorted()
        let rest = Array(shuffled[cut...]).sorted()
        network.heal()
        network.partition(side, from: rest)
        record("partition \(side) | \(rest)")
    }

    mutating func heal() {
        guard !network.blocked.isEmpty else { return }
        if random.below(2) == 0 {
            network.heal()
            record("heal")
            return
        }
        // Partial heal: each cut pair of nodes reconnects with probability 1/2.
        var healed: [String] = []
        for a in ids {
            for b in ids where a < b {
                let pair = [SimLink(from: a, to: b), SimLink(from: b, to: a)]
                guard pair.contains(where: { network.blocked.contains($0) }), random.below(2) == 0 else { continue }
                for link in pair { network.blocked.remove(link) }
                healed.append("\(a)-\(b)")
            }
        }
        record("heal " + (healed.isEmpty ? "nothing" : healed.joined(separator: " ")))
    }

    mutating func crash() {
        let candidates = live
        guard !candidates.isEmpty else { return }
        let id = candidates[random.below(candidates.count)]
        var note = ""
        if slots[id]!.node!.hasReady && random.below(2) == 0 {
            // Crash in the middle of persisting a Ready: a prefix of its entries reached the disk,
            // the hard state did not, and no message left.
            let ready = slots[id]!.node!.ready()
            if ready.snapshot == nil && !ready.entries.isEmpty {
                let kept = random.below(ready.entries.count + 1)
                slots[id]!.storage.saveTorn(entries: ready.entries, keeping: kept)
                mirrorAppend(id, Array(ready.entries.prefix(kept)))
                note = " (torn write: kept \(kept) of \(ready.entries.count) entries)"
            }
        }
        slots[id]!.node = nil
        slots[id]!.reads = [:]
        record("crash \(id)\(note)")
    }

    mutating func restartOrCampaign() {
        let down = ids.filter { slots[$0]!.node == nil }
        if !down.isEmpty {
            restart(down[random.below(down.count)])
            return
        }
        let candidates = live
        let id = candidates[random.below(candidates.count)]
        record("campaign \(id)")
        slots[id]!.node!.campaign()
    }

    mutating func restart(_ id: NodeID) {
        var slot = slots[id]!
        slot.config.randomSeed = random.next()
        let snapshot = slot.storage.snapshot()
        slot.machine = SimStateMachine(applied: snapshot.index, hash: snapshot.index == .zero ? 0 : SimHash.decode(snapshot.data),
                                       confState: snapshot.confState)
        slot.node = RaftNode(config: slot.config, storage: slot.storage)
        slot.seenTerm = slot.node!.term
        slot.seenCommit = slot.node!.status.commit
        slot.leaderTail = nil
        slots[id] = slot
        record("restart \(id) term=\(slot.seenTerm) commit=\(slot.seenCommit) last=\(slot.storage.lastIndex)")
    }

    func describe(_ m: RaftMessage) -> String {
        var s = "\(m.from)->\(m.to) \(m.kind) term=\(m.term)"
        switch m.kind {
        case .append:
            s += " log=\(m.logTerm)/\(m.index) commit=\(m.commit) entries=\(m.entries.count)"
        case .appendResponse:
            s += m.reject ? " reject=\(m.index) hint=\(m.rejectHint)/\(m.logTerm)" : " index=\(m.index)"
        case .vote, .preVote:
            s += " last=\(m.logTerm)/\(m.index)" + (m.isTransfer ? " transfer" : "")
        case .voteResponse, .preVoteResponse:
            s += m.reject ? " rejected" : " granted"
        case .heartbeat:
            s += " commit=\(m.commit)"
            if !m.context.isEmpty { s += " seq=\(SimHash.decode(m.context))" }
        case .heartbeatResponse:
            if !m.context.isEmpty { s += " seq=\(SimHash.decode(m.context))" }
        case .readIndex:
            s += " ctx=\(SimHash.decode(m.context))"
        case .snapshot:
            s += " snap=\(m.snapshot?.index ?? .zero)"
        case .readIndexResponse:
            s += " index=\(m.index) ctx=\(SimHash.decode(m.context))"
        default: break
        }
        return s
    }
}
