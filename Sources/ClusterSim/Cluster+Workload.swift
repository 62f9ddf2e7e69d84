import ClusterMetadata
import RunnelCore

// The clients' side: topic creation, producers finding leaders from some node's metadata and
// retrying, consumers reading below the high watermark, and what an answer tells the checker.

extension Cluster {
    /// The admin creates the topics it has not seen created, one request every few ticks.
    mutating func workloadTick() {
        for topic in workload.topics where !workload.created.contains(topic.name)
            && nodes.contains(where: { $0.image.topic(TopicName(topic.name)) != nil }) {
            workload.created.insert(topic.name)
        }
        guard let topic = workload.topics.first(where: { !workload.created.contains($0.name) }),
              workload.lastAdminSent.map({ $0 + 4 <= now }) ?? true else { return }
        workload.lastAdminSent = now
        let to = running.isEmpty ? 1 : controllerAddress(random.pick(running))
        send(Message(from: Self.clientBase, to: to, body: .createTopic(name: topic.name, partitions: topic.partitions,
                                                                       replicationFactor: workload.replicationFactor,
                                                                       minISR: workload.minISR)))
    }

    mutating func produce() { produce(random.below(workload.producers.count)) }

    /// Producer `n` sends its next batch, or resends the one in flight once its wait is over.
    mutating func produce(_ n: Int) {
        var producer = workload.producers[n]
        if producer.pending != nil && producer.sentAt + Workload.produceTimeoutTicks > now && producer.attempts > 0 { return }
        if producer.pending == nil {
            var record = SimRecord(epoch: .none, value: workload.nextValue)
            workload.nextValue += 1
            if producer.idempotent {
                record.producerID = producer.producerID
                record.producerEpoch = producer.epoch
                record.sequence = producer.nextSequence
                producer.nextSequence += 1
            }
            producer.pending = ProduceRequest(id: workload.nextRequest, partition: producer.partition, acks: producer.acks,
                                              record: record)
            workload.nextRequest += 1
            producer.attempts = 0
        }
        // The client asks some node's metadata for the leader.
        let view = running.isEmpty ? nil : nodes[index(random.pick(running))].image
        guard let state = view?.partition(producer.partition.topic, producer.partition.partition), state.hasLeader else {
            workload.producers[n] = producer
            return
        }
        producer.attempts += 1
        producer.sentAt = now
        workload.producers[n] = producer
        if producer.attempts > Workload.attemptsMax { return giveUp(n) }
        let request = producer.pending!
        record("produce \(producer.address) -> \(state.leader) \(request.partition) \(request.record) acks=\(request.acks) try=\(producer.attempts)")
        send(Message(from: producer.address, to: Address(state.leader.rawValue), body: .produce(request)))
    }

    private mutating func giveUp(_ n: Int) {
        record("produce \(workload.producers[n].address) gives up request \(workload.producers[n].pending!.id)")
        workload.producers[n].pending = nil
        if workload.producers[n].idempotent {
            workload.producers[n].epoch += 1
            workload.producers[n].nextSequence = 0
        }
    }

    mutating func clientReceive(_ message: Message) {
        switch message.body {
        case .createTopicReply:
            break  // The admin believes the metadata it sees (a proposal can still be lost).
        case .produceReply(let reply):
            produceAnswered(reply, producer: message.to - Self.clientBase - 1)
        default:
            preconditionFailure("a node's message sent to a client")
        }
    }

    private mutating func produceAnswered(_ reply: ProduceReply, producer n: Int) {
        let producer = workload.producers[n]
        guard let pending = producer.pending, pending.id == reply.id else {
            // A late answer of an earlier attempt: an acknowledgement is still a promise.
            return
        }
        switch reply.error {
        case .none:
            if producer.acks == -1 { acknowledged(pending, at: reply.offset) } else { ackedOne += 1 }
            workload.producers[n].pending = nil
        case .outOfOrderSequenceNumber, .invalidProducerEpoch:
            giveUp(n)
        default:
            workload.producers[n].sentAt = 0  // retry at its next turn
        }
    }

    /// A consumer reads one partition from the broker some node's metadata names as leader,
    /// below that broker's high watermark; everything it reads must be the committed log.
    mutating func consume() {
        let partitions = workload.allPartitions
        let key = random.pick(partitions)
        guard !running.isEmpty,
              let state = nodes[index(random.pick(running))].image.partition(key.topic, key.partition), state.hasLeader,
              nodes[index(Address(state.leader.rawValue))].isRunning,
              let replica = nodes[index(Address(state.leader.rawValue))].replicas[key], replica.isLeader else { return }
        let from = workload.consumed[key] ?? .zero
        guard from < replica.highWatermark else { return }
        let log = committed[key] ?? []
        for offset in Int(from.rawValue)..<Int(replica.highWatermark.rawValue) {
            guard offset < log.count, log[offset] == replica.log[offset] else {
                return fail("inconsistent-read", "consumer of \(key) read \(replica.log[offset]) at \(offset) from broker \(state.leader); committed: \(offset < log.count ? log[offset].description : "nothing")")
            }
        }
        record("consume \(key) from \(state.leader) offsets \(from)..<\(replica.highWatermark)")
        workload.consumed[key] = replica.highWatermark
    }
}
