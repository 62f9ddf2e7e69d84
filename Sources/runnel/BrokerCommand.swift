import ArgumentParser
import Foundation
import Logging
import RunnelServer

/// `runnel broker`: runs one broker (and its embedded controller) until SIGTERM or SIGINT.
struct BrokerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run a broker. With no arguments: a single node on localhost:9092 with data in ./data.",
        discussion: """
            Configuration uses Kafka's property names. Sources, lowest precedence first: built-in \
            defaults, --config FILE, RUNNEL_* environment variables (RUNNEL_LOG_DIRS sets log.dirs), \
            then --override key=value.
            """
    )

    @Option(name: .long, help: "A .properties file with Kafka configuration keys.")
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Set one configuration key (repeatable).", valueName: "key=value"))
    var override: [String] = []

    func run() throws {
        do {
            try RunnelLogging.bootstrap(environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("runnel broker: configuration error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let logger = Logger(label: "runnel")
        let brokerConfig: BrokerConfig
        do {
            brokerConfig = try BrokerConfig(file: config, environment: ProcessInfo.processInfo.environment, overrides: override)
        } catch {
            FileHandle.standardError.write(Data("runnel broker: configuration error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let runtime: BrokerRuntime
        do {
            runtime = try BrokerRuntime(config: brokerConfig, logger: logger)
        } catch {
            logger.critical("start-up failed: \(error)")
            throw ExitCode(1)
        }
        do {
            try runtime.start()
        } catch {
            logger.critical("start-up failed: \(error)")
            // The logs may be open already (e.g. a listener's port is taken): close them cleanly,
            // so that the next start does not have to recover them.
            runtime.shutdown()
            throw ExitCode(1)
        }
        let code = runtime.runUntilSignalled()
        if code != 0 { throw ExitCode(code) }
    }
}
