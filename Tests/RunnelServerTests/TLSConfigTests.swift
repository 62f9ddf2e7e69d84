import Foundation
import NIOCore
import NIOEmbedded
import RunnelTesting
import RunnelClient
import Testing
@testable import RunnelServer

/// The TLS keys (D161, D162), the certificate subject as a principal (D164) and the client
/// properties (D163).
@Suite struct TLSConfigTests {
    /// Certificates from scripts/make-test-certs.sh in a fresh directory.
    static func makeCertificates() throws -> String {
        let dir = NSTemporaryDirectory() + "runnel-tls-unit-\(UUID().uuidString)"
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/make-test-certs.sh").path
        try run("/bin/sh", [script, dir])
        return dir
    }

    static func run(_ tool: String, _ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(tool) \(arguments)")
    }

    static func der(_ pem: String, in dir: String) throws -> [UInt8] {
        try run("/usr/bin/openssl", ["x509", "-in", "\(dir)/\(pem)", "-outform", "DER", "-out", "\(dir)/\(pem).der"])
        return Array(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(pem).der")))
    }

    @Test func theSubjectIsWrittenAsKafkaWritesIt() throws {
        let dir = try Self.makeCertificates()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try CertificateSubject.rfc2253(certificateDER: Self.der("client-cert.pem", in: dir)) == "CN=alice,OU=dev,O=Runnel,C=DE")
        #expect(try CertificateSubject.rfc2253(certificateDER: Self.der("broker-cert.pem", in: dir)) == "CN=localhost,O=Runnel Test")
        #expect(throws: (any Error).self) { try CertificateSubject.rfc2253(certificateDER: [0x30, 0x05, 0x01]) }
        #expect(CertificateSubject.escape("a,b+c\"d\\e<f>g;h") == "a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h")
        #expect(CertificateSubject.escape("#lead ") == "\\#lead\\ ")
        // Damaged certificates (bytes flipped, cut short) throw or give some name; never trap.
        let good = try Self.der("client-cert.pem", in: dir)
        var rng = SystemRandomNumberGenerator()
        var named = 0
        for round in 0..<20_000 {
            var bytes = good
            if round % 4 == 0 { bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng))) }
            for _ in 0..<Int.random(in: 1...4, using: &rng) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if (try? CertificateSubject.rfc2253(certificateDER: bytes)) != nil { named += 1 }
        }
        #expect(named > 0 && named < 20_000)
    }

    @Test func sslListenersLoadTheirFilesAndOverridesWin() throws {
        let dir = try Self.makeCertificates()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try BrokerConfig(overrides: [
            "listeners=PLAINTEXT://:9092,SSL://:9093,MTLS://:9094",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,MTLS:SASL_SSL,CONTROLLER:PLAINTEXT",
            "ssl.keystore.location=\(dir)/broker.pem",
            "ssl.truststore.location=\(dir)/ca.pem",
            "listener.name.MTLS.ssl.client.auth=required",
        ])
        #expect(config.securityProtocol(ofListener: "MTLS") == .saslSsl)
        #expect(config.values["listener.name.mtls.ssl.client.auth"] == "required")
        let loaded = try config.loadingTLS()
        #expect(loaded.tls.servers["SSL"]?.clientAuth == "none")
        #expect(loaded.tls.servers["MTLS"]?.clientAuth == "required")
        #expect(loaded.tls.servers["PLAINTEXT"] == nil)
        #expect(loaded.tls.interBroker == nil && loaded.tls.controller == nil)

        let interBroker = try BrokerConfig(overrides: ["listeners=SSL://:9093", "inter.broker.listener.name=SSL",
                                                       "ssl.keystore.location=\(dir)/broker.pem"]).loadingTLS()
        #expect(interBroker.tls.interBroker != nil)
    }

    @Test func badFilesAndValuesAreRefusedNamingTheKey() throws {
        let dir = try Self.makeCertificates()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func failure(_ overrides: [String]) -> String {
            do {
                _ = try BrokerConfig(overrides: ["listeners=SSL://:9093", "inter.broker.listener.name=SSL",
                                                 "ssl.keystore.location=\(dir)/broker.pem"] + overrides).loadingTLS()
                return "no error"
            } catch {
                return error.message
            }
        }
        #expect(failure(["ssl.keystore.location=\(dir)/nope.pem"])
            == "ssl.keystore.location: cannot read file '\(dir)/nope.pem': no such file (listener SSL)")
        #expect(failure(["ssl.keystore.location=\(dir)/broker-cert.pem"]).contains("holds no PEM private key"))
        #expect(failure(["listener.name.ssl.ssl.truststore.location=\(dir)/broker-key.pem"])
            .hasPrefix("listener.name.ssl.ssl.truststore.location: file '\(dir)/broker-key.pem' holds no PEM certificate"))
        #expect(failure(["ssl.client.auth=requested"]).contains("needs ssl.truststore.location"))
        #expect(failure(["ssl.enabled.protocols=TLSv1.1"]).contains("'TLSv1.1' is not one of TLSv1.2, TLSv1.3"))
        #expect(failure(["ssl.keystore.type=JKS"]).contains("invalid value 'JKS' for 'ssl.keystore.type'"))
        #expect(failure(["listener.name.ssl.ssl.bogus=1"]).contains("unknown configuration key 'listener.name.ssl.ssl.bogus'"))
        #expect(failure(["listener.security.protocol.map=SSL:TLS"]).contains("security protocol 'TLS'"))
        #expect(failure(["inter.broker.listener.name=PLAINTEXT"])
            == "inter.broker.listener.name 'PLAINTEXT' is not one of this broker's advertised listeners (SSL); set it to the listener other brokers use")
        try (String(contentsOfFile: "\(dir)/broker-enc-key.pem", encoding: .utf8) + String(contentsOfFile: "\(dir)/broker-cert.pem", encoding: .utf8))
            .write(toFile: "\(dir)/enc.pem", atomically: true, encoding: .utf8)
        #expect(failure(["ssl.keystore.location=\(dir)/enc.pem"]).contains("is encrypted and ssl.key.password is not set"))
        #expect(failure(["ssl.keystore.location=\(dir)/enc.pem", "ssl.key.password=wrong"]).contains("wrong ssl.key.password"))
        #expect(failure(["ssl.keystore.location=\(dir)/enc.pem", "ssl.key.password=brokerpass"]) == "no error")
        #expect(failure(["ssl.keystore.location=", "ssl.keystore.certificate.chain=x"]).contains("ssl.keystore.key is not"))
    }

    @Test func clientPropertiesCarryTLSAndSASLSettings() throws {
        let c = try ClientSecurityConfig.parse(properties: """
            # a Kafka client file
            security.protocol=sasl_ssl
            ssl.ca.location=/ca.pem
            ssl.certificate.location = /c.pem
            ssl.key.location: /k.pem
            ssl.endpoint.identification.algorithm=
            sasl.mechanism=SCRAM-SHA-512
            sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="s3\\"cr;et";
            linger.ms=5
            """)
        #expect(c.securityProtocol == .saslSsl && c.securityProtocol.usesTLS && c.securityProtocol.usesSASL)
        #expect(c.caFile == "/ca.pem" && c.certificateFile == "/c.pem" && c.keyFile == "/k.pem")
        #expect(!c.verifyHostname)
        #expect(c.saslMechanism == "SCRAM-SHA-512" && c.saslUsername == "alice" && c.saslPassword == "s3\"cr;et")
        #expect(throws: ClientSecurityConfig.Failure.self) { try ClientSecurityConfig.parse(properties: "security.protocol=TLS") }
        #expect(throws: ClientSecurityConfig.Failure.self) { try ClientSecurityConfig.parse(properties: "ssl.keystore.type=JKS") }
        var missing = ClientSecurityConfig()
        missing.securityProtocol = .ssl
        missing.caFile = "/nonexistent/ca.pem"
        #expect(throws: ClientSecurityConfig.Failure("ssl.truststore.location / ssl.ca.location: cannot read file '/nonexistent/ca.pem': no such file")) {
            _ = try missing.makeTLS()
        }
        #expect(try ClientSecurityConfig.plaintext.makeTLS() == nil)
    }
}

/// The principal a verified certificate (or SASL) names reaches the requests of the connection.
@Suite struct ConnectionPrincipalTests {
    final class RecordingDispatcher: RequestDispatcher {
        var seen: [ConnectionInfo] = []
        func dispatch(frame: ByteBuffer, connection: ConnectionInfo, completion: @escaping (DispatchResult) -> Void) {
            seen.append(connection)
            completion(.noResponse)
        }
    }

    @Test func requestsAfterAuthenticationCarryThePrincipal() throws {
        let dispatcher = RecordingDispatcher()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            KafkaConnectionHandler(dispatcher: dispatcher, info: ConnectionInfo(id: 1, remote: "test", securityProtocol: .ssl),
                                   logger: LogCapture().logger, inFlightMax: 8))
        try channel.writeInbound(ByteBuffer(bytes: [0, 18, 0, 0, 0, 0, 0, 1]))
        channel.pipeline.fireUserInboundEventTriggered(ConnectionAuthenticated(principal: KafkaPrincipal(name: "CN=alice,O=Runnel")))
        try channel.writeInbound(ByteBuffer(bytes: [0, 18, 0, 0, 0, 0, 0, 2]))
        #expect(dispatcher.seen.map(\.principal.description) == ["User:ANONYMOUS", "User:CN=alice,O=Runnel"])
        #expect(dispatcher.seen.allSatisfy { $0.securityProtocol == .ssl })
        _ = try channel.finish()
    }
}

/// config/single-node-tls.properties and config/client-ssl.properties work with the certificates
/// of scripts/make-test-certs.sh, as their comments say.
@Suite struct TLSExampleConfigTests {
    @Test func theExamplesLoad() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = try TLSConfigTests.makeCertificates()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try BrokerConfig(file: root.appendingPathComponent("config/single-node-tls.properties").path,
                                      overrides: ["ssl.keystore.location=\(dir)/broker.pem", "ssl.truststore.location=\(dir)/ca.pem"])
        let loaded = try config.loadingTLS()
        #expect(loaded.tls.servers["SSL"]?.clientAuth == "required")
        #expect(loaded.securityProtocol(ofListener: "PLAINTEXT") == .plaintext)
        let client = try ClientSecurityConfig.load(file: root.appendingPathComponent("config/client-ssl.properties").path)
        #expect(client.securityProtocol == .ssl && client.caFile == "certs/ca.pem" && client.certificateFile == "certs/client.pem")
    }
}
