import Foundation
import RunnelClient
import RunnelTesting

/// Integration tests need the `runnel` binary: the broker comes from `BrokerProcess` (RUNNEL_BIN
/// or .build/debug/runnel); the CLI is the same binary unless RUNNEL_CLI_BIN names another.
enum RunnelBinary {
    static var brokerPath: String { BrokerProcess.binaryPath() }
    static var cliPath: String { ProcessInfo.processInfo.environment["RUNNEL_CLI_BIN"] ?? brokerPath }
    static var exists: Bool {
        let found = FileManager.default.isExecutableFile(atPath: brokerPath) && FileManager.default.isExecutableFile(atPath: cliPath)
        if !found { print("skipping integration tests: no runnel binary at \(brokerPath) (build it, or set RUNNEL_BIN)") }
        return found
    }
}

/// Runs `body` against a fresh single-node broker (started with `overrides`, `key=value`), then
/// stops it and removes its data.
func withBroker<T>(overrides: [String] = [], _ body: (BrokerProcess) async throws -> T) async throws -> T {
    let broker = try BrokerProcess(overrides: overrides)
    defer {
        broker.stop()
        broker.dataDirectory.remove()
    }
    try broker.start()
    do {
        return try await body(broker)
    } catch {
        print("broker log:\n\(broker.log.suffix(4000))")
        throw error
    }
}

/// `body` with a client for `broker`, shut down afterwards.
func withClient<T>(_ broker: BrokerProcess, _ body: (KafkaClient) async throws -> T) async throws -> T {
    var config = try KafkaClientConfig(bootstrapServers: broker.bootstrap)
    config.requestTimeoutMs = 10_000
    let client = KafkaClient(config: config)
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}

struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty } }
    var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
}

/// Runs the CLI with `arguments` and `stdin`; output goes through files so that a large output
/// cannot fill a pipe. Killed after `timeoutSeconds`.
func runCLI(_ arguments: [String], stdin: String = "", timeoutSeconds: Double = 30,
            keepBootstrapEnvironment: Bool = false) throws -> CLIResult {
    var environment = ProcessInfo.processInfo.environment
    if !keepBootstrapEnvironment { environment["RUNNEL_BOOTSTRAP_SERVERS"] = nil }
    return try runProcess(RunnelBinary.cliPath, arguments, environment: environment, stdin: stdin,
                          timeoutSeconds: timeoutSeconds)
}

/// Runs `executable` with `arguments`, `environment` and `stdin` in `directory` (default: this
/// process's), output through files; sent SIGTERM, then SIGKILL, by its pid after `timeoutSeconds`.
func runProcess(_ executable: String, _ arguments: [String], environment: [String: String], stdin: String = "",
                directory workingDirectory: String? = nil, timeoutSeconds: Double) throws -> CLIResult {
    let directory = try TemporaryDirectory(prefix: "runnel-cli")
    defer { directory.remove() }
    let inPath = directory.file("stdin"), outPath = directory.file("stdout"), errPath = directory.file("stderr")
    try Data(stdin.utf8).write(to: URL(fileURLWithPath: inPath))
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = environment
    if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
    process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    try process.run()
    let deadline = Date().addingTimeInterval(timeoutSeconds)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        process.terminate()
        let grace = Date().addingTimeInterval(5)
        while process.isRunning && Date() < grace { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
    return CLIResult(status: process.terminationStatus,
                     stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                     stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
}

func uniqueTopic(_ prefix: String) -> String {
    "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
}

func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
