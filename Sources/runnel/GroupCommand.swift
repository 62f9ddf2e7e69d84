import ArgumentParser
import Foundation
import RunnelClient
import RunnelCore

/// `runnel group list|describe|delete|seek`: consumer groups as `kafka-consumer-groups` shows
/// and changes them.
struct GroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group",
        abstract: "List, describe and delete consumer groups, and move their committed offsets.",
        subcommands: [List.self, Describe.self, Delete.self, Seek.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List groups with their state and protocol.")

        @OptionGroup var client: ClientOptions
        @Option(name: .customLong("state"), help: ArgumentHelp("Only groups in this state, e.g. Stable or Empty (repeatable).",
                                                               valueName: "state"))
        var states: [String] = []
        @Flag(name: .customLong("json"), help: "Print a JSON array.") var json = false

        func run() async throws {
            let groups = try await client.withClient { client in try await client.listGroups(states: states) }
            // Brokers before ListGroups v4 ignore the filter: apply it here too.
            let wanted = Set(states.map { $0.lowercased() })
            let shown = groups.filter { wanted.isEmpty || $0.state.isEmpty || wanted.contains($0.state.lowercased()) }
            if json {
                StandardOutput.write(try TopicJSON.encode(shown.map(GroupJSON.Listing.init)) + "\n")
            } else {
                let rows = shown.map { [$0.groupId, dash($0.state), dash($0.type), dash($0.protocolType)] }
                StandardOutput.write(TextTable.render(header: ["GROUP", "STATE", "TYPE", "PROTOCOL-TYPE"], rows: rows))
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a group's state, members and, per partition, committed offset, end offset and lag.")

        @OptionGroup var client: ClientOptions
        @Argument(help: "Group id.") var group: String
        @Flag(name: .customLong("json"), help: "Print JSON.") var json = false

        func run() async throws {
            let (description, lag) = try await client.withClient { client in
                let description = try await client.describeGroup(group)
                guard description.exists else { throw KafkaClientError.invalidArgument("group '\(group)' does not exist") }
                return (description, try await client.groupLag(description))
            }
            if json {
                StandardOutput.write(try TopicJSON.encode(GroupJSON.Description(description, lag: lag)) + "\n")
            } else {
                StandardOutput.write(Self.text(description, lag: lag))
            }
        }

        static func text(_ description: GroupDescription, lag: [GroupPartitionLag]) -> String {
            var summary = "Group: \(description.groupId)\tState: \(description.state)\tProtocol: \(description.groupProtocol.rawValue)"
            if description.groupProtocol == .classic { summary += "\tProtocolType: \(dash(description.protocolType))" }
            summary += "\tAssignor: \(dash(description.assignor))"
            if let epoch = description.groupEpoch { summary += "\tGroupEpoch: \(epoch)" }
            var out = summary + "\n"
            if description.members.isEmpty {
                out += "\nNo active members.\n"
            } else {
                let rows = description.members.map { member in
                    [member.memberId, dash(member.clientId), dash(member.clientHost), member.memberEpoch.map(String.init) ?? "-",
                     assignmentText(member.assignment)]
                }
                out += "\n" + TextTable.render(header: ["MEMBER-ID", "CLIENT-ID", "HOST", "EPOCH", "ASSIGNMENT"], rows: rows)
            }
            if lag.isEmpty {
                out += "\nNo committed offsets.\n"
            } else {
                let rows = lag.map { row in
                    [row.topic, row.partition.description, row.currentOffset?.description ?? "-",
                     row.logEndOffset?.description ?? "-", row.lag.map(String.init) ?? "-", row.memberId ?? "-"]
                }
                out += "\n" + TextTable.render(
                    header: ["TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "MEMBER-ID"], rows: rows)
            }
            return out
        }

        /// "orders:0,1,2 payments:3", topics sorted; "-" for none.
        static func assignmentText(_ assignment: [String: [PartitionID]]) -> String {
            let parts = assignment.keys.sorted().compactMap { topic -> String? in
                let partitions = assignment[topic]!
                guard !partitions.isEmpty else { return nil }
                return topic + ":" + partitions.map(\.description).joined(separator: ",")
            }
            return parts.isEmpty ? "-" : parts.joined(separator: " ")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an empty group and its committed offsets.")

        @OptionGroup var client: ClientOptions
        @Argument(help: "Group id.") var group: String

        func run() async throws {
            try await client.withClient { client in
                do {
                    try await client.deleteGroups([group])
                } catch let error as KafkaClientError where error.kafkaCode == .nonEmptyGroup {
                    let description = try await client.describeGroup(group)
                    throw KafkaClientError.invalidArgument(
                        "cannot delete group '\(group)': it is not empty (\(liveMembersText(description))); stop its consumers first")
                } catch let error as KafkaClientError where error.kafkaCode == .groupIDNotFound {
                    throw KafkaClientError.invalidArgument("group '\(group)' does not exist")
                }
            }
            print("deleted group \(group)")
        }
    }

    struct Seek: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a group's committed offsets for a topic (the group must have no active members).",
            discussion: """
                --to takes beginning, end, an offset, or @TIMESTAMP_MS (the first record at or after \
                that time; the end when every record is older). An offset outside a partition's \
                range is moved to its nearest end, as kafka-consumer-groups --reset-offsets does.
                """
        )

        @OptionGroup var client: ClientOptions
        @Argument(help: "Group id.") var group: String
        @Option(name: [.short, .customLong("topic")], help: "Topic whose offsets to set.") var topic: String
        @Option(name: [.short, .customLong("partition")], help: "Only this partition (repeatable; default: all).")
        var partitions: [Int32] = []
        @Option(name: .customLong("to"), help: "beginning, end, OFFSET or @TIMESTAMP_MS.") var to: String
        @Flag(name: .customLong("dry-run"), help: "Print the new offsets without setting them.") var dryRun = false

        func validate() throws {
            _ = try Self.parseTarget(to)
        }

        static func parseTarget(_ text: String) throws -> StartOffset {
            do {
                return try ConsumeCommand.parseStart(text)
            } catch {
                throw ValidationError("--to must be beginning, end, an offset or @TIMESTAMP_MS (got '\(text)')")
            }
        }

        func run() async throws {
            let target = try Self.parseTarget(to)
            let chosen = partitions.isEmpty ? nil : partitions.map { PartitionID($0) }
            let offsets = try await client.withClient { client -> [PartitionID: Offset] in
                let description = try await client.describeGroup(group)
                guard description.members.isEmpty else {
                    throw KafkaClientError.invalidArgument(
                        "cannot seek group '\(group)': it is not empty (\(liveMembersText(description))); stop its consumers first")
                }
                let offsets = try await Self.resolve(target, topic: topic, partitions: chosen, client: client)
                if !dryRun {
                    do {
                        try await client.alterOffsets(group: group, offsets: [topic: offsets])
                    } catch let error as KafkaClientError where error.kafkaCode?.isGroupMembershipError == true {
                        // A consumer joined between the check and the commit.
                        let now = try await client.describeGroup(group)
                        throw KafkaClientError.invalidArgument(
                            "cannot seek group '\(group)': it is not empty (\(liveMembersText(now))); stop its consumers first")
                    }
                }
                return offsets
            }
            let rows = offsets.keys.sorted().map { [group, topic, $0.description, offsets[$0]!.description] }
            if dryRun { StandardOutput.write("dry run: offsets not changed\n") }
            StandardOutput.write(TextTable.render(header: ["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"], rows: rows))
        }

        /// The offset per partition for `target`, within each partition's [start, end].
        static func resolve(_ target: StartOffset, topic: String, partitions: [PartitionID]?,
                            client: KafkaClient) async throws -> [PartitionID: Offset] {
            let metadata = try await client.topicMetadata(topic)
            let all = metadata.partitions.map(\.id)
            if let partitions {
                for partition in partitions where !all.contains(partition) {
                    throw KafkaClientError.unknownTopicOrPartition(topic: topic, partition: partition.rawValue)
                }
            }
            let chosen = partitions ?? all
            let earliest = try await client.listOffsets(topic: topic, partitions: chosen, spec: .earliest)
            let latest = try await client.listOffsets(topic: topic, partitions: chosen, spec: .latest)
            var result: [PartitionID: Offset] = [:]
            for partition in chosen {
                let low = earliest.first { $0.partition == partition }?.offset ?? .zero
                let high = latest.first { $0.partition == partition }?.offset ?? low
                switch target {
                case .beginning: result[partition] = low
                case .end: result[partition] = high
                case .offset(let offset): result[partition] = min(max(offset, low), high)
                case .timestamp: break
                }
            }
            if case .timestamp(let time) = target {
                for listed in try await client.listOffsets(topic: topic, partitions: chosen, spec: .timestamp(time)) {
                    result[listed.partition] = listed.offset
                        ?? latest.first { $0.partition == listed.partition }?.offset ?? .zero
                }
            }
            return result
        }
    }
}

/// "2 members: m1 (client runnel, host /127.0.0.1), m2 (…)" for error messages.
func liveMembersText(_ description: GroupDescription) -> String {
    let count = description.members.count
    let list = description.members.map { "\($0.memberId) (client \(dash($0.clientId)), host \(dash($0.clientHost)))" }
    return "state \(description.state), \(counted(count, "member")): " + list.joined(separator: ", ")
}

private func dash(_ text: String) -> String { text.isEmpty ? "-" : text }

/// Columns padded to their widest cell, two spaces apart, as kafka-consumer-groups prints them.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for row in all {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        var out = ""
        for row in all {
            var line = ""
            for (index, cell) in row.enumerated() {
                let isLast = index == row.count - 1
                line += isLast ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
            }
            out += line + "\n"
        }
        return out
    }
}

/// Shapes of `runnel group … --json` output.
enum GroupJSON {
    struct Listing: Encodable {
        var group: String
        var state: String
        var type: String
        var protocolType: String

        init(_ listing: GroupListing) {
            group = listing.groupId
            state = listing.state
            type = listing.type
            protocolType = listing.protocolType
        }
    }

    struct TopicPartitions: Encodable {
        var topic: String
        var partitions: [Int32]

        static func list(_ assignment: [String: [PartitionID]]) -> [TopicPartitions] {
            assignment.keys.sorted().map { TopicPartitions(topic: $0, partitions: assignment[$0]!.map(\.rawValue)) }
        }
    }

    struct Member: Encodable {
        var memberId: String
        var instanceId: String?
        var clientId: String
        var host: String
        var memberEpoch: Int32?
        var subscribedTopics: [String]
        var assignment: [TopicPartitions]
        var targetAssignment: [TopicPartitions]?
    }

    struct PartitionOffsets: Encodable {
        var topic: String
        var partition: Int32
        var currentOffset: Int64?
        var logEndOffset: Int64?
        var lag: Int64?
        var memberId: String?
    }

    struct Description: Encodable {
        var group: String
        var state: String
        var `protocol`: String
        var protocolType: String
        var assignor: String
        var groupEpoch: Int32?
        var members: [Member]
        var offsets: [PartitionOffsets]

        init(_ description: GroupDescription, lag: [GroupPartitionLag]) {
            group = description.groupId
            state = description.state
            `protocol` = description.groupProtocol.rawValue
            protocolType = description.protocolType
            assignor = description.assignor
            groupEpoch = description.groupEpoch
            members = description.members.map { member in
                Member(memberId: member.memberId, instanceId: member.instanceId, clientId: member.clientId,
                       host: member.clientHost, memberEpoch: member.memberEpoch, subscribedTopics: member.subscribedTopics,
                       assignment: TopicPartitions.list(member.assignment),
                       targetAssignment: member.targetAssignment.map(TopicPartitions.list))
            }
            offsets = lag.map { row in
                PartitionOffsets(topic: row.topic, partition: row.partition.rawValue, currentOffset: row.currentOffset?.rawValue,
                                 logEndOffset: row.logEndOffset?.rawValue, lag: row.lag, memberId: row.memberId)
            }
        }
    }
}
