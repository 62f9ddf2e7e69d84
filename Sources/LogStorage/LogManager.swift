public import Logging
public import RunnelCore

/// All partition logs of one data directory (`log.dirs` entry).
///
/// Layout (Kafka's):
///
///     <dataDirectory>/
///       <topic>-<partition>/                 one PartitionLog each (see LogSegment for files)
///       recovery-point-offset-checkpoint     see OffsetCheckpoint
///       log-start-offset-checkpoint
///       replication-offset-checkpoint        each replica's high watermark (written by the server)
///       .kafka_cleanshutdown                 clean-shutdown marker (empty file)
///       <topic>-<partition>.<n>-delete/      a log being deleted (removed at the next start)
///
/// Crash story: the marker exists only between a clean `close()` and the next start. At start
/// it is read and removed (and the removal fsynced) BEFORE any log is touched, because opening
/// re-preallocates active segments: had we crashed after that with the marker still present,
/// the zero tail would be trusted as data. Without the marker every log is recovered from its
/// recovery point. Checkpoints are rewritten atomically (`OffsetCheckpoint`). A deleted log's
/// directory is first renamed to `…-delete` (one atomic step), then emptied and removed; a
/// leftover one is removed at the next start.
///
/// Threading: one owner thread, the same that owns the logs (DESIGN.md §7).
public final class LogManager {
    public let dataDirectory: String
    public var defaultConfig: LogConfig
    let fileSystem: any FileSystem
    let logger: Logger
    public private(set) var logs: [TopicPartition: PartitionLog] = [:]
    /// Whether the previous run stopped cleanly (no recovery was needed).
    public let hadCleanShutdown: Bool
    private var deletions = 0

    public static let cleanShutdownFileName = ".kafka_cleanshutdown"
    public static let recoveryPointCheckpointName = "recovery-point-offset-checkpoint"
    public static let logStartOffsetCheckpointName = "log-start-offset-checkpoint"
    public static let highWatermarkCheckpointName = "replication-offset-checkpoint"
    /// The high watermarks of `replication-offset-checkpoint` as read at start (unknown: absent).
    public private(set) var checkpointedHighWatermarks: [TopicPartition: Offset] = [:]
    /// The replicas' high watermarks, written with the other checkpoints when set (replication
    /// lives above this module).
    public var highWatermarks: (() -> [TopicPartition: Offset])?

    /// Opens every `<topic>-<partition>` directory under `dataDirectory` (creating it if
    /// needed), recovering logs when the last stop was not clean. `configFor` gives a topic's
    /// effective config (defaults plus overrides); nil means `defaultConfig`.
    /// Directories in the data directory that are not partition logs of this manager (the
    /// metadata quorum's Raft log, `__cluster_metadata-0`, has its own owner).
    public static let foreignDirectoryNames: Set<String> = ["__cluster_metadata-0"]

    public init(dataDirectory: String, defaultConfig: LogConfig = LogConfig(), now: TimestampMs,
                fileSystem: any FileSystem = PosixFileSystem(), logger: Logger,
                configFor: (TopicName) -> LogConfig? = { _ in nil }) throws(StorageError) {
        self.dataDirectory = dataDirectory
        self.defaultConfig = defaultConfig
        self.fileSystem = fileSystem
        self.logger = logger
        if fileSystem.isDirectory(dataDirectory) == nil { try fileSystem.makeDirectory(dataDirectory) }
        let marker = dataDirectory + "/" + Self.cleanShutdownFileName
        hadCleanShutdown = fileSystem.isDirectory(marker) == false
        if hadCleanShutdown {
            try fileSystem.remove(marker)
            try fileSystem.syncDirectory(dataDirectory)
        }
        let recoveryPoints = readCheckpoint(Self.recoveryPointCheckpointName)
        let logStarts = readCheckpoint(Self.logStartOffsetCheckpointName)
        checkpointedHighWatermarks = readCheckpoint(Self.highWatermarkCheckpointName)
        for name in try fileSystem.contents(ofDirectory: dataDirectory).sorted() {
            let path = dataDirectory + "/" + name
            guard fileSystem.isDirectory(path) == true, !Self.foreignDirectoryNames.contains(name) else { continue }
            if name.hasSuffix("-delete") {
                try removeTree(path)
                continue
            }
            guard let key = Self.parseDirectoryName(name) else { continue }
            logs[key] = try PartitionLog.open(
                directory: path, topic: key.topic, partition: key.partition,
                config: configFor(key.topic) ?? defaultConfig, recoveryPoint: recoveryPoints[key] ?? .zero,
                logStartOffset: logStarts[key], needsRecovery: !hadCleanShutdown, now: now,
                fileSystem: fileSystem, logger: logger)
        }
        if !hadCleanShutdown && !logs.isEmpty {
            logger.info("recovered \(logs.count) logs in \(dataDirectory) after an unclean shutdown")
        }
        try writeCheckpoints()
    }

    /// `<topic>-<partition>` → key; nil for anything else.
    static func parseDirectoryName(_ name: String) -> TopicPartition? {
        guard let dash = name.lastIndex(of: "-") else { return nil }
        let topic = String(name[..<dash])
        guard let partition = Int32(name[name.index(after: dash)...]), partition >= 0,
              TopicName.invalidReason(topic) == nil
        else { return nil }
        return TopicPartition(TopicName(topic), PartitionID(partition))
    }

    private func readCheckpoint(_ name: String) -> [TopicPartition: Offset] {
        do throws(StorageError) {
            return try OffsetCheckpoint.read(from: dataDirectory + "/" + name, fileSystem: fileSystem)
        } catch {
            logger.warning("ignoring \(name): \(error); offsets in it are treated as unknown")
            return [:]
        }
    }

    public func log(_ topic: TopicName, _ partition: PartitionID) -> PartitionLog? {
        logs[TopicPartition(topic, partition)]
    }

    /// Creates an empty log (first segment at offset 0). Throws `logAlreadyExists` when the
    /// partition already has one.
    @discardableResult
    public func createLog(topic: TopicName, partition: PartitionID, config: LogConfig? = nil,
                          now: TimestampMs) throws(StorageError) -> PartitionLog {
        let key = TopicPartition(topic, partition)
        let path = dataDirectory + "/" + PartitionLog.directoryName(topic: topic, partition: partition)
        guard logs[key] == nil, fileSystem.isDirectory(path) == nil else { throw .logAlreadyExists(path: path) }
        try fileSystem.makeDirectory(path)
        do throws(StorageError) {
            try fileSystem.syncDirectory(dataDirectory)
            let log = try PartitionLog.open(directory: path, topic: topic, partition: partition,
                                            config: config ?? defaultConfig, needsRecovery: false, now: now,
                                            fileSystem: fileSystem, logger: logger)
            logs[key] = log
            return log
        } catch {
            // No half-made log directory is left behind (a later start would open it as a log).
            try? removeTree(path)
            throw error
        }
    }

    /// Deletes a partition's log and all its data (DeleteTopics), here and now.
    public func deleteLog(topic: TopicName, partition: PartitionID) throws(StorageError) {
        try detachLog(topic: topic, partition: partition)?.perform()
    }

    /// Deletes a partition's log in two steps: here, the log leaves this manager and its
    /// directory is renamed to `…-delete` (fsynced: after a crash it is removed at the next
    /// start, never opened again); the returned removal unmaps and removes its files, and may
    /// run on any thread — a big log takes the owner hundreds of milliseconds to remove.
    /// nil when there is no such log.
    public func detachLog(topic: TopicName, partition: PartitionID) throws(StorageError) -> LogRemoval? {
        let key = TopicPartition(topic, partition)
        guard let log = logs.removeValue(forKey: key) else { return nil }
        let segments = log.segments
        log.abandon()
        deletions += 1
        let doomed = "\(log.directory).\(deletions)-delete"
        let removal = LogRemoval(path: doomed, fileSystem: fileSystem, segments: segments)
        try fileSystem.rename(log.directory, to: doomed)
        try fileSystem.syncDirectory(dataDirectory)
        return removal
    }

    private func removeTree(_ path: String) throws(StorageError) {
        try LogRemoval(path: path, fileSystem: fileSystem, segments: []).perform()
    }

    /// Retention for every log (the server calls it every `log.retention.check.interval.ms`),
    /// then persists the log start offsets when any moved. Returns the segments deleted.
    /// An offline log is skipped.
    @discardableResult
    public func applyRetention(now: TimestampMs) throws(StorageError) -> Int {
        var deleted = 0
        for log in logs.values where !log.isOffline {
            deleted += try log.applyRetention(now: now).deletedSegments
        }
        if deleted > 0 { try writeCheckpoints() }
        return deleted
    }

    /// Rewrites `recovery-point-offset-checkpoint` and `log-start-offset-checkpoint` (the server
    /// calls it every `log.flush.offset.checkpoint.interval.ms` and after DeleteRecords).
    public func writeCheckpoints() throws(StorageError) {
        var recoveryPoints: [TopicPartition: Offset] = [:]
        var logStarts: [TopicPartition: Offset] = [:]
        for (key, log) in logs {
            recoveryPoints[key] = log.recoveryPoint
            logStarts[key] = log.logStartOffset
        }
        try OffsetCheckpoint.write(recoveryPoints, to: dataDirectory + "/" + Self.recoveryPointCheckpointName, fileSystem: fileSystem)
        try OffsetCheckpoint.write(logStarts, to: dataDirectory + "/" + Self.logStartOffsetCheckpointName, fileSystem: fileSystem)
        if let highWatermarks {
            try OffsetCheckpoint.write(highWatermarks(), to: dataDirectory + "/" + Self.highWatermarkCheckpointName,
                                       fileSystem: fileSystem)
        }
    }

    /// Clean shutdown: closes every log (fsync, files cut to size), writes the checkpoints and
    /// then the clean-shutdown marker. If any log fails to close (or is offline), no marker is
    /// written, so the next start recovers.
    public func close() throws(StorageError) {
        var firstError: StorageError? = nil
        var allClean = true
        for log in logs.values {
            if log.isOffline { allClean = false }
            do throws(StorageError) {
                try log.close()
            } catch {
                allClean = false
                if firstError == nil { firstError = error }
            }
        }
        try writeCheckpoints()
        logs = [:]
        if let firstError { throw firstError }
        guard allClean else { return }
        let marker = dataDirectory + "/" + Self.cleanShutdownFileName
        _ = try FileHandle(path: marker, create: true, truncate: true, fileSystem: fileSystem)
        try fileSystem.syncDirectory(dataDirectory)
    }
}
