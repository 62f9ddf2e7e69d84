import KafkaMessages
import KafkaWire
import NIOCore
import RunnelCore

/// Moves sealed batches from the accumulator to partition leaders. Lives on the client's event
/// loop: every property is touched only there, so the send path takes no locks beyond the
/// accumulator's drain.
///
/// Per partition the sender keeps a queue ordered by batch creation. Up to
/// `inFlightRequestsPerConnectionMax` Produce requests are outstanding per broker, each with at
/// most one batch per partition, so a partition's batches are pipelined in order. When a batch
/// fails with a retriable error it goes back into its queue in creation order and the partition
/// stops sending until its other in-flight batches have come back and the backoff has passed;
/// then the batches are re-sent in order with unchanged bytes (and, when idempotent, unchanged
/// sequence numbers, so that the broker drops duplicates).
final class ProducerSender: @unchecked Sendable {
    // @unchecked: confined to the client's event loop (every entry point runs there).
    struct PartitionState {
        var queue: [ProducerBatch] = []
        var inFlight = 0
        var retrying = false
        var nextSequence: Int32 = 0
    }

    let client: KafkaClient
    let accumulator: RecordAccumulator
    let config: ProducerConfig
    let eventLoop: any EventLoop
    /// Producer id and epoch when idempotent.
    var producerIdentity: (ProducerID, Int16)?

    private var partitions: [TopicPartition: PartitionState] = [:]
    private var inFlightPerBroker: [BrokerID: Int] = [:]
    private var connections: [BrokerID: BrokerConnection] = [:]
    private var connecting: Set<BrokerID> = []
    private var refreshing: Set<String> = []
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    init(client: KafkaClient, accumulator: RecordAccumulator, config: ProducerConfig) {
        self.client = client
        self.accumulator = accumulator
        self.config = config
        self.eventLoop = client.eventLoop
    }

    /// One pass: take due batches, send what the in-flight limits allow, arm the timer.
    func run() {
        eventLoop.preconditionInEventLoop()
        let now = NIODeadline.now()
        let drained = accumulator.drain(now: now) { key in self.partitions[key]?.queue.isEmpty ?? true }
        for batch in drained.batches { enqueue(batch) }
        var nextWake = drained.nextDue
        var byLeader: [BrokerID: [TopicPartition]] = [:]
        for (key, state) in partitions where !state.queue.isEmpty {
            if let deadline = expireOldBatches(key, now: now) { nextWake = min(nextWake ?? deadline, deadline) }
            guard let state = partitions[key], let first = state.queue.first else { continue }
            if state.retrying {
                if state.inFlight > 0 { continue }
                if let after = first.retryAfter, after > now {
                    nextWake = min(nextWake ?? after, after)
                    continue
                }
                partitions[key]!.retrying = false
            }
            guard let leader = client.cachedLeader(topic: key.topic, partition: key.partition) else {
                refreshMetadata(key.topic)
                continue
            }
            byLeader[leader, default: []].append(key)
        }
        for (leader, keys) in byLeader { sendRequests(to: leader, keys: keys) }
        if let nextWake { arm(at: nextWake) }
    }

    private func enqueue(_ batch: ProducerBatch) {
        var state = partitions[batch.key] ?? PartitionState()
        if let last = state.queue.last, last.number > batch.number {
            let index = state.queue.firstIndex { $0.number > batch.number }!
            state.queue.insert(batch, at: index)
        } else {
            state.queue.append(batch)
        }
        partitions[batch.key] = state
    }

    /// Fails batches older than the delivery timeout; returns when the oldest remaining expires.
    private func expireOldBatches(_ key: TopicPartition, now: NIODeadline) -> NIODeadline? {
        let timeout = TimeAmount.milliseconds(config.deliveryTimeoutMs)
        guard var state = partitions[key] else { return nil }
        // Only batches not in flight can be expired; in-flight ones come back by themselves.
        while let first = state.queue.first, first.createdAt + timeout <= now {
            state.queue.removeFirst()
            let error = first.lastError ?? .kafka(code: .requestTimedOut, message: "not delivered within \(config.deliveryTimeoutMs) ms",
                                                  context: "produce to \(key.topic)[\(key.partition)]")
            fail(first, error)
        }
        partitions[key] = state
        return state.queue.first.map { $0.createdAt + timeout }
    }

    private func sendRequests(to leader: BrokerID, keys: [TopicPartition]) {
        guard let connection = connections[leader], connection.isActive else {
            connections[leader] = nil
            connect(to: leader)
            return
        }
        while inFlightPerBroker[leader, default: 0] < config.inFlightRequestsPerConnectionMax {
            var batches: [ProducerBatch] = []
            for key in keys {
                guard var state = partitions[key], !state.retrying, !state.queue.isEmpty else { continue }
                let batch = state.queue.removeFirst()
                assignSequence(batch, &state)
                state.inFlight += 1
                partitions[key] = state
                batches.append(batch)
            }
            if batches.isEmpty { return }
            send(batches, to: leader, over: connection)
        }
    }

    private func assignSequence(_ batch: ProducerBatch, _ state: inout PartitionState) {
        guard let (producerId, epoch) = producerIdentity, batch.baseSequence == nil else { return }
        let sequence = state.nextSequence
        batch.baseSequence = sequence
        state.nextSequence = Int32((Int64(sequence) + Int64(batch.recordCount)) % (Int64(Int32.max) + 1))
        RecordBatchBuilder.setProducerState(in: &batch.records, producerId: producerId, producerEpoch: epoch,
                                            baseSequence: sequence)
    }

    private func send(_ batches: [ProducerBatch], to leader: BrokerID, over connection: BrokerConnection) {
        var topics: [String: [ProduceRequest.PartitionProduceData]] = [:]
        var order: [String] = []
        for batch in batches {
            batch.sends += 1
            if topics[batch.key.topic] == nil { order.append(batch.key.topic) }
            topics[batch.key.topic, default: []].append(.init(index: batch.key.partition.rawValue, records: batch.records))
        }
        let request = ProduceRequest(transactionalId: nil, acks: config.acks.rawValue, timeoutMs: config.requestTimeoutMs,
                                     topicData: order.map { .init(name: $0, partitionData: topics[$0]!) })
        inFlightPerBroker[leader, default: 0] += 1
        if config.acks == .none {
            connection.sendWithoutResponse(request).whenComplete { result in
                switch result {
                case .success: self.finished(batches, leader: leader, response: nil, error: nil)
                case .failure(let error): self.finished(batches, leader: leader, response: nil, error: error)
                }
            }
        } else {
            let timeoutMs = Int64(config.requestTimeoutMs) + client.config.requestTimeoutMs
            connection.send(request, timeoutMs: timeoutMs).whenComplete { result in
                switch result {
                case .success(let response): self.finished(batches, leader: leader, response: response, error: nil)
                case .failure(let error): self.finished(batches, leader: leader, response: nil, error: error)
                }
            }
        }
    }

    private func finished(_ batches: [ProducerBatch], leader: BrokerID, response: ProduceResponse?, error: (any Error)?) {
        inFlightPerBroker[leader, default: 1] -= 1
        for batch in batches { partitions[batch.key]?.inFlight -= 1 }
        if let error {
            connections[leader] = nil
            let clientError = (error as? KafkaClientError) ?? .connectionClosed(address: "broker \(leader)", reason: "\(error)")
            for batch in batches { retryOrFail(batch, clientError) }
        } else if let response {
            var results: [TopicPartition: ProduceResponse.PartitionProduceResponse] = [:]
            for topic in response.responses {
                for partition in topic.partitionResponses {
                    results[TopicPartition(topic: topic.name, partition: PartitionID(partition.index))] = partition
                }
            }
            for batch in batches { handle(batch, results[batch.key]) }
        } else {
            // acks=0: written is all we will ever know.
            for batch in batches { succeed(batch, baseOffset: nil, logAppendTime: nil) }
        }
        run()
    }

    private func handle(_ batch: ProducerBatch, _ result: ProduceResponse.PartitionProduceResponse?) {
        guard let result else {
            fail(batch, .protocolViolation(address: "broker", detail: "Produce response has no entry for \(batch.key.topic)[\(batch.key.partition)]"))
            return
        }
        let code = KafkaErrorCode(result.errorCode)
        switch code {
        case .none:
            succeed(batch, baseOffset: Offset(result.baseOffset),
                    logAppendTime: result.logAppendTimeMs >= 0 ? TimestampMs(result.logAppendTimeMs) : nil)
        case .duplicateSequenceNumber:
            succeed(batch, baseOffset: nil, logAppendTime: nil)
        default:
            var message = result.errorMessage
            if message == nil, let first = result.recordErrors.first?.batchIndexErrorMessage { message = first }
            retryOrFail(batch, .kafka(code: code, message: message, context: "produce to \(batch.key.topic)[\(batch.key.partition)]"))
        }
    }

    private func retryOrFail(_ batch: ProducerBatch, _ error: KafkaClientError) {
        var retriable = error.isTransient
        if case .kafka(let code, _, _) = error {
            if code == .outOfOrderSequenceNumber && producerIdentity != nil { retriable = true }
            if code.invalidatesMetadata { refreshMetadata(batch.key.topic) }
        }
        guard retriable, batch.sends <= config.retries, config.acks != .none || batch.sends == 1 else {
            fail(batch, error)
            return
        }
        batch.lastError = error
        batch.retryAfter = .now() + .milliseconds(config.retryBackoffMs)
        enqueue(batch)
        partitions[batch.key]!.retrying = true
    }

    private func succeed(_ batch: ProducerBatch, baseOffset: Offset?, logAppendTime: TimestampMs?) {
        batch.promise.succeed(BatchDelivery(topic: batch.key.topic, partition: batch.key.partition,
                                            baseOffset: baseOffset, logAppendTime: logAppendTime,
                                            recordCount: batch.recordCount, sizeBytes: batch.records.readableBytes,
                                            uncompressedBytes: batch.accountedBytes))
        accumulator.completed(batch, error: nil)
    }

    private func fail(_ batch: ProducerBatch, _ error: KafkaClientError) {
        batch.promise.fail(error)
        accumulator.completed(batch, error: error)
    }

    private func connect(to leader: BrokerID) {
        guard !connecting.contains(leader) else { return }
        connecting.insert(leader)
        client.connection(to: leader).hop(to: eventLoop).whenComplete { result in
            self.connecting.remove(leader)
            switch result {
            case .success(let connection):
                self.connections[leader] = connection
                self.run()
            case .failure(let error):
                // Keep the batches; metadata may name a new leader. Try again after a backoff.
                let clientError = (error as? KafkaClientError) ?? .brokerUnreachable(address: "broker \(leader)", reason: "\(error)")
                for (key, state) in self.partitions where self.client.cachedLeader(topic: key.topic, partition: key.partition) == leader {
                    for batch in state.queue { batch.lastError = clientError }
                    self.refreshMetadata(key.topic)
                }
                self.arm(at: .now() + .milliseconds(self.config.retryBackoffMs))
            }
        }
    }

    private func refreshMetadata(_ topic: String) {
        guard !refreshing.contains(topic) else { return }
        refreshing.insert(topic)
        let client = self.client
        let promise = eventLoop.makePromise(of: Void.self)
        promise.completeWithTask {
            _ = try? await client.fetchMetadata(topics: [topic])
        }
        promise.futureResult.whenComplete { _ in
            self.refreshing.remove(topic)
            if let count = client.metadata.topics[topic]?.partitionCount {
                self.accumulator.setPartitionCount(topic: topic, count: count)
            }
            self.arm(at: .now() + .milliseconds(self.config.retryBackoffMs))
        }
    }

    private func arm(at deadline: NIODeadline) {
        if let current = timerDeadline, current <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = eventLoop.scheduleTask(deadline: deadline) {
            self.timerDeadline = nil
            self.timer = nil
            self.run()
        }
    }
}
