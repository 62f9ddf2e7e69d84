internal import CRE2
public import RunnelCore

/// A KIP-848 `SubscribedTopicRegex`, compiled with RE2 (Google's linear-time engine, through the
/// C shim `CRE2`; not an engine of ours).
///
/// Kafka compiles these with RE2/J, the Java port of RE2, and subscribes the member to every
/// topic whose whole name matches (`Matcher.matches()`, not a search). Runnel uses RE2's own
/// syntax and its full match, so both accept the same patterns and match the same names but for
/// the few differences docs/decisions.md D33 lists. RE2 never backtracks: matching takes time
/// linear in the name's length, whatever the pattern, so a client's pattern cannot stall the
/// owner loop. The pattern's length, the memory RE2 may use and the compiled program's size are
/// bounded (`GroupLimits.subscribedTopicRegex…Max`), which bounds the cost of a compile and of
/// matching one name.
///
/// Pure: compiling and matching do no I/O; the coordinator may call it while handling an event.
public struct TopicRegex {
    public let pattern: String
    private let program: Program

    /// Compiles `pattern`; throws `TopicRegex.Invalid` with RE2's reason when it cannot.
    public init(_ pattern: String) throws(Invalid) {
        guard pattern.utf8.count <= GroupLimits.subscribedTopicRegexBytesMax else {
            throw Invalid(reason: "longer than \(GroupLimits.subscribedTopicRegexBytesMax) bytes")
        }
        program = try Program(pattern)
        self.pattern = pattern
    }

    public struct Invalid: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// Whether the whole of `name` matches.
    public func matches(_ name: TopicName) -> Bool {
        program.matchesWhole(name.rawValue)
    }

    /// The names among `topics` that match, sorted.
    public func matching(_ topics: some Sequence<TopicName>) -> [TopicName] {
        topics.filter(matches).sorted()
    }
}

/// One compiled RE2 program, freed when the last `TopicRegex` holding it goes. Immutable after
/// init; RE2 allows concurrent matches on one program.
private final class Program {
    private let handle: OpaquePointer

    init(_ pattern: String) throws(TopicRegex.Invalid) {
        var reason = [CChar](repeating: 0, count: 256)
        let capacity = reason.count
        var text = pattern
        let handle = text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) {
                runnel_re2_compile($0.baseAddress, $0.count, Int64(GroupLimits.subscribedTopicRegexMemoryBytesMax),
                                   Int32(GroupLimits.subscribedTopicRegexProgramSizeMax), &reason, capacity)
            }
        }
        guard let handle else {
            throw TopicRegex.Invalid(reason: String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        self.handle = handle
    }

    deinit { runnel_re2_free(handle) }

    func matchesWhole(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { runnel_re2_full_match(handle, $0.baseAddress, $0.count) == 1 }
        }
    }
}
