import GroupCoordinator
import RunnelCore
import Testing

/// `TopicRegex` against the behaviour docs/decisions.md D33 states: whole names, RE2/J's usual
/// syntax, and the differences that remain (each pinned here so that a toolchain that changes
/// them shows up).
struct TopicRegexTests {
    func matches(_ pattern: String, _ name: String) throws -> Bool {
        try TopicRegex(pattern).matches(TopicName(name))
    }

    func compiles(_ pattern: String) -> Bool {
        (try? TopicRegex(pattern)) != nil
    }

    @Test func wholeNamesOnly() throws {
        #expect(try matches("orders-.*", "orders-eu"))
        #expect(try !matches("orders", "orders-eu"))
        #expect(try !matches("eu", "orders-eu"))
        #expect(try matches("(^orders-.*)|(^audit)", "audit"))  // librdkafka's joined form
    }

    @Test(arguments: ["(?i)ORDERS-.*", "orders-[a-z]{2}", "orders-\\w+", "[[:alpha:]]+-\\d?[a-z]+", "\\Qorders-eu\\E",
                      "orders-(?:eu|us)", "(?P<region>orders)-eu", "orders-.+?"])
    func re2SyntaxThatMatches(_ pattern: String) throws {
        #expect(try matches(pattern, "orders-eu"))
    }

    @Test(arguments: ["orders-[", "a{2,1}", "x**", "(a", "a)", "\\"])
    func refusedLikeRE2J(_ pattern: String) {
        #expect(!compiles(pattern))
    }

    /// Differences D33 lists: Swift accepts what RE2/J refuses (backreferences, lookaround,
    /// atomic groups, possessive quantifiers) and refuses RE2/J's one-letter Unicode classes.
    @Test func remainingDifferences() throws {
        #expect(try matches("(o)rders-eu\\1?", "orders-eu"))
        #expect(try matches("(?=orders)orders-eu", "orders-eu"))
        #expect(try matches("(?>orders)-eu", "orders-eu"))
        #expect(try matches("orders-e++u", "orders-eu"))
        #expect(!compiles("\\pL+"))
        #expect(try matches("\\p{L}+-eu", "orders-eu"))
    }

    @Test func boundedLength() {
        #expect(compiles(String(repeating: "a", count: GroupLimits.subscribedTopicRegexBytesMax)))
        #expect(!compiles(String(repeating: "a", count: GroupLimits.subscribedTopicRegexBytesMax + 1)))
    }
}
