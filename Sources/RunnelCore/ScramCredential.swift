/// What a server keeps of one user's SCRAM credential for one mechanism (RFC 5802 §3): the salt,
/// StoredKey, ServerKey and iteration count — never the password. The metadata log stores it
/// (ClusterMetadata) and RunnelSasl computes and checks it (docs/decisions.md D173).
public struct ScramCredential: Equatable, Sendable {
    public var salt: [UInt8]
    public var storedKey: [UInt8]
    public var serverKey: [UInt8]
    public var iterations: Int32

    public init(salt: [UInt8], storedKey: [UInt8], serverKey: [UInt8], iterations: Int32) {
        self.salt = salt
        self.storedKey = storedKey
        self.serverKey = serverKey
        self.iterations = iterations
    }

    /// Mechanism codes Kafka defines (ScramMechanism): 1 SCRAM-SHA-256, 2 SCRAM-SHA-512.
    public static let mechanismCodes: ClosedRange<Int8> = 1...2
    /// Upper bound on each byte field in the metadata log; a SHA-512 key is 64 bytes.
    public static let fieldBytesMax = 1024
}
