// Runs the text scenarios in testdata/*.txt through the shared scenario-file runner
// (`RunnelTesting.ScenarioFile`: a command line, "----", the expected output ended by a blank
// line; '#' lines are comments). With RAFT_REWRITE=1 the files are rewritten with the actual
// output instead of failing — review the diff (git diff Tests/RaftCoreTests/testdata) as you
// would review code.
import Foundation
import RunnelTesting
import Testing

enum Scenarios {
    static var files: [URL] { ScenarioFile.files(besides: #filePath) }
    static var names: [String] { files.map(\.lastPathComponent) }
}

@Test func scenarioFilesExist() {
    #expect(Scenarios.names.count >= 8, "testdata/ should hold the scenario files")
}

@Test(arguments: Scenarios.names)
func scenario(_ name: String) throws {
    let url = Scenarios.files.first { $0.lastPathComponent == name }!
    var harness = ScenarioHarness()
    let mismatches = try ScenarioFile.run(url, rewriteVariable: "RAFT_REWRITE") { try harness.run($0) }
    #expect(mismatches.isEmpty, "\(mismatches.map(\.description).joined(separator: "\n\n"))")
}
