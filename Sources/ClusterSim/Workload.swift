import RunnelCore

/// The seeded clients: an admin that creates the topics, producers (acks=all and acks=1,
/// idempotent and not, one record per batch, one batch in flight, retried until answered) and
/// consumers that read each partition below the high watermark.
struct Workload {
    struct Topic {
        var name: String
        var partitions: Int32
    }

    struct Producer {
        let address: Address
        /// 1 or -1 (all).
        let acks: Int
        let idempotent: Bool
        let partition: TopicPartition
        let producerID: Int64
        var epoch: Int16 = 0
        var nextSequence: Int32 = 0
        /// The batch in flight: retries resend it unchanged (same id, value and sequence).
        var pending: ProduceRequest?
        var sentAt: UInt64 = 0
        var attempts = 0
    }

    /// A retry waits this long for an answer before resending.
    static let produceTimeoutTicks: UInt64 = 40
    /// After this many attempts a producer gives the batch up (an idempotent one bumps its epoch,
    /// as Kafka's producer does when a sequence can no longer be continued).
    static let attemptsMax = 12

    var topics: [Topic] = []
    var created: Set<String> = []
    var lastAdminSent: UInt64?
    var replicationFactor: Int16 = 3
    var minISR = 2
    var producers: [Producer] = []
    /// Each partition's consumer position.
    var consumed: [TopicPartition: Offset] = [:]
    var nextValue: UInt64 = 1
    var nextRequest: UInt64 = 1

    static func draw(_ random: inout SeededRandom, brokers: Int) -> Workload {
        var workload = Workload()
        workload.topics = [Topic(name: "t0", partitions: Int32(1 + random.below(2))), Topic(name: "t1", partitions: 1)]
        workload.replicationFactor = Int16(min(3, brokers))
        workload.minISR = random.below(4) == 0 ? 1 : 2
        let partitions = workload.topics.flatMap { topic in
            (0..<topic.partitions).map { TopicPartition(TopicName(topic.name), PartitionID($0)) }
        }
        // An idempotent acks=all producer per partition (the liveness phase needs each to be
        // acknowledged), then the other kinds on random partitions.
        var kinds = partitions.map { (acks: -1, idempotent: true, partition: $0) }
        for (acks, idempotent) in [(-1, false), (1, true), (1, false)] {
            kinds.append((acks, idempotent, random.pick(partitions)))
        }
        for (n, kind) in kinds.enumerated() {
            workload.producers.append(Producer(address: Cluster.clientBase + 1 + n, acks: kind.acks, idempotent: kind.idempotent,
                                               partition: kind.partition, producerID: 1000 + Int64(n)))
        }
        return workload
    }

    var allPartitions: [TopicPartition] {
        topics.flatMap { topic in (0..<topic.partitions).map { TopicPartition(TopicName(topic.name), PartitionID($0)) } }
    }
}
