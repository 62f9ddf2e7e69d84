import Foundation

/// A real `runnel broker` process on a free loopback port with its own data directory, for
/// integration tests. The binary is `RUNNEL_BIN`, else `.build/debug/runnel` next to the package.
public final class BrokerProcess: @unchecked Sendable {
    // @unchecked: the process handle and log pipe are only touched by the test that owns this.
    public let port: Int
    public let dataDirectory: TemporaryDirectory
    public let overrides: [String]
    /// Variables added to the broker's environment (e.g. RUNNEL_LOG_FORMAT), set before `launch`.
    public var environment: [String: String] = [:]
    private var process: Process?
    private var logFile: String

    public var bootstrap: String { "127.0.0.1:\(port)" }

    public init(overrides: [String] = [], dataDirectory: TemporaryDirectory? = nil, port: Int? = nil) throws {
        self.dataDirectory = try dataDirectory ?? TemporaryDirectory(prefix: "runnel-broker")
        self.port = try port ?? freeLoopbackPort()
        self.overrides = overrides
        self.logFile = self.dataDirectory.file("broker.log")
    }

    public static func binaryPath(file: String = #filePath) -> String {
        if let bin = ProcessInfo.processInfo.environment["RUNNEL_BIN"] { return bin }
        // Sources/RunnelTesting/BrokerProcess.swift → package root.
        var url = URL(fileURLWithPath: file)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent(".build/debug/runnel").path
    }

    /// Starts the broker and waits until its port accepts connections (or throws with its log).
    public func start(timeoutSeconds: Double = 20) throws {
        try launch()
        try waitUntilReady(timeoutSeconds: timeoutSeconds)
    }

    /// Starts the process without waiting (a cluster node binds its client port only once the
    /// metadata quorum has formed, so the nodes are launched together, then awaited).
    public func launch() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binaryPath())
        var args = ["broker",
                    "--override", "listeners=PLAINTEXT://127.0.0.1:\(port)",
                    "--override", "log.dirs=\(dataDirectory.file("data"))"]
        for o in overrides { args += ["--override", o] }
        p.arguments = args
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        log.seekToEndOfFile()
        p.standardOutput = log
        p.standardError = log
        try p.run()
        process = p
    }

    /// Waits until the client port accepts connections (or throws with the broker's log).
    public func waitUntilReady(timeoutSeconds: Double = 20) throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if loopbackPortAccepts(port) { return }
            if process?.isRunning != true { break }
            usleep(20_000)
        }
        throw BrokerProcessError(message: "broker did not start on port \(port); log:\n\(self.log)")
    }

    /// The process id while it runs.
    public var pid: Int32? { process.flatMap { $0.isRunning ? $0.processIdentifier : nil } }

    public var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }
    public var isRunning: Bool { process?.isRunning ?? false }

    /// Sends `signal` and waits for the exit; returns the exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeoutSeconds: Double = 20) -> Int32 {
        guard let p = process, p.isRunning else { return process?.terminationStatus ?? -1 }
        kill(p.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        return p.terminationStatus
    }

    public func kill9() { stop(signal: SIGKILL) }

    deinit {
        if let p = process, p.isRunning { kill(p.processIdentifier, SIGKILL) }
    }
}

public struct BrokerProcessError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
