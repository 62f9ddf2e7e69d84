import Foundation
import RunnelTesting
import Testing

/// Runs every `testdata/*.txt` scenario through the shared scenario-file runner
/// (`RunnelTesting.ScenarioFile`). With GROUPS_REWRITE=1 the expected output in the files is
/// replaced by the actual output (review the diff), instead of failing.
struct ScenarioTests {
    static var files: [URL] { ScenarioFile.files(besides: #filePath) }

    @Test func scenarioFilesExist() {
        #expect(Self.files.count >= 10)
    }

    @Test(arguments: files.map(\.lastPathComponent))
    func scenario(_ name: String) throws {
        let url = Self.files.first { $0.lastPathComponent == name }!
        var runner = ScenarioRunner()
        let mismatches = try ScenarioFile.run(url, rewriteVariable: "GROUPS_REWRITE") { try runner.run($0) }
        #expect(mismatches.isEmpty, "\(mismatches.map(\.description).joined(separator: "\n\n"))")
    }
}
