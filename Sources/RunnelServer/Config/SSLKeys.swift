/// The broker's TLS keys (docs/decisions.md D161): Kafka's names, PEM only. Each may also be set
/// for one listener as `listener.name.<listener, lower case>.<key>`, which wins for that listener.
public enum SSLKeys {
    public static let all: [ConfigKey] = [
        ConfigKey("ssl.keystore.type", "PEM", .choice(["PEM"]),
                  "Format of the keystore; Runnel reads PEM only (JKS and PKCS12 are refused)."),
        // Empty = unset (the file keys default to "", so that DescribeConfigs has a value for them).
        ConfigKey("ssl.keystore.location", "", .string,
                  "PEM file holding this broker's private key and its certificate chain (leaf first)."),
        ConfigKey("ssl.keystore.certificate.chain", nil, .string,
                  "The certificate chain itself as PEM text (instead of ssl.keystore.location)."),
        ConfigKey("ssl.keystore.key", nil, .string,
                  "The private key itself as PEM text (with ssl.keystore.certificate.chain)."),
        ConfigKey("ssl.key.password", nil, .string, "Passphrase of an encrypted private key."),
        ConfigKey("ssl.truststore.type", "PEM", .choice(["PEM"]), "Format of the truststore; PEM only."),
        ConfigKey("ssl.truststore.location", "", .string,
                  "PEM file of the CA certificates that client certificates (mTLS) and other brokers' certificates must chain to."),
        ConfigKey("ssl.truststore.certificates", nil, .string, "The trusted CA certificates themselves as PEM text."),
        ConfigKey("ssl.client.auth", "none", .choice(["none", "requested", "required"]),
                  "Ask clients for a certificate: none, requested (checked when given), required (mTLS)."),
        ConfigKey("ssl.enabled.protocols", "TLSv1.2,TLSv1.3", .choiceList(["TLSv1.2", "TLSv1.3"]),
                  "TLS versions accepted; TLS 1.2 and 1.3 only."),
        ConfigKey("ssl.protocol", "TLSv1.3", .choice(["TLSv1.2", "TLSv1.3", "TLS"]),
                  "Accepted for compatibility; ssl.enabled.protocols decides."),
        ConfigKey("ssl.endpoint.identification.algorithm", "https", .choice(["https", ""]),
                  "On this broker's own TLS connections: https checks the peer's name or IP against its certificate; empty skips it."),
        ConfigKey("ssl.principal.mapping.rules", "DEFAULT", .choice(["DEFAULT"]),
                  "How a client certificate becomes a principal; only DEFAULT (User:<subject>)."),
    ]

    /// Kafka's PASSWORD-type keys: DescribeConfigs reports them as sensitive, with no value.
    static let sensitive: Set<String> = ["ssl.key.password", "ssl.keystore.key", "ssl.keystore.certificate.chain",
                                         "ssl.truststore.certificates"]

    static let byName: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The key for `name` when it is a per-listener override (`listener.name.ssl.ssl.client.auth`),
    /// under its name with the listener in lower case.
    static func listenerOverride(_ name: String) -> ConfigKey? {
        guard name.hasPrefix("listener.name.") else { return nil }
        let rest = name.dropFirst("listener.name.".count)
        guard let dot = rest.firstIndex(of: "."), dot > rest.startIndex else { return nil }
        guard let key = byName[String(rest[rest.index(after: dot)...])] else { return nil }
        return ConfigKey("listener.name.\(rest[..<dot].lowercased()).\(key.name)", nil, key.kind, key.doc)
    }

    /// The key that supplies `key` for `listener`: the listener's override when set, else `key`.
    static func effectiveKey(_ key: String, listener: String, in values: [String: String]) -> String {
        let prefixed = "listener.name.\(listener.lowercased()).\(key)"
        return values[prefixed] != nil ? prefixed : key
    }
}
