import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

/// A partition this broker leads: its log, its group commit, and its idempotent-producer state.
/// (Replication will add follower state, the ISR and a high watermark that lags the log end;
/// with one replica the high watermark is the log end offset.)
final class LocalPartition {
    let log: PartitionLog
    /// The topic id the partition was created for (a topic deleted and created again under the
    /// same name is another partition).
    let topicID: TopicID
    var leaderEpoch: LeaderEpoch
    /// Whether this broker leads the partition (the metadata's leader is this node). Until
    /// replication exists a follower only holds its log: it serves neither clients nor replicas.
    var isLeader = true
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

    var highWatermark: Offset { log.logEndOffset }

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
