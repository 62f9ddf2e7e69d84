import RunnelCore

/// Idempotent-producer bookkeeping for one partition (KIP-98): for each producer id, its epoch
/// and the last `Limits.producerBatchesRemembered` batches it appended, so a retried batch gets
/// its original offsets back instead of being written twice, and a gap in sequence numbers is
/// refused.
///
/// The rules follow Kafka's broker:
/// - a batch whose (epoch, first sequence, last sequence) matches a remembered batch is a
///   duplicate: it is not appended, and the original base offset is returned with no error;
/// - an epoch lower than the producer's current one is INVALID_PRODUCER_EPOCH (47);
/// - a new, higher epoch must start at sequence 0 (unless the producer is unknown here);
/// - within an epoch the first sequence must be last + 1 (wrapping at Int32.max to 0),
///   otherwise OUT_OF_ORDER_SEQUENCE_NUMBER (45);
/// - a producer this partition has no state for may start at any sequence (its earlier batches
///   may have been removed by retention).
///
/// Pure (the broker's `Partition` and `cluster-sim` both run it): the shell records every batch
/// a replica appends, as leader or as follower, and rebuilds the table from the log after a
/// restart or a truncation.
public struct ProducerStateTable: Sendable {
    public struct BatchMetadata: Equatable, Sendable {
        public var firstSequence: Int32
        public var lastSequence: Int32
        public var baseOffset: Offset
        public var logAppendTimeMs: Int64
        public init(firstSequence: Int32, lastSequence: Int32, baseOffset: Offset, logAppendTimeMs: Int64) {
            self.firstSequence = firstSequence
            self.lastSequence = lastSequence
            self.baseOffset = baseOffset
            self.logAppendTimeMs = logAppendTimeMs
        }
    }

    public struct Entry: Sendable {
        public var epoch: Int16
        /// Oldest first, at most `Limits.producerBatchesRemembered`.
        public var batches: [BatchMetadata] = []
    }

    public enum Check: Equatable, Sendable {
        /// Append it.
        case append
        /// Already appended: answer with these offsets and do not append.
        case duplicate(BatchMetadata)
        /// Refuse with this Kafka error code.
        case refuse(code: Int16, message: String)
    }

    public private(set) var entries: [Int64: Entry] = [:]

    public init() {}

    public static let outOfOrderSequence: Int16 = 45
    public static let invalidProducerEpoch: Int16 = 47

    /// Decides what to do with a batch from an idempotent producer (producerId >= 0).
    public func check(producerId: Int64, epoch: Int16, firstSequence: Int32, lastSequence: Int32) -> Check {
        guard let entry = entries[producerId] else { return .append }
        if epoch < entry.epoch {
            return .refuse(code: Self.invalidProducerEpoch,
                           message: "producer \(producerId) epoch \(epoch) is older than the current epoch \(entry.epoch)")
        }
        if epoch > entry.epoch {
            guard firstSequence == 0 else {
                return .refuse(code: Self.outOfOrderSequence,
                               message: "producer \(producerId) new epoch \(epoch) must start at sequence 0, got \(firstSequence)")
            }
            return .append
        }
        if let dup = entry.batches.first(where: { $0.firstSequence == firstSequence && $0.lastSequence == lastSequence }) {
            return .duplicate(dup)
        }
        guard let last = entry.batches.last else { return .append }
        let expected = last.lastSequence == Int32.max ? 0 : last.lastSequence + 1
        guard firstSequence == expected else {
            return .refuse(code: Self.outOfOrderSequence,
                           message: "producer \(producerId) sent sequence \(firstSequence), expected \(expected)")
        }
        return .append
    }

    /// Records an appended batch.
    public mutating func record(producerId: Int64, epoch: Int16, batch: BatchMetadata) {
        var entry = entries[producerId] ?? Entry(epoch: epoch)
        if epoch != entry.epoch {
            entry = Entry(epoch: epoch)
        }
        entry.batches.append(batch)
        if entry.batches.count > Limits.producerBatchesRemembered {
            entry.batches.removeFirst(entry.batches.count - Limits.producerBatchesRemembered)
        }
        entries[producerId] = entry
    }

    /// Forgets batches at or after `offset` (the log was truncated).
    public mutating func truncate(from offset: Offset) {
        for (id, var entry) in entries {
            entry.batches.removeAll { $0.baseOffset >= offset }
            entries[id] = entry.batches.isEmpty ? nil : entry
        }
    }
}
