import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import Replication
import RunnelCore

// Produce (key 0), versions 0-9 (v9+ flexible). Per partition: every batch is validated (length,
// magic 2, CRC-32C, record count and offset deltas, records really parse — compressed ones are
// decompressed for it, at most Limits.batchDecompressedBytesMax, any of the five codecs; zstd
// before Produce v7 → UNSUPPORTED_COMPRESSION_TYPE 76, as in Kafka) before anything is appended;
// a topic whose compression.type names another codec than the batch's stores it recompressed
// (D114); larger than max.message.bytes (after recompression too) → MESSAGE_TOO_LARGE (10). Idempotent batches are checked against the
// producer's last 5 batches: a retried duplicate gets its original base offset, a gap gets
// OUT_OF_ORDER_SEQUENCE_NUMBER (45), an old epoch INVALID_PRODUCER_EPOCH (47). Offsets are
// assigned from the log end and the leader epoch stamped (both outside the CRC); LogAppendTime
// topics get the broker's time (and a new CRC).
// acks=0: no response. acks=1: answered after the leader's append. acks=all (-1): refused with
// NOT_ENOUGH_REPLICAS (19) while the ISR is smaller than min.insync.replicas; otherwise answered
// once the high watermark passes the batches — every in-sync replica holds them, fsynced while
// runnel.acks.all.fsync=true (group commit here, one fsync per fetch round on followers) — or
// with NOT_ENOUGH_REPLICAS_AFTER_APPEND (20) when the ISR shrank below the minimum meanwhile,
// NOT_LEADER_OR_FOLLOWER when leadership moved first, REQUEST_TIMED_OUT (7) at the request's
// timeout, KAFKA_STORAGE_ERROR when the leader's own fsync failed.
// With ACLs on, a topic the principal may not WRITE gets TOPIC_AUTHORIZATION_FAILED (29) for
// each of its partitions, as in Kafka.
// Unknown topics are not auto-created here (Kafka creates them on Metadata).
// Not implemented: transactional batches (→ INVALID_TXN_STATE 48), message formats v0/v1
// (→ INVALID_RECORD 87), so Produce v0-2 only ever fails per partition.
extension Broker {
    func handleProduce(_ request: ProduceRequest, _ context: RequestContext, _ respond: Responder<ProduceResponse>) {
        let now = Clock.now()
        var response = ProduceResponse()
        var ackWaits: [(partition: Partition, end: Offset, minISR: Int, fsync: Bool)] = []
        let acksValid = request.acks == 0 || request.acks == 1 || request.acks == -1
        for topic in request.topicData {
            var topicResult = ProduceResponse.TopicProduceResponse()
            topicResult.name = topic.name
            let topicName = TopicName(topic.name)
            let overrides = image.topic(topicName)?.configs ?? [:]
            guard authorize(.write, .topic, topic.name, context) else {
                topicResult.partitionResponses = topic.partitionData.map {
                    .init(index: $0.index, errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue, baseOffset: -1)
                }
                response.responses.append(topicResult)
                continue
            }
            for data in topic.partitionData {
                var result = ProduceResponse.PartitionProduceResponse()
                result.index = data.index
                let key = TopicPartition(topicName, PartitionID(data.index))
                if !acksValid {
                    result.errorCode = KafkaErrorCode.invalidRequiredAcks.rawValue
                } else if let partition = leaderPartition(key) {
                    let minISR = LogConfigs.minInsyncReplicas(overrides, broker: config)
                    if request.acks == -1, let state = partition.leaderState, !state.acceptsAcksAll(minISR: minISR) {
                        result.errorCode = KafkaErrorCode.notEnoughReplicas.rawValue
                        result.errorMessage = "the ISR \(state.isr) has fewer than min.insync.replicas=\(minISR) members"
                        result.baseOffset = -1
                        topicResult.partitionResponses.append(result)
                        continue
                    }
                    let outcome = append(data.records, to: partition, overrides: overrides, now: now,
                                         produceVersion: context.version)
                    result.errorCode = outcome.errorCode
                    result.errorMessage = outcome.errorMessage
                    result.baseOffset = outcome.baseOffset
                    result.logAppendTimeMs = outcome.logAppendTime
                    result.logStartOffset = partition.logStartOffset.rawValue
                    if outcome.errorCode == KafkaErrorCode.none.rawValue, let end = outcome.durableEnd, request.acks == -1 {
                        ackWaits.append((partition, end, minISR, LogConfigs.acksAllFsync(overrides, broker: config)))
                    }
                    if outcome.appended { fetchWaiters.notify(key, .appended) }
                } else {
                    result.errorCode = missingPartitionError(key)
                    result.baseOffset = -1
                }
                topicResult.partitionResponses.append(result)
            }
            response.responses.append(topicResult)
        }
        if request.acks == 0 {
            respond.noResponse()
            return
        }
        guard !ackWaits.isEmpty else {
            respond.send(response)
            return
        }
        waitForAcks(ackWaits, timeoutMs: Int64(request.timeoutMs), response: response, respond: respond)
    }

    /// Answers once every partition's batches are acknowledged by its ISR (the high watermark
    /// passed them). With fsync the leader's own fsync is awaited first, so a failed fsync turns
    /// that partition's result into KAFKA_STORAGE_ERROR at once (the producer retries; nothing
    /// unsynced is acknowledged).
    private func waitForAcks(_ waits: [(partition: Partition, end: Offset, minISR: Int, fsync: Bool)], timeoutMs: Int64,
                             response: ProduceResponse, respond: Responder<ProduceResponse>) {
        var response = response
        var pending = waits.count
        func finish(_ partition: Partition, _ code: KafkaErrorCode) {
            if code != .none {
                let topic = partition.topic.rawValue
                let index = partition.index.rawValue
                for t in response.responses.indices where response.responses[t].name == topic {
                    for p in response.responses[t].partitionResponses.indices
                    where response.responses[t].partitionResponses[p].index == index {
                        response.responses[t].partitionResponses[p].errorCode = code.rawValue
                        response.responses[t].partitionResponses[p].baseOffset = -1
                    }
                }
            }
            pending -= 1
            if pending == 0 { respond.send(response) }
        }
        for wait in waits {
            let awaitAcks = { wait.partition.waitForAcks(end: wait.end, minISR: wait.minISR, timeoutMs: timeoutMs) { finish(wait.partition, $0) } }
            guard wait.fsync else { awaitAcks(); continue }
            wait.partition.groupCommit.waitDurable(end: wait.end) { result in
                if case .failure = result { return finish(wait.partition, .kafkaStorageError) }
                awaitAcks()
            }
        }
    }

    struct AppendOutcome {
        var errorCode: Int16 = KafkaErrorCode.none.rawValue
        var errorMessage: String? = nil
        var baseOffset: Int64 = -1
        var logAppendTime: Int64 = -1
        /// One past the last offset appended (what acks=all waits for); nil if nothing was.
        var durableEnd: Offset? = nil
        var appended = false

        static func failure(_ code: Int16, _ message: String) -> AppendOutcome {
            AppendOutcome(errorCode: code, errorMessage: message)
        }
    }

    /// Validates and appends one partition's records. Nothing is appended unless every batch is
    /// valid and passes the idempotence checks.
    func append(_ records: ByteBuffer?, to partition: Partition, overrides: [String: String], now: TimestampMs,
                produceVersion: Int16 = 9) -> AppendOutcome {
        guard let records, records.readableBytes > 0 else {
            return .failure(KafkaErrorCode.corruptMessage.rawValue, "no records")
        }
        let maxBytes = LogConfigs.maxMessageBytes(overrides, broker: config)
        let batches: [ValidatedBatch]
        do {
            batches = try RecordBatchValidator.validateProduce(records, decompressedBytesMax: Limits.batchDecompressedBytesMax,
                                                               recompression: topicRecompression(overrides))
        } catch {
            return .failure(error.kafkaErrorCode, error.description)
        }
        // Kafka's ProduceRequest check: zstd needs Produce v7+ (KIP-110), also when the topic
        // would recompress the batch anyway.
        if produceVersion < 7, batches.contains(where: { $0.header.compression == Int(Compression.zstd.rawValue) }) {
            return .failure(KafkaErrorCode.unsupportedCompressionType.rawValue,
                            "zstd-compressed batches need Produce v7 or later (this request is v\(produceVersion))")
        }
        for batch in batches where batch.range.count > maxBytes || (batch.rebuilt?.bytes.readableBytes ?? 0) > maxBytes {
            let size = batch.rebuilt?.bytes.readableBytes ?? batch.range.count
            let recompressed = batch.rebuilt.map { _ in " after recompression to the topic's compression.type" } ?? ""
            return .failure(KafkaErrorCode.messageTooLarge.rawValue,
                            "batch of \(max(size, batch.range.count)) bytes\(recompressed) exceeds max.message.bytes \(maxBytes)")
        }
        // Idempotence: all batches must pass before any is appended.
        var duplicateOf: ProducerStateTable.BatchMetadata?
        for batch in batches {
            let h = batch.header
            if h.isTransactional {
                return .failure(KafkaErrorCode.invalidTxnState.rawValue, "transactional batches are not supported (transactions are not implemented)")
            }
            guard h.producerId >= 0 else { continue }
            switch partition.producers.check(producerId: h.producerId, epoch: h.producerEpoch,
                                             firstSequence: h.baseSequence,
                                             lastSequence: h.baseSequence &+ h.lastOffsetDelta) {
            case .append: break
            case .duplicate(let original):
                guard batches.count == 1 else {
                    return .failure(KafkaErrorCode.invalidRecord.rawValue, "a duplicate batch must be sent alone")
                }
                duplicateOf = original
            case .refuse(let code, let message):
                return .failure(code, message)
            }
        }
        if let original = duplicateOf {
            return AppendOutcome(baseOffset: original.baseOffset.rawValue, logAppendTime: original.logAppendTimeMs,
                                 durableEnd: partition.logEndOffset)
        }
        var outcome = AppendOutcome()
        do {
            // Read-only access: the records are a slice of the request frame, and the log copies
            // them into the segment once and stamps the stored copy (no private copy here).
            try records.withUnsafeReadableBytes { bytes in
                for (i, batch) in batches.enumerated() {
                    let appended: PartitionLog.AppendResult
                    if let rebuilt = batch.rebuilt {
                        appended = try rebuilt.bytes.withUnsafeReadableBytes { rebuiltBytes in
                            try partition.append(batch: rebuiltBytes, header: rebuilt.header, now: now)
                        }
                    } else {
                        let slice = UnsafeRawBufferPointer(rebasing: bytes[batch.range])
                        appended = try partition.append(batch: slice, header: batch.header, now: now)
                    }
                    if i == 0 {
                        outcome.baseOffset = appended.baseOffset.rawValue
                        outcome.logAppendTime = appended.logAppendTime.rawValue
                    }
                    outcome.durableEnd = appended.lastOffset + 1
                    outcome.appended = true
                }
            }
        } catch let error as StorageError {
            logger.error("append to \(partition.directory): \(error)")
            if case .batchTooLarge = error {
                return .failure(KafkaErrorCode.recordListTooLarge.rawValue, error.description)
            }
            outcome.errorCode = KafkaErrorCode.kafkaStorageError.rawValue
            outcome.errorMessage = error.description
        } catch {
            outcome.errorCode = KafkaErrorCode.unknownServerError.rawValue
            outcome.errorMessage = "\(error)"
        }
        return outcome
    }

    /// The topic's `compression.type` as a recompression target: nil for `producer` (store batches
    /// as sent, the default), else the codec (`uncompressed` = none) and its level key
    /// (`compression.gzip.level`, `compression.lz4.level`, `compression.zstd.level`).
    func topicRecompression(_ overrides: [String: String]) -> Recompression? {
        guard let name = LogConfigs.effective("compression.type", overrides: overrides, broker: config),
              name != "producer", let codec = Compression(name: name) else { return nil }
        let levelKey: String?
        switch codec {
        case .gzip: levelKey = "compression.gzip.level"
        case .lz4: levelKey = "compression.lz4.level"
        case .zstd: levelKey = "compression.zstd.level"
        case .none, .snappy: levelKey = nil
        }
        let level = levelKey.flatMap { LogConfigs.effective($0, overrides: overrides, broker: config) }.flatMap { Int32($0) }
        return Recompression(codec: codec, level: level)
    }
}
