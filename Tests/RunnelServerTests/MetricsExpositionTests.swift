import Foundation
import RunnelCore
import RunnelTesting
import Testing
@testable import RunnelServer

/// The Prometheus exposition of `BrokerMetrics`, without a broker: names, HELP and TYPE lines,
/// label sets, buckets, and series that come and go with the state they describe.
@Suite struct MetricsExpositionTests {
    private func snapshot(partitions: [(String, Int32, leader: Bool, isrShort: Bool)], groups: [String] = [],
                          lags: [(String, String, Int32, Int64)] = []) -> BrokerMetrics.Snapshot {
        var s = BrokerMetrics.Snapshot()
        for p in partitions {
            s.topics.insert(TopicName(p.0))
            s.partitions.append(.init(key: TopicPartition(TopicName(p.0), PartitionID(p.1)), logStart: 3, logEnd: 10,
                                      highWatermark: 9, isLeader: p.leader, underReplicated: p.isrShort, offline: false))
        }
        s.groupStates = groups
        s.lags = lags.map { ($0.0, TopicPartition(TopicName($0.1), PartitionID($0.2)), $0.3) }
        s.raft = .init(term: 7, commit: 41, applied: 40, leader: 1)
        s.ready = true
        return s
    }

    @Test func everyFamilyHasItsHelpTypeAndConventionalName() throws {
        let metrics = BrokerMetrics(apiKeys: [0, 1, 18])
        let orders = metrics.topic(TopicName("orders"))
        orders.appended(bytes: 120, records: 3)
        orders.sent(bytes: 80)
        _ = orders.timingFlush { usleep(100) }
        metrics.isrChanged(from: 3, to: 2)
        metrics.isrChanged(from: 2, to: 3)
        metrics.requestDone(apiKey: 0, startedAt: BrokerMetrics.now() - 2_000_000)
        metrics.refresh(snapshot(partitions: [("orders", 0, true, true)], groups: ["Stable"], lags: [("billing", "orders", 0, 4)]))
        let text = metrics.exposition()
        let exposition = Exposition(text)

        for entry in MetricCatalog.all {
            #expect(exposition.help[entry.name] == entry.help, "HELP of \(entry.name)")
            #expect(exposition.types[entry.name] == entry.kind.rawValue, "TYPE of \(entry.name)")
            #expect(entry.name.hasPrefix("runnel_"))
            #expect(entry.help.count > 20, "\(entry.name) says what it measures")
            switch entry.kind {
            case .counter: #expect(entry.name.hasSuffix("_total"))
            case .histogram: #expect(entry.name.hasSuffix("_seconds"))
            case .gauge: #expect(!entry.name.hasSuffix("_total"))
            }
            // Every sample of the family carries exactly the catalog's labels (plus `le` on buckets).
            let family = exposition.samples.filter {
                $0.name == entry.name || ($0.name.hasPrefix(entry.name + "_") && entry.kind == .histogram)
            }
            #expect(!family.isEmpty, "no sample of \(entry.name)")
            for sample in family {
                var expected = Set(entry.labels)
                if sample.name.hasSuffix("_bucket") { expected.insert("le") }
                #expect(Set(sample.labels.keys) == expected, "labels of \(sample.name): \(sample.labels)")
            }
        }
        // Only catalogued families are exported.
        #expect(Set(exposition.types.keys) == Set(MetricCatalog.all.map(\.name)))
    }

    @Test func countersHistogramsAndGaugesCarryTheirValues() throws {
        let metrics = BrokerMetrics(apiKeys: [0, 1, 18])
        let orders = metrics.topic(TopicName("orders"))
        #expect(metrics.topic(TopicName("orders")) === orders, "made once per topic")
        orders.appended(bytes: 120, records: 3)
        orders.appended(bytes: 40, records: 1)
        orders.sent(bytes: 80)
        metrics.isrChanged(from: 3, to: 2)
        metrics.isrChanged(from: 2, to: 3)
        metrics.isrChanged(from: 2, to: 2)
        metrics.requestDone(apiKey: 0, startedAt: BrokerMetrics.now() - 2_000_000)   // 2 ms ago
        metrics.requestDone(apiKey: 0, startedAt: BrokerMetrics.now())
        metrics.requestDone(apiKey: 77, startedAt: BrokerMetrics.now())              // not served: ignored
        metrics.refresh(snapshot(partitions: [("orders", 0, true, true), ("orders", 1, false, false)],
                                 groups: ["Stable", "Stable", "Empty"], lags: [("billing", "orders", 0, 4)]))
        let e = Exposition(metrics.exposition())

        #expect(e.value("runnel_requests_total", ["api": "Produce"]) == 2)
        #expect(e.value("runnel_requests_total", ["api": "Fetch"]) == 0)
        #expect(e.value("runnel_requests_total", ["api": "ApiVersions"]) == 0)
        #expect(e.value("runnel_request_duration_seconds_count", ["api": "Produce"]) == 2)
        #expect(e.value("runnel_request_duration_seconds_bucket", ["api": "Produce", "le": "0.001"]) == 1)
        #expect(e.value("runnel_request_duration_seconds_bucket", ["api": "Produce", "le": "0.0025"]) == 2)
        #expect(e.value("runnel_request_duration_seconds_bucket", ["api": "Produce", "le": "+Inf"]) == 2)
        #expect(try #require(e.value("runnel_request_duration_seconds_sum", ["api": "Produce"])) >= 0.002)
        #expect(e.samples.filter { $0.name == "runnel_request_duration_seconds_bucket" && $0.labels["api"] == "Produce" }.count
            == MetricCatalog.requestBuckets.count + 1)
        #expect(e.value("runnel_topic_bytes_in_total", ["topic": "orders"]) == 160)
        #expect(e.value("runnel_topic_records_in_total", ["topic": "orders"]) == 4)
        #expect(e.value("runnel_topic_bytes_out_total", ["topic": "orders"]) == 80)
        #expect(e.value("runnel_isr_shrinks_total", [:]) == 1)
        #expect(e.value("runnel_isr_expands_total", [:]) == 1)
        #expect(e.value("runnel_partition_log_end_offset", ["topic": "orders", "partition": "1"]) == 10)
        #expect(e.value("runnel_partition_log_start_offset", ["topic": "orders", "partition": "0"]) == 3)
        #expect(e.value("runnel_partition_high_watermark", ["topic": "orders", "partition": "0"]) == 9)
        #expect(e.value("runnel_under_replicated_partitions", [:]) == 1)
        #expect(e.value("runnel_leader_partitions", [:]) == 1)
        #expect(e.value("runnel_consumer_groups", ["state": "Stable"]) == 2)
        #expect(e.value("runnel_consumer_groups", ["state": "Empty"]) == 1)
        #expect(e.value("runnel_consumer_group_lag", ["group": "billing", "topic": "orders", "partition": "0"]) == 4)
        #expect(e.value("runnel_raft_term", [:]) == 7)
        #expect(e.value("runnel_raft_commit_index", [:]) == 41)
        #expect(e.value("runnel_raft_applied_index", [:]) == 40)
        #expect(e.value("runnel_raft_leader_id", [:]) == 1)
        #expect(e.value("runnel_broker_ready", [:]) == 1)
    }

    @Test func seriesOfGonePartitionsGroupsAndTopicsAreRemoved() throws {
        let metrics = BrokerMetrics(apiKeys: [0])
        metrics.topic(TopicName("old")).appended(bytes: 10, records: 1)
        metrics.refresh(snapshot(partitions: [("old", 0, true, false), ("kept", 0, true, false)], groups: ["Stable"],
                                 lags: [("g", "old", 0, 1)]))
        #expect(Exposition(metrics.exposition()).value("runnel_partition_log_end_offset", ["topic": "old", "partition": "0"]) == 10)

        metrics.refresh(snapshot(partitions: [("kept", 0, true, false)], groups: ["Empty"]))
        let e = Exposition(metrics.exposition())
        #expect(e.value("runnel_partition_log_end_offset", ["topic": "old", "partition": "0"]) == nil)
        #expect(e.value("runnel_partition_log_end_offset", ["topic": "kept", "partition": "0"]) == 10)
        #expect(e.value("runnel_topic_bytes_in_total", ["topic": "old"]) == nil)
        #expect(e.value("runnel_consumer_groups", ["state": "Stable"]) == nil)
        #expect(e.value("runnel_consumer_groups", ["state": "Empty"]) == 1)
        #expect(e.value("runnel_consumer_group_lag", ["group": "g", "topic": "old", "partition": "0"]) == nil)
        // A topic made again starts from zero.
        metrics.topic(TopicName("old")).appended(bytes: 5, records: 1)
        #expect(Exposition(metrics.exposition()).value("runnel_topic_bytes_in_total", ["topic": "old"]) == 5)
    }

    @Test func listenerValuesAreParsedOrRefusedNamingKeyAndValue() throws {
        #expect(try MetricsListener.parse(nil) == nil)
        #expect(try MetricsListener.parse("") == nil)
        #expect(try MetricsListener.parse("http://127.0.0.1:9644") == MetricsListener(host: "127.0.0.1", port: 9644))
        #expect(try MetricsListener.parse("http://localhost:9644/metrics") == MetricsListener(host: "localhost", port: 9644))
        #expect(try MetricsListener.parse("http://[::1]:0/") == MetricsListener(host: "::1", port: 0))
        for bad in ["127.0.0.1:9644", "https://127.0.0.1:9644", "http://127.0.0.1", "http://:9644", "http://h:70000",
                    "http://h:9644/other"] {
            #expect(throws: ConfigError.self, "\(bad)") { try MetricsListener.parse(bad) }
            do {
                _ = try MetricsListener.parse(bad)
            } catch {
                #expect(error.message.contains("'runnel.metrics.listener'"))
                #expect(error.message.contains("'\(bad)'"))
            }
        }
        let config = try BrokerConfig(overrides: ["runnel.metrics.listener=http://127.0.0.1:9644"])
        #expect(config.metricsListener == MetricsListener(host: "127.0.0.1", port: 9644))
        #expect(try BrokerConfig().metricsListener == nil)
        #expect(throws: ConfigError.self) { try BrokerConfig(overrides: ["runnel.metrics.listener=9644"]) }
    }
}
