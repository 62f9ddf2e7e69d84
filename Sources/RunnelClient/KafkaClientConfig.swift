/// Settings shared by every use of a `KafkaClient` (admin, producer, consumer).
public struct KafkaClientConfig: Sendable {
    public var bootstrapServers: [BrokerAddress]
    /// Sent in every request header; brokers log it.
    public var clientId: String = "runnel"
    public var connectTimeoutMs: Int64 = 10_000
    /// How long a request may wait for its response before the connection is failed.
    public var requestTimeoutMs: Int64 = 30_000
    /// Pause before retrying after a retriable error.
    public var retryBackoffMs: Int64 = 100
    /// Attempts for an admin or metadata request that meets retriable errors (bounded, so that
    /// a CLI command always ends).
    public var attemptsMax: Int = 10
    /// Largest response frame accepted; bigger ones fail the connection before allocation.
    /// Fetch responses are bounded by the consumer's maxBytes (plus one oversized batch, KIP-74).
    public var responseBytesMax: Int = 256 * 1024 * 1024
    /// SASL credentials for SASL_PLAINTEXT (and SASL_SSL) listeners; nil: no SASL.
    public var sasl: SaslClientConfig?

    public init(bootstrapServers: [BrokerAddress]) {
        self.bootstrapServers = bootstrapServers
    }

    /// Parses "host:port[,host:port…]".
    public init(bootstrapServers: String) throws {
        self.init(bootstrapServers: try BrokerAddress.parseList(bootstrapServers))
    }
}
