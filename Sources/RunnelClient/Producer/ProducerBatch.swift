import KafkaWire
import NIOCore
import RunnelCore

/// Where a record ended up.
public struct RecordMetadata: Sendable, Equatable {
    public var topic: String
    public var partition: PartitionID
    /// nil with acks=0 (the broker does not answer) or when the broker reported the batch as a
    /// duplicate of one it already has (idempotent retry).
    public var offset: Offset?
    /// The broker's LogAppendTime when the topic uses it, else nil (the record's own time).
    public var logAppendTime: TimestampMs?
}

/// The broker's answer for one batch.
struct BatchDelivery: Sendable {
    var topic: String
    var partition: PartitionID
    var baseOffset: Offset?
    var logAppendTime: TimestampMs?
    /// Records in the batch.
    var recordCount: Int32
    /// The batch's bytes as sent, and before compression (header included).
    var sizeBytes: Int = 0
    var uncompressedBytes: Int = 0
}

/// A handle to one appended record's delivery. Cheap: it shares its batch's future.
public struct DeliveryHandle: Sendable {
    let batch: EventLoopFuture<BatchDelivery>
    /// The record's index in its batch (its offset delta).
    let index: Int32

    /// Waits for the batch's response.
    public func get() async throws -> RecordMetadata {
        let delivery = try await batch.get()
        return RecordMetadata(topic: delivery.topic, partition: delivery.partition,
                              offset: delivery.baseOffset.map { $0 + Int64(index) },
                              logAppendTime: delivery.logAppendTime)
    }
}

/// Topic and partition, the key of every per-partition table of the producer.
struct TopicPartition: Hashable, Sendable {
    var topic: String
    var partition: PartitionID
}

/// A sealed batch: finished bytes (header, CRC, compression), ready to send and to resend
/// unchanged on retry. Touched by the sender on its event loop only after being handed over.
final class ProducerBatch {
    let key: TopicPartition
    /// Bytes of a RecordBatch v2; rewritten once to set the producer id/epoch/sequence.
    var records: ByteBuffer
    let recordCount: Int32
    let promise: EventLoopPromise<BatchDelivery>
    /// Creation order within the producer; retries are re-sent in this order per partition.
    let number: UInt64
    /// Uncompressed bytes counted against the producer's buffer.
    let accountedBytes: Int
    let createdAt: NIODeadline
    var sends = 0
    var baseSequence: Int32?
    var retryAfter: NIODeadline?
    var lastError: KafkaClientError?

    init(key: TopicPartition, records: ByteBuffer, recordCount: Int32, promise: EventLoopPromise<BatchDelivery>,
         number: UInt64, accountedBytes: Int, createdAt: NIODeadline) {
        self.key = key
        self.records = records
        self.recordCount = recordCount
        self.promise = promise
        self.number = number
        self.accountedBytes = accountedBytes
        self.createdAt = createdAt
    }
}
