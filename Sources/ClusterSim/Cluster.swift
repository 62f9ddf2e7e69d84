import ClusterMetadata
import RaftCore
import Replication
import RunnelCore

// The simulator's world: the nodes, the network, the clock, the workload and the checker's
// global knowledge; the chaos phase's events. The nodes' behaviour is in Cluster+Raft (the
// metadata quorum), Cluster+Controller, Cluster+Broker and Cluster+Replication; the workload in
// Cluster+Workload; the checks in Cluster+Checks; the liveness phase in Cluster+Liveness.

struct Cluster {
    /// Simulated milliseconds per tick (the clock the controller and `LeaderState` read).
    static let tickMs: Int64 = 100
    static let electionTicks = 8
    static let heartbeatTicks: UInt64 = 3
    static let registerRetryTicks: UInt64 = 10
    static let sessionTimeoutMs: Int64 = 2000
    static let replicaLagTimeMs: Int64 = 1000
    static let isrCheckTicks: UInt64 = 5
    /// `ReplicaRules.isrRetryBackoffMs` in ticks.
    static let isrRetryTicks = UInt64(ReplicaRules.isrRetryBackoffMs / tickMs)
    /// A fetch or an ISR change not answered within this many ticks is given up (the shell's
    /// request timeouts).
    static let requestTimeoutTicks: UInt64 = 6
    /// acks=all waiters answer REQUEST_TIMED_OUT after this many ticks.
    static let ackTimeoutTicks: UInt64 = 30
    static let rebalanceTicks: UInt64 = 25
    static let clientBase: Address = 100

    let options: ClusterSimulationOptions
    let canary: ClusterCanary?
    var random: SeededRandom
    var nodes: [Node] = []
    var network = Network()
    var profile: Profile
    var now: UInt64 = 0
    var eventNumber = 0
    var workload = Workload()
    /// The last request id of a fetch or an AlterPartition (the shell's correlation ids), unique
    /// in the run.
    var nextRequestID: UInt64 = 0

    // The checker's global knowledge (Cluster+Checks).
    var committed: [TopicPartition: [SimRecord]] = [:]
    var committedKeys: [TopicPartition: Set<ProducerKey>] = [:]
    var ackedAll: [TopicPartition: [Int64: SimRecord]] = [:]
    /// acks=all acknowledgements not (yet) seen below a high watermark: none unless a canary acks early.
    var unconfirmedAcks: [(partition: TopicPartition, offset: Offset, record: SimRecord)] = []
    var ackedOne = 0
    var leaderOfEpoch: [EpochKey: BrokerID] = [:]
    /// Per partition, the newest state any node applied (`newestState`).
    var newestCommitted: [TopicPartition: PartitionState] = [:]

    var violation: ClusterViolation?
    var history: [String] = []
    var trace: [String] = []

    var nowMs: Int64 { Int64(now) * Self.tickMs }

    init(options: ClusterSimulationOptions, canary: ClusterCanary?) {
        self.options = options
        self.canary = canary
        self.random = SeededRandom(seed: options.seed)
        self.profile = Profile.draw(&random)
        self.network.faults = profile.faults
        let voters = (1...options.nodes).map { NodeID(UInt64($0)) }
        let learners = (0..<options.observers).map { NodeID(UInt64(options.nodes + 1 + $0)) }
        for id in voters + learners {
            let config = RaftConfig(id: id, electionTicks: Self.electionTicks, heartbeatTicks: 1, maxEntriesPerMessage: 4,
                                    maxInflightMessages: 4, maxCommittedEntriesPerReady: 16, randomSeed: random.next())
            let storage = MemoryRaftStorage(bootstrap: voters, learners: learners)
            var node = Node(address: Int(id.rawValue), isVoter: voters.contains(id), raft: nil, storage: storage,
                            raftConfig: config, incarnation: TopicID.random(using: &random))
            node.raft = RaftNode(config: config, storage: storage)
            nodes.append(node)
        }
        workload = Workload.draw(&random, brokers: nodes.count)
    }

    var addresses: [Address] { nodes.map(\.address) }
    var running: [Address] { nodes.filter(\.isRunning).map(\.address) }

    mutating func run() {
        for _ in 0..<options.steps where violation == nil {
            chaosEvent()
            checkAfterEvent()
        }
        if violation == nil { livenessPhase() }
    }

    var report: ClusterSimulationReport {
        let committedCount = committed.values.reduce(0) { $0 + $1.count }
        return ClusterSimulationReport(seed: options.seed, violation: violation, history: history, trace: trace,
                                       events: eventNumber, ackedAll: ackedAll.values.reduce(0) { $0 + $1.count },
                                       ackedOne: ackedOne, leaderEpochs: leaderOfEpoch.count, committed: committedCount)
    }

    mutating func record(_ line: String) {
        eventNumber += 1
        let text = "t=\(now) #\(eventNumber) " + line
        if options.trace { trace.append(text) }
        guard violation == nil else { return }
        history.append(text)
        if history.count > ClusterSimulation.historyEventsMax * 2 {
            history.removeFirst(history.count - ClusterSimulation.historyEventsMax)
        }
    }

    mutating func fail(_ invariant: String, _ detail: String) {
        guard violation == nil else { return }
        violation = ClusterViolation(invariant: invariant, detail: detail, event: eventNumber)
        if history.count > ClusterSimulation.historyEventsMax {
            history.removeFirst(history.count - ClusterSimulation.historyEventsMax)
        }
    }

    func index(_ address: Address) -> Int { address - 1 }

    // MARK: - Chaos phase

    mutating func chaosEvent() {
        switch profile.pick(&random) {
        case .deliver: if !deliverSome() && !processSomeReady() { tick() }
        case .ready: if !processSomeReady() && !deliverSome() { tick() }
        case .tick: tick()
        case .produce: produce()
        case .consume: consume()
        case .sync: syncSome()
        case .partition: partition()
        case .heal: heal()
        case .crash: crash()
        case .restart: restartOrResume()
        case .pause: pause()
        }
    }

    /// One tick of the clock: every running node's Raft ticks and its periodic work runs.
    mutating func tick() {
        now += 1
        record("tick")
        for address in running {
            nodes[index(address)].raft!.tick()
            brokerTick(address)
            controllerTick(address)
        }
        workloadTick()
    }

    /// Delivers a few due messages (one event stands for a burst of network activity, so the
    /// network keeps up with the clock as a real one does).
    mutating func deliverSome() -> Bool {
        guard deliverOne() else { return false }
        for _ in 0..<random.below(8) where !deliverOne() { break }
        return true
    }

    mutating func deliverOne() -> Bool {
        let accepting = Set(addresses.filter(accepts))
        let message = network.takeDeliverable(now: now, random: &random) { $0 >= Self.clientBase || accepting.contains($0) }
        guard let message else { return false }
        deliver(message)
        return true
    }

    /// Clients always take their messages; a node only while running (a paused node's queue waits).
    func accepts(_ address: Address) -> Bool {
        address >= Self.clientBase || nodes[index(address)].isRunning || !nodes[index(address)].isUp
    }

    mutating func send(_ message: Message) {
        network.send(message, now: now, random: &random)
    }

    mutating func syncSome() {
        let candidates = running.filter { address in nodes[index(address)].replicas.values.contains { $0.durable < $0.log.count } }
        guard !candidates.isEmpty else { return tick() }
        sync(random.pick(candidates))
    }
}
