import Foundation
import RunnelTesting
import Testing

/// `runnel bench produce|consume|e2e` against a real broker, with small record counts: they count
/// what they send and receive, fail (exit status ≠ 0, saying why) when records are missing or an
/// error comes back, and print one valid JSON line with --json.
@Suite(.enabled(if: RunnelBinary.exists, "needs the runnel binary (RUNNEL_BIN or .build/debug/runnel)"))
struct BenchCLITests {
    /// The JSON object of the single line on stdout.
    func json(_ result: CLIResult) throws -> [String: Any] {
        #expect(result.stdoutLines.count == 1, "stdout: \(result.stdout)")
        let object = try JSONSerialization.jsonObject(with: Data((result.stdoutLines.first ?? "").utf8))
        return try #require(object as? [String: Any], "not a JSON object: \(result.stdout)")
    }

    @Test func produceThenConsumeCountsEveryRecord() async throws {
        try await withBroker { broker in
            let b = ["-b", broker.bootstrap]
            let topic = uniqueTopic("bench")
            let produce = try runCLI(["bench", "produce", "--topic", topic, "--records", "2000", "--record-size", "50",
                                      "--acks", "1", "--json"] + b)
            #expect(produce.status == 0, "\(produce.stderr)")
            let produced = try json(produce)
            #expect(produced["bench"] as? String == "produce")
            #expect(produced["ok"] as? Bool == true)
            #expect(produced["records"] as? Int == 2000)
            #expect(produced["bytes"] as? Int == 100_000)
            #expect(produced["log_growth"] as? Int == 2000)
            #expect(produced["acks"] as? String == "1")
            let latency = try #require(produced["latency_ms"] as? [String: Any])
            #expect(latency["count"] as? Int == 2000)
            let p50 = try #require(latency["p50"] as? Double), p99 = try #require(latency["p99"] as? Double)
            let max = try #require(latency["max"] as? Double)
            #expect(p50 <= p99 && p99 <= max)

            let consume = try runCLI(["bench", "consume", "--topic", topic, "--records", "2000", "--json"] + b)
            #expect(consume.status == 0, "\(consume.stderr)")
            let consumed = try json(consume)
            #expect(consumed["ok"] as? Bool == true)
            #expect(consumed["records"] as? Int == 2000)
            #expect(consumed["bytes"] as? Int == 100_000)
            #expect(consumed["offset_gaps"] as? Int == 0)
        }
    }

    @Test func consumingMoreRecordsThanExistFailsAndSaysHowManyArrived() async throws {
        try await withBroker { broker in
            let b = ["-b", broker.bootstrap]
            let topic = uniqueTopic("bench-short")
            #expect(try runCLI(["bench", "produce", "--topic", topic, "--records", "300", "--record-size", "10"] + b).status == 0)
            let consume = try runCLI(["bench", "consume", "--topic", topic, "--records", "500", "--idle-timeout-ms", "1500",
                                      "--json"] + b)
            #expect(consume.status != 0)
            #expect(consume.stderr.contains("only 300 of 500 records arrived"), "\(consume.stderr)")
            let consumed = try json(consume)
            #expect(consumed["ok"] as? Bool == false)
            #expect(consumed["records"] as? Int == 300)
            #expect((consumed["error"] as? String)?.contains("only 300 of 500") == true)
        }
    }

    /// Also with several network threads: connections then live on other event loops than the
    /// broker's owner loop, and every answer must hop back to its connection's loop (this
    /// crashed the broker before that hop existed).
    @Test(arguments: [1, 3])
    func severalProducersAndPartitionsThenAGroupConsumer(networkThreads: Int) async throws {
        try await withBroker(overrides: ["num.network.threads=\(networkThreads)"]) { broker in
            let b = ["-b", broker.bootstrap]
            let topic = uniqueTopic("bench-multi")
            let produce = try runCLI(["bench", "produce", "--topic", topic, "--records", "3001", "--record-size", "20",
                                      "--partitions", "3", "--producers", "2", "--acks", "all", "--batch-bytes", "4096",
                                      "--json"] + b)
            #expect(produce.status == 0, "\(produce.stderr)")
            let produced = try json(produce)
            #expect(produced["records"] as? Int == 3001)
            #expect(produced["log_growth"] as? Int == 3001)
            #expect(produced["partitions"] as? String == "3")

            let consume = try runCLI(["bench", "consume", "--topic", topic, "--records", "3001", "--group", "bench-g",
                                      "--json"] + b, timeoutSeconds: 60)
            #expect(consume.status == 0, "\(consume.stderr)")
            let consumed = try json(consume)
            #expect(consumed["records"] as? Int == 3001)
            #expect(consumed["partitions_read"] as? String == "3")
            #expect(consumed["group"] as? String == "bench-g")
        }
    }

    @Test func endToEndReceivesEveryRecordOnce() async throws {
        try await withBroker { broker in
            let b = ["-b", broker.bootstrap]
            let topic = uniqueTopic("bench-e2e")
            let e2e = try runCLI(["bench", "e2e", "--topic", topic, "--records", "300", "--rate", "1000", "--acks", "all",
                                  "--json"] + b)
            #expect(e2e.status == 0, "\(e2e.stderr)")
            let result = try json(e2e)
            #expect(result["bench"] as? String == "e2e")
            #expect(result["ok"] as? Bool == true)
            #expect(result["records"] as? Int == 300)
            #expect(result["missing"] as? Int == 0)
            #expect(result["duplicates"] as? Int == 0)
            #expect((result["latency_ms"] as? [String: Any])?["count"] as? Int == 300)
        }
    }

    @Test func anErrorFromTheBrokerFailsTheRun() async throws {
        try await withBroker { broker in
            let b = ["-b", broker.bootstrap]
            let topic = uniqueTopic("bench-too-large")
            // Larger than the broker's message.max.bytes (1,048,588): MESSAGE_TOO_LARGE.
            let produce = try runCLI(["bench", "produce", "--topic", topic, "--records", "2", "--record-size", "1200000",
                                      "--json"] + b)
            #expect(produce.status != 0)
            #expect(produce.stderr.contains("bench produce failed"), "\(produce.stderr)")
            let produced = try json(produce)
            #expect(produced["ok"] as? Bool == false)
            #expect(produced["records"] as? Int == 0)
        }
    }

    @Test func textOutputAndValidation() async throws {
        try await withBroker { broker in
            let b = ["-b", broker.bootstrap]
            let topic = uniqueTopic("bench-text")
            let produce = try runCLI(["bench", "produce", "--topic", topic, "--records", "10", "--progress-ms", "0"] + b)
            #expect(produce.status == 0, "\(produce.stderr)")
            #expect(produce.stdout.hasPrefix("bench produce: 10 records (1.0 kB) in "), "\(produce.stdout)")
            #expect(produce.stdout.contains("latency (send to acknowledgement) ms: p50 "))
            #expect(produce.stderr.isEmpty, "\(produce.stderr)")

            let zero = try runCLI(["bench", "produce", "--topic", topic, "--records", "0"] + b)
            #expect(zero.status != 0)
            #expect(zero.stderr.contains("--records must be positive"))
            let badAcks = try runCLI(["bench", "e2e", "--topic", topic, "--records", "1", "--rate", "1", "--acks", "2"] + b)
            #expect(badAcks.status != 0)
            #expect(badAcks.stderr.contains("--acks must be all, 1 or 0"))
        }
    }
}
