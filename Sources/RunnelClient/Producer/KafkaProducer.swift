import Foundation
import KafkaMessages
import KafkaWire
import NIOCore
import RunnelCore

/// A batching producer. `send` encodes the record into its partition's open batch and returns
/// at once with a `DeliveryHandle` (it waits only for first-use metadata and when more than
/// `bufferBytesMax` are outstanding); `flush` waits until everything sent so far is delivered
/// and throws the first delivery error since the previous flush.
///
///     let producer = try await KafkaProducer(client: client, config: config)
///     let handle = try await producer.send(topic: "orders", key: nil, value: ByteBuffer(string: "hi"))
///     try await producer.flush()
///     print(try await handle.get().offset!)
public final class KafkaProducer: @unchecked Sendable {
    // @unchecked: the accumulator is locked; the sender is confined to the client's event loop.
    public let client: KafkaClient
    public let config: ProducerConfig
    let accumulator: RecordAccumulator
    let sender: ProducerSender

    /// With `config.idempotent`, obtains a producer id first (InitProducerId).
    public init(client: KafkaClient, config: ProducerConfig = ProducerConfig()) async throws {
        try config.validate()
        self.client = client
        self.config = config
        accumulator = RecordAccumulator(config: config, eventLoop: client.eventLoop)
        sender = ProducerSender(client: client, accumulator: accumulator, config: config)
        let sender = self.sender
        let eventLoop = client.eventLoop
        accumulator.wakeSender = { eventLoop.execute { sender.run() } }
        if config.idempotent {
            let identity = try await initProducerId()
            try await eventLoop.submit { sender.producerIdentity = identity }.get()
        }
    }

    private func initProducerId() async throws -> (ProducerID, Int16) {
        try await client.withRetries {
            let (response, _) = try await client.send(.any) { _ in
                var request = InitProducerIdRequest()
                request.transactionalId = nil
                request.transactionTimeoutMs = -1
                return request
            }
            let code = KafkaErrorCode(response.errorCode)
            guard code == .none else {
                throw KafkaClientError.kafka(code: code, message: nil, context: "InitProducerId")
            }
            return (ProducerID(response.producerId), response.producerEpoch)
        }
    }

    /// Appends one record. `partition` nil: murmur2 of the key, or the sticky partition for
    /// records without key. `timestamp` nil: now.
    @discardableResult
    public func send(topic: String, partition: PartitionID? = nil, key: ByteBuffer?, value: ByteBuffer?,
                     headers: [RecordHeader] = [], timestamp: TimestampMs? = nil) async throws -> DeliveryHandle {
        let time = timestamp ?? Self.now()
        while true {
            let result = withOptionalBytes(key) { key in
                withOptionalBytes(value) { value in
                    accumulator.append(topic: topic, partition: partition, key: key, value: value, headers: headers,
                                       timestamp: time)
                }
            }
            switch result {
            case .appended(let handle):
                return handle
            case .needsMetadata:
                let metadata = try await client.topicMetadata(topic, allowAutoTopicCreation: config.allowAutoTopicCreation)
                guard metadata.partitionCount > 0 else {
                    throw KafkaClientError.unknownTopicOrPartition(topic: topic, partition: nil)
                }
                accumulator.setPartitionCount(topic: topic, count: metadata.partitionCount)
            case .bufferFull(let space):
                try await space.get()
            case .partitionOutOfRange(let count):
                // The topic may have grown since we cached it.
                let metadata = try await client.topicMetadata(topic, refresh: true)
                guard metadata.partitionCount > count else {
                    throw KafkaClientError.unknownTopicOrPartition(topic: topic, partition: partition?.rawValue)
                }
                accumulator.setPartitionCount(topic: topic, count: metadata.partitionCount)
            case .closed:
                throw KafkaClientError.shutDown
            }
        }
    }

    /// Sends everything appended so far and waits for the responses. Throws the first delivery
    /// error since the previous flush (each record's handle has its own result).
    public func flush() async throws {
        let done = accumulator.beginFlush()
        try? await done.get()
        if let error = accumulator.endFlush() { throw error }
    }

    /// Flushes, then refuses further records.
    public func close() async throws {
        defer { accumulator.close() }
        try await flush()
    }

    static func now() -> TimestampMs {
        TimestampMs(Int64(Date().timeIntervalSince1970 * 1000))
    }
}

/// Calls `body` with the readable bytes of `buffer`, or nil.
func withOptionalBytes<T>(_ buffer: ByteBuffer?, _ body: (UnsafeRawBufferPointer?) throws -> T) rethrows -> T {
    guard let buffer else { return try body(nil) }
    return try buffer.withUnsafeReadableBytes { try body($0) }
}
