import NIOCore
import RunnelCore

/// The broker's answer for a whole batch, for tools that account per batch rather than per
/// record (`runnel bench`).
public struct BatchReport: Sendable, Equatable {
    public var topic: String
    public var partition: PartitionID
    /// nil with acks=0 or for a batch the broker reported as a duplicate.
    public var baseOffset: Offset?
    /// Records in the batch: the handles of this partition with `indexInBatch` 0 up to
    /// `recordCount - 1`.
    public var recordCount: Int
    /// The batch's bytes as sent (compressed, with the codec) and before compression; their
    /// ratio is the batch's compression ratio.
    public var sizeBytes: Int = 0
    public var uncompressedBytes: Int = 0
}

extension DeliveryHandle {
    /// The record's index in its batch (its offset delta). 0 marks the first record of a new
    /// batch; the records a producer appends to one partition after it, up to the batch's
    /// `recordCount`, are in the same batch, in append order.
    public var indexInBatch: Int { Int(index) }

    /// Calls `body` once, on the client's I/O thread, when the record's batch is answered or
    /// fails. Registering it only for `indexInBatch == 0` gives one call per batch, which is
    /// how a tool accounts for millions of records a second without one callback per record.
    /// `body` must be quick: it delays the producer's I/O.
    public func whenBatchCompletes(_ body: @escaping @Sendable (Result<BatchReport, any Error>) -> Void) {
        batch.whenComplete { result in
            body(result.map { delivery in
                BatchReport(topic: delivery.topic, partition: delivery.partition, baseOffset: delivery.baseOffset,
                            recordCount: Int(delivery.recordCount), sizeBytes: delivery.sizeBytes,
                            uncompressedBytes: delivery.uncompressedBytes)
            })
        }
    }
}
