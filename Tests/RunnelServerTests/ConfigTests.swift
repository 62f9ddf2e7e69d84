import Foundation
import Testing
@testable import RunnelServer

@Suite struct ConfigTests {
    @Test func defaultsAreASingleNodeOnLocalhost() throws {
        let c = try BrokerConfig()
        #expect(c.listeners == [Listener(name: "PLAINTEXT", host: "localhost", port: 9092)])
        #expect(c.advertisedListeners == c.listeners)
        #expect(c.dataDirectory == "./data")
        #expect(c.nodeID.rawValue == 1)
        #expect(c.requestBytesMax == 100 * 1024 * 1024)
        #expect(c.retentionMs == 168 * 3_600_000)
        #expect(c.bool("auto.create.topics.enable"))
        #expect(c.int("num.partitions") == 1)
    }

    @Test func precedenceIsFileThenEnvironmentThenOverride() throws {
        let dir = NSTemporaryDirectory() + "runnel-config-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/broker.properties"
        try """
        # comment
        num.partitions=3
        log.dirs = /from/file
        log.retention.hours: 1
        node.id=7
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let c = try BrokerConfig(file: file, environment: ["RUNNEL_LOG_DIRS": "/from/env", "RUNNEL_BOOTSTRAP_SERVERS": "x:1"],
                                 overrides: ["node.id=9"])
        #expect(c.int("num.partitions") == 3)
        #expect(c.dataDirectory == "/from/env")
        #expect(c.nodeID.rawValue == 9)
        #expect(c.retentionMs == 3_600_000)
        #expect(c.sources["num.partitions"] == .file)
        #expect(c.sources["log.dirs"] == .environment)
        #expect(c.sources["node.id"] == .override)
    }

    @Test func retentionPrecedenceMsMinutesHours() throws {
        #expect(try BrokerConfig(overrides: ["log.retention.minutes=2"]).retentionMs == 120_000)
        #expect(try BrokerConfig(overrides: ["log.retention.minutes=2", "log.retention.ms=5"]).retentionMs == 5)
        #expect(try BrokerConfig(overrides: ["log.retention.hours=-1"]).retentionMs == -1)
    }

    /// Every failure names the key, the value and what is allowed.
    @Test(arguments: [
        ("num.partitons=3", ["num.partitons", "unknown"]),
        ("num.partitions=zero", ["num.partitions", "zero", "integer"]),
        ("num.partitions=0", ["num.partitions", "'0'", "1..."]),
        ("auto.create.topics.enable=yes", ["auto.create.topics.enable", "yes", "true or false"]),
        ("log.message.timestamp.type=Now", ["log.message.timestamp.type", "Now", "CreateTime, LogAppendTime"]),
        ("listeners=localhost:9092", ["listeners", "localhost:9092", "NAME://"]),
        ("process.roles=broker,gateway", ["process.roles", "gateway", "broker, controller"]),
        ("socket.request.max.bytes=10", ["socket.request.max.bytes", "10", "1024"]),
        ("novalue", ["novalue", "key=value"]),
    ])
    func badConfigurationIsNamed(override: String, mentions: [String]) {
        do {
            _ = try BrokerConfig(overrides: [override])
            Issue.record("\(override) was accepted")
        } catch {
            for m in mentions { #expect(error.message.contains(m), "'\(error.message)' lacks '\(m)'") }
        }
    }

    @Test func onlyPlaintextListenersAreAccepted() {
        #expect(throws: ConfigError.self) { try BrokerConfig(overrides: ["listeners=SSL://localhost:9093"]) }
        #expect(throws: ConfigError.self) { try BrokerConfig(overrides: ["log.dirs=/a,/b"]) }
    }

    @Test func propertiesParserRejectsGarbageLines() {
        #expect(throws: ConfigError.self) { try BrokerConfig.parseProperties("just words", file: "f") }
        #expect(throws: ConfigError.self) { try BrokerConfig.parseProperties("a=b \\", file: "f") }
    }

    @Test func topicOverridesAreValidated() throws {
        let broker = try BrokerConfig()
        func check(_ key: String, _ value: String) throws -> [String: String] {
            try LogConfigs.validateTopicOverrides([(key, value)], broker: broker).get()
        }
        #expect(try check("retention.ms", "1000") == ["retention.ms": "1000"])
        #expect(try check("cleanup.policy", " Delete ") == ["cleanup.policy": "delete"])
        #expect(try check("min.cleanable.dirty.ratio", "1") == ["min.cleanable.dirty.ratio": "1.0"])
        #expect(try check("leader.replication.throttled.replicas", " 0:1 , 2:1") == ["leader.replication.throttled.replicas": "0:1,2:1"])
        #expect(try check("leader.replication.throttled.replicas", "") == ["leader.replication.throttled.replicas": ""])
        for version in ["2.8", "0.10.2", "0.8.2.1", "3.0-IV1"] { #expect(try check("message.format.version", version).count == 1) }
        #expect(throws: ConfigError.self) { try check("retention.ms", "soon") }
        #expect(try check("cleanup.policy", "Compact , delete") == ["cleanup.policy": "compact,delete"])
        #expect(throws: ConfigError.self) { try check("cleanup.policy", "compact,shred") }
        #expect(throws: ConfigError.self) { try check("no.such.key", "1") }
        #expect(throws: ConfigError.self) { try check("segment.bytes", "10") }
        #expect(throws: ConfigError.self) { try check("message.format.version", "3") }
        #expect(throws: ConfigError.self) { try check("message.format.version", "3.0-IV") }
        // The compaction lags are checked against the broker's defaults too.
        let strict = try BrokerConfig(overrides: ["log.cleaner.max.compaction.lag.ms=100"])
        #expect(throws: ConfigError.self) { try LogConfigs.validateTopicOverrides([("min.compaction.lag.ms", "101")], broker: strict).get() }
    }

    /// Broker keys resolve through Kafka's synonym chains, converted to the unit of the key asked for.
    @Test func synonymChainsResolveInKafkasOrder() throws {
        let c = try BrokerConfig(overrides: ["log.roll.jitter.hours=2", "log.flush.interval.ms=500"])
        #expect(c.resolve(BrokerKeys.chain(of: "log.roll.jitter.ms")) == String(2 * 3_600_000))
        #expect(c.resolve(BrokerKeys.chain(of: "log.flush.interval.ms")) == "500")
        #expect(c.resolve(BrokerKeys.chain(of: "log.flush.scheduler.interval.ms")) == "9223372036854775807")
        #expect(LogConfigs.forTopic([:], broker: c).flushIntervalMs == 500)
        #expect(try BrokerConfig().rollMs == 168 * 3_600_000)
        #expect(c.explicitKeysNotYetInEffect == ["log.roll.jitter.hours=2"])
    }

    @Test func topicConfigsFallBackToBrokerDefaults() throws {
        let broker = try BrokerConfig(overrides: ["log.segment.bytes=2048", "log.message.timestamp.type=LogAppendTime"])
        let log = LogConfigs.forTopic(["retention.ms": "42"], broker: broker)
        #expect(log.segmentBytes == 2048)
        #expect(log.retentionMs == 42)
        #expect(log.messageTimestampType == .logAppendTime)
        #expect(LogConfigs.forTopic(["message.timestamp.type": "CreateTime"], broker: broker).messageTimestampType == .createTime)
    }

    /// The README's configuration reference lists every key the broker accepts.
    @Test func readmeListsEveryKey() throws {
        var url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let readme = try String(contentsOf: url.appendingPathComponent("README.md"), encoding: .utf8)
        for key in BrokerKeys.all { #expect(readme.contains("`\(key.name)`"), "README lacks \(key.name)") }
        for entry in TopicKeys.all { #expect(readme.contains("`\(entry.key.name)`"), "README lacks \(entry.key.name)") }
        // One table lists exactly the keys that are accepted but not yet in effect.
        let start = try #require(readme.range(of: "### Accepted, not yet in effect"))
        let section = readme[start.upperBound...].prefix { $0 != "#" }
        let listed = Set(section.split(separator: "\n").filter { $0.hasPrefix("| `") }.map {
            String($0.dropFirst(3).prefix { $0 != "`" })
        })
        #expect(listed == Set(TopicKeys.all.filter { !$0.inEffect }.map(\.key.name)))
    }
}
