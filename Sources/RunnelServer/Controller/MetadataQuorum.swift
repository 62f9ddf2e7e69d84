import ClusterMetadata
import LogStorage
import Logging
import NIOCore
import RaftCore
import RaftStorage
import RunnelClient
import RunnelCore

/// This node's member of the metadata Raft group (DESIGN.md §5): a voter on controller nodes, a
/// learner on broker-only nodes. It runs on its own event loop (`loop`), never the broker's:
/// `DurableRaftStorage.save` fsyncs there, and nothing on the produce or fetch path waits for it.
///
/// Every loop turn that changed the node handles its `Ready` in RaftCore's order: persist (fsync)
/// → send → apply committed entries to the `MetadataImage` → `advance`. Entries carry batches of
/// `MetadataRecord`s; each applied batch is handed to `onApplied` (on this loop) with the image
/// after it. Proposals complete when their entry is applied — or fail when another entry took
/// their index (leadership was lost) or the deadline passes.
///
/// Snapshots: after `snapshotBytes` of applied records the image is written as a snapshot and
/// the log before it dropped (`metadata.log.max.record.bytes.between.snapshots`); a node that
/// falls behind the leader's log receives the snapshot.
final class MetadataQuorum {
    struct Options {
        var nodeID: NodeID
        /// The founding voters (controller.quorum.voters).
        var voters: [NodeID]
        var peers: [NodeID: (host: String, port: Int)]
        var clusterID: String
        var directory: String
        var tickMs: Int64 = 100
        /// Election timeout in ticks (randomised up to twice this).
        var electionTicks: Int = 10
        var snapshotBytes: Int = 20 << 20
        var proposalTimeoutMs: Int64 = 30_000
        /// The CONTROLLER listener's name, for DescribeQuorum's voter endpoints.
        var listenerName = "CONTROLLER"
        /// The listener of broker-only learners the log is sent to, and the TLS of each kind of
        /// peer (nil: plain TCP).
        var interBrokerListenerName = "PLAINTEXT"
        var controllerTLS: ClientTLS?
        var interBrokerTLS: ClientTLS?
    }

    /// The quorum as its leader sees it (DescribeQuorum): Raft indexes are metadata log offsets
    /// (entry `i` is offset `i - 1`, so a last index or commit index is an exclusive end offset).
    struct Description: Equatable {
        struct Replica: Equatable {
            var id: Int32
            /// The member's log end offset (its match index), -1 before it answered this leader.
            var logEndOffset: Int64
            /// Wall-clock ms of its last answer to an append or heartbeat (tick precision), or -1.
            var lastFetchTimestamp: Int64
            /// Wall-clock ms when it was last seen holding the leader's whole log (sampled every
            /// tick), or -1.
            var lastCaughtUpTimestamp: Int64
        }
        var leaderID: Int32
        var leaderEpoch: Int32
        var highWatermark: Int64
        var voters: [Replica]
        var observers: [Replica]
    }

    enum ProposalError: Error, CustomStringConvertible {
        case notLeader(leader: NodeID)
        case superseded
        case timedOut
        case shuttingDown
        case storage(String)

        var description: String {
            switch self {
            case .notLeader(let leader): return "this node is not the active controller (leader: \(leader == .none ? "unknown" : leader.description))"
            case .superseded: return "leadership changed before the change was committed"
            case .timedOut: return "the change was not committed in time"
            case .shuttingDown: return "the controller is shutting down"
            case .storage(let why): return "metadata storage failed: \(why)"
            }
        }
    }

    let loop: any EventLoop
    let options: Options
    private let logger: Logger
    private var node: RaftNode
    private let storage: DurableRaftStorage
    let transport: RaftTransport
    /// The image of every applied record.
    private(set) var image: MetadataImage
    private var bytesSinceSnapshot = 0
    private var pending: [LogIndex: (term: Term, promise: EventLoopPromise<Void>, deadline: Scheduled<Void>)] = [:]
    private var ticker: RepeatedTask?
    private var stopped = false
    /// Set once this node, as leader, has applied an entry of its own term: from then on its
    /// image holds everything committed before it led (Raft §8), and it may decide.
    private(set) var isActiveController = false
    private var lastRole: RaftRole = .follower
    private var lastLeader: NodeID = .none
    /// When each member was last seen caught up with this leader's log, and the leader's last
    /// index at the previous sample (Kafka's rule: a member that reached the end of the log as it
    /// was at the previous sample was caught up then).
    private var caughtUpAt: [NodeID: Int64] = [:]
    private var previousSample: (lastIndex: LogIndex, atMs: Int64)?
    /// Learners whose addition was proposed and not applied yet.
    private var pendingLearners: Set<NodeID> = []

    /// Called on `loop` after each applied batch, with the records and the image after them.
    var onApplied: ((MetadataImage, [MetadataRecord]) -> Void)?
    /// Called on `loop` when this node becomes (true) or stops being (false) the active controller.
    var onActiveChange: ((Bool) -> Void)?
    /// Called on `loop` when the known leader changes.
    var onLeaderChange: ((NodeID) -> Void)?

    init(options: Options, loop: any EventLoop, logger: Logger) throws {
        self.options = options
        self.loop = loop
        self.logger = logger
        let founders = options.voters.contains(options.nodeID) ? options.voters : []
        storage = try DurableRaftStorage.open(directory: options.directory, bootstrap: founders, logger: logger)
        let snapshot = storage.snapshot()
        image = snapshot.data.isEmpty ? MetadataImage() : try MetadataImage.decodeSnapshot(snapshot.data)
        var config = RaftConfig(id: options.nodeID, electionTicks: options.electionTicks, heartbeatTicks: 1,
                                randomSeed: UInt64.random(in: 1...UInt64.max))
        config.applied = snapshot.index
        node = RaftNode(config: config, storage: storage)
        transport = RaftTransport(selfID: options.nodeID, clusterID: options.clusterID, loop: loop, logger: logger)
        for (id, address) in options.peers where id != options.nodeID {
            transport.setPeer(id, host: address.host, port: address.port, tls: options.controllerTLS)
        }
        notePeers(image.brokers.values.map { .registerBroker($0) })
    }

    /// Starts ticking. Call on `loop`.
    func start() {
        loop.preconditionInEventLoop()
        ticker = loop.scheduleRepeatedTask(initialDelay: .milliseconds(options.tickMs), delay: .milliseconds(options.tickMs)) { [weak self] _ in
            guard let self, !self.stopped else { return }
            self.node.tick()
            self.drain()
            self.sampleCaughtUp(now: Clock.now().rawValue)
        }
        // Apply what is committed (the founding membership at least), then a single voter elects
        // itself at once rather than after an election timeout.
        drain()
        if options.voters == [options.nodeID] {
            node.campaign()
            drain()
        }
    }

    var status: RaftStatus { node.status }
    /// The index of the newest snapshot in storage (0 when none was taken).
    var snapshotIndex: LogIndex { storage.snapshot().index }
    var leader: NodeID { node.status.leader }

    /// The quorum as this node leads it, or nil when it is not the Raft leader. `now` is
    /// wall-clock ms (ticks are converted, D44).
    func describe(now: Int64) -> Description? {
        loop.preconditionInEventLoop()
        let status = node.status
        guard status.role == .leader, !stopped else { return nil }
        sampleCaughtUp(now: now)
        let elapsed = node.elapsedTicks
        var voters: [Description.Replica] = []
        var observers: [Description.Replica] = []
        for member in node.progressStatus {
            let replica: Description.Replica
            if member.id == options.nodeID {
                replica = .init(id: Int32(truncatingIfNeeded: member.id.rawValue), logEndOffset: Int64(member.match.rawValue),
                                lastFetchTimestamp: now, lastCaughtUpTimestamp: now)
            } else {
                let fetched = member.lastContactTick.map { now - Int64(elapsed - min($0, elapsed)) * options.tickMs } ?? -1
                replica = .init(id: Int32(truncatingIfNeeded: member.id.rawValue),
                                logEndOffset: member.lastContactTick == nil ? -1 : Int64(member.match.rawValue),
                                lastFetchTimestamp: fetched, lastCaughtUpTimestamp: caughtUpAt[member.id] ?? -1)
            }
            if member.isLearner { observers.append(replica) } else { voters.append(replica) }
        }
        return Description(leaderID: Int32(truncatingIfNeeded: status.id.rawValue), leaderEpoch: Int32(truncatingIfNeeded: status.term.rawValue),
                           highWatermark: Int64(status.commit.rawValue), voters: voters, observers: observers)
    }

    /// Records, as leader, which members hold the whole log now or held the log as it was at
    /// the previous sample.
    private func sampleCaughtUp(now: Int64) {
        guard node.status.role == .leader else {
            caughtUpAt = [:]
            previousSample = nil
            return
        }
        let last = node.status.lastIndex
        for member in node.progressStatus where member.id != options.nodeID && member.lastContactTick != nil {
            if member.match >= last {
                caughtUpAt[member.id] = now
            } else if let previous = previousSample, member.match >= previous.lastIndex {
                caughtUpAt[member.id] = max(caughtUpAt[member.id] ?? -1, previous.atMs)
            }
        }
        previousSample = (last, now)
    }

    /// Steps messages that arrived from peers.
    func receive(_ messages: [RaftMessage]) {
        loop.preconditionInEventLoop()
        guard !stopped else { return }
        for message in messages where message.to == options.nodeID { node.step(message) }
        drain()
    }

    /// Proposes `records` as one entry; the future completes once it is applied here.
    func propose(_ records: [MetadataRecord]) -> EventLoopFuture<Void> {
        loop.preconditionInEventLoop()
        guard !stopped else { return loop.makeFailedFuture(ProposalError.shuttingDown) }
        guard isActiveController else { return loop.makeFailedFuture(ProposalError.notLeader(leader: node.status.leader)) }
        let index: LogIndex
        do {
            index = try node.propose(MetadataRecord.encodeBatch(records))
        } catch {
            return loop.makeFailedFuture(ProposalError.notLeader(leader: node.status.leader))
        }
        let promise = loop.makePromise(of: Void.self)
        let deadline = loop.scheduleTask(in: .milliseconds(options.proposalTimeoutMs)) { [weak self] in
            guard let self, let entry = self.pending.removeValue(forKey: index) else { return }
            entry.promise.fail(ProposalError.timedOut)
        }
        pending[index] = (node.status.term, promise, deadline)
        drain()
        return promise.futureResult
    }

    /// Whether `id` is a voter or learner of the group (as applied here).
    func isMember(_ id: NodeID) -> Bool { node.status.confState.isMember(id) }

    /// Leader only: proposes adding a broker-only node as a learner (it then receives the log).
    /// Refused while another membership change is in flight (the caller tries again later).
    func addLearner(_ id: NodeID) {
        loop.preconditionInEventLoop()
        guard !stopped, isActiveController, !isMember(id), !pendingLearners.contains(id) else { return }
        do {
            _ = try node.proposeConfChange(ConfChange(.addLearner, id))
            pendingLearners.insert(id)
            logger.info("metadata: adding node \(id) to the quorum as a learner")
            drain()
        } catch {
            logger.debug("metadata: adding learner \(id) must wait: \(error)")
        }
    }

    /// Broker-only nodes are learners: every member learns their address from their registration
    /// (the first listener it names), so whoever leads can send them the log.
    private func notePeers(_ records: [MetadataRecord]) {
        for case .registerBroker(let registration) in records {
            let id = NodeID(UInt64(registration.id.rawValue))
            guard id != options.nodeID, options.peers[id] == nil,
                  let endpoint = registration.listeners.first(where: { $0.name == options.interBrokerListenerName })
                    ?? registration.listeners.first else { continue }
            transport.setPeer(id, host: endpoint.host, port: Int(endpoint.port),
                              tls: endpoint.name == options.interBrokerListenerName ? options.interBrokerTLS : nil)
        }
    }

    /// Handles every Ready the node has (each may produce more work, e.g. a commit that needs
    /// a new append to be sent).
    private func drain() {
        while !stopped && node.hasReady {
            let ready = node.ready()
            do {
                try storage.save(snapshot: ready.snapshot, entries: ready.entries, hardState: ready.hardState)
            } catch {
                // Without durable Raft state this node must not vote or acknowledge anything.
                logger.critical("metadata log \(options.directory): \(error); the controller stops")
                stop(failing: .storage("\(error)"))
                return
            }
            transport.send(ready.messages)
            if let snapshot = ready.snapshot { restore(snapshot) }
            for entry in ready.committedEntries { apply(entry) }
            node.advance()
            noticeRoleChange(ready)
        }
        maybeSnapshot()
    }

    private func restore(_ snapshot: RaftSnapshot) {
        do {
            image = try MetadataImage.decodeSnapshot(snapshot.data)
            notePeers(image.brokers.values.map { .registerBroker($0) })
            logger.info("metadata: restored a snapshot at index \(snapshot.index) (metadata offset \(image.recordCount))")
            bytesSinceSnapshot = 0
            onApplied?(image, [])
        } catch {
            logger.critical("metadata: snapshot at index \(snapshot.index) does not decode: \(error)")
        }
    }

    private func apply(_ entry: Entry) {
        switch entry.kind {
        case .normal:
            do {
                let records = try MetadataRecord.decodeBatch(entry.data)
                image = try image.applying(records)
                notePeers(records)
                bytesSinceSnapshot += entry.data.count
                onApplied?(image, records)
            } catch {
                // Committed entries are identical on every node: a record that does not apply
                // is a bug in the controller that wrote it, and this node cannot go on safely.
                logger.critical("metadata: committed entry \(entry.index) does not apply: \(error)")
                stop(failing: .storage("entry \(entry.index) does not apply: \(error)"))
                return
            }
        case .noop:
            if node.status.role == .leader && entry.term == node.status.term && !isActiveController {
                isActiveController = true
                logger.info("metadata: node \(options.nodeID) is the active controller (term \(entry.term))")
                onActiveChange?(true)
            }
        case .confChange:
            if let change = ConfChange(decoding: entry.data) {
                node.applyConfChange(change)
                pendingLearners.remove(change.node)
            }
        }
        if let waiting = pending.removeValue(forKey: entry.index) {
            waiting.deadline.cancel()
            if waiting.term == entry.term { waiting.promise.succeed(()) } else { waiting.promise.fail(ProposalError.superseded) }
        }
    }

    private func noticeRoleChange(_ ready: Ready) {
        if ready.leader != lastLeader {
            lastLeader = ready.leader
            onLeaderChange?(ready.leader)
        }
        if ready.role != lastRole {
            lastRole = ready.role
            if ready.role != .leader && isActiveController {
                isActiveController = false
                logger.info("metadata: node \(options.nodeID) is no longer the active controller")
                onActiveChange?(false)
            }
        }
    }

    private func maybeSnapshot() {
        guard bytesSinceSnapshot >= options.snapshotBytes else { return }
        let applied = node.status.applied
        guard applied > storage.snapshot().index, let term = try? storage.term(at: applied) else { return }
        let snapshot = RaftSnapshot(index: applied, term: term, confState: node.status.confState, data: image.encodeSnapshot())
        do {
            try storage.compact(with: snapshot)
            bytesSinceSnapshot = 0
            logger.info("metadata: snapshot at index \(applied) (metadata offset \(image.recordCount), \(snapshot.data.count) bytes)")
        } catch {
            logger.error("metadata: writing a snapshot at index \(applied) failed: \(error)")
        }
    }

    private func stop(failing error: ProposalError) {
        stopped = true
        ticker?.cancel()
        for (_, waiting) in pending {
            waiting.deadline.cancel()
            waiting.promise.fail(error)
        }
        pending = [:]
        if isActiveController {
            isActiveController = false
            onActiveChange?(false)
        }
    }

    /// Stops ticking, fails pending proposals and closes the storage and connections.
    func shutdown() {
        loop.preconditionInEventLoop()
        guard !stopped else { return }
        stop(failing: .shuttingDown)
        transport.close()
        do { try storage.close() } catch { logger.error("metadata: closing \(options.directory): \(error)") }
    }
}
