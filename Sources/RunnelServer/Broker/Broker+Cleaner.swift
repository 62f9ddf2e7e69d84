import ClusterMetadata
import Foundation
import Compaction
import LogStorage
import Logging
import NIOCore
import RunnelCore

// The broker's side of the log cleaner (D145, D151), all on the owner loop: which log is next
// (`CleanerSelection` over the compacted partitions), the job's snapshot (`prepareClean`), the
// swap of each cleaned group, and the `cleaner-offset-checkpoint` file at the data directory's
// root (Kafka's name and text format), written atomically after every clean that moved it.

extension Broker: CleanerHost {
    static let cleanerCheckpointName = "cleaner-offset-checkpoint"

    var cleanerCheckpointPath: String { config.dataDirectory + "/" + Self.cleanerCheckpointName }

    /// Starts the cleaner threads (`log.cleaner.enable`); reads the checkpoint file.
    func startCleaner() {
        guard config.bool("log.cleaner.enable") else { return }
        do {
            cleanerCheckpoints = try OffsetCheckpoint.read(from: cleanerCheckpointPath, fileSystem: PosixFileSystem())
        } catch {
            logger.warning("\(Self.cleanerCheckpointName) is unreadable (\(error)); every compacted log is cleaned from its start")
        }
        let rate = config.string("log.cleaner.io.max.bytes.per.second").flatMap { Double($0) } ?? 1e8
        let settings = LogCleaner.Settings(threads: Int(config.int("log.cleaner.threads") ?? 1),
                                           backoffMs: config.int("log.cleaner.backoff.ms") ?? 15_000,
                                           ioBytesPerSecond: rate,
                                           dedupeBufferBytes: config.int("log.cleaner.dedupe.buffer.size") ?? 134_217_728)
        let cleaner = LogCleaner(settings: settings, host: self, loop: loop)
        self.cleaner = cleaner
        replicas.onLogShrunk = { [weak self] key, offset in self?.logShrunk(key, to: offset) }
        cleaner.start()
    }

    /// A log lost segments or a tail: its clean stops; a truncation lowers its checkpoint.
    func logShrunk(_ key: TopicPartition, to offset: Offset?) {
        cleaner?.abort(key)
        if let offset, let checkpoint = cleanerCheckpoints[key], checkpoint > offset {
            cleanerCheckpoints[key] = offset
            writeCleanerCheckpoints()
        }
    }

    func nextCleanerJob(busy: Set<TopicPartition>) -> LogCleaner.Work? {
        guard !shuttingDown, let cleaner else { return nil }
        let now = Clock.now().rawValue
        var inputs: [LogToCleanInput] = []
        var keys: [String: TopicPartition] = [:]
        var configs: [TopicPartition: CompactionConfig] = [:]
        for (key, partition) in partitions where !partition.isOffline {
            guard let topic = image.topic(key.topic), LogConfigs.cleanupPolicy(topic.configs, broker: config).compact else { continue }
            let name = "\(key.topic.rawValue)-\(key.partition.rawValue)"
            let compaction = LogConfigs.compaction(topic.configs, broker: config)
            keys[name] = key
            configs[key] = compaction
            inputs.append(partition.cleanerInput(name: name, checkpoint: cleanerCheckpoints[key], config: compaction))
        }
        let busyNames = Set(busy.map { "\($0.topic.rawValue)-\($0.partition.rawValue)" })
        for candidate in CleanerSelection.cleanable(inputs, nowMs: now, busy: busyNames) {
            guard let key = keys[candidate.name], let partition = partitions[key], let compaction = configs[key] else { continue }
            if candidate.range.checkpointReset {
                cleanerCheckpoints[key] = Offset(candidate.range.firstDirtyOffset)
                writeCleanerCheckpoints()
            }
            do {
                guard let job = try partition.prepareClean(candidate.range, nowMs: now, deleteRetentionMs: compaction.deleteRetentionMs,
                                                           maxKeys: cleaner.maxKeysPerClean) else { continue }
                logger.info("cleaner: cleaning \(key) (\(candidate.reason.rawValue), dirty ratio \(candidate.range.dirtyRatio), offsets \(candidate.range.firstDirtyOffset)..<\(candidate.range.firstUncleanableOffset))",
                            metadata: .partition(key))
                return LogCleaner.Work(key: key, job: job)
            } catch {
                logger.error("cleaner: cannot start cleaning \(key): \(error)", metadata: .partition(key))
            }
        }
        return nil
    }

    func applyCleaned(_ group: CleanedGroup, of key: TopicPartition) throws(StorageError) -> Bool {
        guard !shuttingDown, let partition = partitions[key] else {
            if let path = group.cleanedPath { try? PosixFileSystem().remove(path) }
            return false
        }
        let swapped = try partition.applyCleaned(group)
        if swapped {
            logger.info("cleaner: swapped in the cleaned segment at \(group.firstBase) of \(key) for \(counted(group.segmentCount, "segment"))",
                        metadata: .partition(key))
        }
        return swapped
    }

    func cleanerFinished(_ key: TopicPartition, outcome: Result<PartitionLog.CleanResult?, StorageError>, aborted: Bool,
                         seconds: Double) {
        switch outcome {
        case .success(let result?) where !aborted:
            cleanerStats.cleans += 1
            cleanerStats.bytesRead += result.bytesRead
            cleanerStats.bytesWritten += result.bytesWritten
            // Kafka's cleaner reports its rate the same way: bytes read over the clean's time.
            let mbPerSecond = seconds > 0 ? Double(result.bytesRead) / seconds / 1e6 : 0
            logger.info("cleaner: cleaned \(key): \(counted(result.groupsRewritten, "group")) rewritten, \(counted(result.batchesDropped, "batch")) dropped, \(result.bytesBefore) → \(result.bytesAfter) bytes; read \(result.bytesRead) and wrote \(result.bytesWritten) bytes in \(String(format: "%.3f", seconds)) s (\(String(format: "%.1f", mbPerSecond)) MB/s read); checkpoint \(result.checkpoint)",
                        metadata: .partition(key))
            guard partitions[key] != nil, cleanerCheckpoints[key] != result.checkpoint else { return }
            cleanerCheckpoints[key] = result.checkpoint
            writeCleanerCheckpoints()
        case .success:
            cleanerStats.aborted += 1
            logger.info("cleaner: the clean of \(key) stopped (its log changed or the broker is stopping)", metadata: .partition(key))
        case .failure(let error):
            cleanerStats.failed += 1
            logger.error("cleaner: cleaning \(key) failed: \(error)", metadata: .partition(key))
        }
    }

    /// Entries of logs this broker no longer has are dropped; the file is replaced atomically.
    func writeCleanerCheckpoints() {
        cleanerCheckpoints = cleanerCheckpoints.filter { partitions[$0.key] != nil }
        do {
            try OffsetCheckpoint.write(cleanerCheckpoints, to: cleanerCheckpointPath, fileSystem: PosixFileSystem())
        } catch {
            logger.error("writing \(Self.cleanerCheckpointName): \(error) (a lost checkpoint only costs a clean from the log start)")
        }
    }
}

/// Counts of the cleaner's work since start-up (for logs and the metrics gauges).
struct CleanerStats {
    var cleans = 0
    var aborted = 0
    var failed = 0
    var bytesRead = 0
    var bytesWritten = 0
}
