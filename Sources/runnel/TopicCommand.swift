import ArgumentParser
import Foundation
import RunnelClient
import RunnelCore

/// `runnel topic create|list|describe|alter|delete`.
struct TopicCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topic",
        abstract: "Create, list, describe, alter and delete topics; delete a topic's oldest records.",
        subcommands: [Create.self, List.self, Describe.self, Alter.self, Delete.self, DeleteRecords.self]
    )

    struct Alter: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set or delete a topic's configs; every broker applies them without a restart.")

        @OptionGroup var client: ClientOptions
        @Argument(help: "Topic name.") var name: String
        @OptionGroup var changes: ConfigChanges

        func run() async throws {
            let updates: [ConfigUpdate]
            do { updates = try changes.updates() } catch { throw CommandFailure.report(error) }
            try await client.withClient { client in
                try await client.alterConfigs(.topic(name), updates, validateOnly: changes.validateOnly)
            }
            print(changes.summary(of: .topic(name), updates))
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a topic.")

        @OptionGroup var client: ClientOptions
        @Argument(help: "Topic name.") var name: String
        @Option(name: [.short, .customLong("partitions")], help: "Partition count (default: the broker's num.partitions).")
        var partitions: Int32?
        @Option(name: [.short, .customLong("replication-factor")],
                help: "Replicas per partition (default: the broker's default.replication.factor).")
        var replicationFactor: Int16?
        @Option(name: [.short, .customLong("config")], help: ArgumentHelp("A topic config (repeatable).", valueName: "key=value"))
        var config: [String] = []
        @Flag(name: .customLong("validate-only"), help: "Ask the broker to check the request without creating the topic.")
        var validateOnly = false

        func run() async throws {
            var configs: [String: String] = [:]
            for entry in config {
                guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                    throw CommandFailure.report(ValidationError("config '\(entry)' is not key=value"))
                }
                configs[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
            }
            let created = try await client.withClient { client in
                try await client.createTopic(name, partitions: partitions ?? -1, replicationFactor: replicationFactor ?? -1,
                                             configs: configs, validateOnly: validateOnly)
            }
            let verb = validateOnly ? "would create" : "created"
            let partitionText = created.partitions >= 0 ? "\(created.partitions)" : "\(partitions.map(String.init) ?? "default")"
            let replicationText = created.replicationFactor >= 0 ? "\(created.replicationFactor)"
                : "\(replicationFactor.map(String.init) ?? "default")"
            print("\(verb) topic \(name) (partitions: \(partitionText), replication factor: \(replicationText))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List topics.")

        @OptionGroup var client: ClientOptions
        @Flag(name: .customLong("json"), help: "Print a JSON array.") var json = false
        @Flag(name: .customLong("internal"), help: "Include internal topics.") var includeInternal = false

        func run() async throws {
            let topics = try await client.withClient { client in try await client.listTopics(includeInternal: includeInternal) }
            if json {
                let entries = topics.map { TopicJSON.Summary(name: $0.name.rawValue, id: $0.id.description,
                                                             partitions: $0.partitionCount, internal: $0.isInternal) }
                StandardOutput.write(try TopicJSON.encode(entries) + "\n")
            } else if topics.isEmpty {
                // stdout stays empty for scripts; the note is for the person at the terminal (D26).
                CommandFailure.printError(includeInternal ? "no topics" : "no topics (internal topics are listed with --internal)")
            } else {
                StandardOutput.write(topics.map { $0.name.rawValue + "\n" }.joined())
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a topic's partitions (leader, leader epoch, replicas, ISR) and configuration.")

        @OptionGroup var client: ClientOptions
        @Argument(help: "Topic name.") var name: String
        @Flag(name: .customLong("json"), help: "Print JSON.") var json = false

        func run() async throws {
            let description = try await client.withClient { client in try await client.describeTopic(name) }
            if json {
                StandardOutput.write(try TopicJSON.encode(TopicJSON.Description(description)) + "\n")
            } else {
                StandardOutput.write(Self.text(description))
            }
        }

        static func text(_ description: TopicDescription) -> String {
            let topic = description.metadata
            let replication = topic.partitions.first?.replicas.count ?? 0
            var out = "Topic: \(topic.name)\tTopicId: \(topic.id)\tPartitionCount: \(topic.partitionCount)\tReplicationFactor: \(replication)\n"
            for partition in topic.partitions {
                let leader = partition.leader.map(\.description) ?? "none"
                out += "\tPartition: \(partition.id)\tLeader: \(leader)\tLeaderEpoch: \(partition.leaderEpoch)"
                out += "\tReplicas: \(ids(partition.replicas))\tIsr: \(ids(partition.isr))"
                if !partition.offlineReplicas.isEmpty { out += "\tOffline: \(ids(partition.offlineReplicas))" }
                out += "\n"
            }
            if !description.configs.isEmpty {
                out += "Configs:\n"
                for config in description.configs {
                    let value = config.isSensitive ? "(sensitive)" : (config.value ?? "null")
                    out += "\t\(config.name)=\(value)\t(\(config.sourceName))\n"
                }
            }
            return out
        }

        static func ids(_ brokers: [BrokerID]) -> String {
            brokers.map(\.description).joined(separator: ",")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a topic.")

        @OptionGroup var client: ClientOptions
        @Argument(help: "Topic name.") var name: String

        func run() async throws {
            try await client.withClient { client in try await client.deleteTopics([name]) }
            print("deleted topic \(name)")
        }
    }
}

extension TopicCommand {
    /// `runnel topic delete-records`: DeleteRecords through each partition's leader (what Kafka's
    /// kafka-delete-records.sh does from a JSON file).
    struct DeleteRecords: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete-records",
            abstract: "Delete a topic's records below an offset: each partition's log start offset moves up to it.")

        @OptionGroup var client: ClientOptions
        @Argument(help: "Topic name.") var name: String
        @Option(name: [.short, .long], help: "A partition (repeatable; default: every partition).")
        var partition: [Int32] = []
        @Option(name: .long, parsing: .unconditional,
                help: ArgumentHelp("Delete records below this offset; -1 = up to the high watermark.", valueName: "OFFSET"))
        var before: Int64

        func validate() throws {
            guard before >= -1 else { throw ValidationError("--before must be an offset or -1 (the high watermark), got \(before)") }
            guard partition.allSatisfy({ $0 >= 0 }) else { throw ValidationError("--partition must not be negative") }
        }

        func run() async throws {
            let deleted = try await client.withClient { client in
                let partitions = partition.isEmpty
                    ? try await client.topicMetadata(name).partitions.map(\.id)
                    : partition.map { PartitionID($0) }
                return try await client.deleteRecords(topic: name, before: partitions.map { ($0, before) })
            }
            for entry in deleted {
                print("\(name)[\(entry.partition)]: log start offset now \(entry.lowWatermark)")
            }
        }
    }
}

/// Shapes of `--json` output.
enum TopicJSON {
    struct Summary: Encodable {
        var name: String
        var id: String
        var partitions: Int
        var `internal`: Bool
    }

    struct Partition: Encodable {
        var partition: Int32
        var leader: Int32?
        var leaderEpoch: Int32
        var replicas: [Int32]
        var isr: [Int32]
        var offlineReplicas: [Int32]
    }

    struct Config: Encodable {
        var name: String
        var value: String?
        var source: String
        var isDefault: Bool
        var readOnly: Bool
        var sensitive: Bool
    }

    struct Description: Encodable {
        var name: String
        var id: String
        var partitions: [Partition]
        var configs: [Config]

        init(_ description: TopicDescription) {
            name = description.metadata.name.rawValue
            id = description.metadata.id.description
            partitions = description.metadata.partitions.map { partition in
                Partition(partition: partition.id.rawValue, leader: partition.leader?.rawValue,
                          leaderEpoch: partition.leaderEpoch.rawValue, replicas: partition.replicas.map(\.rawValue),
                          isr: partition.isr.map(\.rawValue), offlineReplicas: partition.offlineReplicas.map(\.rawValue))
            }
            configs = description.configs.map { config in
                Config(name: config.name, value: config.isSensitive ? nil : config.value, source: config.sourceName,
                       isDefault: config.isDefault, readOnly: config.isReadOnly, sensitive: config.isSensitive)
            }
        }
    }

    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
