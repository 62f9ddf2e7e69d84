import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import Replication
import RunnelCore

// Fetch (key 1), versions 0-12 (v12 flexible). Stored batches are returned as stored (no decode),
// copied once, from the segment mapping straight into the outgoing response buffer (the
// response's `ResponseRecords` hold the `LogSlice` until it is encoded, on this owner loop, in
// `send`; the buffer is sized up front so it never grows), starting with the batch that holds the
// fetch offset, never past the high watermark. Limits: max_bytes for the whole response (v3+)
// and partition_max_bytes per partition, except that the first partition with data returns at
// least one whole batch so a consumer always progresses (Kafka's rule).
// Long poll: when fewer than min_bytes are available the request parks until appends (a
// follower's) or high-watermark moves (a consumer's) bring enough or max_wait_ms passes (capped
// at Limits.fetchMaxWaitMsMax); no timer polls. Errors per partition: OFFSET_OUT_OF_RANGE below the log start or past the log end,
// UNKNOWN_TOPIC_OR_PARTITION, FENCED/UNKNOWN_LEADER_EPOCH (v9+), KAFKA_STORAGE_ERROR for an
// offline log, CORRUPT_MESSAGE where the stored bytes cannot be walked (damaged at rest).
// Fetch sessions (KIP-227) are declined: the response's session id is 0, which tells the client
// to keep sending full fetches; a request naming a session id gets FETCH_SESSION_ID_NOT_FOUND.
// v0-3 would need message-format down-conversion: each partition gets UNSUPPORTED_VERSION.
// Follower fetches (replica_id >= 0, a broker replicating the partition) read up to the log end,
// not the high watermark; the fetch offset is the follower's position (everything below it is
// on that replica, fsynced with runnel.acks.all.fsync) and moves the high watermark and the ISR.
// A follower whose last fetched epoch ends earlier in the leader's log (or is older than the
// leader's nearest epoch) gets the diverging epoch (v12, KIP-320) and no records: it truncates
// and fetches again. Not implemented: read_committed filtering (nothing is transactional yet),
// preferred read replicas.
// With ACLs on: a consumer's topic without READ, or every topic of a follower without
// CLUSTER_ACTION on the cluster, gets TOPIC_AUTHORIZATION_FAILED (29) per partition.
extension Broker {
    func handleFetch(_ request: FetchRequest, _ context: RequestContext, _ respond: Responder<FetchResponse>) {
        if request.sessionId != 0 {
            var response = FetchResponse()
            response.errorCode = KafkaErrorCode.fetchSessionIDNotFound.rawValue
            respond.send(response)
            return
        }
        let keys = request.topics.flatMap { t in t.partitions.map { TopicPartition(TopicName(t.topic), PartitionID($0.partition)) } }
        let minBytes = Int(max(0, request.minBytes))
        let maxWaitMs = min(max(0, request.maxWaitMs), Limits.fetchMaxWaitMsMax)
        let replica = request.replicaId >= 0 ? BrokerID(request.replicaId) : nil
        let denied = deniedFetchTopics(request, replica: replica, context)
        let first = readFetch(request, version: context.version, replica: replica, firstPass: true, denied: denied)
        if first.bytes >= minBytes || maxWaitMs == 0 || first.hasError || shuttingDown || keys.isEmpty {
            respond.send(first.response, reservingCapacity: first.encodedSizeEstimate)
            return
        }
        let waiter = FetchWaiters.Waiter(isReplica: replica != nil) { [unowned self] force in
            let attempt = readFetch(request, version: context.version, replica: replica, firstPass: false, denied: denied)
            guard force || attempt.bytes >= minBytes || attempt.hasError else { return false }
            respond.send(attempt.response, reservingCapacity: attempt.encodedSizeEstimate)
            return true
        }
        fetchWaiters.park(waiter, on: keys, maxWait: .milliseconds(Int64(maxWaitMs)), loop: loop) { [unowned self] w in
            fetchWaiters.expire(w)
        }
    }

    /// The topics this request may not read: with ACLs on, a consumer needs READ on each topic, a
    /// follower CLUSTER_ACTION on the cluster (else every topic is refused), as in Kafka.
    private func deniedFetchTopics(_ request: FetchRequest, replica: BrokerID?, _ context: RequestContext) -> Set<String> {
        guard authorizer.isEnabled else { return [] }
        if replica != nil {
            return authorizeCluster(.clusterAction, context) ? [] : Set(request.topics.map(\.topic))
        }
        return Set(request.topics.map(\.topic).filter { !authorize(.read, .topic, $0, context) })
    }

    /// Stored batches written into the response when it is encoded (one copy).
    struct StoredRecords: RecordsSource, @unchecked Sendable {
        let slice: LogSlice
        /// The topic's bytes-out counter (thread-safe), counted when the bytes are really sent.
        var metrics: TopicMetrics? = nil
        var byteCount: Int { slice.byteCount }
        func write(to buffer: inout ByteBuffer) {
            slice.write(to: &buffer)
            metrics?.sent(bytes: slice.byteCount)
        }
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

    /// One pass over the requested partitions, reading what is there now. For a follower
    /// (`replica`), the first pass also records its positions.
    func readFetch(_ request: FetchRequest, version: Int16, replica: BrokerID?, firstPass: Bool,
                   denied: Set<String> = []) -> FetchRead {
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
                if denied.contains(topic.topic) {
                    result.errorCode = KafkaErrorCode.topicAuthorizationFailed.rawValue
                    result.highWatermark = -1
                    read.hasError = true
                    topicResult.partitions.append(result)
                    continue
                }
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
                    result.errorCode = KafkaErrorCode.unsupportedVersion.rawValue
                    read.hasError = true
                } else if partition.isOffline {
                    // As Kafka answers for a partition on an offline log dir (clients retry and
                    // refresh metadata); the log stays offline until the broker restarts.
                    result.errorCode = KafkaErrorCode.kafkaStorageError.rawValue
                    read.hasError = true
                } else if version >= 9, let code = leaderEpochError(requested: wanted.currentLeaderEpoch, partition: partition) {
                    result.errorCode = code
                    read.hasError = true
                } else if replica != nil, let diverging = divergence(wanted, partition: partition, version: version) {
                    result.divergingEpoch.epoch = diverging.epoch.rawValue
                    result.divergingEpoch.endOffset = diverging.endOffset.rawValue
                    read.hasError = true   // answer now: the follower truncates before it fetches again
                } else {
                    if let replica, firstPass, wanted.fetchOffset <= partition.logEndOffset.rawValue {
                        if version >= 5 { followerReportedLogStart(replica, Offset(wanted.logStartOffset), key, partition) }
                        replicaFetched(replica, partition: partition, position: Offset(wanted.fetchOffset))
                        result.highWatermark = partition.highWatermark.rawValue
                    }
                    let limit = min(Int(max(0, wanted.partitionMaxBytes)), remaining)
                    switch partition.read(from: Offset(wanted.fetchOffset), maxBytes: limit,
                                          upperBound: replica == nil ? hw : nil, minOneBatch: minOneBatch) {
                    case .offsetOutOfRange:
                        result.errorCode = KafkaErrorCode.offsetOutOfRange.rawValue
                        read.hasError = true
                    case .unreadable:
                        // Damaged bytes at or before the fetch offset: an error the consumer
                        // surfaces, never an empty answer (it would wait forever) and never the
                        // batches after the damage (offsets would be skipped silently).
                        result.errorCode = KafkaErrorCode.corruptMessage.rawValue
                        read.hasError = true
                    case .records(let slice) where version < 10 && Self.holdsZstd(slice):
                        // Kafka's rule (KIP-110): a consumer that fetches below v10 may not
                        // know zstd, so it gets an error rather than batches it cannot read.
                        result.errorCode = KafkaErrorCode.unsupportedCompressionType.rawValue
                        read.hasError = true
                    case .records(let slice):
                        if !slice.isEmpty {
                            result.records = ResponseRecords(source: StoredRecords(slice: slice, metrics: partition.metrics))
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

extension Broker {
    /// Whether any batch of `slice` is zstd-compressed (its attributes' codec bits).
    static func holdsZstd(_ slice: LogSlice) -> Bool {
        slice.withUnsafeBytes { bytes in
            var at = 0
            while at + RecordBatchHeader.Field.attributes + 2 <= bytes.count {
                let length = Int(bytes.loadBigEndian(Int32.self, at: at + RecordBatchHeader.Field.batchLength))
                let attributes = bytes.loadBigEndian(Int16.self, at: at + RecordBatchHeader.Field.attributes)
                if attributes & Compression.attributeMask == Compression.zstd.rawValue { return true }
                guard length > 0 else { return false }
                at += RecordBatchHeader.logOverhead + length
            }
            return false
        }
    }

    /// Whether a follower's log diverges from this leader's (KIP-320): its last fetched epoch
    /// ends earlier here than its fetch offset, or this log knows only an older epoch. Then the
    /// answer names the epoch and end offset the follower truncates to.
    func divergence(_ wanted: FetchRequest.FetchPartition, partition: Partition, version: Int16) -> (epoch: LeaderEpoch, endOffset: Offset)? {
        guard version >= 12, wanted.lastFetchedEpoch >= 0,
              let end = partition.endOffset(for: LeaderEpoch(wanted.lastFetchedEpoch)) else { return nil }
        guard end.epoch.rawValue < wanted.lastFetchedEpoch || end.endOffset.rawValue < wanted.fetchOffset else { return nil }
        return end
    }
}
