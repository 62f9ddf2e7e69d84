import Foundation

/// The scenario-file format shared by the pure state machines' tests (Raft, the group
/// coordinator, the controller): a datadriven text file of blocks
///
///     # comment lines, kept with the block that follows
///     command arguments…
///     ----
///     expected output, one or more lines
///     (a blank line ends the block)
///
/// A test runs each command through its machine and compares the output with the expected
/// text. With rewrite mode (an environment variable the test names) the file is rewritten with
/// the actual output instead; review that diff as you would review code.
public struct ScenarioFile: Sendable {
    public struct Block: Sendable, Equatable {
        public var comments: [String]
        public var command: String
        public var expected: String
    }

    public var blocks: [Block]

    public init(parsing text: String) {
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
        self.blocks = blocks
    }

    /// The file with `outputs` (one per block) as the expected texts.
    public func rendered(outputs: [String]) -> String {
        zip(blocks, outputs).map { block, output in
            (block.comments + [block.command, "----"] + (output.isEmpty ? [] : [output])).joined(separator: "\n")
        }.joined(separator: "\n\n") + "\n"
    }

    /// A block whose output differed from the file.
    public struct Mismatch: Sendable, CustomStringConvertible {
        public var file: String
        public var command: String
        public var expected: String
        public var actual: String
        public var description: String {
            "\(file): \(command)\n--- expected\n\(expected)\n--- actual\n\(actual)"
        }
    }

    /// Runs every block of the file at `url` through `step` (command → output) and returns the
    /// blocks whose output differs. When the environment variable `rewriteVariable` is "1" the
    /// file is rewritten with the actual outputs and nothing is reported.
    public static func run(_ url: URL, rewriteVariable: String,
                           step: (String) throws -> String) throws -> [Mismatch] {
        let file = ScenarioFile(parsing: try String(contentsOf: url, encoding: .utf8))
        var outputs: [String] = []
        for block in file.blocks { outputs.append(try step(block.command)) }
        if ProcessInfo.processInfo.environment[rewriteVariable] == "1" {
            try file.rendered(outputs: outputs).write(to: url, atomically: true, encoding: .utf8)
            return []
        }
        return zip(file.blocks, outputs).compactMap { block, output in
            output == block.expected ? nil
                : Mismatch(file: url.lastPathComponent, command: block.command, expected: block.expected, actual: output)
        }
    }

    /// The `.txt` files of a test's `testdata` folder next to `testFile` (pass `#filePath`).
    public static func files(besides testFile: String) -> [URL] {
        let directory = URL(fileURLWithPath: testFile).deletingLastPathComponent().appendingPathComponent("testdata")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".txt") }.sorted().map { directory.appendingPathComponent($0) }
    }
}

/// Splits a scenario command into its words and `key=value` arguments.
public struct ScenarioCommand: Sendable {
    public var words: [String]
    public var arguments: [String: String]

    public init(_ line: String) {
        var words: [String] = []
        var arguments: [String: String] = [:]
        for token in line.split(separator: " ", omittingEmptySubsequences: true) {
            if let eq = token.firstIndex(of: "=") {
                arguments[String(token[..<eq])] = String(token[token.index(after: eq)...])
            } else {
                words.append(String(token))
            }
        }
        self.words = words
        self.arguments = arguments
    }

    public var name: String { words.first ?? "" }
    public func word(_ i: Int) -> String? { i < words.count ? words[i] : nil }
    public func int(_ key: String) -> Int? { arguments[key].flatMap { Int($0) } }
    public func int64(_ key: String) -> Int64? { arguments[key].flatMap { Int64($0) } }
    public func list(_ key: String) -> [String]? {
        arguments[key].map { $0.isEmpty ? [] : $0.split(separator: ",").map(String.init) }
    }
    public func has(_ flag: String) -> Bool { words.contains(flag) }
}
