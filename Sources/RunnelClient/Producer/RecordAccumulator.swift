import KafkaWire
import NIOCore
import RunnelCore

/// Per-partition open batches that callers append to from any thread, under one lock.
///
/// A record is encoded straight into its partition's `RecordBatchBuilder`; nothing else is
/// allocated per record. A batch leaves the accumulator when it is full (sealed by the appender,
/// which also compresses it, outside the lock) or when the sender drains it after `lingerMs`.
/// The sender learns about work through `wake`, which schedules at most one pending run.
final class RecordAccumulator: @unchecked Sendable {
    // @unchecked: all mutable state is in `state`.
    struct OpenBatch {
        var builder: RecordBatchBuilder
        let promise: EventLoopPromise<BatchDelivery>
        let number: UInt64
        let createdAt: NIODeadline
    }

    struct TopicState {
        var partitionCount: Int
        var open: [OpenBatch?]
        /// Partition for records without key or explicit partition; moves on when its batch fills.
        var sticky: Int = 0
    }

    struct State {
        /// Topic name → index in `topicStates`.
        var topicIndex: [String: Int] = [:]
        var topicNames: [String] = []
        var topicStates: [TopicState] = []
        /// The topic of the latest append (most producers send to one topic): spares hashing
        /// the name on every record.
        var lastTopic: (name: String, index: Int)?
        /// Sealed (full) batches not yet taken by the sender.
        var full: [ProducerBatch] = []
        var bufferedBytes = 0
        var spaceWaiter: EventLoopPromise<Void>?
        var wakePending = false
        /// Open plus sealed batches not yet completed.
        var outstandingBatches = 0
        var flushWaiters: [EventLoopPromise<Void>] = []
        var flushing = 0
        var firstError: KafkaClientError?
        var nextBatchNumber: UInt64 = 0
        var closed = false
    }

    let config: ProducerConfig
    let eventLoop: any EventLoop
    let state = Locked(State())
    /// Set once by the producer; runs the sender on the event loop.
    var wakeSender: () -> Void = {}

    init(config: ProducerConfig, eventLoop: any EventLoop) {
        self.config = config
        self.eventLoop = eventLoop
    }

    enum AppendResult {
        case appended(DeliveryHandle)
        case needsMetadata
        case bufferFull(EventLoopFuture<Void>)
        case partitionOutOfRange(Int)
        case closed
    }

    /// Registers or updates a topic's partition count (from metadata).
    func setPartitionCount(topic: String, count: Int) {
        state.withLock { state in
            if let index = state.topicIndex[topic] {
                let existing = state.topicStates[index].partitionCount
                guard count > existing else { return }
                state.topicStates[index].open += Array(repeating: nil, count: count - existing)
                state.topicStates[index].partitionCount = count
            } else {
                state.topicIndex[topic] = state.topicStates.count
                state.topicNames.append(topic)
                state.topicStates.append(TopicState(partitionCount: count, open: Array(repeating: nil, count: count),
                                                    sticky: Int.random(in: 0..<count)))
            }
        }
    }

    func append(topic: String, partition: PartitionID?, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?,
                headers: [RecordHeader], timestamp: TimestampMs) -> AppendResult {
        var sealed: (OpenBatch, TopicPartition)?
        var wake = false
        let result: AppendResult = state.withLock { state in
            if state.closed { return .closed }
            if state.bufferedBytes >= config.bufferBytesMax {
                let waiter = state.spaceWaiter ?? eventLoop.makePromise(of: Void.self)
                state.spaceWaiter = waiter
                return .bufferFull(waiter.futureResult)
            }
            let topicIndex: Int
            if let last = state.lastTopic, last.name == topic {
                topicIndex = last.index
            } else {
                guard let found = state.topicIndex[topic] else { return .needsMetadata }
                topicIndex = found
                state.lastTopic = (topic, found)
            }
            // Everything below mutates `state.topicStates[topicIndex]` in place: a copy of the
            // topic's state would share the open batch's buffer, and the append would then copy
            // the whole batch (copy-on-write) for every record.
            let partitionCount = state.topicStates[topicIndex].partitionCount
            let index: Int
            if let partition {
                guard partition.rawValue >= 0, Int(partition.rawValue) < partitionCount else {
                    return .partitionOutOfRange(partitionCount)
                }
                index = Int(partition.rawValue)
            } else if let key {
                index = Int(Partitioner.partition(forKey: key, partitionCount: partitionCount))
            } else {
                index = state.topicStates[topicIndex].sticky
            }
            let recordBytes = RecordBatchBuilder.recordSizeBytesMax(keyBytes: key?.count, valueBytes: value?.count,
                                                                    headers: headers)
            if let size = state.topicStates[topicIndex].open[index]?.builder.sizeBytes, size + recordBytes > config.batchBytes {
                sealed = (state.topicStates[topicIndex].open[index]!, TopicPartition(topic: topic, partition: PartitionID(Int32(index))))
                state.topicStates[topicIndex].open[index] = nil
                if partition == nil && key == nil && partitionCount > 1 {
                    state.topicStates[topicIndex].sticky = (index + 1) % partitionCount
                }
                wake = true
            }
            if state.topicStates[topicIndex].open[index] == nil {
                let number = state.nextBatchNumber
                state.nextBatchNumber += 1
                state.outstandingBatches += 1
                state.topicStates[topicIndex].open[index] = OpenBatch(
                    builder: RecordBatchBuilder(compression: config.compression,
                                                capacityBytes: min(config.batchBytes, 1 << 20) + 64),
                    promise: eventLoop.makePromise(of: BatchDelivery.self), number: number, createdAt: .now())
                wake = true
            }
            let appended: (recordIndex: Int32, addedBytes: Int, future: EventLoopFuture<BatchDelivery>) =
                Self.appendInPlace(&state.topicStates[topicIndex].open[index]!, timestamp: timestamp, key: key,
                                   value: value, headers: headers)
            state.bufferedBytes += appended.addedBytes
            if wake {
                wake = !state.wakePending
                state.wakePending = true
            }
            return .appended(DeliveryHandle(batch: appended.future, index: appended.recordIndex))
        }
        if let (open, key) = sealed {
            let batch = Self.seal(open, key: key)
            state.withLock { $0.full.append(batch) }
        }
        if wake { wakeSender() }
        return result
    }

    private static func appendInPlace(_ open: inout OpenBatch, timestamp: TimestampMs, key: UnsafeRawBufferPointer?,
                                      value: UnsafeRawBufferPointer?, headers: [RecordHeader])
        -> (recordIndex: Int32, addedBytes: Int, future: EventLoopFuture<BatchDelivery>) {
        let recordIndex = Int32(open.builder.count)
        let before = open.builder.sizeBytes
        open.builder.appendUnsafe(timestamp: timestamp, key: key, value: value, headers: headers)
        return (recordIndex, open.builder.sizeBytes - before, open.promise.futureResult)
    }

    /// Finishes an open batch (compression and CRC happen here, outside the lock).
    static func seal(_ open: OpenBatch, key: TopicPartition) -> ProducerBatch {
        let count = Int32(open.builder.count)
        let accounted = open.builder.sizeBytes
        let records = open.builder.finish()
        return ProducerBatch(key: key, records: records, recordCount: count, promise: open.promise,
                             number: open.number, accountedBytes: accounted, createdAt: open.createdAt)
    }

    struct Drained {
        var batches: [ProducerBatch]
        /// The earliest time an open batch that stayed behind becomes due.
        var nextDue: NIODeadline?
    }

    /// Takes the full batches, and the open batches that are due (linger passed, or a flush is
    /// waiting) for partitions that `admit` says have nothing queued in the sender.
    func drain(now: NIODeadline, admit: (TopicPartition) -> Bool) -> Drained {
        let linger = TimeAmount.milliseconds(config.lingerMs)
        var due: [(OpenBatch, TopicPartition)] = []
        var drained = Drained(batches: [], nextDue: nil)
        state.withLock { state in
            state.wakePending = false
            drained.batches = state.full
            state.full = []
            let force = state.flushing > 0 || state.closed
            for topicIndex in state.topicStates.indices {
                let topic = state.topicNames[topicIndex]
                for index in state.topicStates[topicIndex].open.indices {
                    guard let createdAt = state.topicStates[topicIndex].open[index]?.createdAt else { continue }
                    let key = TopicPartition(topic: topic, partition: PartitionID(Int32(index)))
                    let dueAt = createdAt + linger
                    guard force || dueAt <= now else {
                        drained.nextDue = min(drained.nextDue ?? dueAt, dueAt)
                        continue
                    }
                    guard admit(key) else { continue }
                    due.append((state.topicStates[topicIndex].open[index]!, key))
                    state.topicStates[topicIndex].open[index] = nil
                }
            }
        }
        for (open, key) in due { drained.batches.append(Self.seal(open, key: key)) }
        return drained
    }

    /// A batch is done (delivered or failed): releases its bytes, wakes a waiting appender and
    /// flushes that are waiting for the last batch.
    func completed(_ batch: ProducerBatch, error: KafkaClientError?) {
        var waiters: [EventLoopPromise<Void>] = []
        var space: EventLoopPromise<Void>?
        state.withLock { state in
            state.bufferedBytes -= batch.accountedBytes
            state.outstandingBatches -= 1
            if let error, state.firstError == nil { state.firstError = error }
            if state.bufferedBytes < config.bufferBytesMax {
                space = state.spaceWaiter
                state.spaceWaiter = nil
            }
            if state.outstandingBatches == 0 {
                waiters = state.flushWaiters
                state.flushWaiters = []
            }
        }
        space?.succeed(())
        for waiter in waiters { waiter.succeed(()) }
    }

    /// Starts a flush: open batches become due at once. The future completes when no batch is
    /// outstanding.
    func beginFlush() -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        let done: Bool = state.withLock { state in
            state.flushing += 1
            if state.outstandingBatches == 0 { return true }
            state.flushWaiters.append(promise)
            return false
        }
        if done { promise.succeed(()) } else { wakeSender() }
        return promise.futureResult
    }

    /// Ends a flush; returns (and clears) the first delivery error since the last flush.
    func endFlush() -> KafkaClientError? {
        state.withLock { state in
            state.flushing -= 1
            defer { state.firstError = nil }
            return state.firstError
        }
    }

    func close() {
        state.withLock { $0.closed = true }
    }
}
