/// Settings of a `GroupConsumer`.
public struct GroupConsumerConfig: Sendable {
    public var groupId: String
    /// Topics to subscribe to (by name; the coordinator assigns their partitions).
    public var topics: [String]
    /// A regex the coordinator matches against every topic name (whole names; Kafka's syntax is
    /// RE2/J). The member subscribes to `topics` and every match, and the coordinator keeps the
    /// assignment current as matching topics are created and deleted. nil: names only.
    public var topicPattern: String?
    /// Fetch settings. `offsetReset` also says where a partition without a committed offset
    /// starts: `.earliest` (and `.nearest`) at the log start, `.latest` at the end; `.fail`
    /// makes `poll` throw instead.
    public var consumer: ConsumerConfig = ConsumerConfig()
    /// How long the coordinator waits for this member to give up revoked partitions
    /// (Kafka's `max.poll.interval.ms`, which the Java client sends here).
    public var rebalanceTimeoutMs: Int32 = 300_000
    /// A server-side assignor to ask for (Kafka's are "uniform" and "range"); nil lets the
    /// coordinator choose.
    public var serverAssignor: String?
    /// Commit the positions of returned records at most this often from `poll` (Kafka's
    /// `auto.commit.interval.ms`); nil: only explicit `commit()` and `close()` commit.
    /// Records returned by one `poll` count as processed when the next `poll` starts.
    public var autoCommitIntervalMs: Int64? = 5_000
    /// The member id; nil: a random UUID (KIP-1082: the client chooses it and keeps it).
    public var memberId: String?

    public init(groupId: String, topics: [String]) {
        self.groupId = groupId
        self.topics = topics
    }
}
