import Foundation
import Testing

/// Runs every `testdata/*.txt` scenario. With GROUPS_REWRITE=1 the expected output in the files
/// is replaced by the actual output (review the diff), instead of failing.
struct ScenarioTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("testdata")

    static var files: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".txt") }.sorted()
    }

    @Test func scenarioFilesExist() {
        #expect(Self.files.count >= 10)
    }

    @Test(arguments: files)
    func scenario(_ name: String) throws {
        let url = Self.directory.appendingPathComponent(name)
        let text = try String(contentsOf: url, encoding: .utf8)
        var cases = ScenarioFile.parse(text)
        var runner = ScenarioRunner()
        let rewrite = ProcessInfo.processInfo.environment["GROUPS_REWRITE"] == "1"
        for i in cases.indices {
            let actual = try runner.run(cases[i].command)
            if rewrite {
                cases[i].expected = actual
            } else {
                #expect(actual == cases[i].expected, "\(name): \(cases[i].command)")
            }
        }
        if rewrite { try ScenarioFile.render(cases).write(to: url, atomically: true, encoding: .utf8) }
    }
}
