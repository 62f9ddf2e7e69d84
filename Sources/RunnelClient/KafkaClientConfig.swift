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
    /// `security.protocol` and its TLS and SASL settings (`--command-config`, D163).
    public var security = ClientSecurityConfig.plaintext
    /// The TLS context made from `security` (set with `setSecurity`; nil: plain TCP).
    public private(set) var tls: ClientTLS?
    /// SASL credentials for SASL_PLAINTEXT and SASL_SSL listeners; nil: no SASL. `setSecurity`
    /// sets it from `sasl.*` when `security.protocol` is a SASL one; the CLI's `--sasl-*` flags
    /// may set it directly.
    public var sasl: SaslClientConfig?

    /// Sets `security`, loads its TLS files and takes its SASL credentials (a bad file or a
    /// missing SASL key is reported here, naming the key).
    public mutating func setSecurity(_ security: ClientSecurityConfig) throws(ClientSecurityConfig.Failure) {
        tls = try security.makeTLS()
        sasl = try security.makeSasl()
        self.security = security
    }

    public init(bootstrapServers: [BrokerAddress]) {
        self.bootstrapServers = bootstrapServers
    }

    /// Parses "host:port[,host:port…]".
    public init(bootstrapServers: String) throws {
        self.init(bootstrapServers: try BrokerAddress.parseList(bootstrapServers))
    }
}
