public import RunnelCore

/// What the shell must do after an event. Execute the actions of one list IN ORDER.
///
/// Ordering obligations:
/// - `.append(records)`: append the records to this coordinator's `__consumer_offsets`
///   partition. They MUST be durable (committed: acknowledged as an acks=all produce would be)
///   before the shell executes any later action of the same list, because the later responses
///   reveal state that only those records make survive a restart. If the append fails, the shell
///   MUST NOT send the later responses as they are: it sends `response.failed(with:
///   .notCoordinator)` for each of them, then calls `unload()` and reloads the coordinator from
///   the log (the log, not the in-memory state, is the truth after a failed write).
/// - `.respond(token, response)`: send the response to the request identified by `token`. A
///   token is answered exactly once; requests may be answered in a later event's list (a JoinGroup
///   is answered when the rebalance completes).
/// - `.wakeup(at:)`: call `tick(now:)` no earlier than `at`. It replaces any earlier wakeup; a
///   tick at any other time is harmless, so a shell may also tick on a coarse period.
public enum GroupAction: Hashable, Sendable {
    case append([GroupRecord])
    case respond(RequestToken, GroupResponse)
    case wakeup(at: TimestampMs)
}

/// What one event produced, gathered while the groups change and turned into `[GroupAction]`.
struct Effects {
    var records: [GroupRecord] = []
    var responses: [(RequestToken, GroupResponse)] = []
    /// Groups whose deadlines may have changed.
    var touched: Set<String> = []

    mutating func respond(_ token: RequestToken, _ response: GroupResponse) {
        responses.append((token, response))
    }
}

/// The environment a group's transition runs in: configuration, the injected instant, the
/// seeded generator for member ids, and the effects being gathered.
struct GroupContext {
    let config: GroupConfig
    let now: TimestampMs
    var random: SeededRandom
    var fx = Effects()

    init(config: GroupConfig, now: TimestampMs, random: SeededRandom) {
        self.config = config
        self.now = now
        self.random = random
    }

    func after(_ ms: Int64) -> TimestampMs { TimestampMs(now.rawValue &+ ms) }

    /// Java's `UUID.randomUUID().toString()` shape, drawn from the seeded generator.
    mutating func uuidString() -> String {
        let high = (random.next() & ~0xF000) | 0x4000
        let low = (random.next() & ~(UInt64(0xC0) << 56)) | (UInt64(0x80) << 56)
        func hex(_ v: UInt64, _ digits: Int) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: max(0, digits - s.count)) + s
        }
        return hex(high >> 32, 8) + "-" + hex((high >> 16) & 0xFFFF, 4) + "-" + hex(high & 0xFFFF, 4) + "-"
            + hex(low >> 48, 4) + "-" + hex(low & 0xFFFF_FFFF_FFFF, 12)
    }
}
