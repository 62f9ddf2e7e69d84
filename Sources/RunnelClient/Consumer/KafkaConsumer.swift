import KafkaMessages
import KafkaWire
import NIOCore
import RunnelCore

/// A consumer in assign mode (no group): it reads the partitions it is given from the offsets it
/// is given. `poll` sends one Fetch to each partition leader (concurrently), decodes the batches
/// and returns the records at or after each partition's position, in offset order per partition.
///
/// Not thread-safe: use one consumer from one task.
public final class KafkaConsumer {
    public let client: KafkaClient
    public let config: ConsumerConfig

    struct Assignment {
        var position: Offset
        /// From the latest fetch response (nil before the first).
        var highWatermark: Offset?
        var logStartOffset: Offset?
    }

    private var assignments: [TopicPartition: Assignment] = [:]

    public init(client: KafkaClient, config: ConsumerConfig = ConsumerConfig()) {
        self.client = client
        self.config = config
    }

    /// Adds partitions of `topic` (all of them when nil) starting at `start`.
    public func assign(topic: String, partitions: [PartitionID]? = nil, at start: StartOffset) async throws {
        let partitions = try await client.topicPartitions(topic, partitions)
        let positions = try await resolve(topic: topic, partitions: partitions, start: start)
        for (partition, position) in positions {
            assignments[TopicPartition(topic: topic, partition: partition)] = Assignment(position: position)
        }
    }

    /// Stops fetching these partitions of `topic` and forgets their positions.
    public func unassign(topic: String, partitions: [PartitionID]) {
        for partition in partitions { assignments[TopicPartition(topic: topic, partition: partition)] = nil }
    }

    /// true when no partition is assigned (`poll` would throw).
    public var hasNoAssignment: Bool { assignments.isEmpty }

    /// The next offset `poll` returns for a partition.
    public func position(topic: String, partition: PartitionID) -> Offset? {
        assignments[TopicPartition(topic: topic, partition: partition)]?.position
    }

    /// Moves a partition's position.
    public func seek(topic: String, partition: PartitionID, to offset: Offset) {
        assignments[TopicPartition(topic: topic, partition: partition)]?.position = offset
    }

    /// true when every assigned partition's position has reached its high watermark as of the
    /// latest fetch (after one poll at least).
    public var isAtEnd: Bool {
        assignments.values.allSatisfy { assignment in
            guard let highWatermark = assignment.highWatermark else { return false }
            return assignment.position >= highWatermark
        }
    }

    /// Positions and the latest known high watermarks, by topic and partition.
    public var progress: [(topic: String, partition: PartitionID, position: Offset, highWatermark: Offset?)] {
        assignments.map { ($0.key.topic, $0.key.partition, $0.value.position, $0.value.highWatermark) }
            .sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    /// Sets the high watermarks from ListOffsets(latest), so that `isAtEnd` is meaningful
    /// before the first fetch (used for "exit at end" on an idle topic).
    public func loadEndOffsets() async throws {
        let topics = Set(assignments.keys.map(\.topic))
        for topic in topics {
            let partitions = assignments.keys.filter { $0.topic == topic }.map(\.partition)
            for listed in try await client.listOffsets(topic: topic, partitions: partitions, spec: .latest) {
                let key = TopicPartition(topic: topic, partition: listed.partition)
                assignments[key]?.highWatermark = listed.offset
            }
        }
    }

    /// One round of fetches. Returns the records (possibly none after maxWaitMs).
    public func poll() async throws -> [ConsumerRecord] {
        guard !assignments.isEmpty else { throw KafkaClientError.invalidArgument("no partitions assigned") }
        var byLeader: [BrokerID: [TopicPartition]] = [:]
        var leaderless = false
        for key in assignments.keys.sorted(by: { ($0.topic, $0.partition) < ($1.topic, $1.partition) }) {
            if let leader = client.cachedLeader(topic: key.topic, partition: key.partition) {
                byLeader[leader, default: []].append(key)
            } else {
                leaderless = true
            }
        }
        if leaderless {
            for topic in Set(assignments.keys.map(\.topic)) { _ = try? await client.topicMetadata(topic, refresh: true) }
            if byLeader.isEmpty {
                try await Task.sleep(nanoseconds: UInt64(client.config.retryBackoffMs) * 1_000_000)
                return []
            }
        }
        // Send to every leader first, then collect: the fetches long-poll concurrently.
        var pending: [(BrokerID, [TopicPartition], EventLoopFuture<FetchResponse>)] = []
        for (leader, keys) in byLeader {
            pending.append((leader, keys, fetch(from: leader, keys: keys)))
        }
        var records: [ConsumerRecord] = []
        for (_, keys, future) in pending {
            let response: FetchResponse
            do {
                response = try await future.get()
            } catch let error as KafkaClientError where error.isTransient {
                for topic in Set(keys.map(\.topic)) { _ = try? await client.topicMetadata(topic, refresh: true) }
                continue
            }
            guard response.errorCode == 0 else {
                throw KafkaClientError.kafka(code: KafkaErrorCode(response.errorCode), message: nil, context: "fetch")
            }
            for topic in response.responses {
                for partition in topic.partitions {
                    let key = TopicPartition(topic: topic.topic, partition: PartitionID(partition.partitionIndex))
                    try await absorb(partition, key: key, into: &records)
                }
            }
        }
        return records
    }

    private func fetch(from leader: BrokerID, keys: [TopicPartition]) -> EventLoopFuture<FetchResponse> {
        let config = self.config
        var topics: [String: [FetchRequest.FetchPartition]] = [:]
        var order: [String] = []
        for key in keys {
            var partition = FetchRequest.FetchPartition()
            partition.partition = key.partition.rawValue
            partition.fetchOffset = assignments[key]!.position.rawValue
            partition.partitionMaxBytes = config.partitionMaxBytes
            if topics[key.topic] == nil { order.append(key.topic) }
            topics[key.topic, default: []].append(partition)
        }
        var request = FetchRequest()
        request.replicaId = -1
        request.maxWaitMs = config.maxWaitMs
        request.minBytes = config.minBytes
        request.maxBytes = config.maxBytes
        request.isolationLevel = 0
        request.sessionId = 0
        request.sessionEpoch = -1
        request.topics = order.map { name in
            var topic = FetchRequest.FetchTopic()
            topic.topic = name
            topic.partitions = topics[name]!
            return topic
        }
        let timeoutMs = client.config.requestTimeoutMs + Int64(config.maxWaitMs)
        return client.connection(to: leader).flatMap { connection in
            connection.send(request, timeoutMs: timeoutMs)
        }
    }

    /// Folds one partition's fetch result into the positions and `records`.
    private func absorb(_ data: FetchResponse.PartitionData, key: TopicPartition, into records: inout [ConsumerRecord]) async throws {
        guard var assignment = assignments[key] else { return }
        let code = KafkaErrorCode(data.errorCode)
        switch code {
        case .none:
            break
        case .offsetOutOfRange:
            try await reset(key, from: assignment.position)
            return
        default:
            if code.isRetriable {
                _ = try? await client.topicMetadata(key.topic, refresh: true)
                return
            }
            throw KafkaClientError.kafka(code: code, message: nil, context: "fetch \(key.topic)[\(key.partition)]")
        }
        assignment.highWatermark = Offset(data.highWatermark)
        if data.logStartOffset >= 0 { assignment.logStartOffset = Offset(data.logStartOffset) }
        if let bytes = data.records?.buffer, bytes.readableBytes > 0 {
            var decoder = RecordBatchDecoder(bytes, decompressedBytesMax: config.decompressedBytesMax, verifyCRC: config.verifyCRC)
            do {
                while let batch = try decoder.next() {
                    defer { assignment.position = max(assignment.position, batch.nextOffset) }
                    if batch.isControl { continue }
                    for record in batch.records where record.offset >= assignment.position {
                        records.append(ConsumerRecord(topic: key.topic, partition: key.partition, offset: record.offset,
                                                      timestamp: record.timestamp, key: record.key, value: record.value,
                                                      headers: record.headers))
                    }
                }
            } catch {
                throw KafkaClientError.protocolViolation(
                    address: "broker", detail: "bad record batch in \(key.topic)[\(key.partition)] near offset \(assignment.position): \(error)")
            }
        }
        assignments[key] = assignment
    }

    /// Handles OFFSET_OUT_OF_RANGE according to `config.offsetReset`, and reports the move
    /// through `config.onOffsetReset`.
    private func reset(_ key: TopicPartition, from position: Offset) async throws {
        let earliest = try await client.listOffsets(topic: key.topic, partitions: [key.partition], spec: .earliest).first?.offset
        let latest = try await client.listOffsets(topic: key.topic, partitions: [key.partition], spec: .latest).first?.offset
        let target: Offset?
        switch config.offsetReset {
        case .earliest: target = earliest
        case .latest: target = latest
        case .nearest: target = (earliest.map { position < $0 } ?? false) ? earliest : latest
        case .fail: throw Self.outOfRange(key, position: position, logStartOffset: earliest, logEndOffset: latest)
        }
        assignments[key]?.position = target ?? .zero
        assignments[key]?.highWatermark = latest
        config.onOffsetReset?(OffsetReset(topic: key.topic, partition: key.partition, from: position, to: target ?? .zero,
                                          logStartOffset: earliest, logEndOffset: latest))
    }

    /// OFFSET_OUT_OF_RANGE for `position`, saying on which side of the log it lies.
    static func outOfRange(_ key: TopicPartition, position: Offset, logStartOffset: Offset?, logEndOffset: Offset?) -> KafkaClientError {
        KafkaClientError.kafka(code: .offsetOutOfRange,
                               message: OffsetReset.whereIs(position, logStartOffset: logStartOffset, logEndOffset: logEndOffset),
                               context: "fetch \(key.topic)[\(key.partition)]")
    }

    /// With `offsetReset == .fail`, an explicit start offset outside a partition's log is an
    /// error now, before any fetch: otherwise a consumer told to stop at the end would stop
    /// silently, its position being beyond the end already.
    private func checkInRange(_ offset: Offset, topic: String, partitions: [PartitionID]) async throws {
        let earliest = try await client.listOffsets(topic: topic, partitions: partitions, spec: .earliest)
        let latest = try await client.listOffsets(topic: topic, partitions: partitions, spec: .latest)
        for partition in partitions {
            let start = earliest.first { $0.partition == partition }?.offset
            let end = latest.first { $0.partition == partition }?.offset
            if start.map({ offset < $0 }) == true || end.map({ offset > $0 }) == true {
                throw Self.outOfRange(TopicPartition(topic: topic, partition: partition), position: offset,
                                      logStartOffset: start, logEndOffset: end)
            }
        }
    }

    /// Start offsets for `start`.
    private func resolve(topic: String, partitions: [PartitionID], start: StartOffset) async throws -> [(PartitionID, Offset)] {
        switch start {
        case .offset(let offset):
            if config.offsetReset == .fail { try await checkInRange(offset, topic: topic, partitions: partitions) }
            return partitions.map { ($0, offset) }
        case .beginning, .end:
            let listed = try await client.listOffsets(topic: topic, partitions: partitions, spec: start == .beginning ? .earliest : .latest)
            return listed.map { ($0.partition, $0.offset ?? .zero) }
        case .timestamp(let time):
            let listed = try await client.listOffsets(topic: topic, partitions: partitions, spec: .timestamp(time))
            var result: [(PartitionID, Offset)] = []
            var needEnd: [PartitionID] = []
            for entry in listed {
                if let offset = entry.offset { result.append((entry.partition, offset)) } else { needEnd.append(entry.partition) }
            }
            if !needEnd.isEmpty {
                for entry in try await client.listOffsets(topic: topic, partitions: needEnd, spec: .latest) {
                    result.append((entry.partition, entry.offset ?? .zero))
                }
            }
            return result
        }
    }
}
