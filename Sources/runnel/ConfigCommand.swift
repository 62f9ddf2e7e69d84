import ArgumentParser
import Foundation
import RunnelClient
import RunnelCore

/// `runnel config describe|alter`: dynamic configuration of topics and brokers (stored in the
/// metadata log, applied by every broker without a restart).
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Describe and change configuration at run time.",
        subcommands: [Describe.self, Alter.self]
    )

    /// Which resource a command names: exactly one of the three options.
    struct Resource: ParsableArguments {
        @Option(name: .customLong("topic"), help: "A topic.") var topic: String?
        @Option(name: .customLong("broker"), help: "A broker, by id.") var broker: Int32?
        @Flag(name: .customLong("broker-defaults"), help: "The cluster-wide broker defaults.") var brokerDefaults = false

        func target(allowTopic: Bool) throws -> ConfigTarget {
            let given = [topic != nil, broker != nil, brokerDefaults].filter { $0 }.count
            let choices = allowTopic ? "--topic NAME, --broker ID or --broker-defaults" : "--broker ID or --broker-defaults"
            guard given == 1 else { throw ValidationError("name exactly one of \(choices)") }
            if let topic {
                guard allowTopic else { throw ValidationError("use `runnel topic alter \(topic)` to change a topic") }
                return .topic(topic)
            }
            if let broker {
                guard broker >= 0 else { throw ValidationError("broker id \(broker) is negative") }
                return .broker(BrokerID(broker))
            }
            return .brokerDefaults
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a topic's or broker's configuration: each key's value and where it comes from.")

        @OptionGroup var client: ClientOptions
        @OptionGroup var resource: Resource
        @Flag(name: .customLong("json"), help: "Print a JSON array.") var json = false

        func run() async throws {
            let target: ConfigTarget
            do { target = try resource.target(allowTopic: true) } catch { throw CommandFailure.report(error) }
            let entries = try await client.withClient { client in try await client.describeConfigs(target) }
            if json {
                let out = entries.map { config in
                    TopicJSON.Config(name: config.name, value: config.isSensitive ? nil : config.value, source: config.sourceName,
                                     isDefault: config.isDefault, readOnly: config.isReadOnly, sensitive: config.isSensitive)
                }
                StandardOutput.write(try TopicJSON.encode(out) + "\n")
            } else if entries.isEmpty {
                CommandFailure.printError("no configs set for \(target)")
            } else {
                StandardOutput.write(entries.map { config in
                    "\(config.name)=\(config.isSensitive ? "(sensitive)" : (config.value ?? "null"))\t(\(config.sourceName))\n"
                }.joined())
            }
        }
    }

    struct Alter: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set or delete dynamic broker configs, for one broker or as the cluster-wide default.")

        @OptionGroup var client: ClientOptions
        @OptionGroup var resource: Resource
        @OptionGroup var changes: ConfigChanges

        func run() async throws {
            let target: ConfigTarget
            let updates: [ConfigUpdate]
            do {
                target = try resource.target(allowTopic: false)
                updates = try changes.updates()
            } catch { throw CommandFailure.report(error) }
            try await client.withClient { client in try await client.alterConfigs(target, updates, validateOnly: changes.validateOnly) }
            print(changes.summary(of: target, updates))
        }
    }
}

/// `-c key=value` and `--delete-config key`, shared by `topic alter` and `config alter`.
struct ConfigChanges: ParsableArguments {
    @Option(name: [.short, .customLong("config")], help: ArgumentHelp("Set a config (repeatable).", valueName: "key=value"))
    var config: [String] = []
    @Option(name: .customLong("delete-config"), help: ArgumentHelp("Remove a config, back to its default (repeatable).", valueName: "key"))
    var deleteConfig: [String] = []
    @Flag(name: .customLong("validate-only"), help: "Ask the broker to check the change without making it.")
    var validateOnly = false

    func updates() throws -> [ConfigUpdate] {
        var out: [ConfigUpdate] = []
        for entry in config {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw ValidationError("config '\(entry)' is not key=value")
            }
            out.append(.set(String(entry[..<equals]), String(entry[entry.index(after: equals)...])))
        }
        out += deleteConfig.map { .delete($0) }
        guard !out.isEmpty else { throw ValidationError("nothing to change: give -c key=value or --delete-config key") }
        return out
    }

    func summary(of target: ConfigTarget, _ updates: [ConfigUpdate]) -> String {
        let text = updates.map { update -> String in
            switch update {
            case .set(let key, let value): return "\(key)=\(value)"
            case .delete(let key): return "\(key) deleted"
            }
        }.joined(separator: ", ")
        return "\(validateOnly ? "would alter" : "altered") \(target): \(text)"
    }
}
