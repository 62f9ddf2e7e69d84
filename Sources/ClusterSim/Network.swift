import ClusterMetadata
import RaftCore
import Replication
import RunnelCore

// The simulated network: every message between nodes (Raft, broker → controller RPCs, replica
// fetches) and between clients and brokers travels here, and every fault is drawn from the run's
// one generator, so a seed replays exactly. Partitions cut links between nodes only: clients
// stand for a well-connected outside world and see loss, delay and duplication alone.

/// An address: a node's Raft id (1 ... 8), or a client (`Cluster.clientBase` and up).
typealias Address = Int

/// What travels. Requests carry what the shell's request would; answers what it needs back.
enum Body {
    case raft(RaftMessage)
    case register(MetadataController.RegistrationRequest)
    /// The registration epoch of that incarnation, or nil when refused.
    case registered(TopicID, Int64?)
    case heartbeat(MetadataController.Heartbeat)
    /// The refusal, or NONE and whether the controller still fences the broker.
    case heartbeatReply(KafkaErrorCode, fenced: Bool)
    /// An ISR change, with the request id its answer carries back (the shell's correlation id).
    case alterPartition(MetadataController.ISRChange, brokerEpoch: Int64, id: UInt64)
    /// The change asked for (the shell's callback knows what it sent) and how it was answered.
    case alterPartitionReply(MetadataController.ISRChange, ReplicaRules.ISRAnswer, id: UInt64)
    case createTopic(name: String, partitions: Int32, replicationFactor: Int16, minISR: Int)
    case createTopicReply(String, KafkaErrorCode)
    case fetch(FetchRequest)
    case fetchReply(FetchReply)
    case produce(ProduceRequest)
    case produceReply(ProduceReply)
}

struct Message {
    var from: Address
    var to: Address
    var body: Body
}

/// A follower's fetch of one partition (Fetch v12 with a replica id, mirrored in ReplicaFetchers).
struct FetchRequest {
    var partition: TopicPartition
    var replica: BrokerID
    var currentLeaderEpoch: LeaderEpoch
    var fetchOffset: Offset
    var lastFetchedEpoch: LeaderEpoch?
    var recordsMax: Int
    /// The request id its answer carries back: the shell's fetcher has one request out per
    /// source and takes only its answer (a copy the network duplicated or delayed is answered
    /// too, and that answer, to another request, must not be taken for the current one).
    var id: UInt64
}

struct FetchReply {
    var partition: TopicPartition
    /// What was asked (a reply whose partition changed since is ignored, as the shell does).
    var askedEpoch: LeaderEpoch
    var askedOffset: Offset
    var error: KafkaErrorCode
    var diverging: (epoch: LeaderEpoch, endOffset: Offset)?
    var records: [SimRecord]
    var highWatermark: Offset
    /// The id of the request it answers.
    var id: UInt64
}

/// One record, as one batch (the simulator's batches hold one record each).
struct SimRecord: Equatable, CustomStringConvertible {
    var epoch: LeaderEpoch
    var value: UInt64
    var producerID: Int64 = -1
    var producerEpoch: Int16 = 0
    var sequence: Int32 = -1
    var description: String { producerID < 0 ? "v\(value)@e\(epoch)" : "v\(value)@e\(epoch)/p\(producerID).\(producerEpoch).\(sequence)" }
}

struct ProduceRequest {
    var id: UInt64
    var partition: TopicPartition
    /// 1 or -1 (all).
    var acks: Int
    var record: SimRecord
}

struct ProduceReply {
    var id: UInt64
    var partition: TopicPartition
    var error: KafkaErrorCode
    var offset: Offset
}

/// Fault rates of the network, in parts per thousand, and the delay bound in ticks.
struct NetworkFaults {
    var lossPerMille = 20
    var duplicatePerMille = 20
    var delayTicksMax: UInt64 = 2
    static let none = NetworkFaults(lossPerMille: 0, duplicatePerMille: 0, delayTicksMax: 0)
}

struct Link: Hashable {
    var from: Address
    var to: Address
}

struct Network {
    struct Envelope {
        var message: Message
        var deliverAt: UInt64
    }

    var inFlight: [Envelope] = []
    var blocked: Set<Link> = []
    var faults = NetworkFaults()
    /// Bounds the queue: a message sent while it is full is dropped (a congested link).
    static let inFlightMax = 4000

    /// Queues a message, or drops it (cut link, loss, a full queue); may queue it twice.
    mutating func send(_ message: Message, now: UInt64, random: inout SeededRandom) {
        if blocked.contains(Link(from: message.from, to: message.to)) { return }
        if random.below(1000) < faults.lossPerMille || inFlight.count >= Self.inFlightMax { return }
        let delay = faults.delayTicksMax == 0 ? 0 : UInt64(random.below(Int(faults.delayTicksMax) + 1))
        inFlight.append(Envelope(message: message, deliverAt: now + delay))
        if random.below(1000) < faults.duplicatePerMille {
            inFlight.append(Envelope(message: message, deliverAt: now + delay + 1))
        }
    }

    /// Removes and returns a random due message whose receiver may take it now.
    mutating func takeDeliverable(now: UInt64, random: inout SeededRandom, accepts: (Address) -> Bool) -> Message? {
        var due: [Int] = []
        for (i, envelope) in inFlight.enumerated() where envelope.deliverAt <= now && accepts(envelope.message.to) {
            due.append(i)
        }
        guard !due.isEmpty else { return nil }
        return inFlight.remove(at: due[random.below(due.count)]).message
    }

    /// Takes the oldest message a receiver accepts (the liveness phase's calm, ordered network).
    mutating func takeFirst(accepts: (Address) -> Bool) -> Message? {
        guard let i = inFlight.firstIndex(where: { accepts($0.message.to) }) else { return nil }
        return inFlight.remove(at: i).message
    }

    mutating func partition(_ side: [Address], from others: [Address]) {
        for a in side {
            for b in others {
                blocked.insert(Link(from: a, to: b))
                blocked.insert(Link(from: b, to: a))
            }
        }
    }

    mutating func heal() { blocked = [] }
}

extension SeededRandom {
    /// A value in `0..<bound` (bound > 0). Modulo bias is irrelevant at these sizes.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    mutating func chance(_ perMille: Int) -> Bool { below(1000) < perMille }
    mutating func pick<T>(_ values: [T]) -> T { values[below(values.count)] }
}
