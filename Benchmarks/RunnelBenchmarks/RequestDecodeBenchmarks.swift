import Benchmark
import KafkaMessages
import KafkaWire
import NIOCore
import RunnelCore

/// Decoding a request frame body (after the 4-byte size): the request header, then the body
/// with the generated KafkaMessages types, as the broker's dispatcher does.
func requestDecodeBenchmarks() {
    // Produce v9 (flexible, header v2): one topic, one partition, one 16 KiB batch.
    let batch = buildBatch(targetBytes: 16 * 1024)
    let produce = ProduceRequest(transactionalId: nil, acks: -1, timeoutMs: 30_000, topicData: [
        .init(name: "events", partitionData: [.init(index: 0, records: batch)]),
    ])
    var produceFrame = ByteBuffer()
    RequestHeader(apiKey: ApiKey.produce.rawValue, apiVersion: 9, correlationId: 42, clientId: "rdkafka")
        .encode(into: &produceFrame, headerVersion: ApiKey.produce.requestHeaderVersion(apiVersion: 9))
    produce.encode(into: &produceFrame, version: 9)

    // Fetch v12 (flexible, topic by name): one topic, one partition, a consumer's usual shape.
    let fetch = FetchRequest(replicaId: -1, maxWaitMs: 500, minBytes: 1, maxBytes: 52_428_800, isolationLevel: 0,
                             sessionId: 0, sessionEpoch: -1, topics: [
        .init(topic: "events", partitions: [
            .init(partition: 0, currentLeaderEpoch: 0, fetchOffset: 123_456, lastFetchedEpoch: -1,
                  logStartOffset: -1, partitionMaxBytes: 1_048_576),
        ]),
    ], forgottenTopicsData: [], rackId: "")
    var fetchFrame = ByteBuffer()
    RequestHeader(apiKey: ApiKey.fetch.rawValue, apiVersion: 12, correlationId: 43, clientId: "rdkafka")
        .encode(into: &fetchFrame, headerVersion: ApiKey.fetch.requestHeaderVersion(apiVersion: 12))
    fetch.encode(into: &fetchFrame, version: 12)

    Benchmark("Request decode ProduceRequest v9 (one 16 KiB batch)",
              configuration: configuration(.kilo, rate: Rate.requestsPerSecond)) { benchmark in
        let headerVersion = ApiKey.produce.requestHeaderVersion(apiVersion: 9)
        try measureRate(benchmark, Rate.requestsPerSecond, units: benchmark.scaledIterations.count) {
            for _ in benchmark.scaledIterations {
                var frame = produceFrame
                let header = try RequestHeader(from: &frame, headerVersion: headerVersion)
                let request = try ProduceRequest(from: &frame, version: header.apiVersion)
                blackHole(request)
            }
        }
    }

    Benchmark("Request decode FetchRequest v12 (one partition)",
              configuration: configuration(.kilo, rate: Rate.requestsPerSecond)) { benchmark in
        let headerVersion = ApiKey.fetch.requestHeaderVersion(apiVersion: 12)
        try measureRate(benchmark, Rate.requestsPerSecond, units: benchmark.scaledIterations.count) {
            for _ in benchmark.scaledIterations {
                var frame = fetchFrame
                let header = try RequestHeader(from: &frame, headerVersion: headerVersion)
                let request = try FetchRequest(from: &frame, version: header.apiVersion)
                blackHole(request)
            }
        }
    }
}
