import ClusterMetadata
import RaftCore
import Replication
import RunnelCore

// A broker's side of the cluster: delivering messages, the periodic work of `BrokerLifecycle`
// (register, heartbeat), the leader's ISR checks and AlterPartition (Broker+Replication), the
// produce handler's rules (00_Produce) and the fsyncs that complete on the disk.

extension Cluster {
    mutating func deliver(_ message: Message) {
        if message.to >= Self.clientBase {
            record("deliver \(message.from)->\(message.to) \(describe(message.body))")
            return clientReceive(message)
        }
        let i = index(message.to)
        guard nodes[i].isUp else { return record("drop \(message.from)->\(message.to) \(describe(message.body)) (down)") }
        record("deliver \(message.from)->\(message.to) \(describe(message.body))")
        switch message.body {
        case .raft(let raftMessage):
            nodes[i].raft!.step(raftMessage)
        case .register, .heartbeat, .alterPartition, .createTopic:
            handleControllerRequest(message)
        case .registered(let incarnation, let epoch):
            // A retried registration answers with a later epoch: the latest one counts.
            if incarnation == nodes[i].incarnation, let epoch, epoch > nodes[i].brokerEpoch ?? -1 {
                nodes[i].brokerEpoch = epoch
                nodes[i].lastHeartbeatSent = 0
            }
        case .heartbeatReply(let code, let fenced):
            if code == .staleBrokerEpoch || code == .brokerIDNotRegistered { nodes[i].brokerEpoch = nil }
            // BrokerRuntime: a combined node binds its client listener (produce and fetch, the
            // replicas' included) once the controller unfenced it, never before in a life.
            if code == .none && !fenced && !nodes[i].serving {
                nodes[i].serving = true
                record("serving \(message.to) (unfenced)")
            }
        case .alterPartitionReply(let change, let answer, let id):
            isrAnswered(at: message.to, change, answer, id: id)
        case .fetch(let request):
            serveFetch(request, from: message.from, at: message.to)
        case .fetchReply(let reply):
            applyFetchReply(reply, at: message.to)
        case .produce(let request):
            handleProduce(request, from: message.from, at: message.to)
        case .createTopicReply, .produceReply:
            preconditionFailure("a client's answer sent to a node")
        }
    }

    /// Where this node sends controller requests: the quorum leader it knows, else any voter.
    mutating func controllerAddress(_ address: Address) -> Address {
        let leader = nodes[index(address)].raft?.status.leader ?? .none
        return leader != .none ? Address(leader.rawValue) : 1 + random.below(options.nodes)
    }

    mutating func brokerTick(_ address: Address) {
        let i = index(address)
        // BrokerRuntime: the replicas open and take their roles once the metadata replayed at
        // start-up caught up (`waitForMetadata`: a quorum leader known, everything committed
        // applied; then `finishStartup`), not batch by batch through history. A broker-only
        // node's client listener is bound from the start (the metadata log reaches it there), so
        // it serves from then (`Broker.metadataCaughtUp`); a combined node once unfenced.
        if !nodes[i].caughtUp, let raft = nodes[i].raft, raft.status.leader != .none, nodes[i].applied >= raft.status.commit {
            nodes[i].caughtUp = true
            record("caught up \(address) at \(nodes[i].applied)")
            adoptImage(address)
            if !nodes[i].isVoter {
                nodes[i].serving = true
                record("serving \(address) (metadata caught up)")
            }
        }
        // A combined node registers once it caught up (`ServerNode.finishStartup`); a broker-only
        // node registers first (the controller adds it to the quorum).
        guard nodes[i].caughtUp || !nodes[i].isVoter else { return }
        if nodes[i].brokerEpoch == nil {
            if nodes[i].lastRegisterSent.map({ $0 + Self.registerRetryTicks <= now }) ?? true {
                nodes[i].lastRegisterSent = now
                let request = MetadataController.RegistrationRequest(id: nodes[i].broker, incarnation: nodes[i].incarnation,
                                                                     listeners: [], rack: nil)
                send(Message(from: address, to: controllerAddress(address), body: .register(request)))
            }
        } else if nodes[i].lastHeartbeatSent + Self.heartbeatTicks <= now {
            nodes[i].lastHeartbeatSent = now
            let heartbeat = MetadataController.Heartbeat(id: nodes[i].broker, epoch: nodes[i].brokerEpoch!,
                                                         metadataOffset: nodes[i].image.recordCount)
            send(Message(from: address, to: controllerAddress(address), body: .heartbeat(heartbeat)))
        }
        for key in nodes[i].replicas.keys.sorted() {
            nodes[i].replicas[key]!.expireWaiters(now: now)
            if nodes[i].replicas[key]!.isLeader {
                leaderTick(address, key)
            } else {
                maybeFetch(address, key)
            }
            sendAnswers(address, key)
        }
    }

    /// The leader's periodic ISR check (every replica.lag.time.max.ms / 2, `Broker.checkISRs`;
    /// the broker also checks at each follower fetch, with the same rule), the timeout of each
    /// AlterPartition that got no answer and the resend of a pending change an answer did not
    /// settle (`Broker.resendISR`).
    private mutating func leaderTick(_ address: Address, _ key: TopicPartition) {
        let i = index(address)
        let expired = nodes[i].replicas[key]!.isrRequests.filter { $0.value.sentAt + Self.requestTimeoutTicks <= now }
        for (id, request) in expired.sorted(by: { $0.key < $1.key }) {
            nodes[i].replicas[key]!.isrRequests[id] = nil
            record("isr-timeout \(address) \(key) #\(id)")
            settled(.notDelivered, proposedEpoch: request.leaderEpoch, proposedISR: request.isr, at: address, key)
        }
        if let at = nodes[i].replicas[key]!.isrResendAt, at <= now {
            nodes[i].replicas[key]!.isrResendAt = nil
            if let pending = nodes[i].replicas[key]!.leaderState?.pendingISR { proposeISR(pending, at: address, key) }
        }
        guard now % Self.isrCheckTicks == 0,
              let change = nodes[i].replicas[key]!.isrChange(now: nowMs, lagTimeMs: Self.replicaLagTimeMs),
              ReplicaRules.mayPropose(change, isr: nodes[i].replicas[key]!.leaderState?.isr ?? [], usable: nodes[i].image.isUsable)
        else { return }
        proposeISR(change, at: address, key)
    }

    /// `Broker.proposeISR`: the change becomes pending (unless it is the pending one, sent
    /// again) and goes to the controller with the replica's leader and partition epochs; without
    /// a registration it waits for the resend.
    mutating func proposeISR(_ isr: [BrokerID], at address: Address, _ key: TopicPartition) {
        let i = index(address)
        guard let state = nodes[i].replicas[key]!.leaderState else { return }
        if state.pendingISR != isr {
            nodes[i].replicas[key]!.leaderState!.proposed(isr)
            record("isr-propose \(address) \(key) \(state.isr) -> \(isr)")
        }
        guard let brokerEpoch = nodes[i].brokerEpoch else {
            nodes[i].replicas[key]!.isrResendAt = now + Self.isrRetryTicks
            return
        }
        nextRequestID += 1
        nodes[i].replicas[key]!.isrRequests[nextRequestID] = .init(sentAt: now, isr: isr, leaderEpoch: state.leaderEpoch)
        let change = MetadataController.ISRChange(topic: key.topic, partition: key.partition, leaderEpoch: state.leaderEpoch,
                                                  partitionEpoch: nodes[i].replicas[key]!.partitionEpoch, newISR: isr)
        send(Message(from: address, to: controllerAddress(address),
                     body: .alterPartition(change, brokerEpoch: brokerEpoch, id: nextRequestID)))
    }

    /// The controller's answer to an ISR change (the callback in `Broker.proposeISR`). An answer
    /// to a request that already timed out (or whose leadership ended) is dropped, as the shell's
    /// connection drops it: each request ends once.
    private mutating func isrAnswered(at address: Address, _ change: MetadataController.ISRChange, _ answer: ReplicaRules.ISRAnswer,
                                      id: UInt64) {
        let key = TopicPartition(change.topic, change.partition)
        guard nodes[index(address)].replicas[key]?.isrRequests.removeValue(forKey: id) != nil else { return }
        settled(answer, proposedEpoch: change.leaderEpoch, proposedISR: change.newISR, at: address, key)
    }

    private mutating func settled(_ answer: ReplicaRules.ISRAnswer, proposedEpoch: LeaderEpoch, proposedISR: [BrokerID], at address: Address,
                                  _ key: TopicPartition) {
        let i = index(address)
        let settlement = nodes[i].replicas[key]!.isrChangeAnswered(answer, proposedEpoch: proposedEpoch, proposedISR: proposedISR, now: nowMs)
        record("isr-answer \(address) \(key) \(settlement)")
        if settlement == .resend { nodes[i].replicas[key]!.isrResendAt = now + Self.isrRetryTicks }
        sendAnswers(address, key)
    }

    /// Sends the produce answers the replica decided (acks=all waiters done, failed or expired).
    mutating func sendAnswers(_ address: Address, _ key: TopicPartition) {
        let i = index(address)
        guard let answered = nodes[i].replicas[key]?.answered, !answered.isEmpty else { return }
        nodes[i].replicas[key]!.answered = []
        for (waiter, code) in answered {
            let reply = ProduceReply(id: waiter.request.id, partition: key, error: code, offset: waiter.offset)
            send(Message(from: address, to: waiter.client, body: .produceReply(reply)))
        }
    }

    /// The produce handler for one partition (00_Produce + Partition.append): only the leader
    /// takes it; acks=all needs min.insync.replicas in the ISR before the append; an idempotent
    /// producer's retried batch gets its original offset; acks=1 answers now, acks=all once the
    /// high watermark passes the batch.
    mutating func handleProduce(_ request: ProduceRequest, from client: Address, at address: Address) {
        let i = index(address)
        let key = request.partition
        let answer = { (code: KafkaErrorCode, offset: Offset) in
            Message(from: address, to: client, body: .produceReply(ProduceReply(id: request.id, partition: key, error: code,
                                                                              offset: offset)))
        }
        guard nodes[i].serving, let replica = nodes[i].replicas[key], let state = replica.leaderState else {
            return send(answer(.notLeaderOrFollower, Offset(-1)))
        }
        let minISR = Int(nodes[i].image.topic(key.topic)?.configs["min.insync.replicas"] ?? "1") ?? 1
        if request.acks == -1 && !state.acceptsAcksAll(minISR: minISR) { return send(answer(.notEnoughReplicas, Offset(-1))) }
        let offset: Offset
        let end: Offset
        let r = request.record
        switch r.producerID >= 0 ? replica.producers.check(producerId: r.producerID, epoch: r.producerEpoch,
                                                           firstSequence: r.sequence, lastSequence: r.sequence) : .append {
        case .append:
            offset = nodes[i].replicas[key]!.append(r)
            end = offset + 1
            checkAppendedOnce(address, key)
        case .duplicate(let original):
            offset = original.baseOffset
            end = replica.logEnd
        case .refuse(let code, _):
            return send(answer(KafkaErrorCode(code), Offset(-1)))
        }
        record("append \(address) \(key) offset=\(offset) \(r) acks=\(request.acks)")
        if request.acks == 1 || canary == .earlyAck { return send(answer(.none, offset)) }
        nodes[i].replicas[key]!.waitForAcks(.init(request: request, client: client, offset: offset, end: end, minISR: minISR,
                                                 deadline: now + Self.ackTimeoutTicks))
        sendAnswers(address, key)
    }

    /// An fsync on `address` completes: every replica's log is durable; leaders' positions move.
    mutating func sync(_ address: Address) {
        let i = index(address)
        record("fsync \(address)")
        for key in nodes[i].replicas.keys.sorted() {
            _ = nodes[i].replicas[key]!.synced()
            sendAnswers(address, key)
            if nodes[i].replicas[key]!.awaitingSync {
                nodes[i].replicas[key]!.awaitingSync = false
                maybeFetch(address, key)
            }
        }
    }
}
