// Runs the text scenarios in testdata/*.txt. Each block is a command line, a line "----", then
// the expected output, ended by a blank line; lines starting with '#' are comments. With
// RAFT_REWRITE=1 the files are rewritten with the actual output instead of failing — review the
// diff (git diff Tests/RaftCoreTests/testdata) as you would review code.
import Foundation
import Testing

struct ScenarioFile {
    struct Block {
        var comments: [String]
        var command: String
        var expected: String
    }
    var blocks: [Block]

    static func parse(_ text: String) -> ScenarioFile {
        var blocks: [Block] = []
        var lines = text.components(separatedBy: "\n")[...]
        var comments: [String] = []
        while let line = lines.popFirst() {
            if line.hasPrefix("#") { comments.append(line); continue }
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            var expected: [String] = []
            if lines.first == "----" {
                lines.removeFirst()
                while let next = lines.first, !next.isEmpty {
                    expected.append(next)
                    lines.removeFirst()
                }
            }
            blocks.append(Block(comments: comments, command: line, expected: expected.joined(separator: "\n")))
            comments = []
        }
        return ScenarioFile(blocks: blocks)
    }

    func render(outputs: [String]) -> String {
        zip(blocks, outputs).map { block, output in
            (block.comments + [block.command, "----", output]).joined(separator: "\n")
        }.joined(separator: "\n\n") + "\n"
    }
}

enum Scenarios {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("testdata")
    static var names: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".txt") }.sorted()
    }
}

@Test func scenarioFilesExist() {
    #expect(Scenarios.names.count >= 8, "testdata/ should hold the scenario files")
}

@Test(arguments: Scenarios.names)
func scenario(_ name: String) throws {
    let url = Scenarios.directory.appendingPathComponent(name)
    let text = try String(contentsOf: url, encoding: .utf8)
    let file = ScenarioFile.parse(text)
    var harness = ScenarioHarness()
    var outputs: [String] = []
    for block in file.blocks {
        let output = try harness.run(block.command)
        outputs.append(output)
    }
    if ProcessInfo.processInfo.environment["RAFT_REWRITE"] == "1" {
        try file.render(outputs: outputs).write(to: url, atomically: true, encoding: .utf8)
        return
    }
    for (block, output) in zip(file.blocks, outputs) {
        #expect(output == block.expected, "\(name): \(block.command)")
    }
}
