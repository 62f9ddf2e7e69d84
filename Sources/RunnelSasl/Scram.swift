import Crypto
import Foundation
@_exported import struct RunnelCore.ScramCredential

/// The two SCRAM mechanisms Kafka offers (RFC 5802 with the hash of RFC 7677 / RFC 6234), with
/// the int8 codes of Kafka's `ScramMechanism` (AlterUserScramCredentials, DescribeUserScramCredentials).
public enum ScramMechanism: Int8, CaseIterable, Sendable, CustomStringConvertible {
    case sha256 = 1
    case sha512 = 2

    /// Kafka's bounds on a credential's iteration count (RFC 7677 asks for at least 4096).
    public static let iterationsMin: Int32 = 4096
    public static let iterationsMax: Int32 = 16384

    public init?(name: String) {
        guard let m = Self.allCases.first(where: { $0.name == name.uppercased() }) else { return nil }
        self = m
    }

    /// The SASL mechanism name: "SCRAM-SHA-256" or "SCRAM-SHA-512".
    public var name: String {
        switch self {
        case .sha256: "SCRAM-SHA-256"
        case .sha512: "SCRAM-SHA-512"
        }
    }

    public var description: String { name }

    /// H(data).
    public func hash(_ data: [UInt8]) -> [UInt8] {
        switch self {
        case .sha256: Array(SHA256.hash(data: data))
        case .sha512: Array(SHA512.hash(data: data))
        }
    }

    /// HMAC(key, data).
    public func hmac(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        let key = SymmetricKey(data: key)
        switch self {
        case .sha256: return Array(HMAC<SHA256>.authenticationCode(for: data, using: key))
        case .sha512: return Array(HMAC<SHA512>.authenticationCode(for: data, using: key))
        }
    }

    /// Hi(password, salt, i) of RFC 5802 §2.2: PBKDF2 with HMAC as the PRF and one output block.
    public func hi(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        precondition(iterations >= 1)
        var u = hmac(key: password, salt + [0, 0, 0, 1])
        var result = u
        for _ in 1..<iterations {
            u = hmac(key: password, u)
            for k in result.indices { result[k] ^= u[k] }
        }
        return result
    }

    /// SaltedPassword, as RFC 5802 defines it. The password is used as given (SASLprep is not
    /// applied: Kafka's clients do not apply it either, so ASCII and UTF-8 passwords match theirs).
    public func saltedPassword(_ password: String, salt: [UInt8], iterations: Int) -> [UInt8] {
        hi(password: Array(password.utf8), salt: salt, iterations: iterations)
    }
}

extension ScramCredential {
    /// The credential of a salted password (what AlterUserScramCredentials carries).
    public init(mechanism: ScramMechanism, saltedPassword: [UInt8], salt: [UInt8], iterations: Int32) {
        let clientKey = mechanism.hmac(key: saltedPassword, Array("Client Key".utf8))
        self.init(salt: salt, storedKey: mechanism.hash(clientKey),
                  serverKey: mechanism.hmac(key: saltedPassword, Array("Server Key".utf8)), iterations: iterations)
    }

    /// The credential of a password.
    public init(mechanism: ScramMechanism, password: String, salt: [UInt8], iterations: Int32) {
        self.init(mechanism: mechanism,
                  saltedPassword: mechanism.saltedPassword(password, salt: salt, iterations: Int(iterations)),
                  salt: salt, iterations: iterations)
    }

    /// Whether `password` is this credential's password (used by PLAIN, docs/decisions.md D172).
    public func matches(password: String, mechanism: ScramMechanism) -> Bool {
        let other = ScramCredential(mechanism: mechanism, password: password, salt: salt, iterations: iterations)
        return constantTimeEqual(other.storedKey, storedKey)
    }
}

/// Equal length and equal bytes, in time that depends only on the length.
public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for i in a.indices { diff |= a[i] ^ b[i] }
    return diff == 0
}

/// A SASL message the peer sent that breaks its mechanism's grammar, or a check that failed.
public struct SaslError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

// MARK: - SCRAM messages (RFC 5802 §7)

/// Attribute-value pairs "a=value" separated by commas; values may contain '='. Names are one
/// letter in RFC 5802; Kafka's extensions ("tokenauth=true") use longer ASCII names.
func scramAttributes(_ text: Substring) throws(SaslError) -> [(Substring, Substring)] {
    var out: [(Substring, Substring)] = []
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
        guard let eq = part.firstIndex(of: "="), eq > part.startIndex,
              part[..<eq].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw SaslError("malformed SCRAM attribute '\(part.prefix(32))'")
        }
        out.append((part[..<eq], part[part.index(after: eq)...]))
    }
    return out
}

/// A SCRAM `saslname`: "=2C" is ',' and "=3D" is '='; any other '=' is an error.
public func decodeSaslName(_ text: Substring) throws(SaslError) -> String {
    var out = ""
    var rest = text[...]
    while let eq = rest.firstIndex(of: "=") {
        out += rest[..<eq]
        let code = rest[eq...].prefix(3)
        switch code {
        case "=2C": out += ","
        case "=3D": out += "="
        default: throw SaslError("bad escape in SCRAM name")
        }
        rest = rest[rest.index(eq, offsetBy: 3)...]
    }
    out += rest
    return out
}

public func encodeSaslName(_ name: String) -> String {
    name.replacingOccurrences(of: "=", with: "=3D").replacingOccurrences(of: ",", with: "=2C")
}

func decodeText(_ bytes: [UInt8]) throws(SaslError) -> String {
    guard let text = String(validating: bytes, as: UTF8.self) else { throw SaslError("SCRAM message is not UTF-8") }
    return text
}

/// A nonce is printable ASCII without ',' (RFC 5802 §7, `printable`).
func checkNonce(_ nonce: Substring) throws(SaslError) {
    guard !nonce.isEmpty, nonce.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E && $0 != 0x2C }) else {
        throw SaslError("bad SCRAM nonce")
    }
}

/// client-first-message: gs2 header then client-first-message-bare.
public struct ScramClientFirst: Equatable, Sendable {
    /// The gs2 header as sent ("n,," or "n,a=NAME,"): the client-final message must echo it.
    public var gs2Header: String
    public var authzid: String?
    public var username: String
    public var nonce: String
    /// Extensions after the nonce (Kafka's "tokenauth=true" and the like), as "key=value" text.
    public var extensions: [String]

    /// "n=NAME,r=NONCE[,ext...]".
    public var bare: String {
        (["n=\(encodeSaslName(username))", "r=\(nonce)"] + extensions).joined(separator: ",")
    }

    public init(username: String, nonce: String) {
        gs2Header = "n,,"
        authzid = nil
        self.username = username
        self.nonce = nonce
        extensions = []
    }

    public var bytes: [UInt8] { Array((gs2Header + bare).utf8) }

    public init(parsing bytes: [UInt8]) throws(SaslError) {
        let text = try decodeText(bytes)
        // gs2-header = gs2-cbind-flag "," [ authzid ] ","
        let parts = text.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw SaslError("SCRAM client-first message has no gs2 header") }
        switch parts[0] {
        case "n": break
        case "y": throw SaslError("SCRAM channel binding flag 'y' is not accepted; send 'n'")
        default:
            if parts[0].hasPrefix("p=") { throw SaslError("SCRAM channel binding is not supported; send 'n'") }
            throw SaslError("bad SCRAM gs2 channel-binding flag")
        }
        if parts[1].isEmpty {
            authzid = nil
        } else {
            guard parts[1].hasPrefix("a=") else { throw SaslError("bad SCRAM authzid") }
            authzid = try decodeSaslName(parts[1].dropFirst(2))
        }
        gs2Header = "\(parts[0]),\(parts[1]),"
        let attributes = try scramAttributes(parts[2])
        guard attributes.count >= 2, attributes[0].0 == "n", attributes[1].0 == "r" else {
            if attributes.first?.0 == "m" { throw SaslError("SCRAM mandatory extensions are not supported") }
            throw SaslError("SCRAM client-first message must start with n= and r=")
        }
        username = try decodeSaslName(attributes[0].1)
        guard !username.isEmpty else { throw SaslError("empty SCRAM user name") }
        try checkNonce(attributes[1].1)
        nonce = String(attributes[1].1)
        extensions = attributes.dropFirst(2).map { "\($0.0)=\($0.1)" }
        // Extensions in Kafka's form (key=value) only; there is no registry of one-letter ones.
        if let authzid, authzid != username {
            throw SaslError("SCRAM authorization id '\(authzid)' differs from the user name")
        }
    }
}

/// server-first-message: "r=NONCE,s=SALT,i=ITERATIONS".
public struct ScramServerFirst: Equatable, Sendable {
    public var nonce: String
    public var salt: [UInt8]
    public var iterations: Int

    public init(nonce: String, salt: [UInt8], iterations: Int) {
        self.nonce = nonce
        self.salt = salt
        self.iterations = iterations
    }

    public var text: String { "r=\(nonce),s=\(Data(salt).base64EncodedString()),i=\(iterations)" }
    public var bytes: [UInt8] { Array(text.utf8) }

    public init(parsing bytes: [UInt8]) throws(SaslError) {
        let text = try decodeText(bytes)
        let attributes = try scramAttributes(text[...])
        if attributes.first?.0 == "e" { throw SaslError("server refused: \(attributes[0].1)") }
        guard attributes.count >= 3, attributes[0].0 == "r", attributes[1].0 == "s", attributes[2].0 == "i" else {
            throw SaslError("SCRAM server-first message must be r=,s=,i=")
        }
        try checkNonce(attributes[0].1)
        nonce = String(attributes[0].1)
        guard let salt = Data(base64Encoded: String(attributes[1].1)), !salt.isEmpty else {
            throw SaslError("bad SCRAM salt")
        }
        self.salt = Array(salt)
        guard let i = Int(attributes[2].1), i > 0, i <= 1_000_000 else { throw SaslError("bad SCRAM iteration count") }
        iterations = i
    }
}

/// client-final-message: "c=CHANNEL-BINDING,r=NONCE[,ext...],p=PROOF".
public struct ScramClientFinal: Equatable, Sendable {
    public var channelBinding: [UInt8]
    public var nonce: String
    public var proof: [UInt8]

    public init(channelBinding: [UInt8], nonce: String, proof: [UInt8]) {
        self.channelBinding = channelBinding
        self.nonce = nonce
        self.proof = proof
    }

    /// The message without its proof, as it enters AuthMessage.
    public var withoutProof: String { "c=\(Data(channelBinding).base64EncodedString()),r=\(nonce)" }
    public var bytes: [UInt8] { Array("\(withoutProof),p=\(Data(proof).base64EncodedString())".utf8) }

    /// The parsed message and its text without the proof (extensions included, as sent).
    public static func parse(_ bytes: [UInt8]) throws(SaslError) -> (message: ScramClientFinal, withoutProof: String) {
        let text = try decodeText(bytes)
        guard let proofStart = text.range(of: ",p=", options: .backwards) else {
            throw SaslError("SCRAM client-final message has no proof")
        }
        let head = text[..<proofStart.lowerBound]
        let attributes = try scramAttributes(head)
        guard attributes.count >= 2, attributes[0].0 == "c", attributes[1].0 == "r" else {
            throw SaslError("SCRAM client-final message must start with c= and r=")
        }
        guard let binding = Data(base64Encoded: String(attributes[0].1)) else { throw SaslError("bad SCRAM channel binding") }
        try checkNonce(attributes[1].1)
        guard let proof = Data(base64Encoded: String(text[proofStart.upperBound...])), !proof.isEmpty else {
            throw SaslError("bad SCRAM proof")
        }
        return (ScramClientFinal(channelBinding: Array(binding), nonce: String(attributes[1].1), proof: Array(proof)),
                String(head))
    }
}

/// server-final-message: "v=SIGNATURE" or "e=ERROR".
public enum ScramServerFinal: Equatable, Sendable {
    case verifier([UInt8])
    case error(String)

    public var bytes: [UInt8] {
        switch self {
        case .verifier(let v): Array("v=\(Data(v).base64EncodedString())".utf8)
        case .error(let e): Array("e=\(e)".utf8)
        }
    }

    public init(parsing bytes: [UInt8]) throws(SaslError) {
        let text = try decodeText(bytes)
        let attributes = try scramAttributes(text[...])
        guard let first = attributes.first else { throw SaslError("empty SCRAM server-final message") }
        switch first.0 {
        case "v":
            guard let v = Data(base64Encoded: String(first.1)) else { throw SaslError("bad SCRAM server signature") }
            self = .verifier(Array(v))
        case "e": self = .error(String(first.1))
        default: throw SaslError("SCRAM server-final message must be v= or e=")
        }
    }
}

// MARK: - PLAIN (RFC 4616)

/// "[authzid] NUL authcid NUL passwd".
public struct PlainMessage: Equatable, Sendable {
    public var authzid: String
    public var username: String
    public var password: String

    public init(username: String, password: String, authzid: String = "") {
        self.authzid = authzid
        self.username = username
        self.password = password
    }

    public var bytes: [UInt8] { Array(authzid.utf8) + [0] + Array(username.utf8) + [0] + Array(password.utf8) }

    public init(parsing bytes: [UInt8]) throws(SaslError) {
        let parts = bytes.split(separator: 0, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw SaslError("PLAIN message must be authzid NUL user NUL password") }
        guard let authzid = String(validating: parts[0], as: UTF8.self),
              let username = String(validating: parts[1], as: UTF8.self),
              let password = String(validating: parts[2], as: UTF8.self) else {
            throw SaslError("PLAIN message is not UTF-8")
        }
        guard !username.isEmpty else { throw SaslError("PLAIN user name is empty") }
        guard !password.isEmpty else { throw SaslError("PLAIN password is empty") }
        guard authzid.isEmpty || authzid == username else {
            throw SaslError("PLAIN authorization id '\(authzid)' differs from the user name")
        }
        self.authzid = authzid
        self.username = username
        self.password = password
    }
}

/// Standard base64 with padding.
public func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
