import KafkaWire

/// How many replicas must have a batch before the broker answers (`acks`).
public enum Acks: Int16, Sendable, CaseIterable {
    /// The broker sends no response at all; offsets are unknown.
    case none = 0
    /// The leader has appended the batch.
    case leader = 1
    /// Every in-sync replica has it (the high watermark passed it).
    case all = -1

    /// Parses "0", "1", "all" or "-1".
    public init?(name: String) {
        switch name.lowercased() {
        case "0": self = .none
        case "1": self = .leader
        case "all", "-1": self = .all
        default: return nil
        }
    }
}

public struct ProducerConfig: Sendable {
    public var acks: Acks = .all
    public var compression: Compression = .none
    /// A partition's batch is sent once it holds this many (uncompressed) bytes.
    public var batchBytes: Int = 64 * 1024
    /// How long a batch that is not full may wait for more records. 0 still batches what
    /// arrives while the I/O thread is busy.
    public var lingerMs: Int64 = 5
    /// InitProducerId, sequence numbers per partition, retries without duplicates.
    /// Requires acks=all, as in Kafka.
    public var idempotent: Bool = false
    /// Sends after the first, for retriable errors (NOT_LEADER, LEADER_NOT_AVAILABLE,
    /// UNKNOWN_TOPIC_OR_PARTITION, timeouts, lost connections).
    public var retries: Int = 5
    public var retryBackoffMs: Int64 = 100
    /// A batch that is not delivered within this time (retries included) fails.
    public var deliveryTimeoutMs: Int64 = 60_000
    /// The Produce request's timeoutMs: how long the broker may wait for acks=all.
    public var requestTimeoutMs: Int32 = 30_000
    /// Produce requests outstanding per broker connection (pipelining). At most 5 with
    /// idempotence, so that the broker's duplicate window covers every in-flight batch.
    public var inFlightRequestsPerConnectionMax: Int = 5
    /// Bytes appended but not yet delivered; `send` waits when they exceed this (backpressure).
    public var bufferBytesMax: Int = 64 * 1024 * 1024
    /// Let the broker create an unknown topic on first use (if `auto.create.topics.enable`).
    public var allowAutoTopicCreation: Bool = false

    public init() {}

    func validate() throws {
        if idempotent && acks != .all {
            throw KafkaClientError.invalidArgument("an idempotent producer needs acks=all")
        }
        if idempotent && inFlightRequestsPerConnectionMax > 5 {
            throw KafkaClientError.invalidArgument("an idempotent producer allows at most 5 requests in flight")
        }
        guard batchBytes > 0, inFlightRequestsPerConnectionMax > 0, lingerMs >= 0, retries >= 0 else {
            throw KafkaClientError.invalidArgument("producer batchBytes, inFlightRequestsPerConnectionMax must be positive; lingerMs, retries not negative")
        }
        guard compression.isSupported else {
            throw KafkaClientError.invalidArgument("compression \(compression) is not supported")
        }
    }
}
