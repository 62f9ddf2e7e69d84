import Foundation
import RunnelTesting
import Testing

/// The `runnel topic|produce|consume` commands as a user runs them.
@Suite(.enabled(if: RunnelBinary.exists, "needs the runnel binary (RUNNEL_BIN or .build/debug/runnel)"))
struct CLITests {
    @Test func topicCreateListDescribeDelete() async throws {
        try await withBroker { broker in
            let b = ["-b", broker.bootstrap]
            let topic = uniqueTopic("cli")
            let create = try runCLI(["topic", "create", topic, "-p", "2", "-r", "1", "-c", "retention.ms=120000"] + b)
            #expect(create.status == 0, "\(create.stderr)")
            #expect(create.stdout.contains("created topic \(topic)"))

            let list = try runCLI(["topic", "list"] + b)
            #expect(list.status == 0)
            #expect(list.stdoutLines.contains(topic))

            let describe = try runCLI(["topic", "describe", topic] + b)
            #expect(describe.status == 0, "\(describe.stderr)")
            #expect(describe.stdout.contains("PartitionCount: 2"))
            #expect(describe.stdout.contains("Partition: 1\tLeader: "))
            #expect(describe.stdout.contains("Isr: "))
            #expect(describe.stdout.contains("retention.ms=120000\t(topic)"))

            let json = try runCLI(["topic", "describe", topic, "--json"] + b)
            let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
            #expect((object?["partitions"] as? [Any])?.count == 2)

            let delete = try runCLI(["topic", "delete", topic] + b)
            #expect(delete.status == 0, "\(delete.stderr)")
            #expect(!(try runCLI(["topic", "list"] + b)).stdoutLines.contains(topic))
        }
    }

    /// `runnel topic delete-records`: one partition below an offset, every partition up to its
    /// high watermark (-1), and an offset past the end is refused naming the partition.
    @Test func deleteRecordsMovesTheLogStart() async throws {
        try await withBroker { broker in
            let b = ["-b", broker.bootstrap]
            let topic = uniqueTopic("dr")
            #expect(try runCLI(["topic", "create", topic, "-p", "2"] + b).status == 0)
            #expect(try runCLI(["produce", topic, "-p", "0"] + b, stdin: (1...20).map(String.init).joined(separator: "\n") + "\n").status == 0)
            #expect(try runCLI(["produce", topic, "-p", "1"] + b, stdin: "a\nb\nc\n").status == 0)

            let one = try runCLI(["topic", "delete-records", topic, "-p", "0", "--before", "5"] + b)
            #expect(one.status == 0, "\(one.stderr)")
            #expect(one.stdoutLines == ["\(topic)[0]: log start offset now 5"])
            let first = try runCLI(["consume", topic, "-p", "0", "-o", "beginning", "-n", "1", "-f", "%o %s\n"] + b)
            #expect(first.stdoutLines == ["5 6"], "\(first.stderr)")

            let all = try runCLI(["topic", "delete-records", topic, "--before", "-1"] + b)
            #expect(all.status == 0, "\(all.stderr)")
            #expect(all.stdoutLines == ["\(topic)[0]: log start offset now 20", "\(topic)[1]: log start offset now 3"])

            let past = try runCLI(["topic", "delete-records", topic, "-p", "1", "--before", "100"] + b)
            #expect(past.status != 0)
            #expect(past.stderr.contains("delete records of \(topic)[1]: offset out of range"), "\(past.stderr)")
        }
    }

    /// `runnel cluster info` and `cluster elect-leaders` against one broker (its own controller
    /// and only voter); `topic describe` shows leader epochs.
    @Test func clusterInfoAndElectLeadersOnOneBroker() async throws {
        try await withBroker { broker in
            let b = ["-b", broker.bootstrap]
            let info = try runCLI(["cluster", "info"] + b)
            #expect(info.status == 0, "\(info.stderr)")
            #expect(info.stdout.contains("\tController: 1\n"))
            #expect(info.stdoutLines.contains { $0.hasPrefix("1 ") && $0.contains(broker.bootstrap) && $0.hasSuffix("unfenced") })
            #expect(info.stdout.contains("Quorum: leader 1, epoch "))
            #expect(info.stdoutLines.contains { $0.hasPrefix("1 ") && $0.contains("leader") && $0.contains(" 0 ") })
            let json = try runCLI(["cluster", "info", "--json"] + b)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect(object["controller"] as? Int == 1)
            #expect((object["brokers"] as? [[String: Any]])?.first?["fenced"] as? Bool == false)
            let quorum = try #require(object["quorum"] as? [String: Any])
            #expect(quorum["leader"] as? Int == 1 && (quorum["highWatermark"] as? Int ?? 0) > 0)
            #expect((quorum["voters"] as? [[String: Any]])?.first?["lag"] as? Int == 0)

            let topic = uniqueTopic("elect")
            #expect(try runCLI(["topic", "create", topic, "-p", "2"] + b).status == 0)
            let describe = try runCLI(["topic", "describe", topic] + b)
            #expect(describe.stdout.contains("Partition: 0\tLeader: 1\tLeaderEpoch: 0\tReplicas: 1\tIsr: 1"), "\(describe.stdout)")

            let one = try runCLI(["cluster", "elect-leaders", "--topic", topic, "--partition", "1"] + b)
            #expect(one.status == 0, "\(one.stderr)")
            #expect(one.stdoutLines == ["\(topic)-1: election not needed: Broker 1 already leads \(topic)-1."])
            let all = try runCLI(["cluster", "elect-leaders", "--unclean"] + b)
            #expect(all.status == 0 && all.stdout.isEmpty, "\(all.stdout)")
            #expect(all.stderr.contains("no partition needed an election"))
            let noTopic = try runCLI(["cluster", "elect-leaders", "--partition", "0"] + b)
            #expect(noTopic.status != 0 && noTopic.stderr.contains("--partition needs --topic"))
            let missing = try runCLI(["cluster", "elect-leaders", "--topic", "no-such-topic"] + b)
            #expect(missing.status == 1 && missing.stderr.contains("no-such-topic"))
        }
    }

    @Test func produceThenConsumeKeyedGzipRecords() async throws {
        try await withBroker { broker in
            let b = ["-b", broker.bootstrap]
            let topic = uniqueTopic("roundtrip")
            #expect(try runCLI(["topic", "create", topic, "-p", "3"] + b).status == 0)
            let lines = (0..<50).map { "k\($0 % 5):value \($0)" }
            let produce = try runCLI(["produce", topic, "-k", ":", "--compression", "gzip", "--acks", "1"] + b,
                                     stdin: lines.joined(separator: "\n") + "\n")
            #expect(produce.status == 0, "\(produce.stderr)")
            #expect(produce.stderrLines.count == 1)
            #expect(produce.stderr.hasPrefix("produced 50 records to \(topic) in "))

            let consume = try runCLI(["consume", topic, "-e", "-f", "%k:%s\\n"] + b)
            #expect(consume.status == 0, "\(consume.stderr)")
            #expect(consume.stdoutLines.sorted() == lines.sorted())

            // Same key, same partition: every k0 record is in one partition, in order.
            let withPartition = try runCLI(["consume", topic, "-e", "-f", "%p %k %s\\n"] + b)
            let k0 = withPartition.stdoutLines.filter { $0.contains(" k0 ") }
            #expect(Set(k0.map { $0.split(separator: " ")[0] }).count == 1)
            #expect(k0.map { String($0.split(separator: " ", maxSplits: 2)[2]) } == (0..<10).map { "value \($0 * 5)" })

            let limited = try runCLI(["consume", topic, "-e", "-n", "7"] + b)
            #expect(limited.stdoutLines.count == 7)
        }
    }

    @Test func consumeOnePartitionFromOffsetAndFromTimestamp() async throws {
        try await withBroker { broker in
            let b = ["-b", broker.bootstrap]
            let topic = uniqueTopic("offsets")
            #expect(try runCLI(["topic", "create", topic, "-p", "2"] + b).status == 0)
            #expect(try runCLI(["produce", topic, "-p", "1"] + b, stdin: "a\nb\nc\n").status == 0)
            let middle = nowMs()
            usleep(20_000)
            #expect(try runCLI(["produce", topic, "-p", "1", "--acks", "0"] + b, stdin: "d\ne\n").status == 0)

            let fromOffset = try runCLI(["consume", topic, "-p", "1", "-o", "2", "-e", "-f", "%o=%s\\n"] + b)
            #expect(fromOffset.stdoutLines == ["2=c", "3=d", "4=e"])

            let fromTime = try runCLI(["consume", topic, "-o", "@\(middle)", "-e"] + b)
            #expect(fromTime.stdoutLines == ["d", "e"])

            let empty = try runCLI(["consume", topic, "-p", "0", "-e"] + b)
            #expect(empty.status == 0)
            #expect(empty.stdout.isEmpty)
        }
    }

    @Test func failuresPrintOneLineNamingTheCause() async throws {
        let port = try freeLoopbackPort()
        let unreachable = try runCLI(["topic", "list", "-b", "127.0.0.1:\(port)"])
        #expect(unreachable.status != 0)
        #expect(unreachable.stderrLines == ["runnel: broker unreachable: 127.0.0.1:\(port) (connection refused)"])

        try await withBroker { broker in
            let b = ["-b", broker.bootstrap]
            let unknown = try runCLI(["consume", "no-such-topic", "-e"] + b)
            #expect(unknown.status != 0)
            #expect(unknown.stderrLines == ["runnel: unknown topic: no-such-topic"])

            let produceUnknown = try runCLI(["produce", "no-such-topic"] + b, stdin: "x\n")
            #expect(produceUnknown.status != 0)
            #expect(produceUnknown.stderrLines == ["runnel: unknown topic: no-such-topic"])

            #expect(try runCLI(["topic", "create", "dup"] + b).status == 0)
            let exists = try runCLI(["topic", "create", "dup"] + b)
            #expect(exists.status != 0)
            #expect(exists.stderrLines.count == 1)
            #expect(exists.stderr.contains("topic already exists"))

            let replication = try runCLI(["topic", "create", "wide", "-r", "3"] + b)
            #expect(replication.status != 0)
            #expect(replication.stderrLines.count == 1)
            #expect(replication.stderr.contains("INVALID_REPLICATION_FACTOR"))

            let deleteUnknown = try runCLI(["topic", "delete", "no-such-topic"] + b)
            #expect(deleteUnknown.stderrLines == ["runnel: unknown topic: no-such-topic"])
        }
    }

    @Test func bootstrapServerComesFromTheEnvironment() async throws {
        try await withBroker { broker in
            setenv("RUNNEL_BOOTSTRAP_SERVERS", broker.bootstrap, 1)
            defer { unsetenv("RUNNEL_BOOTSTRAP_SERVERS") }
            let list = try runCLI(["topic", "list"], keepBootstrapEnvironment: true)
            #expect(list.status == 0, "\(list.stderr)")
        }
    }
}
