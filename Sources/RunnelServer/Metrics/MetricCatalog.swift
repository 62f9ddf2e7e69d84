/// Every metric the broker exports: its Prometheus name, type, HELP text, label names and (for
/// histograms) buckets. The one place that says what each series measures; the factory takes the
/// HELP text from here, and the exposition tests check the output against it (D121).
enum MetricCatalog {
    enum Kind: String, Sendable { case counter, gauge, histogram }

    struct Entry: Sendable {
        let name: String
        let kind: Kind
        let labels: [String]
        let help: String
        /// Upper bounds in seconds (histograms only).
        let buckets: [Double]
    }

    /// Request latency: 100 µs to 10 s. Produce and metadata calls sit in the first buckets; a
    /// long-polling Fetch waits up to its max.wait.ms (500 ms by default), an acks=all produce
    /// for its ISR, so the upper buckets stay meaningful for them.
    static let requestBuckets: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                           0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// fdatasync of a log: 50 µs (page cache already clean) to 2.5 s (a stalled disk).
    static let flushBuckets: [Double] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                         0.05, 0.1, 0.25, 0.5, 1, 2.5]

    static let requests = Entry(name: "runnel_requests_total", kind: .counter, labels: ["api"],
                                help: "Kafka requests this broker handled (answered, dropped as acks=0 asks, or closed as malformed), by API.", buckets: [])
    static let requestDuration = Entry(
        name: "runnel_request_duration_seconds", kind: .histogram, labels: ["api"],
        help: "Time from a request's arrival at the broker's owner loop to its answer, by API (includes long-poll waits and acks=all waits).",
        buckets: requestBuckets)
    static let bytesIn = Entry(name: "runnel_topic_bytes_in_total", kind: .counter, labels: ["topic"],
                               help: "Record-batch bytes appended to partitions this broker leads, from Produce requests, by topic.",
                               buckets: [])
    static let recordsIn = Entry(name: "runnel_topic_records_in_total", kind: .counter, labels: ["topic"],
                                 help: "Records appended to partitions this broker leads, from Produce requests, by topic.",
                                 buckets: [])
    static let bytesOut = Entry(name: "runnel_topic_bytes_out_total", kind: .counter, labels: ["topic"],
                                help: "Record-batch bytes sent in Fetch responses (to consumers and follower replicas), by topic.",
                                buckets: [])
    static let flushDuration = Entry(name: "runnel_log_flush_duration_seconds", kind: .histogram, labels: [],
                                     help: "Duration of each fdatasync of a partition log (group commit, segment roll, flush.ms).",
                                     buckets: flushBuckets)
    static let isrShrinks = Entry(name: "runnel_isr_shrinks_total", kind: .counter, labels: [],
                                  help: "ISR shrinks this broker proposed as leader and the controller committed.", buckets: [])
    static let isrExpands = Entry(name: "runnel_isr_expands_total", kind: .counter, labels: [],
                                  help: "ISR expansions this broker proposed as leader and the controller committed.", buckets: [])
    static let logEndOffset = Entry(name: "runnel_partition_log_end_offset", kind: .gauge, labels: ["topic", "partition"],
                                    help: "Log end offset (next offset to be written) of each partition replica on this broker.",
                                    buckets: [])
    static let logStartOffset = Entry(name: "runnel_partition_log_start_offset", kind: .gauge, labels: ["topic", "partition"],
                                      help: "Log start offset (first offset still stored) of each partition replica on this broker.",
                                      buckets: [])
    static let highWatermark = Entry(name: "runnel_partition_high_watermark", kind: .gauge, labels: ["topic", "partition"],
                                     help: "High watermark (end of what consumers may read) of each partition replica on this broker.",
                                     buckets: [])
    static let underReplicated = Entry(name: "runnel_under_replicated_partitions", kind: .gauge, labels: [],
                                       help: "Partitions this broker leads whose ISR is smaller than their replica set.", buckets: [])
    static let offline = Entry(name: "runnel_offline_partitions", kind: .gauge, labels: [],
                               help: "Partitions of the cluster without a leader, as this broker's metadata has them.", buckets: [])
    static let offlineLogs = Entry(name: "runnel_offline_log_partitions", kind: .gauge, labels: [],
                                   help: "Partition replicas on this broker whose log is offline after an I/O error or could not be opened.",
                                   buckets: [])
    static let leaderPartitions = Entry(name: "runnel_leader_partitions", kind: .gauge, labels: [],
                                        help: "Partitions this broker leads.", buckets: [])
    static let groups = Entry(name: "runnel_consumer_groups", kind: .gauge, labels: ["state"],
                              help: "Consumer groups this broker coordinates, by group state.", buckets: [])
    static let groupLag = Entry(
        name: "runnel_consumer_group_lag", kind: .gauge, labels: ["group", "topic", "partition"],
        help: "High watermark minus the committed offset, per group this broker coordinates and partition it holds a replica of (a follower's high watermark may trail the leader's).",
        buckets: [])
    static let raftTerm = Entry(name: "runnel_raft_term", kind: .gauge, labels: [],
                                help: "Current Raft term of the metadata quorum, as this node knows it.", buckets: [])
    static let raftCommit = Entry(name: "runnel_raft_commit_index", kind: .gauge, labels: [],
                                  help: "Raft commit index of the metadata log, as this node knows it.", buckets: [])
    static let raftApplied = Entry(name: "runnel_raft_applied_index", kind: .gauge, labels: [],
                                   help: "Raft index of the newest metadata entry this node applied.", buckets: [])
    static let raftLeader = Entry(name: "runnel_raft_leader_id", kind: .gauge, labels: [],
                                  help: "Node id of the metadata quorum's leader (the active controller), 0 when none is known.",
                                  buckets: [])
    static let ready = Entry(name: "runnel_broker_ready", kind: .gauge, labels: [],
                             help: "1 when GET /health answers 200 (registered, unfenced, logs loaded), else 0.", buckets: [])

    static let all: [Entry] = [requests, requestDuration, bytesIn, recordsIn, bytesOut, flushDuration, isrShrinks, isrExpands,
                               logEndOffset, logStartOffset, highWatermark, underReplicated, offline, offlineLogs,
                               leaderPartitions, groups, groupLag, raftTerm, raftCommit, raftApplied, raftLeader, ready]

    static let byName: [String: Entry] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
}
