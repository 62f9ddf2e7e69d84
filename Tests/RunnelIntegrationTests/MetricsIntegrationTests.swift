import Foundation
import NIOCore
import RunnelClient
import RunnelCore
import RunnelTesting
import Testing

/// `runnel.metrics.listener` against real broker processes: /metrics moves with real traffic,
/// /health answers 503 with the reason until the broker is registered and unfenced.
@Suite(.enabled(if: RunnelBinary.exists, "needs the runnel binary (RUNNEL_BIN or .build/debug/runnel)"))
struct MetricsIntegrationTests {
    @Test func scrapeShowsProduceAndFetchAndHealthIsOK() async throws {
        let metricsPort = try freeLoopbackPort()
        try await withBroker(overrides: ["runnel.metrics.listener=http://127.0.0.1:\(metricsPort)"]) { broker in
            let health = try httpGet(port: metricsPort, path: "/health")
            #expect(health.status == 200, "\(health)")
            #expect(health.body.hasPrefix("ok: node 1 registered"))

            let before = try httpGet(port: metricsPort, path: "/metrics")
            #expect(before.status == 200)
            #expect(before.contentType.hasPrefix("text/plain; version=0.0.4"))
            #expect(Exposition(before.body).value("runnel_requests_total", ["api": "Produce"]) == 0)

            let topic = uniqueTopic("metrics")
            try await withClient(broker) { client in
                try await client.createTopic(topic, partitions: 2, replicationFactor: 1)
                let producer = try await KafkaProducer(client: client)
                for index in 0..<50 {
                    try await producer.send(topic: topic, key: nil, value: ByteBuffer(string: "value-\(index)"))
                }
                try await producer.close()
                let consumer = KafkaConsumer(client: client)
                try await consumer.assign(topic: topic, at: .beginning)
                var read = 0
                for _ in 0..<100 where read < 50 { read += try await consumer.poll().count }
                #expect(read == 50)
            }

            let after = Exposition(try httpGet(port: metricsPort, path: "/metrics").body)
            let produced = try #require(after.value("runnel_requests_total", ["api": "Produce"]))
            #expect(produced >= 1)
            #expect(try #require(after.value("runnel_requests_total", ["api": "Fetch"])) >= 1)
            #expect(try #require(after.value("runnel_request_duration_seconds_count", ["api": "Produce"])) == produced)
            #expect(try #require(after.value("runnel_request_duration_seconds_bucket", ["api": "Produce", "le": "+Inf"])) == produced)
            #expect(try #require(after.value("runnel_request_duration_seconds_sum", ["api": "Produce"])) > 0)
            #expect(after.value("runnel_topic_records_in_total", ["topic": topic]) == 50)
            let bytesIn = try #require(after.value("runnel_topic_bytes_in_total", ["topic": topic]))
            #expect(bytesIn > 50 * 7)
            #expect(try #require(after.value("runnel_topic_bytes_out_total", ["topic": topic])) > 0)
            let end0 = try #require(after.value("runnel_partition_log_end_offset", ["topic": topic, "partition": "0"]))
            let end1 = try #require(after.value("runnel_partition_log_end_offset", ["topic": topic, "partition": "1"]))
            #expect(end0 + end1 == 50)
            #expect(after.value("runnel_partition_log_start_offset", ["topic": topic, "partition": "0"]) == 0)
            // fsync on (the default): every leader append is flushed in the background (D64).
            #expect(try #require(after.value("runnel_log_flush_duration_seconds_count", [:])) >= 1)
            #expect(after.value("runnel_under_replicated_partitions", [:]) == 0)
            #expect(after.value("runnel_offline_partitions", [:]) == 0)
            #expect(after.value("runnel_raft_leader_id", [:]) == 1)
            #expect(try #require(after.value("runnel_raft_term", [:])) >= 1)
            #expect(try #require(after.value("runnel_raft_commit_index", [:])) >= 1)
            #expect(after.value("runnel_broker_ready", [:]) == 1)

            #expect(try httpGet(port: metricsPort, path: "/nothing").status == 404)
        }
    }

    /// A group that consumed everything and left: one group (Empty), lag 0; then records the
    /// group has not read yet show as lag on their partition.
    @Test func groupCountAndLagFollowCommitsAndAppends() async throws {
        let metricsPort = try freeLoopbackPort()
        try await withBroker(overrides: ["runnel.metrics.listener=http://127.0.0.1:\(metricsPort)",
                                         "group.initial.rebalance.delay.ms=0"]) { broker in
            let topic = uniqueTopic("lag")
            let b = ["-b", broker.bootstrap]
            #expect(try runCLI(["topic", "create", topic, "-p", "1"] + b).status == 0)
            #expect(try runCLI(["produce", topic] + b, stdin: (1...10).map(String.init).joined(separator: "\n") + "\n").status == 0)
            let consumed = try runCLI(["consume", topic, "-g", "billing", "-e", "--max-wait-ms", "100"] + b, timeoutSeconds: 120)
            #expect(consumed.status == 0, "\(consumed.stderr)")
            #expect(consumed.stdoutLines.count == 10)
            let caughtUp = Exposition(try httpGet(port: metricsPort, path: "/metrics").body)
            #expect(caughtUp.value("runnel_consumer_groups", ["state": "Empty"]) == 1, "\(caughtUp.samples.filter { $0.name.contains("group") })")
            #expect(caughtUp.value("runnel_consumer_group_lag", ["group": "billing", "topic": topic, "partition": "0"]) == 0)

            #expect(try runCLI(["produce", topic, "--acks", "all"] + b, stdin: "11\n12\n13\n").status == 0)
            let behind = Exposition(try httpGet(port: metricsPort, path: "/metrics").body)
            #expect(behind.value("runnel_consumer_group_lag", ["group": "billing", "topic": topic, "partition": "0"]) == 3)
        }
    }

    @Test func badListenerValueIsRefusedNamingKeyAndValue() throws {
        let result = try runCLI(["broker", "--override", "runnel.metrics.listener=127.0.0.1:9644"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("'runnel.metrics.listener'"))
        #expect(result.stderr.contains("'127.0.0.1:9644'"))
    }

    /// One node of a three-voter cluster cannot register until a quorum forms: /health is 503
    /// with the reason; once the other two start it becomes 200.
    @Test func healthIs503UntilTheBrokerIsRegistered() async throws {
        let metricsPort = try freeLoopbackPort()
        let cluster = try TestCluster(size: 3, overrides: ["broker.heartbeat.interval.ms=200",
                                                                "broker.session.timeout.ms=2000"])
        defer { cluster.stop() }
        let first = try BrokerProcess(overrides: cluster.node(1).overrides + ["runnel.metrics.listener=http://127.0.0.1:\(metricsPort)"],
                                      dataDirectory: cluster.node(1).dataDirectory, port: cluster.node(1).port)
        defer { first.stop() }
        try first.launch()
        var waiting: HTTPAnswer?
        for _ in 0..<200 {
            if let answer = try? httpGet(port: metricsPort, path: "/health") { waiting = answer; break }
            usleep(50_000)
        }
        let answer = try #require(waiting, "no answer on the metrics port; log:\n\(first.log)")
        #expect(answer.status == 503, "\(answer)")
        #expect(answer.body.hasPrefix("not ready: "), "\(answer)")
        let scrape = try httpGet(port: metricsPort, path: "/metrics")
        #expect(scrape.status == 503 || Exposition(scrape.body).value("runnel_broker_ready", [:]) == 0)

        try cluster.node(2).launch()
        try cluster.node(3).launch()
        let done = try #require(try healthAnswer(port: metricsPort, status: 200, withinSeconds: 30), "never ready; logs:\n\(first.log.suffix(3000))\n\(cluster.logs)")
        #expect(done.body.hasPrefix("ok: node 1 registered"))
        let metrics = Exposition(try httpGet(port: metricsPort, path: "/metrics").body)
        #expect(metrics.value("runnel_broker_ready", [:]) == 1)
        #expect(try #require(metrics.value("runnel_raft_leader_id", [:])) >= 1)

        // Cut from the controller (the other two voters gone: no quorum answers its heartbeats),
        // the broker is fenced once its session expires, and /health says so.
        cluster.node(2).stop(signal: SIGKILL)
        cluster.node(3).stop(signal: SIGKILL)
        let fenced = try #require(try healthAnswer(port: metricsPort, status: 503, withinSeconds: 20), "still 200 with no controller; log:\n\(first.log.suffix(3000))")
        #expect(fenced.body.contains("no heartbeat answer from the active controller"), "\(fenced)")
    }
}

/// Polls GET /health every 50 ms until it answers `status`; nil after `withinSeconds`.
func healthAnswer(port: Int, status: Int, withinSeconds: Double) throws -> HTTPAnswer? {
    let deadline = Date().addingTimeInterval(withinSeconds)
    while Date() < deadline {
        let answer = try httpGet(port: port, path: "/health")
        if answer.status == status { return answer }
        usleep(50_000)
    }
    return nil
}
