import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

/// One replica of a partition on this broker (DESIGN.md §1): its role (leader or not), leader
/// and partition epochs, its log, its group commit and its idempotent-producer state. Requests
/// and the group coordinator reach the log only through here: reads, lookups, and one append
/// path (`append(batch:header:now:)`), so producer state, flush policy and, with replication,
/// the high watermark stay right whoever appends. (Replication will add follower state, the ISR
/// and a high watermark that lags the log end; until then it is the log end offset.)
final class Partition {
    private let log: PartitionLog
    /// The topic id the partition was created for (a topic deleted and created again under the
    /// same name is another partition).
    let topicID: TopicID
    var leaderEpoch: LeaderEpoch
    /// Whether this broker leads the partition (the metadata's leader is this node). Until
    /// replication exists a follower only holds its log: it serves neither clients nor replicas.
    var isLeader = true
    /// The partition epoch of the metadata this replica last applied.
    var partitionEpoch: Int32 = 0
    let groupCommit: GroupCommit
    var producers = ProducerStateTable()
    private let loop: any EventLoop
    private let threadPool: NIOThreadPool
    private let logger: Logger

    init(log: PartitionLog, topicID: TopicID, leaderEpoch: LeaderEpoch, loop: any EventLoop, threadPool: NIOThreadPool,
         logger: Logger) {
        self.log = log
        self.topicID = topicID
        self.leaderEpoch = leaderEpoch
        self.loop = loop
        self.threadPool = threadPool
        self.logger = logger
        // The flush request is made on the owner (it captures the files and end offset), run on
        // the pool, and reported back on the owner.
        groupCommit = GroupCommit(loop: loop, durableEnd: log.recoveryPoint)
        groupCommit.flush = { [unowned self] completion in self.flush(completion) }
        rebuildProducerState()
        // Recovery and the rebuild read the segments through their mappings; those pages
        // would otherwise stay in the broker's RSS until the next restart.
        log.releaseMappedPages()
    }

    /// Takes the role and epochs the metadata gives this replica.
    func adopt(_ state: PartitionState, nodeID: BrokerID) {
        leaderEpoch = state.leaderEpoch
        isLeader = state.leader == nodeID
        partitionEpoch = state.partitionEpoch
    }

    var highWatermark: Offset { log.logEndOffset }
    var logStartOffset: Offset { log.logStartOffset }
    var logEndOffset: Offset { log.logEndOffset }
    var isOffline: Bool { log.isOffline }
    /// Everything below it is known to be on disk.
    var recoveryPoint: Offset { log.recoveryPoint }
    var segmentCount: Int { log.segmentCount }
    var segmentBaseOffsets: [Offset] { log.segmentBaseOffsets }
    /// The log's directory, for log lines.
    var directory: String { log.directory }
    var topic: TopicName { log.topic }
    var index: PartitionID { log.partition }

    /// Replaces the log's configuration (a topic config change); sizes apply from the next roll.
    func updateConfig(_ config: LogConfig) {
        if log.config != config { log.config = config }
    }

    /// Stored batches for a fetch (see `PartitionLog.read`).
    func read(from offset: Offset, maxBytes: Int, upperBound: Offset? = nil, minOneBatch: Bool = true) -> PartitionLog.ReadResult {
        log.read(from: offset, maxBytes: maxBytes, upperBound: upperBound, minOneBatch: minOneBatch)
    }

    /// ListOffsets by timestamp (see `PartitionLog.offset(forTimestamp:compressed:)`).
    func offset(forTimestamp timestamp: TimestampMs, compressed: CompressedBatchScanner?) -> (offset: Offset, timestamp: TimestampMs)? {
        log.offset(forTimestamp: timestamp, compressed: compressed)
    }

    /// The one append path: one validated batch (exactly its bytes) gets its offsets and this
    /// replica's leader epoch; an idempotent producer's sequences are recorded; a flush that
    /// `flush.messages` / `flush.ms` (or a roll) makes due is started. Throws (and the log may go
    /// offline) on an I/O error.
    func append(batch bytes: UnsafeRawBufferPointer, header: RecordBatchHeader, now: TimestampMs) throws(StorageError) -> PartitionLog.AppendResult {
        let appended = try log.append(copying: bytes, leaderEpoch: leaderEpoch, now: now)
        if header.producerId >= 0 {
            producers.record(producerId: header.producerId, epoch: header.producerEpoch,
                             batch: .init(firstSequence: header.baseSequence, lastSequence: header.baseSequence &+ header.lastOffsetDelta,
                                          baseOffset: appended.baseOffset, logAppendTimeMs: appended.logAppendTime.rawValue))
        }
        if appended.flushDue { flushInBackground() }
        return appended
    }

    /// Retention (see `PartitionLog.applyRetention`); an offline log is left alone.
    func applyRetention(now: TimestampMs) throws(StorageError) -> PartitionLog.RetentionResult? {
        guard !log.isOffline else { return nil }
        return try log.applyRetention(now: now)
    }

    /// Kafka's flush policy says a background flush is due.
    func flushIsDue(now: TimestampMs) -> Bool { log.flushIsDue(now: now) }

    /// One flush: request made here on the owner, fdatasync on the pool, completion back here.
    private func flush(_ completion: @escaping (Result<Offset, any Error>) -> Void) {
        guard let request = log.makeFlushRequest() else {
            // Offline: nothing more can be made durable; the waiters fail (KAFKA_STORAGE_ERROR).
            if let failure = log.offlineError {
                completion(.failure(failure))
            } else {
                completion(.success(log.recoveryPoint))
            }
            return
        }
        threadPool.runIfActive(eventLoop: loop) { () throws -> Offset in
            try request.perform()
        }.whenComplete { [self] result in
            switch result {
            case .success:
                log.flushCompleted(request, now: Clock.now())
                completion(.success(request.endOffset))
            case .failure(let error):
                if let storage = error as? StorageError { log.flushFailed(storage) }
                logger.error("fdatasync of \(log.directory) failed: \(error); the log is offline until restart")
                completion(.failure(error))
            }
        }
    }

    /// Kafka's flush.messages / flush.ms: start a background flush (nobody waits for it).
    func flushInBackground() {
        groupCommit.waitDurable(end: log.logEndOffset) { _ in }
    }

    /// Rebuilds the idempotent-producer table from the batch headers of the active segment, so a
    /// producer retrying across a broker restart still gets duplicate detection for its recent
    /// batches. (Kafka keeps producer snapshots; the active segment bounds this scan.)
    private func rebuildProducerState() {
        let start = max(log.activeSegment.baseOffset, log.logStartOffset)
        guard case .records(let slice) = log.read(from: start, maxBytes: Int.max) else { return }
        slice.withUnsafeBytes { bytes in
            var position = 0
            while let header = RecordBatchHeader(UnsafeRawBufferPointer(rebasing: bytes[position...])) {
                if header.producerId >= 0 && header.baseSequence >= 0 {
                    producers.record(producerId: header.producerId, epoch: header.producerEpoch,
                                     batch: .init(firstSequence: header.baseSequence,
                                                  lastSequence: header.baseSequence &+ header.lastOffsetDelta,
                                                  baseOffset: Offset(header.baseOffset), logAppendTimeMs: -1))
                }
                position += header.totalSize
                if position >= bytes.count { break }
            }
        }
    }
}
