import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

// Fetch (key 1), versions 0-12 (v12 flexible). Stored batches are returned as stored (no decode),
// copied once, from the segment mapping straight into the outgoing response buffer (the
// response's `ResponseRecords` hold the `LogSlice` until it is encoded, on this owner loop, in
// `send`; the buffer is sized up front so it never grows), starting with the batch that holds the
// fetch offset, never past the high watermark. Limits: max_bytes for the whole response (v3+)
// and partition_max_bytes per partition, except that the first partition with data returns at
// least one whole batch so a consumer always progresses (Kafka's rule).
// Long poll: when fewer than min_bytes are available the request parks until appends bring
// enough or max_wait_ms passes (capped at Limits.fetchMaxWaitMsMax); appends wake it, no timer
// polls. Errors per partition: OFFSET_OUT_OF_RANGE below the log start or past the log end,
// UNKNOWN_TOPIC_OR_PARTITION, FENCED/UNKNOWN_LEADER_EPOCH (v9+), KAFKA_STORAGE_ERROR for an
// offline log, CORRUPT_MESSAGE where the stored bytes cannot be walked (damaged at rest).
// Fetch sessions (KIP-227) are declined: the response's session id is 0, which tells the client
// to keep sending full fetches; a request naming a session id gets FETCH_SESSION_ID_NOT_FOUND.
// v0-3 would need message-format down-conversion: each partition gets UNSUPPORTED_VERSION.
// Not implemented: follower fetches (replica_id >= 0; replication), read_committed filtering
// (nothing is transactional yet), preferred read replicas.
extension Broker {
    func handleFetch(_ request: FetchRequest, _ context: RequestContext, _ respond: Responder<FetchResponse>) {
        if request.sessionId != 0 {
            var response = FetchResponse()
            response.errorCode = KafkaError.fetchSessionIdNotFound
            respond.send(response)
            return
        }
        let keys = request.topics.flatMap { t in t.partitions.map { TopicPartition(TopicName(t.topic), PartitionID($0.partition)) } }
        let minBytes = Int(max(0, request.minBytes))
        let maxWaitMs = min(max(0, request.maxWaitMs), Limits.fetchMaxWaitMsMax)
        let first = readFetch(request, version: context.version)
        if first.bytes >= minBytes || maxWaitMs == 0 || first.hasError || shuttingDown || keys.isEmpty {
            respond.send(first.response, reservingCapacity: first.encodedSizeEstimate)
            return
        }
        let waiter = FetchWaiters.Waiter { [unowned self] force in
            let attempt = readFetch(request, version: context.version)
            guard force || attempt.bytes >= minBytes || attempt.hasError else { return false }
            respond.send(attempt.response, reservingCapacity: attempt.encodedSizeEstimate)
            return true
        }
        fetchWaiters.park(waiter, on: keys, maxWait: .milliseconds(Int64(maxWaitMs)), loop: loop) { [unowned self] w in
            fetchWaiters.expire(w)
        }
    }

    /// Stored batches written into the response when it is encoded (one copy).
    struct StoredRecords: RecordsSource {
        let slice: LogSlice
        var byteCount: Int { slice.byteCount }
        func write(to buffer: inout ByteBuffer) { slice.write(to: &buffer) }
    }

    struct FetchRead {
        var response = FetchResponse()
        var bytes = 0
        var hasError = false

        /// Room for the whole encoded response: the record bytes plus generous room for the
        /// fixed fields (topic names are at most 249 bytes, a partition's fields under 100).
        var encodedSizeEstimate: Int {
            let partitions = response.responses.reduce(0) { $0 + $1.partitions.count }
            return 64 + bytes + partitions * 128 + response.responses.count * 300
        }
    }

    /// One pass over the requested partitions, reading what is there now.
    func readFetch(_ request: FetchRequest, version: Int16) -> FetchRead {
        var read = FetchRead()
        var remaining = version >= 3 ? Int(max(0, request.maxBytes)) : Int.max
        var minOneBatch = true
        for topic in request.topics {
            var topicResult = FetchResponse.FetchableTopicResponse()
            topicResult.topic = topic.topic
            topicResult.topicId = topic.topicId
            for wanted in topic.partitions {
                var result = FetchResponse.PartitionData()
                result.partitionIndex = wanted.partition
                result.abortedTransactions = version >= 4 ? [] : nil
                result.records = ResponseRecords()
                let key = TopicPartition(TopicName(topic.topic), PartitionID(wanted.partition))
                guard let partition = leaderPartition(key) else {
                    result.errorCode = missingPartitionError(key)
                    result.highWatermark = -1
                    read.hasError = true
                    topicResult.partitions.append(result)
                    continue
                }
                let hw = partition.highWatermark
                result.highWatermark = hw.rawValue
                result.lastStableOffset = hw.rawValue
                result.logStartOffset = partition.logStartOffset.rawValue
                if version < 4 {
                    result.errorCode = KafkaError.unsupportedVersion
                    read.hasError = true
                } else if partition.isOffline {
                    // As Kafka answers for a partition on an offline log dir (clients retry and
                    // refresh metadata); the log stays offline until the broker restarts.
                    result.errorCode = KafkaError.kafkaStorageError
                    read.hasError = true
                } else if version >= 9, let code = leaderEpochError(requested: wanted.currentLeaderEpoch, partition: partition) {
                    result.errorCode = code
                    read.hasError = true
                } else {
                    let limit = min(Int(max(0, wanted.partitionMaxBytes)), remaining)
                    switch partition.read(from: Offset(wanted.fetchOffset), maxBytes: limit, upperBound: hw,
                                              minOneBatch: minOneBatch) {
                    case .offsetOutOfRange:
                        result.errorCode = KafkaError.offsetOutOfRange
                        read.hasError = true
                    case .unreadable:
                        // Damaged bytes at or before the fetch offset: an error the consumer
                        // surfaces, never an empty answer (it would wait forever) and never the
                        // batches after the damage (offsets would be skipped silently).
                        result.errorCode = KafkaError.corruptMessage
                        read.hasError = true
                    case .records(let slice):
                        if !slice.isEmpty {
                            result.records = ResponseRecords(source: StoredRecords(slice: slice))
                            read.bytes += slice.byteCount
                            remaining = max(0, remaining - slice.byteCount)
                            minOneBatch = false
                        }
                    }
                }
                topicResult.partitions.append(result)
            }
            read.response.responses.append(topicResult)
        }
        return read
    }
}
