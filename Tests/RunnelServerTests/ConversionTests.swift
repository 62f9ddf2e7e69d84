import ClusterMetadata
import Foundation
import KafkaMessages
import KafkaWire
import RunnelCore
import RunnelTesting
import Testing
@testable import RunnelServer

/// A data directory written by the last single-node release (commit af2db68, before the Raft
/// controller) starts with today's broker and keeps its topics, their ids, its configs, its
/// records and its producer-id reservations; the conversion happens once and says so once.
///
/// `Fixtures/single-node-af2db68.tar.gz` was made with that release's binary: topics `orders`
/// (3 partitions, retention.ms=86400000) and `events` (1), records produced to both (3 of them by
/// an idempotent producer, so a producer-id block was reserved), a group `billing` that
/// consumed `orders`, then SIGTERM.
@Suite struct ConversionTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/single-node-af2db68.tar.gz").path

    func extractFixture() throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory(prefix: "runnel-conversion")
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["xzf", Self.fixture, "-C", dir.path, "--strip-components=1"]
        try tar.run()
        tar.waitUntilExit()
        #expect(tar.terminationStatus == 0)
        return dir
    }

    @Test func aSingleNodeDataDirectoryOfTheLastReleaseConvertsOnce() throws {
        let dir = try extractFixture()
        defer { dir.remove() }
        let legacy = try #require(try LegacyMetadataLog.read(dataDirectory: dir.path, logger: .init(label: "test")))
        let expected = try MetadataImage().applying(legacy)
        #expect(expected.topicNames.map(\.rawValue).contains("orders"))

        let h = try BrokerHarness(directory: dir)
        let image = try h.onLoop { $0.image }
        for name in expected.topicNames {
            let was = expected.topic(name)!
            let now = try #require(image.topic(name), "topic \(name) survived")
            #expect(now.id == was.id, "\(name) keeps its topic id")
            #expect(now.configs == was.configs)
            #expect(now.partitions.map(\.replicas) == was.partitions.map(\.replicas))
        }
        #expect(image.topicNames == expected.topicNames)
        #expect(image.nextProducerID == expected.nextProducerID && expected.nextProducerID > 0)
        #expect(h.log.lines.filter { $0.message.contains("converted the metadata of a single-node release") }.count == 1)
        #expect(FileManager.default.fileExists(atPath: LegacyMetadataLog.path(dataDirectory: dir.path) + ".converted"))
        #expect(!FileManager.default.fileExists(atPath: LegacyMetadataLog.path(dataDirectory: dir.path)))

        // The records are there, and new producer ids come after the old reservation.
        let pf = ProduceFetchTests()
        let events = try pf.values(pf.fetch(h, topic: "events", offset: 0))
        #expect(events.map(\.1) == ["1", "2", "3", "4", "5", "idem-0", "idem-1", "idem-2"])
        let producer = try #require(try h.send(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 60_000,
                                                                     producerId: -1, producerEpoch: -1), version: 4))
        #expect(producer.errorCode == 0 && producer.producerId >= expected.nextProducerID)

        // A restart neither converts again nor loses anything.
        try h.close()
        try h.open()
        #expect(h.log.lines.filter { $0.message.contains("converted the metadata") }.count == 1)
        let again = try h.onLoop { $0.image }
        #expect(again.topicNames == expected.topicNames)
        #expect(again.topic(TopicName("orders"))?.id == expected.topic(TopicName("orders"))?.id)
        #expect(try pf.values(pf.fetch(h, topic: "events", offset: 0)).count == 8)
        try h.close()
    }
}
