import Foundation
import RunnelClient
import RunnelCore
import RunnelTesting
import Testing

/// Certificates for one test run, made by scripts/make-test-certs.sh (D165), removed afterwards.
final class TestCertificates {
    let directory: TemporaryDirectory
    var path: String { directory.path }
    func file(_ name: String) -> String { directory.file(name) }

    init() throws {
        directory = try TemporaryDirectory(prefix: "runnel-certs")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/make-test-certs.sh").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = [script, directory.path]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CertificateScriptFailed(status: p.terminationStatus) }
    }

    deinit { directory.remove() }

    struct CertificateScriptFailed: Error { let status: Int32 }
}

/// A broker with a PLAINTEXT and an mTLS listener, driven by RunnelClient and the CLI over TLS.
@Suite(.enabled(if: RunnelBinary.exists, "needs the runnel binary (RUNNEL_BIN or .build/debug/runnel)"))
struct TLSTests {
    @Test func clientAndCLIWorkOverMutualTLS() async throws {
        let certs = try TestCertificates()
        let sslPort = try freeLoopbackPort()
        let port = try freeLoopbackPort()
        let broker = try BrokerProcess(overrides: [
            "listeners=PLAINTEXT://127.0.0.1:\(port),SSL://127.0.0.1:\(sslPort)",
            "ssl.keystore.location=\(certs.file("broker.pem"))",
            "ssl.truststore.location=\(certs.file("ca.pem"))",
            "ssl.client.auth=required",
        ], port: port)
        defer {
            broker.stop()
            broker.dataDirectory.remove()
        }
        try broker.start()
        let properties = certs.file("client.properties")
        try "security.protocol=SSL\nssl.truststore.location=\(certs.file("ca.pem"))\nssl.keystore.location=\(certs.file("client.pem"))\n"
            .write(toFile: properties, atomically: true, encoding: .utf8)
        let b = ["-b", "localhost:\(sslPort)", "--command-config", properties]
        let topic = uniqueTopic("tls")
        var created = try runCLI(["topic", "create", topic, "-p", "1"] + b)
        for _ in 0..<50 where created.status != 0 && created.stderr.contains("unreachable") {
            try await Task.sleep(for: .milliseconds(100))  // the SSL listener binds just after the PLAINTEXT one
            created = try runCLI(["topic", "create", topic, "-p", "1"] + b)
        }
        #expect(created.status == 0, "\(created.stderr)\n\(broker.log.suffix(2000))")
        #expect(try runCLI(["produce", topic] + b, stdin: "a\nb\nc\n").status == 0)
        let consumed = try runCLI(["consume", topic, "--exit-at-end"] + b)
        #expect(consumed.stdoutLines == ["a", "b", "c"], "\(consumed.stderr)")
        #expect(broker.log.contains("authenticated as User:CN=alice,OU=dev,O=Runnel,C=DE"))

        // RunnelClient with the same settings, and without a client certificate (refused).
        var config = try KafkaClientConfig(bootstrapServers: "127.0.0.1:\(sslPort)")
        config.requestTimeoutMs = 5_000
        try config.setSecurity(try ClientSecurityConfig.load(file: properties))
        let client = KafkaClient(config: config)
        let names = try await client.listTopics().map(\.name)
        await client.shutdown()
        #expect(names.contains(TopicName(topic)))

        var anonymous = ClientSecurityConfig()
        anonymous.securityProtocol = .ssl
        anonymous.caFile = certs.file("ca.pem")
        var refusedConfig = try KafkaClientConfig(bootstrapServers: "127.0.0.1:\(sslPort)")
        refusedConfig.requestTimeoutMs = 5_000
        refusedConfig.attemptsMax = 1
        try refusedConfig.setSecurity(anonymous)
        let refused = KafkaClient(config: refusedConfig)
        await #expect(throws: (any Error).self) { _ = try await refused.listTopics() }
        await refused.shutdown()
        // Still serving the certificate holder.
        #expect(try runCLI(["topic", "list"] + b).stdoutLines.contains(topic))
    }

    @Test func aMissingKeystoreStopsStartUpNamingKeyAndFile() throws {
        let certs = try TestCertificates()
        let missing = certs.file("absent.pem")
        let port = try freeLoopbackPort()
        let broker = try BrokerProcess(overrides: ["ssl.keystore.location=\(missing)", "listeners=SSL://127.0.0.1:\(port)",
                                                        "inter.broker.listener.name=SSL"], port: port)
        defer {
            broker.stop()
            broker.dataDirectory.remove()
        }
        #expect(throws: (any Error).self) { try broker.start() }
        #expect(broker.log.contains("ssl.keystore.location: cannot read file '\(missing)': no such file"), "\(broker.log.suffix(1000))")
    }
}
