import Foundation
import RunnelClient
import RunnelCore
import RunnelTesting
import Testing

/// Rough edges a new user met on a first run (issue 9, items 6–8): each output is checked as
/// the user reads it.
@Suite(.enabled(if: RunnelBinary.exists, "needs the runnel binary (RUNNEL_BIN or .build/debug/runnel)"))
struct FirstRunTests {
    @Test func anExplicitOffsetPastTheEndIsAnErrorNotAHang() async throws {
        try await withBroker { broker in
            let b = ["-b", broker.bootstrap]
            let topic = uniqueTopic("past-end")
            #expect(try runCLI(["topic", "create", topic] + b).status == 0)
            #expect(try runCLI(["produce", topic] + b, stdin: "only\n").status == 0)
            let reason = "runnel: fetch \(topic)[0]: offset out of range (OFFSET_OUT_OF_RANGE, error 1): "
                + "offset 5 is past the log end offset 1"

            // Before: waited forever for records that could never come.
            let waiting = try runCLI(["consume", topic, "-p", "0", "-o", "5", "-n", "10"] + b, timeoutSeconds: 20)
            #expect(waiting.status == 1)
            #expect(waiting.stderrLines == [reason])
            // Before: exit 0 and no word.
            let atEnd = try runCLI(["consume", topic, "-p", "0", "-o", "5", "--exit-at-end"] + b, timeoutSeconds: 20)
            #expect(atEnd.status == 1)
            #expect(atEnd.stderrLines == [reason])

            // The end itself is a valid position, explicit or not.
            for start in ["1", "end"] {
                let end = try runCLI(["consume", topic, "-p", "0", "-o", start, "-e"] + b, timeoutSeconds: 20)
                #expect(end.status == 0, "-o \(start): \(end.stderr)")
                #expect(end.stdout.isEmpty && end.stderr.isEmpty, "-o \(start)")
            }
            let fromZero = try runCLI(["consume", topic, "-p", "0", "-o", "0", "-e"] + b, timeoutSeconds: 20)
            #expect(fromZero.stdoutLines == ["only"])
        }
    }

    @Test(.enabled(GroupSupport.reason) { await GroupSupport.available() })
    func aGroupsCommittedOffsetPastTheEndIsResetAndSaidSo() async throws {
        try await withBroker { broker in
            try await withClient(broker) { client in
                let b = ["-b", broker.bootstrap]
                let topic = uniqueTopic("group-past-end")
                let group = uniqueTopic("stale")
                try await client.createTopic(topic, partitions: 1, replicationFactor: 1)
                #expect(try runCLI(["produce", topic] + b, stdin: "only\n").status == 0)
                // As after the topic was deleted and created again under the same name.
                try await client.alterOffsets(group: group, offsets: [topic: [PartitionID(0): Offset(5)]])

                // Kafka's auto.offset.reset applies (-o beginning is the default), but aloud.
                let consume = try runCLI(["consume", topic, "-g", group, "-e", "--max-wait-ms", "100"] + b,
                                         timeoutSeconds: 120)
                #expect(consume.status == 0, "\(consume.stderr)")
                #expect(consume.stdoutLines == ["only"])
                #expect(consume.stderrLines == ["runnel: group \(group): \(topic)[0]: offset 5 is past the log end offset 1; continuing at 0"])
            }
        }
    }

    @Test func aTakenPortNamesTheListenerAndTheAddress() async throws {
        try await withBroker { broker in
            let second = try TemporaryDirectory(prefix: "runnel-second")
            defer { second.remove() }
            let address = "127.0.0.1:\(broker.port)"
            let result = try runCLI(["broker", "--override", "listeners=PLAINTEXT://\(address)",
                                     "--override", "log.dirs=\(second.file("data"))"], timeoutSeconds: 30)
            #expect(result.status == 1)
            let failure = result.stderrLines.filter { $0.contains("start-up failed") }
            #expect(failure.count == 1)
            #expect(failure.first?.hasSuffix(
                "start-up failed: listener PLAINTEXT cannot bind to \(address): address already in use (errno 98)") == true,
                "\(result.stderr)")
            // The logs it had opened were closed cleanly: the next start recovers nothing.
            #expect(FileManager.default.fileExists(atPath: second.file("data/.kafka_cleanshutdown")))
        }
    }

    @Test func versionFlag() throws {
        let result = try runCLI(["--version"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "runnel \(RunnelVersion.current)\n")
    }

    @Test func topicListOnABrokerWithoutTopicsSaysSo() async throws {
        try await withBroker { broker in
            let b = ["-b", broker.bootstrap]
            let list = try runCLI(["topic", "list"] + b)
            #expect(list.status == 0)
            #expect(list.stdout.isEmpty)  // nothing for a script to mistake for a topic
            #expect(list.stderrLines == ["runnel: no topics (internal topics are listed with --internal)"])
            let json = try runCLI(["topic", "list", "--json"] + b)
            #expect(json.stdout == "[]\n")
            #expect(json.stderr.isEmpty)
        }
    }

    @Test func theBrokerLogCountsInEnglish() async throws {
        try await withBroker { broker in
            let b = ["-b", broker.bootstrap]
            for command in [["topic", "create", "one", "-p", "1"], ["topic", "create", "three", "-p", "3"], ["topic", "delete", "one"]] {
                let result = try runCLI(command + b)
                #expect(result.status == 0, "\(command): \(result.stderr)")
            }
            #expect(broker.stop() == 0)
            let log = broker.log
            #expect(log.contains("created topic one with 1 partition\n"))
            #expect(log.contains("created topic three with 3 partitions\n"))
            #expect(log.contains("deleted topic one and its 1 partition\n"))
            #expect(log.contains("flushed and closed 3 partition logs;"))
            #expect(!log.contains(" 1 partitions"), "\(log)")
        }
    }
}
