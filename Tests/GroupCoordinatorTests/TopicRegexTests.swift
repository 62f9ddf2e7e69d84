import Foundation
import GroupCoordinator
import RunnelCore
import Testing

/// `TopicRegex` against the behaviour docs/decisions.md D33 states: RE2's syntax (the one RE2/J,
/// and so Kafka, accepts), whole names, linear time, and the differences from RE2/J that remain
/// (each pinned here, so that an RE2 upgrade that changes one shows up).
struct TopicRegexTests {
    func matches(_ pattern: String, _ name: String) throws -> Bool {
        try TopicRegex(pattern).matches(TopicName(name))
    }

    func compiles(_ pattern: String) -> Bool {
        (try? TopicRegex(pattern)) != nil
    }

    func reason(_ pattern: String) -> String? {
        do { _ = try TopicRegex(pattern); return nil } catch { return error.reason }
    }

    @Test func wholeNamesOnly() throws {
        #expect(try matches("orders-.*", "orders-eu"))
        #expect(try !matches("orders", "orders-eu"))
        #expect(try !matches("eu", "orders-eu"))
        #expect(try !matches("orders-eu$", "orders-eu-2"))
        #expect(try matches("(^orders-.*)|(^audit)", "audit"))  // librdkafka's joined form
        #expect(try matches("", ""))
    }

    @Test(arguments: ["(?i)ORDERS-.*", "orders-[a-z]{2}", "orders-\\w+", "[[:alpha:]]+-\\d?[a-z]+", "\\Qorders-eu\\E",
                      "orders-(?:eu|us)", "(?P<region>orders)-eu", "orders-.+?", "\\pL+-eu", "\\p{L}+-\\p{Ll}{2}",
                      "orders-(?i:EU)", "orders-\\x65\\x{75}", "\\Aorders-eu\\z", "(?U)orders-.+", "orders\\b-eu",
                      "[^\\s]+-[[:^digit:]]{2}", "\\p{Latin}+-\\PN+"])
    func re2SyntaxThatMatches(_ pattern: String) throws {
        #expect(try matches(pattern, "orders-eu"))
    }

    /// What RE2 refuses, as RE2/J does: syntax errors, and the features that would need
    /// backtracking (backreferences, lookaround, atomic groups, possessive quantifiers).
    @Test(arguments: ["orders-[", "a{2,1}", "x**", "(a", "a)", "\\", "a{1001}", "\\Z", "[[:word2:]]", "\\p{NoSuchClass}",
                      "(o)rders-eu\\1", "(?=orders)orders-eu", "(?!x)orders-eu", "(?<=o)rders-eu", "(?<!x)orders-eu",
                      "(?>orders)-eu", "orders-e++u", "orders-e*+u"])
    func refusedLikeRE2J(_ pattern: String) {
        #expect(!compiles(pattern))
    }

    @Test func theReasonIsRE2s() {
        #expect(reason("orders-[") == "missing ]: [")
        #expect(reason("(o)rders-eu\\1") == "invalid escape sequence: \\1")
    }

    /// Differences D33 lists. RE2 accepts `\C` (one byte), which RE2/J refuses; the RE2 of Debian
    /// 12 refuses the `(?<name>…)` capture that RE2/J 1.8 (Kafka 4's) accepts; and the bounds
    /// below, which RE2/J does not have.
    @Test func remainingDifferences() throws {
        #expect(try matches("orders-\\C\\C", "orders-eu"))
        #expect(!compiles("(?<region>orders)-eu"))
    }

    /// A program that outgrows RE2's memory budget while compiling, or has more instructions
    /// than `GroupLimits.subscribedTopicRegexProgramSizeMax`, is refused.
    @Test func boundedProgram() {
        #expect(compiles("\\pL{10}"))  // \pL alone is about 1,200 instructions
        #expect(reason("\\pL{20}")
                == "pattern too large - program of 23864 instructions, at most \(GroupLimits.subscribedTopicRegexProgramSizeMax)")
        #expect(reason("\\pL{1000}") == "pattern too large - compile failed")
        // librdkafka's join of 4 KiB of topic prefixes fits.
        var joined = "(^orders-region-0-.*)"
        while joined.utf8.count < GroupLimits.subscribedTopicRegexBytesMax - 40 { joined += "|(^orders-region-\(joined.count)-.*)" }
        #expect(compiles(joined))
    }

    @Test func boundedLength() {
        #expect(compiles(String(repeating: "a", count: GroupLimits.subscribedTopicRegexBytesMax)))
        #expect(reason(String(repeating: "a", count: GroupLimits.subscribedTopicRegexBytesMax + 1))
                == "longer than \(GroupLimits.subscribedTopicRegexBytesMax) bytes")
    }

    /// Patterns that make a backtracking engine take time exponential in the name's length
    /// (Swift's `Regex` took about a second for 30 characters of the first) against a name of
    /// the longest length Kafka allows, 249, that almost matches. RE2 answers in microseconds; the
    /// wait is only a backstop so that a regression fails instead of hanging the run.
    @Test func catastrophicBacktrackingPatternsFinish() throws {
        let patterns = ["(a|aa)+$", "(a+)+b", "(a|a?)+-b", "(\\w|\\w\\w)*-x", "(.*a){20}-", "((a+)*)+[.]"]
        for pattern in patterns { _ = try TopicRegex(pattern) }
        let name = TopicName(String(repeating: "a", count: 248) + "-")
        let done = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        Thread.detachNewThread {
            outcome.matched = patterns.filter { (try? TopicRegex($0).matches(name)) == true }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 20) == .success, "matching did not finish in 20 s")
        #expect(outcome.matched == ["(.*a){20}-"])
    }

    final class Outcome: @unchecked Sendable {  // written by the thread before it signals, read after
        var matched: [String]?
    }
}
