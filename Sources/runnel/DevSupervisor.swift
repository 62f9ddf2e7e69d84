import Dispatch
import Foundation
import RunnelServer

/// Runs the nodes of a `runnel dev` cluster as child processes: starts them, relays their output
/// line by line with a `[node <id>]` prefix, announces the bootstrap list once every node accepts
/// connections, and stops them all on SIGINT/SIGTERM or when one of them exits by itself.
final class DevSupervisor {
    private let cluster: DevCluster
    private let executable: String
    private let stopGraceSeconds: Double
    private let output = LineOutput()
    private var children: [(node: DevCluster.Node, process: Process, relays: [LineRelay])] = []
    private let signalled = SignalFlag()

    init(cluster: DevCluster, executable: String, stopGraceSeconds: Double) {
        self.cluster = cluster
        self.executable = executable
        self.stopGraceSeconds = stopGraceSeconds
    }

    /// Runs until a signal or a node's own exit; returns the exit status (0: every node stopped cleanly).
    func run() -> Int32 {
        let sources = signalled.install([SIGINT, SIGTERM])
        defer { sources.forEach { $0.cancel() } }
        let environment = childEnvironment()
        for node in cluster.nodes {
            do {
                try start(node, environment: environment)
            } catch {
                output.note("cannot start node \(node.id) (\(executable)): \(error)")
                return stopAll(after: "node \(node.id) did not start")
            }
            output.line("node \(node.id): pid \(children.last!.process.processIdentifier), "
                        + "PLAINTEXT \(node.clientAddress), CONTROLLER \(node.controllerAddress), "
                        + "config \(node.propertiesFile)", toStandardError: false)
        }
        var announced = false
        while true {
            if let name = signalled.received { return stopAll(after: "received \(name)") }
            if let exited = children.first(where: { !$0.process.isRunning }) {
                let status = exited.process.terminationStatus
                let how = exited.process.terminationReason == .uncaughtSignal ? "was killed by signal \(status)" : "exited with status \(status)"
                output.note("node \(exited.node.id) (pid \(exited.process.processIdentifier)) \(how) by itself; stopping the others")
                _ = stopAll(after: nil)
                return 1
            }
            if !announced && cluster.nodes.allSatisfy({ LoopbackPorts.accepts($0.clientPort) }) {
                output.line("bootstrap: \(cluster.bootstrap)", toStandardError: false)
                announced = true
            }
            usleep(50_000)
        }
    }

    private func start(_ node: DevCluster.Node, environment: [String: String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["broker", "--config", node.propertiesFile]
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let prefix = "[node \(node.id)] "
        let relays = [LineRelay(out.fileHandleForReading, prefix: prefix, toStandardError: false, output: output),
                      LineRelay(err.fileHandleForReading, prefix: prefix, toStandardError: true, output: output)]
        children.append((node, process, relays))
    }

    /// Our environment without RUNNEL_* variables that set broker keys: they would override the
    /// generated files on every node alike (RUNNEL_LOG_DIRS would put all nodes in one directory).
    private func childEnvironment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for name in environment.keys.sorted() where name.hasPrefix("RUNNEL_") {
            let key = name.dropFirst("RUNNEL_".count).lowercased().replacingOccurrences(of: "_", with: ".")
            guard BrokerKeys.byName[key] != nil else { continue }
            environment[name] = nil
            output.note("not passing \(name) to the nodes; use --override \(key)=... to set it on every node")
        }
        return environment
    }

    /// SIGTERM to every running node, SIGKILL to those still running after the grace period;
    /// waits for all of them and their output. Returns 0 when every node exited 0 by itself.
    private func stopAll(after reason: String?) -> Int32 {
        let running = children.filter { $0.process.isRunning }
        if let reason {
            output.note("\(reason): stopping \(running.count) node\(running.count == 1 ? "" : "s") (SIGTERM)")
        }
        for child in running { kill(child.process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(stopGraceSeconds)
        while children.contains(where: { $0.process.isRunning }) && Date() < deadline { usleep(20_000) }
        var clean = true
        for child in children where child.process.isRunning {
            output.note("node \(child.node.id) (pid \(child.process.processIdentifier)) still running after \(Int(stopGraceSeconds)) s: SIGKILL")
            kill(child.process.processIdentifier, SIGKILL)
            clean = false
        }
        for child in children {
            child.process.waitUntilExit()
            child.relays.forEach { $0.waitForEnd(timeoutSeconds: 5) }
            if child.process.terminationReason != .exit || child.process.terminationStatus != 0 { clean = false }
        }
        guard reason != nil else { return 1 }
        if clean {
            output.note("all \(children.count) node\(children.count == 1 ? "" : "s") stopped cleanly")
            return 0
        }
        let failed = children.filter { $0.process.terminationReason != .exit || $0.process.terminationStatus != 0 }
        output.note("not stopped cleanly: " + failed.map { "node \($0.node.id) (status \($0.process.terminationStatus))" }.joined(separator: ", "))
        return 1
    }
}

/// Serialises whole lines from several threads onto stdout or stderr (unbuffered writes, so a
/// reader of a pipe or file sees each line at once).
final class LineOutput: @unchecked Sendable {
    // @unchecked: every write goes through `lock`.
    private let lock = NSLock()

    func line(_ text: String, toStandardError: Bool) {
        lock.lock()
        defer { lock.unlock() }
        (toStandardError ? FileHandle.standardError : FileHandle.standardOutput).write(Data((text + "\n").utf8))
    }

    /// A message of `runnel dev` itself, on stderr.
    func note(_ text: String) { line("runnel dev: \(text)", toStandardError: true) }
}

/// Reads one child pipe on its own thread until end of file, writing each line with a prefix.
final class LineRelay: @unchecked Sendable {
    // @unchecked: the thread owns the handle and buffer; `finished` is a semaphore.
    private let finished = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle, prefix: String, toStandardError: Bool, output: LineOutput) {
        let thread = Thread { [finished] in
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    output.line(prefix + line, toStandardError: toStandardError)
                    pending.removeSubrange(pending.startIndex...newline)
                }
            }
            if !pending.isEmpty { output.line(prefix + String(decoding: pending, as: UTF8.self), toStandardError: toStandardError) }
            finished.signal()
        }
        thread.start()
    }

    /// Waits (bounded) until the child's side of the pipe is closed and every line is written.
    func waitForEnd(timeoutSeconds: Double) {
        _ = finished.wait(timeout: .now() + timeoutSeconds)
    }
}

/// Records the first of the given signals that arrives (their default action is replaced).
final class SignalFlag: @unchecked Sendable {
    // @unchecked: `name` is guarded by `lock`.
    private let lock = NSLock()
    private var name: String?
    private let queue = DispatchQueue(label: "runnel.dev.signals")

    var received: String? {
        lock.lock()
        defer { lock.unlock() }
        return name
    }

    func install(_ signals: [Int32]) -> [any DispatchSourceSignal] {
        signals.map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { [self] in
                lock.lock()
                if name == nil { name = sig == SIGINT ? "SIGINT" : "SIGTERM" }
                lock.unlock()
            }
            source.resume()
            return source
        }
    }
}
