import ClusterMetadata
import Foundation
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

/// The broker's state and request handling. Everything here is owned by one event loop, `loop`
/// (DESIGN.md §7): requests hop to it, and only it touches the metadata image, the partition
/// logs, producer state and parked requests, so the produce and fetch paths take no locks.
/// Blocking file work (fsync) runs on `threadPool` and comes back to `loop` as an event.
final class Broker: RequestDispatcher {
    let config: BrokerConfig
    let loop: any EventLoop
    let threadPool: NIOThreadPool
    let logger: Logger
    let allocator = ByteBufferAllocator()

    let metadataLog: MetadataLogStore
    let controller: MetadataController
    let logs: LogManager
    let clusterID: String
    var partitions: [TopicPartition: LocalPartition] = [:]
    var topicIDs = SystemRandomNumberGenerator()
    var fetchWaiters = FetchWaiters()
    /// The group coordinator shell (one pure coordinator per __consumer_offsets partition).
    lazy var groups = GroupService(broker: self)
    /// What each request may do (ACLs plug in there; until then everything is allowed).
    let authorizer = Authorizer()
    /// The port actually bound, when the listener asked for port 0 (set by BrokerRuntime).
    var boundPort: Int?
    /// Next producer id to hand out; ids up to image.nextProducerID are reserved for this run.
    /// Starts at the reserved end, so ids reserved by an earlier run are never reused.
    lazy var producerIDsNext: Int64 = image.nextProducerID

    /// Requests received but not yet answered (graceful shutdown waits for them).
    var inFlight = 0
    var shuttingDown = false
    private var drained: EventLoopPromise<Void>?
    private var periodicTasks: [RepeatedTask] = []

    var image: MetadataImage { metadataLog.image }
    var nodeID: BrokerID { config.nodeID }

    /// `fileSystem` is the seam fault tests use to fail chosen file operations of the logs.
    init(config: BrokerConfig, loop: any EventLoop, threadPool: NIOThreadPool, logger: Logger,
         fileSystem: any FileSystem = PosixFileSystem()) throws {
        self.config = config
        self.loop = loop
        self.threadPool = threadPool
        self.logger = logger
        let dataDirectory = config.dataDirectory
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        clusterID = try MetaProperties.load(dataDirectory: dataDirectory, nodeID: config.nodeID)
        metadataLog = try MetadataLogStore(dataDirectory: dataDirectory, logger: logger)
        controller = MetadataController(brokers: [config.nodeID])
        let image = metadataLog.image
        let defaults = LogConfigs.brokerDefault(config)
        FileDescriptorLimit.raiseSoftLimit(logger: logger)
        do {
            logs = try LogManager(dataDirectory: dataDirectory, defaultConfig: defaults, now: Clock.now(),
                                  fileSystem: fileSystem, logger: logger,
                                  configFor: { topic in image.topic(topic).map { LogConfigs.forTopic($0.configs, broker: config) } })
        } catch {
            throw StorageFailure("opening the logs", path: dataDirectory, detail: FileDescriptorLimit.explain(error))
        }
        FileDescriptorLimit.check(segments: logs.logs.values.reduce(0) { $0 + $1.segmentCount },
                                  partitions: logs.logs.count, logger: logger)
        try reconcileLogs()
        groups.start()
        schedulePeriodicWork()
    }

    /// Makes the set of open logs match the metadata image: a log whose topic is gone (a crash
    /// between the metadata record and the deletion) is deleted; a partition without a log (a
    /// crash between the record and the creation) gets an empty one.
    private func reconcileLogs() throws {
        let now = Clock.now()
        for (key, _) in logs.logs {
            let topic = image.topic(key.topic)
            if topic == nil || Int(key.partition.rawValue) >= topic!.partitions.count {
                logger.notice("deleting log \(key) of a topic or partition that no longer exists")
                try logs.deleteLog(topic: key.topic, partition: key.partition)
            }
        }
        for name in image.topicNames {
            let topic = image.topic(name)!
            for state in topic.partitions {
                let key = TopicPartition(name, state.partition)
                let log = try logs.log(name, state.partition)
                    ?? logs.createLog(topic: name, partition: state.partition,
                                      config: LogConfigs.forTopic(topic.configs, broker: config), now: now)
                partitions[key] = LocalPartition(log: log, leaderEpoch: state.leaderEpoch, broker: self)
            }
        }
    }

    private func schedulePeriodicWork() {
        let retentionMs = config.int("log.retention.check.interval.ms")!
        periodicTasks.append(loop.scheduleRepeatedTask(initialDelay: .milliseconds(retentionMs),
                                                       delay: .milliseconds(retentionMs)) { [weak self] _ in
            self?.applyRetention()
        })
        // Kafka's log.flush.scheduler: checks flush.ms every second; a no-op unless configured.
        periodicTasks.append(loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] _ in
            self?.flushDueLogs()
        })
        // Checkpoints bound recovery work after a crash (Kafka: every 60 s).
        periodicTasks.append(loop.scheduleRepeatedTask(initialDelay: .seconds(60), delay: .seconds(60)) { [weak self] _ in
            guard let self else { return }
            do { try self.logs.writeCheckpoints() } catch { self.logger.error("writing checkpoints: \(error)") }
        })
    }

    func applyRetention() {
        let now = Clock.now()
        var moved = false
        for (key, partition) in partitions.sorted(by: { $0.key < $1.key }) where !partition.log.isOffline {
            do {
                let result = try partition.log.applyRetention(now: now)
                if result.deletedSegments > 0 {
                    moved = true
                    logger.info("retention: deleted \(counted(result.deletedSegments, "segment")) (\(counted(result.deletedBytes, "byte"))) of \(key); log start offset now \(result.logStartOffset)")
                }
            } catch {
                logger.error("retention of \(key): \(error)")
            }
        }
        // The log start offsets moved: persist them so a restart does not serve deleted ranges.
        if moved {
            do { try logs.writeCheckpoints() } catch { logger.error("writing checkpoints: \(error)") }
        }
    }

    private func flushDueLogs() {
        let now = Clock.now()
        for partition in partitions.values where partition.log.flushIsDue(now: now) {
            partition.flushInBackground()
        }
    }

    // MARK: Dispatch

    func dispatch(frame: ByteBuffer, connection: ConnectionInfo, completion: @escaping (DispatchResult) -> Void) {
        if loop.inEventLoop {
            handle(frame: frame, connection: connection, completion: completion)
        } else {
            loop.execute { self.handle(frame: frame, connection: connection, completion: completion) }
        }
    }

    private func handle(frame: ByteBuffer, connection: ConnectionInfo, completion: @escaping (DispatchResult) -> Void) {
        // Once shutdown has begun the logs are closing: new requests get their connection
        // closed (clients reconnect elsewhere or retry after the restart), never a half-done answer.
        guard !shuttingDown else {
            completion(.close(reason: "broker is shutting down"))
            return
        }
        inFlight += 1
        let done: (DispatchResult) -> Void = { [self] result in
            loop.preconditionInEventLoop()
            inFlight -= 1
            completion(result)
            if inFlight == 0, let drained { self.drained = nil; drained.succeed(()) }
        }
        RequestRouter.route(frame: frame, connection: connection, broker: self, done: done)
    }

    // MARK: Shutdown

    /// Graceful shutdown on the owner loop: answer parked fetches now, wait (bounded) for
    /// in-flight requests such as acks=all produces waiting for fsync, then flush and close every
    /// log, write checkpoints and the clean-shutdown marker.
    func shutdown() -> EventLoopFuture<Void> {
        loop.preconditionInEventLoop()
        shuttingDown = true
        for task in periodicTasks { task.cancel() }
        groups.shutdown()
        fetchWaiters.completeAll()
        let promise = loop.makePromise(of: Void.self)
        if inFlight == 0 { promise.succeed(()) } else { drained = promise }
        let deadline = loop.scheduleTask(in: .seconds(10)) { [self] in
            if let drained {
                logger.warning("shutdown: \(counted(inFlight, "request")) still in flight after 10 s; closing anyway")
                self.drained = nil
                drained.succeed(())
            }
        }
        return promise.futureResult.flatMapThrowing { [self] in
            deadline.cancel()
            try logs.close()
            logger.info("flushed and closed \(counted(partitions.count, "partition log")); clean-shutdown marker written")
        }
    }
}

/// Wall-clock milliseconds: the shell's one clock (pure modules get time injected).
enum Clock {
    static func now() -> TimestampMs {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return TimestampMs(Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }
}
