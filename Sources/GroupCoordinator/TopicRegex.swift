public import RunnelCore

/// A KIP-848 `SubscribedTopicRegex`, compiled with Swift's standard `Regex` (the regex engine of
/// the Swift standard library, not one of ours).
///
/// Kafka compiles these with RE2/J and subscribes the member to every topic whose whole name
/// matches (`Matcher.matches()`, not a search). Runnel does the same with `wholeMatch`, with
/// `\w`, `\d`, `\s` and POSIX classes limited to ASCII as in RE2/J, and matching on Unicode
/// scalars rather than grapheme clusters. Topic names are ASCII (`[a-zA-Z0-9._-]`), so for the
/// patterns both engines accept the results are the same. docs/decisions.md D33 lists what
/// remains different (patterns only one of the two accepts, and backtracking).
///
/// Pure: compiling and matching do no I/O; the coordinator may call it while handling an event.
public struct TopicRegex {
    public let pattern: String
    private let regex: Regex<AnyRegexOutput>

    /// Compiles `pattern`; throws `TopicRegex.Invalid` with the engine's reason when it cannot.
    public init(_ pattern: String) throws(Invalid) {
        guard pattern.utf8.count <= GroupLimits.subscribedTopicRegexBytesMax else {
            throw Invalid(reason: "longer than \(GroupLimits.subscribedTopicRegexBytesMax) bytes")
        }
        do {
            regex = try Regex(pattern)
                .asciiOnlyWordCharacters().asciiOnlyDigits().asciiOnlyWhitespace().asciiOnlyCharacterClasses()
                .matchingSemantics(.unicodeScalar)
        } catch {
            throw Invalid(reason: String(describing: error))
        }
        self.pattern = pattern
    }

    public struct Invalid: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// Whether the whole of `name` matches.
    public func matches(_ name: TopicName) -> Bool {
        (try? regex.wholeMatch(in: name.rawValue)) != nil
    }

    /// The names among `topics` that match, sorted.
    public func matching(_ topics: some Sequence<TopicName>) -> [TopicName] {
        topics.filter(matches).sorted()
    }
}
