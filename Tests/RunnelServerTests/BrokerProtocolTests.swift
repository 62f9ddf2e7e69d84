import KafkaMessages
import KafkaWire
import NIOCore
import RunnelCore
import Testing
@testable import RunnelServer

/// The version rules of PROTOCOL.md §3 and the advertisement of §1a, against an in-process broker.
@Suite struct BrokerProtocolTests {
    @Test func apiVersionsV0ListsEveryAdvertisedRangeUnderHeaderV0() throws {
        let h = try BrokerHarness()
        guard case .respond(var body) = try h.dispatch(h.frame(ApiVersionsRequest(), version: 0)) else {
            Issue.record("no response"); return
        }
        #expect(body.readInteger(as: Int32.self) == 7)   // correlation id, then the body directly
        let response = try ApiVersionsResponse(from: &body, version: 0)
        #expect(response.errorCode == 0)
        let ranges = Dictionary(uniqueKeysWithValues: response.apiKeys.map { ($0.apiKey, $0.minVersion...$0.maxVersion) })
        // librdkafka 2.0.2 needs these minimums at 0 (PROTOCOL.md §1a).
        for key: Int16 in [0, 1, 2, 3, 22] { #expect(ranges[key]?.lowerBound == 0, "key \(key)") }
        #expect(ranges[0]?.contains(3) == true && ranges[1]?.contains(4) == true)
        #expect(ranges[18] == 0...4)
    }

    @Test func apiVersionsV3UsesResponseHeaderV0AndChecksSoftwareNames() throws {
        let h = try BrokerHarness()
        let ok = try #require(try h.send(ApiVersionsRequest(clientSoftwareName: "librdkafka", clientSoftwareVersion: "2.0.2"), version: 3))
        #expect(ok.errorCode == 0)
        let bad = try #require(try h.send(ApiVersionsRequest(clientSoftwareName: "bad name!", clientSoftwareVersion: "1"), version: 3))
        #expect(bad.errorCode == 42)
    }

    @Test func unsupportedApiVersionsVersionGetsError35WithAV0Body() throws {
        let h = try BrokerHarness()
        var frame = ByteBuffer()
        RequestHeader(apiKey: 18, apiVersion: 99, correlationId: 5, clientId: "x").encode(into: &frame, headerVersion: 2)
        frame.writeBytes([0, 0, 0])   // whatever a future version sends: never parsed
        guard case .respond(var body) = try h.dispatch(frame) else { Issue.record("no response"); return }
        #expect(body.readInteger(as: Int32.self) == 5)
        let response = try ApiVersionsResponse(from: &body, version: 0)
        #expect(response.errorCode == 35)
        #expect(response.apiKeys.map { [$0.apiKey, $0.minVersion, $0.maxVersion] } == [[18, 0, 4]])
        #expect(body.readableBytes == 0)
    }

    @Test func otherUnsupportedVersionsAndKeysCloseTheConnection() throws {
        let h = try BrokerHarness()
        for (key, version): (Int16, Int16) in [(3, 99), (1, 13), (999, 0), (21, 0), (24, 0), (68, 0)] {
            var frame = ByteBuffer()
            RequestHeader(apiKey: key, apiVersion: version, correlationId: 1, clientId: "x").encode(into: &frame, headerVersion: 1)
            guard case .close = try h.dispatch(frame) else {
                Issue.record("key \(key) v\(version) was not refused by closing"); continue
            }
        }
    }

    @Test func aMalformedBodyClosesOnlyThatRequest() throws {
        let h = try BrokerHarness()
        var frame = h.frame(MetadataRequest(topics: [.init(name: "some-topic")]), version: 4)
        frame.moveWriterIndex(to: frame.writerIndex - 3)   // cut inside the topic name
        guard case .close(let reason) = try h.dispatch(frame) else { Issue.record("accepted"); return }
        #expect(reason.contains("MetadataRequest"))
        // The broker still serves.
        #expect(try h.send(MetadataRequest(topics: nil), version: 4)?.brokers.count == 1)
    }

    @Test func metadataAutoCreatesAndKeepsTopicIDsAcrossRestarts() throws {
        let h = try BrokerHarness(overrides: ["num.partitions=3"])
        var request = MetadataRequest(topics: [.init(name: "auto")])
        request.allowAutoTopicCreation = true
        let first = try #require(try h.send(request, version: 12))
        let topic = try #require(first.topics.first)
        #expect(topic.errorCode == 0 && topic.partitions.count == 3)
        #expect(topic.topicId != .zero)
        #expect(first.controllerId == 1 && first.clusterId != nil)
        try h.close()
        try h.open()
        let again = try #require(try h.send(MetadataRequest(topics: nil), version: 12))
        #expect(again.topics.map(\.topicId) == [topic.topicId])
        #expect(again.clusterId == first.clusterId)
        // By id (v10+) and an unknown id.
        let byID = try #require(try h.send(MetadataRequest(topics: [.init(topicId: topic.topicId, name: nil)]), version: 12))
        #expect(byID.topics.first?.name == "auto")
        let unknown = try #require(try h.send(MetadataRequest(topics: [.init(topicId: TopicID(high: 1, low: 2), name: nil)]), version: 12))
        #expect(unknown.topics.first?.errorCode == 100)
    }

    @Test func metadataWithoutAutoCreateReportsUnknownTopics() throws {
        let h = try BrokerHarness(overrides: ["auto.create.topics.enable=false"])
        let r = try #require(try h.send(MetadataRequest(topics: [.init(name: "nope")]), version: 9))
        #expect(r.topics.first?.errorCode == 3)
        let invalid = try #require(try h.send(MetadataRequest(topics: [.init(name: "bad/name")]), version: 9))
        #expect(invalid.topics.first?.errorCode == 17)
    }
}
