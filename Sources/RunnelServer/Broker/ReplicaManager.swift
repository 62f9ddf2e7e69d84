import ClusterMetadata
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

/// The partitions this broker holds a replica of, kept in step with the metadata image
/// (DESIGN.md §5): every applied metadata batch is turned into "create or open", "update" and
/// "stop and delete" for this node's replicas. Owner-loop only.
///
/// A replica whose log cannot be opened or created (descriptors or disk ran out, a damaged
/// directory) is listed in `failed` with the reason; requests for it answer KAFKA_STORAGE_ERROR
/// and the rest of the broker goes on.
final class ReplicaManager {
    struct Delta: Equatable {
        var created: [TopicPartition] = []
        var removed: [TopicPartition] = []
        var failed: [TopicPartition: String] = [:]
        /// Replicas that became leader or follower (the replica fetchers follow these).
        var roles: [TopicPartition: Partition.RoleChange] = [:]
        var isEmpty: Bool { created.isEmpty && removed.isEmpty && failed.isEmpty && roles.isEmpty }
    }

    let nodeID: BrokerID
    let logs: LogManager
    /// The broker's configuration in effect (dynamic keys included); `Broker` refreshes it.
    var config: BrokerConfig
    private let loop: any EventLoop
    private let threadPool: NIOThreadPool
    private let logger: Logger
    private(set) var partitions: [TopicPartition: Partition] = [:]
    /// Replicas this node should hold but whose log could not be opened, with the reason.
    private(set) var failed: [TopicPartition: String] = [:]
    /// Told when a replica's high watermark moved (parked fetches wake up).
    var onHighWatermarkChanged: ((TopicPartition) -> Void)?
    /// A log lost segments or a tail, or is deleted (the offset it was cut to, else nil): the
    /// cleaner stops a clean of it (D151).
    var onLogShrunk: ((TopicPartition, Offset?) -> Void)?
    /// The counters of a topic, for each replica made (set when metrics are on).
    var topicMetrics: ((TopicName) -> TopicMetrics)?

    init(nodeID: BrokerID, logs: LogManager, config: BrokerConfig, loop: any EventLoop, threadPool: NIOThreadPool,
         logger: Logger) {
        self.nodeID = nodeID
        self.logs = logs
        self.config = config
        self.loop = loop
        self.threadPool = threadPool
        self.logger = logger
        logs.highWatermarks = { [weak self] in
            self?.partitions.mapValues(\.highWatermark) ?? [:]
        }
    }

    /// Makes the local replicas match `image`. With `deleteStrays` (once the image is known to
    /// be complete: at start-up after the metadata log was replayed), logs on disk that no
    /// partition of the image places here are deleted — leftovers of a crash between a topic's
    /// deletion and its files'.
    @discardableResult
    func apply(_ image: MetadataImage, deleteStrays: Bool = false) -> Delta {
        loop.preconditionInEventLoop()
        var delta = Delta()
        var wanted: [TopicPartition: (topic: MetadataImage.Topic, state: PartitionState)] = [:]
        for name in image.topicNames {
            let topic = image.topic(name)!
            for state in topic.partitions where state.replicas.contains(nodeID) {
                wanted[TopicPartition(name, state.partition)] = (topic, state)
            }
        }
        // Stop and delete: replicas no longer placed here, or of a topic that was deleted (and
        // perhaps created again under the same name: another topic id).
        for (key, partition) in partitions.sorted(by: { $0.key < $1.key }) where wanted[key]?.topic.id != partition.topicID {
            partitions[key] = nil
            partition.stop()
            delta.removed.append(key)
            deleteLog(key)
        }
        for key in failed.keys where wanted[key] == nil { failed[key] = nil }
        if deleteStrays {
            for key in logs.logs.keys.sorted() where wanted[key] == nil && partitions[key] == nil {
                logger.notice("deleting log \(key): no partition of the metadata places it on this broker")
                deleteLog(key)
            }
        }
        // Create or open the new ones; keep the others current.
        for key in wanted.keys.sorted() {
            let (topic, state) = wanted[key]!
            let logConfig = LogConfigs.forTopic(topic.configs, broker: config)
            let fsync = LogConfigs.acksAllFsync(topic.configs, broker: config)
            if let existing = partitions[key] {
                existing.acksAllFsync = fsync
                if let change = existing.adopt(state, now: Clock.now().rawValue) { delta.roles[key] = change }
                existing.updateConfig(logConfig)
                continue
            }
            do {
                let log = try logs.log(key.topic, key.partition)
                    ?? logs.createLog(topic: key.topic, partition: key.partition, config: logConfig, now: Clock.now())
                log.config = logConfig
                log.removeLater = { [weak self] removal in self?.removeGradually(removal, key: key) }
                let partition = Partition(log: log, topicID: topic.id, nodeID: nodeID,
                                          highWatermark: logs.checkpointedHighWatermarks[key], loop: loop,
                                          threadPool: threadPool, logger: logger)
                partition.acksAllFsync = fsync
                partition.metrics = topicMetrics?(key.topic)
                partition.onHighWatermarkChanged = { [weak self] in self?.onHighWatermarkChanged?(key) }
                partition.onLogShrunk = { [weak self] offset in self?.onLogShrunk?(key, offset) }
                if let change = partition.adopt(state, now: Clock.now().rawValue) { delta.roles[key] = change }
                partitions[key] = partition
                failed[key] = nil
                delta.created.append(key)
            } catch {
                let reason = FileDescriptorLimit.explain(error)
                if failed[key] == nil { logger.error("partition \(key) is offline: its log cannot be opened: \(reason)") }
                failed[key] = reason
                delta.failed[key] = reason
            }
        }
        return delta
    }

    /// Takes the log away at once; its files are removed on the thread pool (a big log would hold
    /// the owner loop, and every partition on it, for hundreds of milliseconds), 4 MiB every
    /// 10 ms (see `removeGradually`).
    /// Runs a log removal (a deleted replica, or segments dropped by retention) in steps of
    /// 4 MiB freed, one pool task each, 10 ms apart (≤ 400 MB/s):
    /// freeing a gigabyte at once holds every fsync on the disk for a few hundred milliseconds on
    /// this machine's ext4 (and with it every acks=all answer); spaced out, a step costs an fsync
    /// about what it costs anyway. A pool thread is never held for more than one step.
    private func removeGradually(_ removal: LogRemoval, key: TopicPartition) {
        threadPool.runIfActive(eventLoop: loop) { () throws -> Bool in try removal.step(chunkBytes: 4 << 20) }
            .whenComplete { [weak self, logger] result in
                switch result {
                case .success(true):
                    return
                case .success(false):
                    guard let self else { return }
                    self.loop.scheduleTask(in: .milliseconds(10)) { self.removeGradually(removal, key: key) }
                case .failure(let error):
                    logger.error("deleting log \(key) (\(removal.path)): \(error) (removed at next start)")
                }
            }
    }

    private func deleteLog(_ key: TopicPartition) {
        onLogShrunk?(key, .zero)
        do {
            guard let removal = try logs.detachLog(topic: key.topic, partition: key.partition) else { return }
            removeGradually(removal, key: key)
        } catch {
            logger.error("deleting log \(key): \(error) (removed at next start)")
        }
    }
}
