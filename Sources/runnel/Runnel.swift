import ArgumentParser
import RunnelCore

/// `runnel`: the broker and the client commands in one binary.
@main
struct Runnel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runnel",
        abstract: "A Kafka-compatible commit-log broker, and a client for it.",
        version: "runnel \(RunnelVersion.current)",
        subcommands: [BrokerCommand.self, TopicCommand.self, ProduceCommand.self, ConsumeCommand.self, GroupCommand.self,
                      ClusterCommand.self, ConfigCommand.self, AclCommand.self, UserCommand.self, BenchCommand.self,
                      DevCommand.self]
    )
}
