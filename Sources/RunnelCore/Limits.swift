// Every bound in Runnel lives here, with the reason for its value (STYLE.md "limits as code").
// Configurable limits (socket.request.max.bytes, segment sizes) have their defaults here; the
// configuration layer checks operator values against the hard maxima.

public enum Limits {
    /// Kafka's topic-name limit: 249 so that "<topic>-<partition>" plus suffixes fits a 255-byte
    /// file name.
    public static let topicNameBytesMax = 249

    /// Default `socket.request.max.bytes` (Kafka's default, 100 MiB). A frame above it is refused
    /// from its 4-byte length prefix, before any allocation.
    public static let requestBytesMaxDefault = 100 * 1024 * 1024

    /// Requests one connection may have in flight before the broker stops reading from it
    /// (librdkafka pipelines up to 5 per partition leader with idempotence; Kafka allows 1 in
    /// processing at a time and buffers the rest in the socket). Bounds memory per connection.
    public static let inFlightRequestsPerConnectionMax = 64

    /// Partitions per topic that CreateTopics/CreatePartitions accept: each partition holds
    /// mapped files (log + two indexes), so this bounds address space and descriptors.
    public static let partitionsPerTopicMax: Int32 = 10_000

    /// Batches remembered per (producer, partition) for duplicate detection: Kafka's 5, which is
    /// also librdkafka's max.in.flight with idempotence.
    public static let producerBatchesRemembered = 5

    /// Size of a RecordBatch v2 header: offsets 0..<61 (PROTOCOL.md §4).
    public static let recordBatchHeaderBytes = 61

    /// Smallest legal `log.segment.bytes` (Kafka: 14 bytes is its technical minimum; we require
    /// room for at least one batch header).
    public static let segmentBytesMin = 1024

    /// Largest `log.segment.bytes`: relative positions in the offset index are int32.
    public static let segmentBytesMax = Int(Int32.max)
}

extension Limits {
    /// Largest size a compressed batch may inflate to when the broker validates it (Produce) or
    /// a client decodes it. Kafka has no such bound; a 1 MiB batch of repetitive data can
    /// legitimately inflate to tens of MiB, a "zip bomb" to gigabytes.
    public static let batchDecompressedBytesMax = 64 * 1024 * 1024

    /// Longest a parked Fetch may wait regardless of its max.wait.ms (a client asking for an
    /// hour would otherwise pin a request slot that long).
    public static let fetchMaxWaitMsMax: Int32 = 60_000
}

/// Bounds of the group coordinator (consumer groups).
public enum GroupLimits {
    /// Members (plus pending members that were handed a member id) per group. Kafka's
    /// `group.max.size` defaults to Int32.max; the JoinGroup response to a classic leader carries
    /// every member's metadata, so 1000 members of 10 KiB subscriptions is already a 10 MiB
    /// response. Above it joins get GROUP_MAX_SIZE_REACHED (81).
    public static let membersPerGroupMax = 1000
    /// Protocols one classic member may offer in JoinGroup (clients offer 1-3 assignors).
    public static let protocolsPerMemberMax = 64
    /// Topics one KIP-848 member may subscribe to by name.
    public static let subscribedTopicsPerMemberMax = 10_000
    /// Length of one KIP-848 SubscribedTopicRegex (Kafka has no bound). librdkafka joins all of a
    /// subscription's patterns into one; 4 KiB holds hundreds of prefixes, and a longer pattern
    /// only costs more to compile and match against every topic name on each topic change.
    public static let subscribedTopicRegexBytesMax = 4096
    /// RE2's `max_mem` for one compiled SubscribedTopicRegex (RE2's own default; Kafka's RE2/J
    /// has no bound): the budget for the program while it is compiled, and for the DFA states
    /// RE2 caches while matching. A pattern whose program outgrows it is refused during the
    /// compile ("pattern too large - compile failed"), which bounds a compile at about 250 ms on
    /// the 2-core test machine. A smaller budget thrashes the DFA cache and sends RE2 to its
    /// slower NFA: with 1-2 MiB, patterns of 7,000-8,000 instructions took 1.5-31 s to match
    /// 10,000 names of 249 bytes; with 8 MiB, 11-43 ms.
    public static let subscribedTopicRegexMemoryBytesMax = 8 << 20
    /// Instructions in one compiled SubscribedTopicRegex (RE2's ProgramSize). Matching a name
    /// is linear in its length, but the factor grows with the program: on the test machine
    /// 10,000 names of 249 bytes took at most 60 ms for programs up to 19,000 instructions, 0.4 s
    /// at 29,000 and 11.6 s at 51,000. librdkafka's join of 4 KiB of topic prefixes compiles to
    /// about 4,900. A larger program is refused (INVALID_REGULAR_EXPRESSION).
    public static let subscribedTopicRegexProgramSizeMax = 20_000
    /// Groups one coordinator partition holds. Simple commits create groups, so without a bound a
    /// client could grow the map without end; above it new groups get COORDINATOR_NOT_AVAILABLE.
    public static let groupsPerCoordinatorMax = 100_000
}
