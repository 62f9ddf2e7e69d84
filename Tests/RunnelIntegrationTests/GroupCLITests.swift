import Foundation
import RunnelClient
import RunnelCore
import RunnelTesting
import Testing

/// A `runnel` CLI process left running (e.g. `consume -g`), its output going to files.
final class BackgroundCLI {
    let process = Process()
    private let directory: TemporaryDirectory

    init(_ arguments: [String]) throws {
        directory = try TemporaryDirectory(prefix: "runnel-bg")
        for name in ["stdout", "stderr"] { _ = FileManager.default.createFile(atPath: directory.file(name), contents: nil) }
        process.executableURL = URL(fileURLWithPath: RunnelBinary.cliPath)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["RUNNEL_BOOTSTRAP_SERVERS"] = nil
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file("stdout")))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file("stderr")))
        try process.run()
    }

    var stdoutLines: [String] {
        ((try? String(contentsOfFile: directory.file("stdout"), encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    var stderr: String { (try? String(contentsOfFile: directory.file("stderr"), encoding: .utf8)) ?? "" }

    /// Sends `signal` and waits (bounded) for the exit; returns the exit status.
    func stop(signal: Int32 = SIGINT, timeoutSeconds: Double = 30) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        directory.remove()
    }
}

/// Waits (bounded; a safety net, not a speed assertion) until `condition` holds.
func waitFor(_ what: String, timeoutSeconds: Double = 90, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeoutSeconds)
    while try await !condition() {
        guard Date() < deadline else {
            Issue.record("timed out waiting for \(what)")
            throw CancellationError()
        }
        try await Task.sleep(nanoseconds: 200_000_000)
    }
}

/// `runnel consume -g` and `runnel group …` as a user runs them.
@Suite(.enabled(GroupSupport.reason) { await GroupSupport.available() })
struct GroupCLITests {
    @Test func twoConsumeProcessesSplitATopicCommitAndLeaveOnInterrupt() async throws {
        try await withBroker { broker in
            try await withClient(broker) { client in
                let b = ["-b", broker.bootstrap]
                let topic = uniqueTopic("cli-split")
                let group = uniqueTopic("cli-group")
                try await client.createTopic(topic, partitions: 6, replicationFactor: 1)
                let consume = ["consume", topic, "-g", group, "-f", "%p %s\\n", "--max-wait-ms", "100"] + b
                let first = try BackgroundCLI(consume)
                let second = try BackgroundCLI(consume)

                try await waitFor("two members with 3 partitions each") {
                    let description = try await client.describeGroup(group)
                    return description.members.count == 2
                        && description.members.allSatisfy { $0.assignment[topic]?.count == 3 }
                }
                let produced = try await produceToEveryPartition(client, topic: topic, partitions: 6, perPartition: 10)
                try await waitFor("every record printed") {
                    first.stdoutLines.count + second.stdoutLines.count >= produced.count
                }
                #expect(first.stop() == 0, "\(first.stderr)")
                #expect(second.stop() == 0, "\(second.stderr)")

                let lines = first.stdoutLines + second.stdoutLines
                #expect(lines.count == produced.count)
                #expect(Set(lines.map { String($0.split(separator: " ")[1]) }) == produced)
                let partitionsOf = { (cli: BackgroundCLI) in Set(cli.stdoutLines.map { $0.split(separator: " ")[0] }) }
                #expect(partitionsOf(first).count == 3)
                #expect(partitionsOf(first).isDisjoint(with: partitionsOf(second)))

                // Both left (no members) and committed everything they printed.
                let describe = try runCLI(["group", "describe", group, "--json"] + b)
                #expect(describe.status == 0, "\(describe.stderr)")
                let object = try JSONSerialization.jsonObject(with: Data(describe.stdout.utf8)) as? [String: Any]
                #expect(object?["state"] as? String == "Empty")
                #expect(object?["protocol"] as? String == "consumer")
                #expect((object?["members"] as? [Any])?.isEmpty == true)
                let offsets = object?["offsets"] as? [[String: Any]] ?? []
                #expect(offsets.count == 6)
                #expect(offsets.allSatisfy { ($0["currentOffset"] as? Int) == 10 && ($0["lag"] as? Int) == 0 })

                // The group resumes from its commits: only new records, then -n stops after 2.
                let more = try await produceToEveryPartition(client, topic: topic, partitions: 6, perPartition: 1, prefix: "more-")
                let resumed = try runCLI(["consume", topic, "-g", group, "-e", "--max-wait-ms", "100"] + b, timeoutSeconds: 120)
                #expect(resumed.status == 0, "\(resumed.stderr)")
                #expect(Set(resumed.stdoutLines) == more)
                _ = try await produceToEveryPartition(client, topic: topic, partitions: 1, perPartition: 5, prefix: "last-")
                let limited = try runCLI(["consume", topic, "-g", group, "-n", "2", "--max-wait-ms", "100"] + b, timeoutSeconds: 120)
                #expect(limited.status == 0, "\(limited.stderr)")
                #expect(limited.stdoutLines == ["last-p0-0", "last-p0-1"])
                let committed = try await client.committedOffsets(group: group)
                #expect(committed.first { $0.partition == PartitionID(0) }?.offset == Offset(13))
            }
        }
    }

    @Test func groupListDescribeSeekDelete() async throws {
        try await withBroker { broker in
            try await withClient(broker) { client in
                let b = ["-b", broker.bootstrap]
                let topic = uniqueTopic("cli-admin")
                let group = uniqueTopic("cli-group")
                try await client.createTopic(topic, partitions: 2, replicationFactor: 1)
                _ = try await produceToEveryPartition(client, topic: topic, partitions: 2, perPartition: 5)

                let member = try BackgroundCLI(["consume", topic, "-g", group, "--max-wait-ms", "100"] + b)
                try await waitFor("the member to print everything") { member.stdoutLines.count >= 10 }

                let list = try runCLI(["group", "list"] + b)
                #expect(list.status == 0, "\(list.stderr)")
                #expect(list.stdoutLines.first?.hasPrefix("GROUP") == true)
                #expect(list.stdoutLines.contains { $0.hasPrefix(group + " ") && $0.contains("consumer") })
                let listJSON = try runCLI(["group", "list", "--json"] + b)
                let entries = try JSONSerialization.jsonObject(with: Data(listJSON.stdout.utf8)) as? [[String: Any]] ?? []
                #expect(entries.contains { $0["group"] as? String == group && $0["protocolType"] as? String == "consumer" })

                let describe = try runCLI(["group", "describe", group] + b)
                #expect(describe.status == 0, "\(describe.stderr)")
                #expect(describe.stdout.contains("Protocol: consumer"))
                #expect(describe.stdout.contains("CURRENT-OFFSET"))
                #expect(describe.stdout.contains("\(topic):0,1"))

                // Seeking a live group fails and names the member.
                let memberId = try await client.describeGroup(group).members.first?.memberId ?? "?"
                let refused = try runCLI(["group", "seek", group, "--topic", topic, "--to", "beginning"] + b)
                #expect(refused.status == 1)
                #expect(refused.stderrLines.count == 1)
                #expect(refused.stderr.contains("not empty") && refused.stderr.contains(memberId))
                let refusedDelete = try runCLI(["group", "delete", group] + b)
                #expect(refusedDelete.status == 1)
                #expect(refusedDelete.stderr.contains(memberId))

                #expect(member.stop() == 0, "\(member.stderr)")

                let toBeginning = try runCLI(["group", "seek", group, "--topic", topic, "--to", "beginning"] + b)
                #expect(toBeginning.status == 0, "\(toBeginning.stderr)")
                #expect(try await client.committedOffsets(group: group).map(\.offset) == [Offset(0), Offset(0)])
                let toOffset = try runCLI(["group", "seek", group, "--topic", topic, "-p", "1", "--to", "3"] + b)
                #expect(toOffset.status == 0, "\(toOffset.stderr)")
                let clamped = try runCLI(["group", "seek", group, "--topic", topic, "-p", "0", "--to", "999"] + b)
                #expect(clamped.status == 0, "\(clamped.stderr)")
                #expect(try await client.committedOffsets(group: group).map(\.offset) == [Offset(5), Offset(3)])
                let dryRun = try runCLI(["group", "seek", group, "--topic", topic, "--to", "end", "--dry-run"] + b)
                #expect(dryRun.stdout.contains("dry run"))
                #expect(try await client.committedOffsets(group: group).map(\.offset) == [Offset(5), Offset(3)])

                let fromSeek = try runCLI(["consume", topic, "-g", group, "-e", "-f", "%p:%o\\n", "--max-wait-ms", "100"] + b,
                                          timeoutSeconds: 120)
                #expect(fromSeek.stdoutLines.sorted() == ["1:3", "1:4"])

                let delete = try runCLI(["group", "delete", group] + b)
                #expect(delete.status == 0, "\(delete.stderr)")
                #expect(delete.stdout == "deleted group \(group)\n")
                let gone = try runCLI(["group", "describe", group] + b)
                #expect(gone.status == 1)
                #expect(gone.stderr == "runnel: group '\(group)' does not exist\n")
            }
        }
    }
}

/// Argument checks of `consume -g` and `group seek` (no broker needed).
@Suite(.enabled(if: RunnelBinary.exists, "needs the runnel binary (RUNNEL_BIN or .build/debug/runnel)"))
struct GroupCLIArgumentTests {
    @Test func consumeWithGroupRefusesAnOffsetOrAPartition() throws {
        let withOffset = try runCLI(["consume", "t", "-g", "g", "-o", "5", "-b", "127.0.0.1:1"])
        #expect(withOffset.status != 0)
        #expect(withOffset.stderr.contains("cannot be combined with -g"))
        let withPartition = try runCLI(["consume", "t", "-g", "g", "-p", "0", "-b", "127.0.0.1:1"])
        #expect(withPartition.status != 0)
        #expect(withPartition.stderr.contains("-p cannot be combined with -g"))
        let badSeek = try runCLI(["group", "seek", "g", "--topic", "t", "--to", "tomorrow", "-b", "127.0.0.1:1"])
        #expect(badSeek.status != 0)
        #expect(badSeek.stderr.contains("--to must be"))
    }
}

/// `consume -g` and `group` against `FakeGroupBroker`: the CLI side (interrupt, commit, leave,
/// output, refusals) without a broker that has group support.
@Suite(.enabled(if: RunnelBinary.exists, "needs the runnel binary (RUNNEL_BIN or .build/debug/runnel)"))
struct GroupCLIFakeTests {
    @Test func consumeJoinsThenLeavesOnInterruptAndGroupCommandsShowIt() async throws {
        let fake = try FakeGroupBroker(topic: "orders", partitions: 2, group: "g")
        defer { fake.shutdown() }
        let b = ["-b", fake.bootstrap]
        let member = try BackgroundCLI(["consume", "orders", "-g", "g", "--max-wait-ms", "50"] + b)
        try await waitFor("the member to own both partitions", timeoutSeconds: 30) {
            fake.withModel { $0.members.values.first?.owned.count == 2 }
        }
        let memberId = fake.withModel { $0.members.keys.first } ?? "?"

        let describe = try runCLI(["group", "describe", "g"] + b)
        #expect(describe.status == 0, "\(describe.stderr)")
        #expect(describe.stdout.hasPrefix("Group: g\tState: Stable\tProtocol: consumer\tAssignor: uniform"))
        #expect(describe.stdout.contains(memberId))
        #expect(describe.stdout.contains("orders:0,1"))
        let list = try runCLI(["group", "list"] + b)
        #expect(list.stdoutLines == ["GROUP  STATE   TYPE      PROTOCOL-TYPE", "g      Stable  consumer  consumer"])

        let refused = try runCLI(["group", "seek", "g", "--topic", "orders", "--to", "end"] + b)
        #expect(refused.status == 1)
        #expect(refused.stderr == "runnel: cannot seek group 'g': it is not empty (state Stable, 1 member: \(memberId) "
                + "(client runnel, host /127.0.0.1)); stop its consumers first\n")

        #expect(member.stop(signal: SIGINT) == 0, "\(member.stderr)")
        let heartbeats = fake.withModel { $0.heartbeats }
        #expect(heartbeats.last?.memberEpoch == -1)
        #expect(fake.withModel { $0.members.isEmpty })
        #expect(fake.withModel { $0.committed } == [0: 0, 1: 0])

        let seek = try runCLI(["group", "seek", "g", "--topic", "orders", "--to", "beginning"] + b)
        #expect(seek.status == 0, "\(seek.stderr)")
        #expect(seek.stdoutLines == ["GROUP  TOPIC   PARTITION  NEW-OFFSET", "g      orders  0          0", "g      orders  1          0"])
    }
}
