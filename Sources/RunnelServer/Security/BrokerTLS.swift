import NIOSSL
import RunnelClient

/// The TLS side of a broker (docs/decisions.md D161, D162): a server context for each listener of
/// protocol SSL or SASL_SSL, and client contexts for this node's own connections when
/// `inter.broker.listener.name` or `controller.listener.names` name such a listener. Everything
/// is loaded once at start-up; a missing or bad file stops start-up with a message that names
/// the key and the file.
public struct BrokerTLS: Sendable {
    /// One TLS listener's context and what it asks of clients.
    struct Server: Sendable {
        let context: NIOSSLContext
        let clientAuth: String
    }

    static let none = BrokerTLS()

    /// By listener name.
    var servers: [String: Server] = [:]
    /// For replica fetchers and for the metadata log sent to broker-only learners (nil: plain TCP).
    var interBroker: ClientTLS?
    /// For the controller channel and the Raft transport between voters (nil: plain TCP).
    var controller: ClientTLS?

    private init() {}

    init(config: BrokerConfig) throws(ConfigError) {
        for listener in config.listeners where config.securityProtocol(ofListener: listener.name).usesTLS {
            servers[listener.name] = try Self.server(config, listener: listener.name)
        }
        let interBroker = config.interBrokerListenerName
        if config.securityProtocol(ofListener: interBroker).usesTLS {
            self.interBroker = try Self.client(config, listener: interBroker)
        }
        if let name = config.controllerListenerNames.first?.uppercased(), config.securityProtocol(ofListener: name).usesTLS {
            controller = try Self.client(config, listener: name)
        }
    }

    /// The value of `key` for `listener` (its `listener.name.<name>.` override first) and the
    /// name of the key that supplied it, for messages.
    private static func value(_ config: BrokerConfig, _ key: String, _ listener: String) -> (value: String, key: String)? {
        let effective = SSLKeys.effectiveKey(key, listener: listener, in: config.values)
        guard let value = config.values[effective], !value.isEmpty else { return nil }
        return (value, effective)
    }

    private static func wrap<T>(_ listener: String, _ body: () throws(ClientSecurityConfig.Failure) -> T) throws(ConfigError) -> T {
        do { return try body() } catch { throw ConfigError("\(error.description) (listener \(listener))") }
    }

    /// This broker's certificate chain and key for `listener`.
    private static func keystore(_ config: BrokerConfig, _ listener: String) throws(ConfigError) -> ([NIOSSLCertificate], NIOSSLPrivateKey)? {
        let password = value(config, "ssl.key.password", listener)?.value
        if let chain = value(config, "ssl.keystore.certificate.chain", listener) {
            guard let key = value(config, "ssl.keystore.key", listener) else {
                throw ConfigError("\(chain.key) is set but ssl.keystore.key is not (listener \(listener))")
            }
            return try wrap(listener) { () throws(ClientSecurityConfig.Failure) in
                (try PEMFiles.certificates(pem: Array(chain.value.utf8), key: chain.key, origin: "its value"),
                 try PEMFiles.privateKey(pem: Array(key.value.utf8), password: password, key: key.key, origin: "its value"))
            }
        }
        guard let location = value(config, "ssl.keystore.location", listener) else { return nil }
        return try wrap(listener) { () throws(ClientSecurityConfig.Failure) in
            (try PEMFiles.certificates(file: location.value, key: location.key),
             try PEMFiles.privateKey(file: location.value, password: password, key: location.key))
        }
    }

    private static func truststore(_ config: BrokerConfig, _ listener: String) throws(ConfigError) -> [NIOSSLCertificate]? {
        if let inline = value(config, "ssl.truststore.certificates", listener) {
            return try wrap(listener) { () throws(ClientSecurityConfig.Failure) in
                try PEMFiles.certificates(pem: Array(inline.value.utf8), key: inline.key, origin: "its value")
            }
        }
        guard let location = value(config, "ssl.truststore.location", listener) else { return nil }
        return try wrap(listener) { () throws(ClientSecurityConfig.Failure) in
            try PEMFiles.certificates(file: location.value, key: location.key)
        }
    }

    /// TLS 1.2 and/or 1.3, from ssl.enabled.protocols (its kind admits nothing older).
    private static func versions(_ config: BrokerConfig, _ listener: String) -> (TLSVersion, TLSVersion) {
        let enabled = value(config, "ssl.enabled.protocols", listener)?.value.splitList() ?? ["TLSv1.2", "TLSv1.3"]
        return (enabled.contains("TLSv1.2") ? .tlsv12 : .tlsv13, enabled.contains("TLSv1.3") ? .tlsv13 : .tlsv12)
    }

    static func server(_ config: BrokerConfig, listener: String) throws(ConfigError) -> Server {
        guard let (chain, key) = try keystore(config, listener) else {
            throw ConfigError("listener \(listener) uses \(config.securityProtocol(ofListener: listener).rawValue) but has no certificate: "
                + "set ssl.keystore.location (a PEM file with the key and the chain) or ssl.keystore.certificate.chain and ssl.keystore.key")
        }
        let trust = try truststore(config, listener)
        let clientAuth = value(config, "ssl.client.auth", listener)?.value ?? "none"
        if clientAuth != "none" && trust == nil {
            throw ConfigError("ssl.client.auth=\(clientAuth) on listener \(listener) needs ssl.truststore.location: "
                + "the CA certificates client certificates must chain to")
        }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        (tls.minimumTLSVersion, tls.maximumTLSVersion) = versions(config, listener)
        if let trust {
            tls.trustRoots = .certificates(trust)
            tls.sendCANameList = true
        }
        switch clientAuth {
        case "required": tls.certificateVerification = .noHostnameVerification
        case "requested": tls.certificateVerification = .optionalVerification
        default: tls.certificateVerification = .none
        }
        do {
            return Server(context: try NIOSSLContext(configuration: tls), clientAuth: clientAuth)
        } catch {
            throw ConfigError("listener \(listener): the keystore's certificate and key do not make a TLS context: \(error)")
        }
    }

    /// The context for this node's connections to `listener` on other nodes: their certificates
    /// must chain to the truststore; ours (the keystore) is sent when they ask.
    static func client(_ config: BrokerConfig, listener: String) throws(ConfigError) -> ClientTLS {
        let trust = try truststore(config, listener)
        let own = try keystore(config, listener)
        let verifyHostname = (value(config, "ssl.endpoint.identification.algorithm", listener)?.value ?? "") == "https"
        return try wrap(listener) { () throws(ClientSecurityConfig.Failure) in
            try ClientTLS(trustRoots: trust, certificateChain: own?.0 ?? [], privateKey: own?.1, verifyHostname: verifyHostname)
        }
    }
}
