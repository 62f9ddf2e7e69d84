import Benchmark
import Foundation
import KafkaMessages
import KafkaWire
import NIOCore
import RunnelCore
import RunnelServer

// MARK: A request through the dispatcher and its handler, metrics off and on

/// Produce v9 (acks=1, one 1 KiB batch) and Fetch v12 (one partition, up to 64 KiB, no wait)
/// dispatched to an in-process broker (`InProcessBroker`: the real `Broker.dispatch`, router and
/// handlers, no sockets), once with metrics off and once on. The malloc count per request must be
/// the same in both: the metrics hooks (per-API counter and latency histogram, per-topic bytes)
/// go through objects made at start-up and allocate nothing per request (docs/decisions.md D127).
/// fsync is off for the topic so that no background flush runs on other threads.
final class HandlerFixture: @unchecked Sendable {
    let metrics: Bool
    var directory: URL?
    var broker: InProcessBroker?
    var produceFrame = ByteBuffer()
    var fetchFrame = ByteBuffer()

    init(metrics: Bool) { self.metrics = metrics }

    func start() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("runnel-bench-handler-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        directory = dir
        let broker = try InProcessBroker(dataDirectory: dir.path, metrics: metrics,
                                         overrides: ["runnel.acks.all.fsync=false", "log.segment.bytes=1073741824"])
        self.broker = broker
        try broker.serve(InProcessBroker.frame(.createTopics, version: 7, CreateTopicsRequest(topics: [
            .init(name: "bench", numPartitions: 1, replicationFactor: 1),
        ])))
        produceFrame = InProcessBroker.frame(.produce, version: 9, ProduceRequest(transactionalId: nil, acks: 1, timeoutMs: 30_000, topicData: [
            .init(name: "bench", partitionData: [.init(index: 0, records: buildBatch(targetBytes: 1024))]),
        ]))
        // Enough data for every fetch to return a full 64 KiB.
        try broker.serve(produceFrame, times: 200)
        fetchFrame = InProcessBroker.frame(.fetch, version: 12, FetchRequest(replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 65_536, isolationLevel: 0,
                                                    sessionId: 0, sessionEpoch: -1, topics: [
            .init(topic: "bench", partitions: [
                .init(partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1,
                      logStartOffset: -1, partitionMaxBytes: 65_536),
            ]),
        ], forgottenTopicsData: [], rackId: ""))
    }

    func stop() {
        broker?.shutdown()
        broker = nil
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }
}

func handlerMetricsBenchmarks() {
    for metrics in [false, true] {
        let state = metrics ? "metrics on" : "metrics off"
        for (name, frame) in [("Handler Produce v9 acks=1 1 KiB batch", \HandlerFixture.produceFrame),
                              ("Handler Fetch v12 64 KiB", \HandlerFixture.fetchFrame)] {
            let fixture = HandlerFixture(metrics: metrics)
            Benchmark("\(name), \(state)",
                      configuration: configuration(.kilo, rate: Rate.requestsPerSecond, maxDurationSeconds: 2, maxIterations: 200),
                      closure: { benchmark in
                let broker = fixture.broker!
                let request = fixture[keyPath: frame]
                try measureRate(benchmark, Rate.requestsPerSecond, units: benchmark.scaledIterations.count) {
                    blackHole(try broker.serve(request, times: benchmark.scaledIterations.count))
                }
            }, setup: { try fixture.start() }, teardown: { fixture.stop() })
        }
    }
}
