import ArgumentParser
import Foundation
import RunnelClient

/// `runnel user add|delete|list`: SCRAM credentials in the metadata log
/// (AlterUserScramCredentials / DescribeUserScramCredentials; docs/decisions.md D175).
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage SASL/SCRAM users (stored in the metadata log, known to every broker).",
        subcommands: [Add.self, Delete.self, List.self]
    )

    static let mechanisms = ["SCRAM-SHA-256", "SCRAM-SHA-512"]

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user or change its password: one SCRAM credential per mechanism (both by default).")

        @OptionGroup var client: ClientOptions
        @Argument(help: "The user name.") var name: String
        @Option(name: .customLong("password"), help: "The password (default: $RUNNEL_USER_PASSWORD).") var password: String?
        @Option(name: .customLong("mechanism"), help: "SCRAM-SHA-256 or SCRAM-SHA-512; repeat for both (default: both).")
        var mechanisms: [String] = []
        @Option(name: .customLong("iterations"), help: "SCRAM iterations, 4096 to 16384.") var iterations: Int32 = 8192

        func run() async throws {
            let password = self.password ?? ProcessInfo.processInfo.environment["RUNNEL_USER_PASSWORD"]
            guard let password, !password.isEmpty else {
                throw CommandFailure.report(ValidationError("--password (or $RUNNEL_USER_PASSWORD) is required"))
            }
            let chosen = mechanisms.isEmpty ? UserCommand.mechanisms : mechanisms.map { $0.uppercased() }
            for m in chosen where !UserCommand.mechanisms.contains(m) {
                throw CommandFailure.report(ValidationError("--mechanism '\(m)' is not SCRAM-SHA-256 or SCRAM-SHA-512"))
            }
            try await client.withClient { client in
                for m in chosen {
                    try await client.upsertScramCredential(user: name, password: password, mechanism: m, iterations: iterations)
                }
            }
            StandardOutput.write("user \(name): \(chosen.joined(separator: ", ")) credential set (\(iterations) iterations)\n")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a user's SCRAM credentials (every mechanism it has by default).")

        @OptionGroup var client: ClientOptions
        @Argument(help: "The user name.") var name: String
        @Option(name: .customLong("mechanism"), help: "Only this mechanism; repeatable.") var mechanisms: [String] = []

        func run() async throws {
            let removed = try await client.withClient { client in
                var chosen = mechanisms.map { $0.uppercased() }
                if chosen.isEmpty {
                    chosen = try await client.describeScramUsers([name]).first?.credentials.map(\.mechanism) ?? []
                }
                try await client.deleteScramCredentials(user: name, mechanisms: chosen)
                return chosen
            }
            StandardOutput.write("user \(name): \(removed.joined(separator: ", ")) credential deleted\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users and their SCRAM mechanisms (never a secret).")

        @OptionGroup var client: ClientOptions
        @Flag(name: .customLong("json"), help: "Print a JSON array.") var json = false

        func run() async throws {
            let users = try await client.withClient { client in try await client.describeScramUsers() }
            if json {
                let out = users.map { u in
                    ["user": u.user as Any,
                     "credentials": u.credentials.map { ["mechanism": $0.mechanism, "iterations": Int($0.iterations)] as [String: Any] }]
                }
                let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
                StandardOutput.write(Array(data) + [0x0A])
            } else {
                for u in users {
                    let creds = u.credentials.map { "\($0.mechanism) (\($0.iterations) iterations)" }.joined(separator: ", ")
                    StandardOutput.write("\(u.user)\t\(creds)\n")
                }
            }
        }
    }
}
