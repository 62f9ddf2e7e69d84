import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

// DeleteRecords (key 21), versions 0-2. Served by each partition's leader: the log start
// offset moves to the requested offset (-1 = the high watermark), whole segments below it are
// dropped (their files removed in the background, D97), and the answer carries the new
// low_watermark. An offset above the high watermark (or below -1) → OFFSET_OUT_OF_RANGE; an
// offset below the current log start leaves it where it is. Followers take the new log start
// from the leader's fetch answers (ReplicaFetchers) and report theirs in their next fetch; as in
// Kafka, the answer waits until every ISR member reports at least the new start, up to the
// request's timeout (then REQUEST_TIMED_OUT for that partition; the log start has moved anyway).
extension Broker {
    func handleDeleteRecords(_ request: DeleteRecordsRequest, _ context: RequestContext,
                             _ respond: Responder<DeleteRecordsResponse>) {
        var response = DeleteRecordsResponse()
        var moved = false
        var pending: [(topic: Int, partition: Int, key: TopicPartition, target: Offset)] = []
        for topic in request.topics {
            var topicResult = DeleteRecordsResponse.DeleteRecordsTopicResult()
            topicResult.name = topic.name
            let mayDelete = authorize(.delete, .topic, topic.name, context)
            for wanted in topic.partitions {
                var result = DeleteRecordsResponse.DeleteRecordsPartitionResult()
                result.partitionIndex = wanted.partitionIndex
                result.lowWatermark = -1
                guard mayDelete else {
                    result.errorCode = KafkaErrorCode.topicAuthorizationFailed.rawValue
                    topicResult.partitions.append(result)
                    continue
                }
                let key = TopicPartition(TopicName(topic.name), PartitionID(wanted.partitionIndex))
                defer { topicResult.partitions.append(result) }
                guard let partition = leaderPartition(key) else {
                    result.errorCode = missingPartitionError(key)
                    continue
                }
                let highWatermark = partition.highWatermark.rawValue
                let target = wanted.offset == -1 ? highWatermark : wanted.offset
                guard target >= 0, target <= highWatermark else {
                    result.errorCode = KafkaErrorCode.offsetOutOfRange.rawValue
                    continue
                }
                do {
                    if try partition.moveLogStart(to: Offset(target)) {
                        moved = true
                        fetchWaiters.logStartMoved(key)
                        logger.info("DeleteRecords: log start offset of \(key) now \(partition.logStartOffset)")
                    }
                    result.lowWatermark = partition.logStartOffset.rawValue
                    if (partition.isrLogStart ?? .zero) < partition.logStartOffset {
                        pending.append((response.topics.count, topicResult.partitions.count, key, partition.logStartOffset))
                    }
                } catch {
                    logger.error("DeleteRecords on \(key): \(error)")
                    result.errorCode = KafkaErrorCode.kafkaStorageError.rawValue
                }
            }
            response.topics.append(topicResult)
        }
        // Persist the new log start offsets, so a restart does not serve the deleted range.
        if moved {
            do { try logs.writeCheckpoints() } catch { logger.error("writing checkpoints: \(error)") }
        }
        guard !pending.isEmpty else { return respond.send(response) }

        // Wait for the ISR (woken by the followers' fetches), at most timeout_ms.
        var waiting = pending.count
        var answered = false
        var timeout: Scheduled<Void>?
        func finish() {
            guard !answered else { return }
            answered = true
            timeout?.cancel()
            respond.send(response)
        }
        let waiters = pending.map { p in
            let waiter = DeleteRecordsWaiter(target: p.target)
            waiter.onReached = {
                waiting -= 1
                if waiting == 0 { finish() }
            }
            deleteRecordsWaiters[p.key, default: []].append(waiter)
            return waiter
        }
        timeout = loop.scheduleTask(in: .milliseconds(Int64(max(0, request.timeoutMs)))) { [self] in
            for (p, waiter) in zip(pending, waiters) where !waiter.reached {
                // The log start has moved here; some ISR member has not reported it yet.
                response.topics[p.topic].partitions[p.partition].errorCode = KafkaErrorCode.requestTimedOut.rawValue
                waiter.onReached = nil
                deleteRecordsWaiters[p.key]?.removeAll { $0 === waiter }
                if deleteRecordsWaiters[p.key]?.isEmpty == true { deleteRecordsWaiters[p.key] = nil }
            }
            finish()
        }
    }

    /// A follower's fetch reported its log start offset: DeleteRecords answers waiting for it may
    /// complete.
    func followerReportedLogStart(_ replica: BrokerID, _ logStart: Offset, _ key: TopicPartition, _ partition: Partition) {
        partition.followerReported(logStart: logStart, by: replica)
        guard var waiters = deleteRecordsWaiters[key], !waiters.isEmpty else { return }
        let reached = partition.isrLogStart ?? .zero
        waiters.removeAll { waiter in
            guard waiter.target <= reached else { return false }
            waiter.reach()
            return true
        }
        deleteRecordsWaiters[key] = waiters.isEmpty ? nil : waiters
    }
}

/// One partition of a DeleteRecords answer waiting for the ISR to reach `target`.
final class DeleteRecordsWaiter {
    let target: Offset
    var onReached: (() -> Void)?
    private(set) var reached = false

    init(target: Offset) { self.target = target }

    func reach() {
        guard !reached else { return }
        reached = true
        onReached?()
    }
}
