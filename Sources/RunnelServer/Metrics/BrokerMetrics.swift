import ClusterMetadata
import Dispatch
import KafkaMessages
import Metrics
import Prometheus
import RunnelCore

/// The per-topic counters, created once per topic and held by each of its `Partition`s, so the
/// produce and fetch paths reach them through a stored reference: no lookup, no string, no
/// allocation per request (docs/decisions.md D123).
final class TopicMetrics {
    let topic: TopicName
    let bytesIn: Metrics.Counter
    let recordsIn: Metrics.Counter
    let bytesOut: Metrics.Counter
    /// Broker-wide; here so a partition's flush reaches it through the same reference.
    let flushDuration: Metrics.Timer

    init(topic: TopicName, factory: any MetricsFactory, flushDuration: Metrics.Timer) {
        self.topic = topic
        let labels = [("topic", topic.rawValue)]
        bytesIn = Metrics.Counter(label: MetricCatalog.bytesIn.name, dimensions: labels, factory: factory)
        recordsIn = Metrics.Counter(label: MetricCatalog.recordsIn.name, dimensions: labels, factory: factory)
        bytesOut = Metrics.Counter(label: MetricCatalog.bytesOut.name, dimensions: labels, factory: factory)
        self.flushDuration = flushDuration
    }

    /// A produced batch was appended (leader, owner loop).
    @inline(__always)
    func appended(bytes: Int, records: Int32) {
        bytesIn.increment(by: bytes)
        recordsIn.increment(by: Int(max(0, records)))
    }

    /// Fetched bytes were written into a response.
    @inline(__always)
    func sent(bytes: Int) { bytesOut.increment(by: bytes) }

    /// Runs one fdatasync (`flush`, on a pool thread) and records how long it took.
    func timingFlush<T>(_ flush: () throws -> T) rethrows -> T {
        let started = BrokerMetrics.now()
        defer { flushDuration.recordNanoseconds(Int64(clamping: BrokerMetrics.now() &- started)) }
        return try flush()
    }

    func destroy() {
        bytesIn.destroy()
        recordsIn.destroy()
        bytesOut.destroy()
    }
}

/// One broker's metrics: a Prometheus registry of its own, filled through swift-metrics
/// (`CatalogMetricsFactory`). Counters and histograms are updated where things happen; gauges
/// that describe state (offsets, ISR, groups, Raft) are computed when /metrics is scraped
/// (`refresh`, on the owner loop), never on the request path (D122).
final class BrokerMetrics: @unchecked Sendable {
    // @unchecked: the counters and timers are thread-safe (atomics, locks); the dictionaries
    // below are touched only on the broker's owner loop (`refresh`, `topic(_:)`).
    let registry = PrometheusCollectorRegistry()
    let factory: CatalogMetricsFactory

    /// Per API key (index = key), created up front for every API the broker serves.
    private let requestCounts: [Metrics.Counter?]
    private let requestDurations: [Metrics.Timer?]
    let flushDuration: Metrics.Timer
    let isrShrinks: Metrics.Counter
    let isrExpands: Metrics.Counter

    private var topics: [TopicName: TopicMetrics] = [:]
    private var partitionGauges: [TopicPartition: [Metrics.Gauge]] = [:]
    private var groupStateGauges: [String: Metrics.Gauge] = [:]
    private var lagGauges: [LagKey: Metrics.Gauge] = [:]
    private let underReplicated, offline, offlineLogs, leaderPartitions: Metrics.Gauge
    private let raftTerm, raftCommit, raftApplied, raftLeader, ready: Metrics.Gauge

    private struct LagKey: Hashable {
        let group: String
        let partition: TopicPartition
    }

    init(apiKeys: [Int16]) {
        let factory = CatalogMetricsFactory(registry: registry)
        self.factory = factory
        let size = Int(apiKeys.filter { $0 >= 0 && $0 < 1000 }.max() ?? 0) + 1
        var counts = [Metrics.Counter?](repeating: nil, count: size)
        var durations = [Metrics.Timer?](repeating: nil, count: size)
        for key in apiKeys where key >= 0 && Int(key) < size {
            let name = ApiKey(rawValue: key)?.name ?? "api\(key)"
            counts[Int(key)] = Metrics.Counter(label: MetricCatalog.requests.name, dimensions: [("api", name)], factory: factory)
            durations[Int(key)] = Metrics.Timer(label: MetricCatalog.requestDuration.name, dimensions: [("api", name)],
                                                factory: factory)
        }
        requestCounts = counts
        requestDurations = durations
        flushDuration = Metrics.Timer(label: MetricCatalog.flushDuration.name, factory: factory)
        isrShrinks = Metrics.Counter(label: MetricCatalog.isrShrinks.name, factory: factory)
        isrExpands = Metrics.Counter(label: MetricCatalog.isrExpands.name, factory: factory)
        func gauge(_ entry: MetricCatalog.Entry) -> Metrics.Gauge { Metrics.Gauge(label: entry.name, factory: factory) }
        underReplicated = gauge(MetricCatalog.underReplicated)
        offline = gauge(MetricCatalog.offline)
        offlineLogs = gauge(MetricCatalog.offlineLogs)
        leaderPartitions = gauge(MetricCatalog.leaderPartitions)
        raftTerm = gauge(MetricCatalog.raftTerm)
        raftCommit = gauge(MetricCatalog.raftCommit)
        raftApplied = gauge(MetricCatalog.raftApplied)
        raftLeader = gauge(MetricCatalog.raftLeader)
        ready = gauge(MetricCatalog.ready)
    }

    /// Monotonic nanoseconds, for request timing (no allocation).
    @inline(__always)
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// A request of `apiKey` that arrived at `startedAt` (`now()`) was answered: one counter
    /// increment and one histogram observation through objects made at start-up.
    @inline(__always)
    func requestDone(apiKey: Int16, startedAt: UInt64) {
        let index = Int(apiKey)
        guard index >= 0, index < requestCounts.count, let count = requestCounts[index] else { return }
        count.increment()
        let elapsed = Self.now() &- startedAt
        requestDurations[index]?.recordNanoseconds(Int64(clamping: elapsed))
    }

    /// A leader's ISR change of `before` to `after` members was committed.
    func isrChanged(from before: Int, to after: Int) {
        if after < before { isrShrinks.increment() }
        if after > before { isrExpands.increment() }
    }

    /// The counters of `topic`, made on first use (owner loop; once per topic).
    func topic(_ topic: TopicName) -> TopicMetrics {
        if let existing = topics[topic] { return existing }
        let made = TopicMetrics(topic: topic, factory: factory, flushDuration: flushDuration)
        topics[topic] = made
        return made
    }

    /// What a scrape needs from the broker's state, gathered on the owner loop.
    struct Snapshot {
        struct PartitionFacts {
            var key: TopicPartition
            var logStart: Int64
            var logEnd: Int64
            var highWatermark: Int64
            var isLeader: Bool
            var underReplicated: Bool
            var offline: Bool
        }
        var topics: Set<TopicName> = []
        var partitions: [PartitionFacts] = []
        var failedLogs = 0
        var leaderlessPartitions = 0
        var groupStates: [String] = []
        var lags: [(group: String, partition: TopicPartition, lag: Int64)] = []
        /// The metadata quorum as this node knows it.
        struct Raft {
            var term: UInt64
            var commit: UInt64
            var applied: UInt64
            var leader: UInt64
        }
        var raft: Raft?
        var ready = false
    }

    /// Sets every scrape-time gauge from `snapshot`; series of partitions, groups and topics that
    /// are gone are removed. Owner loop.
    func refresh(_ snapshot: Snapshot) {
        // Partitions: one gauge family each for log end, log start and high watermark.
        var seen = Set<TopicPartition>()
        for p in snapshot.partitions {
            seen.insert(p.key)
            let gauges = partitionGauges[p.key] ?? {
                let labels = [("topic", p.key.topic.rawValue), ("partition", String(p.key.partition.rawValue))]
                let made = [MetricCatalog.logEndOffset, MetricCatalog.logStartOffset, MetricCatalog.highWatermark].map {
                    Metrics.Gauge(label: $0.name, dimensions: labels, factory: factory)
                }
                partitionGauges[p.key] = made
                return made
            }()
            gauges[0].record(p.logEnd)
            gauges[1].record(p.logStart)
            gauges[2].record(p.highWatermark)
        }
        for key in partitionGauges.keys where !seen.contains(key) {
            partitionGauges.removeValue(forKey: key)?.forEach { $0.destroy() }
        }
        for name in topics.keys where !snapshot.topics.contains(name) {
            topics.removeValue(forKey: name)?.destroy()
        }
        underReplicated.record(snapshot.partitions.filter { $0.isLeader && $0.underReplicated }.count)
        leaderPartitions.record(snapshot.partitions.filter(\.isLeader).count)
        offline.record(snapshot.leaderlessPartitions)
        offlineLogs.record(snapshot.partitions.filter(\.offline).count + snapshot.failedLogs)

        // Groups: a count per state (states with no group drop out), lag per committed partition.
        var counts: [String: Int] = [:]
        for state in snapshot.groupStates { counts[state, default: 0] += 1 }
        for (state, count) in counts {
            let gauge = groupStateGauges[state] ?? {
                let made = Metrics.Gauge(label: MetricCatalog.groups.name, dimensions: [("state", state)], factory: factory)
                groupStateGauges[state] = made
                return made
            }()
            gauge.record(count)
        }
        for state in groupStateGauges.keys where counts[state] == nil {
            groupStateGauges.removeValue(forKey: state)?.destroy()
        }
        var lagSeen = Set<LagKey>()
        for entry in snapshot.lags {
            let key = LagKey(group: entry.group, partition: entry.partition)
            lagSeen.insert(key)
            let gauge = lagGauges[key] ?? {
                let labels = [("group", entry.group), ("topic", entry.partition.topic.rawValue),
                              ("partition", String(entry.partition.partition.rawValue))]
                let made = Metrics.Gauge(label: MetricCatalog.groupLag.name, dimensions: labels, factory: factory)
                lagGauges[key] = made
                return made
            }()
            gauge.record(entry.lag)
        }
        for key in lagGauges.keys where !lagSeen.contains(key) {
            lagGauges.removeValue(forKey: key)?.destroy()
        }

        if let raft = snapshot.raft {
            raftTerm.record(Int64(clamping: raft.term))
            raftCommit.record(Int64(clamping: raft.commit))
            raftApplied.record(Int64(clamping: raft.applied))
            raftLeader.record(Int64(clamping: raft.leader))
        }
        ready.record(snapshot.ready ? 1 : 0)
    }

    /// The Prometheus text exposition (format 0.0.4) of everything registered.
    func exposition() -> String { registry.emitToString() }
}
