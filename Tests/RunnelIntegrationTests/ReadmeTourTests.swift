import Foundation
import RunnelTesting
import Testing

/// The README's promises to a new user, checked against the README itself so that it cannot go
/// stale: `runnel` gets on the PATH the documented way (`scripts/install.sh`), and every line of
/// the CLI tour runs as written, in order, against a fresh broker.
@Suite(.enabled(if: RunnelBinary.exists, "needs the runnel binary (RUNNEL_BIN or .build/debug/runnel)"))
struct ReadmeTourTests {
    /// Package root: Tests/RunnelIntegrationTests/ReadmeTourTests.swift → ../..
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static var readme: String { (try? String(contentsOfFile: root + "/README.md", encoding: .utf8)) ?? "" }

    /// The commands of the ```sh block under "## A tour of the CLI": one per line, blank lines
    /// and comment lines dropped.
    static func tourCommands(_ readme: String) -> [String] {
        let lines = readme.components(separatedBy: "\n")
        guard let heading = lines.firstIndex(of: "## A tour of the CLI"),
              let open = lines[heading...].firstIndex(of: "```sh"),
              let close = lines[(open + 1)...].firstIndex(of: "```") else { return [] }
        return lines[(open + 1)..<close].filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.hasPrefix("#") }
    }

    @Test func theTourRunsAsWrittenInOrderOnAFreshBroker() async throws {
        let commands = Self.tourCommands(Self.readme)
        #expect(commands.count >= 10, "README.md has no ```sh block under '## A tour of the CLI'")
        #expect(commands.allSatisfy { $0.contains("runnel ") })

        let home = try TemporaryDirectory(prefix: "runnel-tour")
        defer { home.remove() }
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = home.file("bin") + ":" + (environment["PATH"] ?? "/usr/bin:/bin")

        // The documented install, minus the release build: the binary under test goes to PREFIX/bin.
        let install = try runProcess("/bin/bash", [Self.root + "/scripts/install.sh", "--prefix", home.path,
                                                   "--from", RunnelBinary.cliPath],
                                     environment: environment, timeoutSeconds: 60)
        #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
        #expect(install.stdout.hasPrefix("installed runnel "))
        #expect(!install.stdout.contains("not on your PATH"))

        try await withBroker { broker in
            environment["RUNNEL_BOOTSTRAP_SERVERS"] = broker.bootstrap
            var outputs: [String: CLIResult] = [:]
            for command in commands {
                // bash -o pipefail: `printf … | runnel produce` fails when runnel does. `timeout`
                // bounds the line and kills every process it started; the wait here is a backstop.
                let result = try runProcess("/usr/bin/timeout", ["-k", "5", "300", "/bin/bash", "-o", "pipefail", "-c", command],
                                            environment: environment, directory: home.path, timeoutSeconds: 320)
                outputs[command] = result
                guard result.status == 0 else {
                    Issue.record("`\(command)` exited \(result.status)\nstdout: \(result.stdout.suffix(2000))\nstderr: \(result.stderr.suffix(2000))")
                    return
                }
            }
            // A few outputs, to know the lines did what the tour says.
            func output(_ prefix: String) -> [String] {
                outputs.first(where: { $0.key.hasPrefix(prefix) })?.value.stdoutLines ?? []
            }
            #expect(output("runnel topic list") == ["orders"])
            let fromFive = output("runnel consume orders -p 0 -o 5 -n 10")
            #expect(fromFive.map { $0.prefix(while: { $0 != " " }) } == (5..<15).map { "0/\($0)" }, "\(fromFive)")
        }
    }

    /// "Two commands" must work on a fresh machine: the broker command is a script of this
    /// repository, and it, the install script and the test command install the build's Debian
    /// packages (`scripts/install-deps.sh`) before they build.
    @Test func theSetUpCommandsInstallTheBuildDependenciesFirst() throws {
        #expect(Self.readme.contains("\n    bash scripts/broker.sh\n"), "the README's broker command is not bash scripts/broker.sh")
        for script in ["scripts/broker.sh", "scripts/install.sh", "scripts/test-all.sh"] {
            let text = (try? String(contentsOfFile: Self.root + "/" + script, encoding: .utf8)) ?? ""
            let code = text.components(separatedBy: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
            let deps = code.firstIndex { $0.contains("bash scripts/install-deps.sh") }
            let build = code.firstIndex { $0.contains("swift build") || $0.contains("swift run") }
            #expect(deps != nil && build != nil && deps! < build!, "\(script) does not run scripts/install-deps.sh before it builds")
        }
        // This machine built the tests, so nothing is missing and the script says nothing.
        let deps = try runProcess("/bin/bash", [Self.root + "/scripts/install-deps.sh"],
                                  environment: ProcessInfo.processInfo.environment, timeoutSeconds: 60)
        #expect(deps.status == 0 && deps.stdout.isEmpty && deps.stderr.isEmpty, "\(deps.stdout)\(deps.stderr)")
    }

    @Test func theReadmeLinksOnlyWhatACloneHas() throws {
        let readme = Self.readme
        #expect(!readme.contains("../shared"), "a clone has no ../shared")
        // Every repository path the README names in backquotes exists.
        let pattern = try NSRegularExpression(pattern: "`((?:docs|scripts|Tests|config|Sources|Benchmarks)/[^`\\s]*)`")
        let range = NSRange(readme.startIndex..., in: readme)
        let paths = pattern.matches(in: readme, range: range).compactMap { Range($0.range(at: 1), in: readme).map { String(readme[$0]) } }
        #expect(paths.contains("docs/ARCHITECTURE.md"))
        for path in paths {
            #expect(FileManager.default.fileExists(atPath: Self.root + "/" + path), "README names \(path), which does not exist")
        }
        // The architecture page covers what the README promises it does.
        let architecture = (try? String(contentsOfFile: Self.root + "/docs/ARCHITECTURE.md", encoding: .utf8)) ?? ""
        for heading in ["## Modules", "### Produce", "### Fetch", "## Storage on disk", "## Consumer groups", "## Raft",
                        "## The cluster design to come"] {
            #expect(architecture.contains("\n" + heading + "\n"), "docs/ARCHITECTURE.md lacks \(heading)")
        }
    }
}

