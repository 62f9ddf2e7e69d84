import Foundation
import KafkaMessages
import KafkaWire
import NIOCore
import RunnelCore
import RunnelTesting
import Testing
@testable import RunnelServer

/// The harness the handler benchmarks use: requests really go through the dispatcher and its
/// metrics hooks (so the benchmark's "metrics on" measures them), and nothing when off.
@Suite struct InProcessBrokerTests {
    @Test(arguments: [true, false]) func requestsGoThroughTheHandlerAndItsMetrics(metricsOn: Bool) throws {
        let directory = try TemporaryDirectory(prefix: "runnel-in-process")
        defer { directory.remove() }
        let broker = try InProcessBroker(dataDirectory: directory.file("data"), metrics: metricsOn,
                                         overrides: ["runnel.acks.all.fsync=false"])
        defer { broker.shutdown() }
        try broker.serve(InProcessBroker.frame(.createTopics, version: 7, CreateTopicsRequest(topics: [.init(name: "t", numPartitions: 1, replicationFactor: 1)])))
        var builder = RecordBatchBuilder()
        builder.append(timestamp: TimestampMs(1_700_000_000_000), key: nil, value: ByteBuffer(string: "v"))
        let batch = builder.finish()
        let produce = InProcessBroker.frame(.produce, version: 9, ProduceRequest(transactionalId: nil, acks: 1, timeoutMs: 1000, topicData: [
            .init(name: "t", partitionData: [.init(index: 0, records: batch)]),
        ]))
        var answer = try #require(try broker.serve(produce, times: 5))
        _ = try ResponseHeader(from: &answer, headerVersion: ApiKey.produce.responseHeaderVersion(apiVersion: 9))
        let response = try ProduceResponse(from: &answer, version: 9)
        #expect(response.responses.first?.partitionResponses.first?.errorCode == 0)
        #expect(response.responses.first?.partitionResponses.first?.baseOffset == 4)

        let text = try broker.exposition()
        if metricsOn {
            let e = Exposition(text)
            #expect(e.value("runnel_requests_total", ["api": "Produce"]) == 5)
            #expect(e.value("runnel_requests_total", ["api": "CreateTopics"]) == 1)
            #expect(e.value("runnel_topic_records_in_total", ["topic": "t"]) == 5)
        } else {
            #expect(text.isEmpty)
        }
    }
}
