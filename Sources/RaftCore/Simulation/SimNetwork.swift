// The simulated network of `RaftSimulation`: every fault is drawn from the simulation's one
// generator, so a seed replays exactly.

/// Fault rates of the simulated network, in parts per thousand.
struct SimFaults: Sendable {
    var lossPerMille = 50
    var duplicatePerMille = 30
    /// Each message is delayed by 0 ... `delayTicksMax` ticks; a delivery then picks a random
    /// deliverable message, which reorders freely.
    var delayTicksMax: UInt64 = 3

    static let none = SimFaults(lossPerMille: 0, duplicatePerMille: 0, delayTicksMax: 0)
}

struct SimLink: Hashable, Sendable {
    var from: NodeID
    var to: NodeID
}

struct SimNetwork {
    struct Envelope {
        var message: RaftMessage
        var deliverAt: UInt64
    }

    var inFlight: [Envelope] = []
    /// Directed links that drop everything (a two-way partition blocks both directions).
    var blocked: Set<SimLink> = []
    var faults = SimFaults()

    /// Queues a message, or drops it (loss, cut link); may queue it twice (duplication).
    mutating func send(_ message: RaftMessage, now: UInt64, random: inout RaftRandom) -> String? {
        if blocked.contains(SimLink(from: message.from, to: message.to)) { return "cut" }
        if random.below(1000) < faults.lossPerMille { return "lost" }
        let delay = faults.delayTicksMax == 0 ? 0 : UInt64(random.below(Int(faults.delayTicksMax) + 1))
        inFlight.append(Envelope(message: message, deliverAt: now + delay))
        if random.below(1000) < faults.duplicatePerMille {
            inFlight.append(Envelope(message: message, deliverAt: now + delay + 1))
            return "dup"
        }
        return nil
    }

    /// Removes and returns a random message that is due, or nil when none is.
    mutating func takeDeliverable(now: UInt64, random: inout RaftRandom) -> RaftMessage? {
        var due: [Int] = []
        for (i, envelope) in inFlight.enumerated() where envelope.deliverAt <= now { due.append(i) }
        guard !due.isEmpty else { return nil }
        let pick = due[random.below(due.count)]
        return inFlight.remove(at: pick).message
    }

    /// Takes the oldest message (liveness phase: a calm, ordered network).
    mutating func takeFirst() -> RaftMessage? {
        inFlight.isEmpty ? nil : inFlight.removeFirst().message
    }

    func isCut(_ from: NodeID, _ to: NodeID) -> Bool { blocked.contains(SimLink(from: from, to: to)) }

    mutating func partition(_ side: [NodeID], from others: [NodeID]) {
        for a in side {
            for b in others {
                blocked.insert(SimLink(from: a, to: b))
                blocked.insert(SimLink(from: b, to: a))
            }
        }
    }

    mutating func heal() { blocked = [] }
}

/// A 64-bit running hash of a log prefix (the state machine's state is the same hash of what it
/// applied, so a snapshot can carry it). Not cryptographic; collisions are irrelevant here.
enum SimHash {
    static func mix(_ h: UInt64, _ x: UInt64) -> UInt64 {
        var z = (h ^ x) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func fold(_ h: UInt64, _ e: Entry) -> UInt64 {
        var h = mix(h, e.index.rawValue)
        h = mix(h, e.term.rawValue &<< 8 | UInt64(e.kind.rawValue))
        for byte in e.data { h = mix(h, UInt64(byte)) }
        return h
    }

    static func encode(_ h: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: h >> (56 - 8 * UInt64($0))) } }
    static func decode(_ bytes: [UInt8]) -> UInt64 {
        precondition(bytes.count == 8, "simulated snapshot data must be 8 bytes")
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
