import Foundation
import NIOSSL

/// Kafka's `security.protocol`: how a connection to a listener is secured.
public enum SecurityProtocol: String, Sendable, CaseIterable {
    case plaintext = "PLAINTEXT"
    case ssl = "SSL"
    case saslPlaintext = "SASL_PLAINTEXT"
    case saslSsl = "SASL_SSL"

    /// The connection runs inside TLS (SSL and SASL_SSL).
    public var usesTLS: Bool { self == .ssl || self == .saslSsl }
    /// The connection authenticates with SASL before anything else (SASL_PLAINTEXT and SASL_SSL).
    public var usesSASL: Bool { self == .saslPlaintext || self == .saslSsl }
}

/// A client's security settings, read from Kafka client properties (`--command-config FILE`,
/// docs/decisions.md D163). The TLS half is applied by `BrokerConnection`; the SASL fields are
/// parsed here and used by the SASL exchange.
///
/// Keys read (others in the file are ignored, as Kafka's tools ignore keys of other clients):
/// `security.protocol`; `ssl.truststore.location` (PEM) or librdkafka's `ssl.ca.location`;
/// `ssl.keystore.location` (PEM holding key and chain) or librdkafka's `ssl.certificate.location`
/// + `ssl.key.location`; `ssl.key.password`; `ssl.endpoint.identification.algorithm` (`https`,
/// the default, checks the broker's name; empty skips it); `sasl.mechanism`, `sasl.username`,
/// `sasl.password`, `sasl.jaas.config`.
public struct ClientSecurityConfig: Sendable, Equatable {
    public var securityProtocol: SecurityProtocol = .plaintext
    /// PEM file of the CA certificates the broker's certificate must chain to (nil: the system's).
    public var caFile: String?
    /// PEM file with this client's certificate chain (it may hold the private key too).
    public var certificateFile: String?
    /// PEM file with this client's private key (nil: look in `certificateFile`).
    public var keyFile: String?
    /// Passphrase of an encrypted private key.
    public var keyPassword: String?
    /// Check that the broker's certificate names the host connected to (Kafka's default, `https`).
    public var verifyHostname = true
    /// `sasl.mechanism` (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), as written.
    public var saslMechanism: String?
    /// `sasl.username` / `sasl.password` (librdkafka's keys), or what `sasl.jaas.config` names.
    public var saslUsername: String?
    public var saslPassword: String?
    /// `sasl.jaas.config` as written (Java clients' form of the credentials).
    public var saslJaasConfig: String?

    public init() {}

    public static let plaintext = ClientSecurityConfig()

    /// A refusal that names the key and the file (or the value) at fault.
    public struct Failure: Error, CustomStringConvertible, Equatable, Sendable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// Reads a Kafka client properties file.
    public static func load(file: String) throws(Failure) -> ClientSecurityConfig {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw Failure("cannot read the client properties file '\(file)': \(PEMFiles.reason(error, path: file))")
        }
        return try parse(properties: text, origin: file)
    }

    /// Parses Java properties text (`key=value` or `key: value`, `#`/`!` comments).
    public static func parse(properties text: String, origin: String = "properties") throws(Failure) -> ClientSecurityConfig {
        var values: [String: String] = [:]
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
            guard let sep = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw Failure("\(origin):\(n + 1): expected key=value, got '\(line)'")
            }
            let key = line[..<sep].trimmingCharacters(in: .whitespaces)
            values[key] = line[line.index(after: sep)...].trimmingCharacters(in: .whitespaces)
        }
        return try ClientSecurityConfig(values: values, origin: origin)
    }

    /// Builds the settings from already-split client properties.
    public init(values: [String: String], origin: String = "properties") throws(Failure) {
        func nonEmpty(_ key: String) -> String? { values[key].flatMap { $0.isEmpty ? nil : $0 } }
        if let proto = nonEmpty("security.protocol") {
            guard let parsed = SecurityProtocol(rawValue: proto.uppercased()) else {
                throw Failure("invalid value '\(proto)' for 'security.protocol' (\(origin)): expected one of "
                    + SecurityProtocol.allCases.map(\.rawValue).joined(separator: ", "))
            }
            securityProtocol = parsed
        }
        for typeKey in ["ssl.truststore.type", "ssl.keystore.type"] {
            if let type = nonEmpty(typeKey), type.uppercased() != "PEM" {
                throw Failure("invalid value '\(type)' for '\(typeKey)' (\(origin)): Runnel reads PEM files only")
            }
        }
        caFile = nonEmpty("ssl.truststore.location") ?? nonEmpty("ssl.ca.location")
        certificateFile = nonEmpty("ssl.keystore.location") ?? nonEmpty("ssl.certificate.location")
        keyFile = nonEmpty("ssl.key.location")
        keyPassword = nonEmpty("ssl.key.password") ?? nonEmpty("ssl.keystore.password")
        if let algorithm = values["ssl.endpoint.identification.algorithm"] {
            switch algorithm.lowercased() {
            case "https": verifyHostname = true
            case "", "none": verifyHostname = false
            default:
                throw Failure("invalid value '\(algorithm)' for 'ssl.endpoint.identification.algorithm' (\(origin)): expected https or empty")
            }
        }
        if keyFile != nil && certificateFile == nil {
            throw Failure("'ssl.key.location' is set (\(origin)) but no certificate: set 'ssl.certificate.location' too")
        }
        saslMechanism = nonEmpty("sasl.mechanism")
        saslJaasConfig = nonEmpty("sasl.jaas.config")
        let jaas = saslJaasConfig.map(Self.jaasOptions) ?? [:]
        saslUsername = nonEmpty("sasl.username") ?? jaas["username"]
        saslPassword = nonEmpty("sasl.password") ?? jaas["password"]
    }

    /// The SASL credentials of a SASL_PLAINTEXT or SASL_SSL configuration (nil for the others):
    /// `sasl.mechanism` is required (Kafka's default, GSSAPI, is not one Runnel speaks), and so
    /// are a user name and a password, from `sasl.username`/`sasl.password` or `sasl.jaas.config`.
    public func makeSasl() throws(Failure) -> SaslClientConfig? {
        guard securityProtocol.usesSASL else { return nil }
        let known = SaslClientConfig.mechanisms.joined(separator: ", ")
        guard let mechanism = saslMechanism else {
            throw Failure("security.protocol=\(securityProtocol.rawValue) needs 'sasl.mechanism' (\(known))")
        }
        guard let user = saslUsername, let password = saslPassword else {
            throw Failure("security.protocol=\(securityProtocol.rawValue) needs a user name and a password: "
                + "'sasl.username' and 'sasl.password', or 'sasl.jaas.config' with username=\"…\" password=\"…\"")
        }
        do {
            return try SaslClientConfig(mechanism: mechanism, username: user, password: password)
        } catch {
            throw Failure("invalid value '\(mechanism)' for 'sasl.mechanism': expected one of \(known)")
        }
    }

    /// The `key="value"` options of a JAAS login-module line
    /// (`…ScramLoginModule required username="alice" password="secret";`).
    public static func jaasOptions(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        var rest = Substring(text)
        while let eq = rest.firstIndex(of: "=") {
            let key = rest[..<eq].split(whereSeparator: \.isWhitespace).last.map(String.init) ?? ""
            var after = rest[rest.index(after: eq)...].drop(while: \.isWhitespace)
            var value = ""
            if after.first == "\"" {
                after = after.dropFirst()
                var escaped = false
                var end = after.endIndex
                for i in after.indices {
                    let c = after[i]
                    if escaped { value.append(c); escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { end = i; break } else { value.append(c) }
                }
                rest = end < after.endIndex ? after[after.index(after: end)...] : after[after.endIndex...]
            } else {
                let end = after.firstIndex { $0.isWhitespace || $0 == ";" } ?? after.endIndex
                value = String(after[..<end])
                rest = after[end...]
            }
            if !key.isEmpty { out[key] = value }
        }
        return out
    }

    /// The TLS settings for connections (nil when the protocol does not use TLS). Loads and checks
    /// every file now, so a bad one is reported before any connection is tried.
    public func makeTLS() throws(Failure) -> ClientTLS? {
        guard securityProtocol.usesTLS else { return nil }
        let trust = try caFile.map { f throws(Failure) in try PEMFiles.certificates(file: f, key: "ssl.truststore.location / ssl.ca.location") }
        var chain: [NIOSSLCertificate] = []
        var key: NIOSSLPrivateKey?
        if let certificateFile {
            chain = try PEMFiles.certificates(file: certificateFile, key: "ssl.keystore.location / ssl.certificate.location")
            key = try PEMFiles.privateKey(file: keyFile ?? certificateFile, password: keyPassword,
                                          key: keyFile != nil ? "ssl.key.location" : "ssl.keystore.location")
        }
        return try ClientTLS(trustRoots: trust, certificateChain: chain, privateKey: key, verifyHostname: verifyHostname)
    }
}

/// TLS for outgoing connections (clients, and a broker's own connections to other nodes).
public struct ClientTLS: Sendable {
    public let context: NIOSSLContext

    /// - Parameters:
    ///   - trustRoots: the CAs the peer must chain to (nil: the system's).
    ///   - certificateChain/privateKey: this side's certificate, sent when the server asks (mTLS).
    ///   - verifyHostname: also check that the certificate names the host (or IP) connected to.
    public init(trustRoots: [NIOSSLCertificate]?, certificateChain: [NIOSSLCertificate] = [], privateKey: NIOSSLPrivateKey? = nil,
                verifyHostname: Bool = true) throws(ClientSecurityConfig.Failure) {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.trustRoots = trustRoots.map { .certificates($0) } ?? .default
        tls.certificateVerification = verifyHostname ? .fullVerification : .noHostnameVerification
        if let privateKey, !certificateChain.isEmpty {
            tls.certificateChain = certificateChain.map { .certificate($0) }
            tls.privateKey = .privateKey(privateKey)
        }
        do { context = try NIOSSLContext(configuration: tls) } catch {
            throw ClientSecurityConfig.Failure("cannot set up TLS: \(error)")
        }
    }

    /// The handler that starts TLS on a connection to `host` (SNI and the name check use it; an IP
    /// address is checked against the certificate's IP SANs instead).
    func makeHandler(host: String) throws -> NIOSSLClientHandler {
        let isIP = host.contains(":") || host.split(separator: ".").count == 4 && host.split(separator: ".").allSatisfy { Int($0) != nil }
        return try NIOSSLClientHandler(context: context, serverHostname: isIP ? nil : host)
    }
}

/// Loading PEM material with errors that name the configuration key and the file.
public enum PEMFiles {
    /// Every certificate in a PEM file (other blocks, e.g. a private key, are skipped).
    public static func certificates(file: String, key: String) throws(ClientSecurityConfig.Failure) -> [NIOSSLCertificate] {
        let bytes = try read(file: file, key: key)
        return try certificates(pem: bytes, key: key, origin: "file '\(file)'")
    }

    /// Every certificate in PEM text (Kafka's inline `ssl.keystore.certificate.chain`, …).
    public static func certificates(pem: [UInt8], key: String, origin: String) throws(ClientSecurityConfig.Failure) -> [NIOSSLCertificate] {
        guard String(decoding: pem, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") else {
            throw ClientSecurityConfig.Failure("\(key): \(origin) holds no PEM certificate")
        }
        do {
            let certs = try NIOSSLCertificate.fromPEMBytes(pem)
            guard !certs.isEmpty else { throw ClientSecurityConfig.Failure("\(key): \(origin) holds no PEM certificate") }
            return certs
        } catch let failure as ClientSecurityConfig.Failure {
            throw failure
        } catch {
            throw ClientSecurityConfig.Failure("\(key): \(origin) is not a valid PEM certificate file (\(error))")
        }
    }

    /// The private key of a PEM file, decrypted with `password` when it is encrypted.
    public static func privateKey(file: String, password: String?, key: String) throws(ClientSecurityConfig.Failure) -> NIOSSLPrivateKey {
        let bytes = try read(file: file, key: key)
        return try privateKey(pem: bytes, password: password, key: key, origin: "file '\(file)'")
    }

    public static func privateKey(pem: [UInt8], password: String?, key: String, origin: String) throws(ClientSecurityConfig.Failure) -> NIOSSLPrivateKey {
        let text = String(decoding: pem, as: UTF8.self)
        guard text.contains("PRIVATE KEY-----") else {
            throw ClientSecurityConfig.Failure("\(key): \(origin) holds no PEM private key")
        }
        let encrypted = text.contains("ENCRYPTED") || text.contains("Proc-Type: 4,ENCRYPTED")
        if encrypted && password == nil {
            throw ClientSecurityConfig.Failure("\(key): the private key in \(origin) is encrypted and ssl.key.password is not set")
        }
        do {
            if let password {
                return try NIOSSLPrivateKey(bytes: pem, format: .pem) { setter in setter(Array(password.utf8)) }
            }
            return try NIOSSLPrivateKey(bytes: pem, format: .pem)
        } catch {
            let hint = encrypted ? " (wrong ssl.key.password?)" : ""
            throw ClientSecurityConfig.Failure("\(key): cannot read the private key in \(origin)\(hint): \(error)")
        }
    }

    static func read(file: String, key: String) throws(ClientSecurityConfig.Failure) -> [UInt8] {
        do {
            return Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        } catch {
            throw ClientSecurityConfig.Failure("\(key): cannot read file '\(file)': \(reason(error, path: file))")
        }
    }

    static func reason(_ error: any Error, path: String) -> String {
        if !FileManager.default.fileExists(atPath: path) { return "no such file" }
        if !FileManager.default.isReadableFile(atPath: path) { return "permission denied" }
        return "\((error as NSError).localizedDescription)"
    }
}
