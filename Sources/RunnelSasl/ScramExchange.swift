/// The server side of one SCRAM authentication (RFC 5802 §5): two messages in, two out. A value
/// type; the caller keeps it for the connection and feeds it each SaslAuthenticate's bytes.
public struct ScramServerExchange: Sendable {
    public enum Step: Equatable, Sendable {
        /// Send these bytes (server-first-message) and wait for the client's final message.
        case challenge([UInt8])
        /// Authenticated as `username`; send `serverFinal` (the server signature) to the client.
        case success(username: String, serverFinal: [UInt8])
    }

    private enum State: Sendable {
        case start
        case sentFirst(clientFirst: ScramClientFirst, serverFirst: ScramServerFirst, credential: ScramCredential)
        case done
    }

    public let mechanism: ScramMechanism
    private let serverNonce: String
    private var state: State = .start
    /// The user the client-first message named (nil before it arrived or when it did not parse).
    public private(set) var username: String?

    /// `serverNonce`: fresh printable random text from the caller (at least 16 characters).
    public init(mechanism: ScramMechanism, serverNonce: String) {
        precondition(serverNonce.count >= 16, "a SCRAM server nonce needs at least 16 characters")
        self.mechanism = mechanism
        self.serverNonce = serverNonce
    }

    /// The text every credential failure carries: the same for an unknown user and a wrong
    /// password, so the answer does not tell which.
    public var invalidCredentials: String {
        "Authentication failed: invalid credentials for SASL mechanism \(mechanism)"
    }

    /// Handles the client's next message. Throws `SaslError` for a malformed message or a failed
    /// check; the exchange cannot continue after a throw.
    public mutating func receive(_ bytes: [UInt8],
                                 credential lookup: (String) -> ScramCredential?) throws(SaslError) -> Step {
        switch state {
        case .start:
            state = .done
            let first = try ScramClientFirst(parsing: bytes)
            username = first.username
            if first.extensions.contains(where: { $0.hasPrefix("tokenauth=") }) {
                throw SaslError("delegation tokens are not supported")
            }
            guard let credential = lookup(first.username) else { throw SaslError(invalidCredentials) }
            let serverFirst = ScramServerFirst(nonce: first.nonce + serverNonce, salt: credential.salt,
                                               iterations: Int(credential.iterations))
            state = .sentFirst(clientFirst: first, serverFirst: serverFirst, credential: credential)
            return .challenge(serverFirst.bytes)
        case .sentFirst(let clientFirst, let serverFirst, let credential):
            state = .done
            let (final, withoutProof) = try ScramClientFinal.parse(bytes)
            guard final.channelBinding == Array(clientFirst.gs2Header.utf8) else {
                throw SaslError("SCRAM channel binding does not match the client-first message's gs2 header")
            }
            // RFC 5802: the client echoes the server-first nonce. librdkafka (2.0 at least) sends
            // its own nonce in front of it; Kafka accepts any nonce ending with the server's, Runnel
            // accepts exactly these two forms (docs/decisions.md D172). The proof covers either.
            guard final.nonce == serverFirst.nonce || final.nonce == clientFirst.nonce + serverFirst.nonce else {
                throw SaslError("SCRAM nonce does not match")
            }
            let authMessage = Array("\(clientFirst.bare),\(serverFirst.text),\(withoutProof)".utf8)
            let clientSignature = mechanism.hmac(key: credential.storedKey, authMessage)
            guard final.proof.count == clientSignature.count else { throw SaslError(invalidCredentials) }
            let clientKey = zip(final.proof, clientSignature).map { $0 ^ $1 }
            guard constantTimeEqual(mechanism.hash(clientKey), credential.storedKey) else {
                throw SaslError(invalidCredentials)
            }
            let serverSignature = mechanism.hmac(key: credential.serverKey, authMessage)
            return .success(username: clientFirst.username, serverFinal: ScramServerFinal.verifier(serverSignature).bytes)
        case .done:
            throw SaslError("SCRAM exchange is already over")
        }
    }
}

/// The client side of one SCRAM authentication: `firstMessage`, then `finalMessage(serverFirst:)`,
/// then `verify(serverFinal:)`, which checks the server knew the credential.
public struct ScramClientExchange: Sendable {
    public let mechanism: ScramMechanism
    public let username: String
    private let password: String
    private let clientFirst: ScramClientFirst
    private var expectedServerSignature: [UInt8]?

    /// `clientNonce`: fresh printable random text (at least 16 characters).
    public init(mechanism: ScramMechanism, username: String, password: String, clientNonce: String) {
        self.mechanism = mechanism
        self.username = username
        self.password = password
        clientFirst = ScramClientFirst(username: username, nonce: clientNonce)
    }

    public var firstMessage: [UInt8] { clientFirst.bytes }

    public mutating func finalMessage(serverFirst bytes: [UInt8]) throws(SaslError) -> [UInt8] {
        let serverFirst = try ScramServerFirst(parsing: bytes)
        guard serverFirst.nonce.hasPrefix(clientFirst.nonce), serverFirst.nonce.count > clientFirst.nonce.count else {
            throw SaslError("SCRAM server nonce does not extend the client nonce")
        }
        guard serverFirst.iterations >= Int(ScramMechanism.iterationsMin) else {
            throw SaslError("SCRAM iteration count \(serverFirst.iterations) is below \(ScramMechanism.iterationsMin)")
        }
        let salted = mechanism.saltedPassword(password, salt: serverFirst.salt, iterations: serverFirst.iterations)
        let clientKey = mechanism.hmac(key: salted, Array("Client Key".utf8))
        let storedKey = mechanism.hash(clientKey)
        let serverKey = mechanism.hmac(key: salted, Array("Server Key".utf8))
        let withoutProof = ScramClientFinal(channelBinding: Array(clientFirst.gs2Header.utf8), nonce: serverFirst.nonce,
                                            proof: []).withoutProof
        let authMessage = Array("\(clientFirst.bare),\(serverFirst.text),\(withoutProof)".utf8)
        let clientSignature = mechanism.hmac(key: storedKey, authMessage)
        expectedServerSignature = mechanism.hmac(key: serverKey, authMessage)
        let proof = zip(clientKey, clientSignature).map { $0 ^ $1 }
        return ScramClientFinal(channelBinding: Array(clientFirst.gs2Header.utf8), nonce: serverFirst.nonce,
                                proof: proof).bytes
    }

    public func verify(serverFinal bytes: [UInt8]) throws(SaslError) {
        switch try ScramServerFinal(parsing: bytes) {
        case .error(let e): throw SaslError("server refused: \(e)")
        case .verifier(let v):
            guard let expected = expectedServerSignature, constantTimeEqual(v, expected) else {
                throw SaslError("SCRAM server signature is wrong: the server does not hold this credential")
            }
        }
    }
}

/// A printable nonce from `generator` (base64 of 24 random bytes: 32 characters, no ',').
public func scramNonce<G: RandomNumberGenerator>(using generator: inout G) -> String {
    var bytes = [UInt8](repeating: 0, count: 24)
    for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
    return base64(bytes)
}

/// Random salt bytes.
public func scramSalt<G: RandomNumberGenerator>(count: Int = 32, using generator: inout G) -> [UInt8] {
    (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}
