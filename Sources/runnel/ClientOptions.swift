import ArgumentParser
import Foundation
import RunnelClient

/// Options every client command takes (DESIGN.md §8).
struct ClientOptions: ParsableArguments {
    @Option(name: [.customShort("b"), .customLong("bootstrap-server")],
            help: ArgumentHelp("Brokers to bootstrap from (default: $RUNNEL_BOOTSTRAP_SERVERS, else localhost:9092).",
                               valueName: "host:port[,host:port…]"))
    var bootstrapServer: String?

    @Option(name: .customLong("timeout-ms"), help: "How long one request may wait for its response.")
    var timeoutMs: Int64 = 30_000

    @Option(name: .customLong("command-config"),
            help: ArgumentHelp("Kafka client properties: security.protocol, ssl.truststore.location, ssl.keystore.location, sasl.* (README, Security).",
                               valueName: "file"))
    var commandConfig: String?
    @OptionGroup var sasl: SaslOptions

    var bootstrap: String {
        if let bootstrapServer { return bootstrapServer }
        if let env = ProcessInfo.processInfo.environment["RUNNEL_BOOTSTRAP_SERVERS"], !env.isEmpty { return env }
        return "localhost:9092"
    }

    /// Runs `body` with a connected client and shuts it down afterwards. Any error becomes one
    /// line on stderr and exit status 1.
    func withClient<T>(_ body: (KafkaClient) async throws -> T) async throws -> T {
        let client: KafkaClient
        do {
            var config = try KafkaClientConfig(bootstrapServers: bootstrap)
            config.requestTimeoutMs = timeoutMs
            if let commandConfig { try config.setSecurity(try ClientSecurityConfig.load(file: commandConfig)) }
            if let flags = try sasl.config() { config.sasl = flags }   // --sasl-* flags win over the file
            client = KafkaClient(config: config)
        } catch {
            throw CommandFailure.report(error)
        }
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw CommandFailure.report(error)
        }
    }
}

enum CommandFailure {
    /// Prints `error` as one line on stderr and returns the exit code to throw.
    static func report(_ error: any Error) -> any Error {
        if error is ExitCode || error is CleanExit { return error }
        let line: String
        if let error = error as? KafkaClientError {
            line = error.description
        } else if let error = error as? ValidationError {
            line = error.message
        } else {
            line = "\(error)"
        }
        printError(line)
        return ExitCode.failure
    }

    static func printError(_ line: String) {
        let single = line.split(whereSeparator: \.isNewline).joined(separator: " ")
        FileHandle.standardError.write(Data("runnel: \(single)\n".utf8))
    }
}

/// Writes bytes to stdout without Foundation's line buffering getting in the way.
enum StandardOutput {
    static func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        FileHandle.standardOutput.write(Data(bytes))
    }

    static func write(_ text: String) {
        write(Array(text.utf8))
    }
}
