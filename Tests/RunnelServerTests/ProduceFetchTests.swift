import KafkaMessages
import KafkaWire
import NIOCore
import RunnelCore
import Testing
@testable import RunnelServer

@Suite struct ProduceFetchTests {
    func batch(_ values: [String], timestamp: Int64 = 1_000, compression: Compression = .none,
               producerId: Int64 = -1, epoch: Int16 = -1, sequence: Int32 = -1) -> ByteBuffer {
        var b = RecordBatchBuilder(compression: compression, producerId: ProducerID(producerId), producerEpoch: epoch,
                                   baseSequence: sequence)
        for v in values { b.append(timestamp: TimestampMs(timestamp), key: nil, value: ByteBuffer(string: v)) }
        return b.finish()
    }

    func produce(_ h: BrokerHarness, topic: String, partition: Int32 = 0, records: ByteBuffer, acks: Int16 = -1,
                 version: Int16 = 9) throws -> ProduceResponse.PartitionProduceResponse? {
        let request = ProduceRequest(transactionalId: nil, acks: acks, timeoutMs: 5000, topicData: [
            .init(name: topic, partitionData: [.init(index: partition, records: records)]),
        ])
        return try h.send(request, version: version)?.responses.first?.partitionResponses.first
    }

    func fetch(_ h: BrokerHarness, topic: String, offset: Int64, maxWaitMs: Int32 = 0, minBytes: Int32 = 0,
               partitionMaxBytes: Int32 = 1 << 20, version: Int16 = 12) throws -> FetchResponse.PartitionData {
        var request = FetchRequest()
        request.maxWaitMs = maxWaitMs
        request.minBytes = minBytes
        request.topics = [.init(topic: topic, partitions: [.init(partition: 0, fetchOffset: offset, partitionMaxBytes: partitionMaxBytes)])]
        return try #require(try h.send(request, version: version)?.responses.first?.partitions.first)
    }

    func values(_ data: FetchResponse.PartitionData) throws -> [(Int64, String)] {
        guard let records = data.records?.buffer else { return [] }
        return try RecordBatchDecoder.decodeAll(records, decompressedBytesMax: 1 << 20).flatMap { batch in
            batch.records.map { ($0.offset.rawValue, String(buffer: $0.value!)) }
        }
    }

    func createTopic(_ h: BrokerHarness, _ name: String, configs: [String: String] = [:]) throws {
        var t = CreateTopicsRequest.CreatableTopic(name: name, numPartitions: 1, replicationFactor: 1)
        t.configs = configs.map { .init(name: $0.key, value: $0.value) }
        let r = try #require(try h.send(CreateTopicsRequest(topics: [t]), version: 7))
        #expect(r.topics.first?.errorCode == 0)
    }

    @Test(arguments: [Int16(3), 7, 8, 9])
    func producedBatchesComeBackAsStoredWithContiguousOffsets(version: Int16) throws {
        let h = try BrokerHarness()
        try createTopic(h, "t")
        let first = try #require(try produce(h, topic: "t", records: batch(["a", "b", "c"]), version: version))
        #expect(first.errorCode == 0 && first.baseOffset == 0)
        let second = try #require(try produce(h, topic: "t", records: batch(["d", "e"], compression: .gzip), version: version))
        #expect(second.errorCode == 0 && second.baseOffset == 3)
        let data = try fetch(h, topic: "t", offset: 0)
        #expect(data.highWatermark == 5 && data.logStartOffset == 0)
        let got = try values(data)
        #expect(got.map(\.0) == [0, 1, 2, 3, 4], "\(got) from \(data.records?.byteCount ?? -1) bytes")
        #expect(got.map(\.1) == ["a", "b", "c", "d", "e"])
        // The gzip batch is stored compressed, exactly as sent (codec bits kept).
        let fromThree = try fetch(h, topic: "t", offset: 3)
        let stored = try #require(fromThree.records?.buffer)
        #expect(stored.getInteger(at: stored.readerIndex + RecordBatchHeader.Field.attributes, as: Int16.self)! & 7 == 1)
    }

    @Test func acksZeroSendsNoResponseAndAcksOneAnswers() throws {
        let h = try BrokerHarness()
        try createTopic(h, "t")
        #expect(try produce(h, topic: "t", records: batch(["x"]), acks: 0) == nil)
        #expect(try produce(h, topic: "t", records: batch(["y"]), acks: 1)?.baseOffset == 1)
        #expect(try produce(h, topic: "t", records: batch(["z"]), acks: 2)?.errorCode == 21)
    }

    @Test func acksAllIsAnsweredOnlyOnceDurable() throws {
        let h = try BrokerHarness()
        try createTopic(h, "t")
        let r = try #require(try produce(h, topic: "t", records: batch(["x", "y"]), acks: -1))
        #expect(r.errorCode == 0)
        let recoveryPoint = try h.onLoop { $0.partitions.values.first!.recoveryPoint }
        #expect(recoveryPoint == Offset(2))
    }

    @Test func badBatchesAreRefusedWithKafkasCodesAndNothingIsStored() throws {
        let h = try BrokerHarness(overrides: ["message.max.bytes=200"])
        try createTopic(h, "t")
        var corrupt = batch(["a"])
        corrupt.setInteger(corrupt.getInteger(at: corrupt.writerIndex - 1, as: UInt8.self)! ^ 0xFF, at: corrupt.writerIndex - 1)
        #expect(try produce(h, topic: "t", records: corrupt)?.errorCode == 2)
        var snappy = batch(["a"])
        snappy.setInteger(Int16(2), at: RecordBatchHeader.Field.attributes)
        #expect([2, 76].contains(try produce(h, topic: "t", records: snappy)?.errorCode))   // codec bits are under the CRC
        #expect(try produce(h, topic: "t", records: batch([String(repeating: "x", count: 300)]))?.errorCode == 10)
        #expect(try produce(h, topic: "missing", records: batch(["a"]))?.errorCode == 3)
        #expect(try fetch(h, topic: "t", offset: 0).highWatermark == 0)
    }

    @Test func unassignedCodecAndZstdBeforeV7AreRefusedWith76() throws {
        let h = try BrokerHarness()
        try createTopic(h, "t")
        var unassigned = batch(["a"])
        unassigned.setInteger(Int16(6), at: RecordBatchHeader.Field.attributes)
        // Recompute the CRC so only the codec is wrong.
        unassigned.withUnsafeMutableReadableBytes { bytes in
            let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[RecordBatchHeader.crcCoverageStart...]))
            bytes.storeBigEndian(crc, at: RecordBatchHeader.Field.crc)
        }
        #expect(try produce(h, topic: "t", records: unassigned)?.errorCode == 76)
        // Kafka's rule (KIP-110): zstd needs Produce v7.
        let zstd = batch(["z"], compression: .zstd)
        let old = try #require(try produce(h, topic: "t", records: zstd, version: 3))
        #expect(old.errorCode == 76)
        #expect(try produce(h, topic: "t", records: zstd, version: 7)?.errorCode == 0)
        #expect(try values(fetch(h, topic: "t", offset: 0)).map(\.1) == ["z"])
        // And a fetch below v10 that would return a zstd batch (KIP-110) gets 76, not the batch.
        let oldFetch = try fetch(h, topic: "t", offset: 0, version: 9)
        #expect(oldFetch.errorCode == 76)
        #expect((oldFetch.records?.byteCount ?? 0) == 0)
        #expect(try fetch(h, topic: "t", offset: 0, version: 10).errorCode == 0)
    }

    /// compression.type: a batch in another codec is stored recompressed, one in the topic's
    /// codec byte for byte; offsets continue; a fetch returns the stored bytes.
    @Test(arguments: [("zstd", Compression.gzip), ("uncompressed", .lz4), ("snappy", .none), ("lz4", .lz4)])
    func topicCompressionTypeRecompressesOnlyOtherCodecs(topicCodec: String, sent: Compression) throws {
        let h = try BrokerHarness()
        try createTopic(h, "t", configs: ["compression.type": topicCodec])
        let first = batch(["a", "b", "c"], compression: sent)
        let second = batch(["d"], compression: sent)
        #expect(try produce(h, topic: "t", records: first)?.errorCode == 0)
        #expect(try produce(h, topic: "t", records: second)?.baseOffset == 3)
        let fetched = try #require(try fetch(h, topic: "t", offset: 0).records?.buffer)
        let batches = try RecordBatchDecoder.decodeAll(fetched, decompressedBytesMax: 1 << 20)
        let target = try #require(Compression(name: topicCodec))
        #expect(batches.map(\.header.compression) == [Int(target.rawValue), Int(target.rawValue)])
        #expect(batches.flatMap(\.records).map { String(buffer: $0.value!) } == ["a", "b", "c", "d"])
        if target == sent {
            // Stored as sent: the same bytes after the broker's stamps (baseOffset, leader epoch).
            #expect(Array(fetched.readableBytesView.dropFirst(RecordBatchHeader.Field.magic).prefix(first.readableBytes - RecordBatchHeader.Field.magic))
                    == Array(first.readableBytesView.dropFirst(RecordBatchHeader.Field.magic)))
        }
    }

    @Test func recompressionAboveMaxMessageBytesIsMessageTooLarge() throws {
        let h = try BrokerHarness()
        // 20 records of 60 × "x": a small zstd batch, about 1,400 bytes uncompressed.
        try createTopic(h, "t", configs: ["compression.type": "uncompressed", "max.message.bytes": "1200"])
        let sent = batch(Array(repeating: String(repeating: "x", count: 60), count: 20), compression: .zstd)
        #expect(sent.readableBytes < 1200)
        let answer = try #require(try produce(h, topic: "t", records: sent))
        #expect(answer.errorCode == 10)
        #expect(answer.errorMessage?.contains("recompression") == true, "\(answer.errorMessage ?? "")")
        #expect(try fetch(h, topic: "t", offset: 0).highWatermark == 0)
    }

    @Test func idempotentRetriesGetTheOriginalOffsetAndGapsAreRefused() throws {
        let h = try BrokerHarness()
        try createTopic(h, "t")
        let pid = try #require(try h.send(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 0), version: 4))
        #expect(pid.errorCode == 0 && pid.producerId >= 0 && pid.producerEpoch == 0)
        let b0 = batch(["a", "b"], producerId: pid.producerId, epoch: 0, sequence: 0)
        #expect(try produce(h, topic: "t", records: b0)?.baseOffset == 0)
        #expect(try produce(h, topic: "t", records: batch(["c"], producerId: pid.producerId, epoch: 0, sequence: 2))?.baseOffset == 2)
        // The first batch again (a retry after a lost response): same offset, not stored twice.
        #expect(try produce(h, topic: "t", records: b0)?.baseOffset == 0)
        #expect(try produce(h, topic: "t", records: batch(["e"], producerId: pid.producerId, epoch: 0, sequence: 9))?.errorCode == 45)
        #expect(try fetch(h, topic: "t", offset: 0).highWatermark == 3)
        // Epoch bump (KIP-360) keeps the id.
        var bump = InitProducerIdRequest()
        bump.producerId = pid.producerId
        bump.producerEpoch = 0
        let bumped = try #require(try h.send(bump, version: 4))
        #expect(bumped.producerId == pid.producerId && bumped.producerEpoch == 1)
        // The partition learns the new epoch from the producer's first batch with it; after that
        // the old epoch is fenced.
        #expect(try produce(h, topic: "t", records: batch(["f"], producerId: pid.producerId, epoch: 1, sequence: 0))?.errorCode == 0)
        #expect(try produce(h, topic: "t", records: batch(["g"], producerId: pid.producerId, epoch: 0, sequence: 3))?.errorCode == 47)
    }

    @Test func producerIDsAreNotReusedAfterARestart() throws {
        let h = try BrokerHarness()
        let first = try #require(try h.send(InitProducerIdRequest(transactionalId: nil), version: 1)).producerId
        try h.close()
        try h.open()
        let second = try #require(try h.send(InitProducerIdRequest(transactionalId: nil), version: 1)).producerId
        #expect(second > first)
    }

    @Test func fetchOutsideTheLogIsOutOfRange() throws {
        let h = try BrokerHarness()
        try createTopic(h, "t")
        _ = try produce(h, topic: "t", records: batch(["a"]))
        #expect(try fetch(h, topic: "t", offset: 5).errorCode == 1)
        #expect(try fetch(h, topic: "t", offset: -1).errorCode == 1)
        #expect(try fetch(h, topic: "t", offset: 1).errorCode == 0)   // the log end: empty, not an error
    }

    @Test func aLongPollIsWokenByAnAppend() throws {
        let h = try BrokerHarness()
        try createTopic(h, "t")
        var request = FetchRequest()
        request.maxWaitMs = 30_000
        request.minBytes = 1
        request.topics = [.init(topic: "t", partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20)])]
        let broker = h.broker!
        let parked = broker.loop.makePromise(of: DispatchResult.self)
        let frame = h.frame(request, version: 12)
        broker.loop.execute {
            broker.dispatch(frame: frame, connection: ConnectionInfo(id: 2, remote: "poller")) { parked.succeed($0) }
        }
        // Still parked: the request has a 30 s deadline and nothing to return.
        let stillParked = try broker.loop.submit { broker.fetchWaiters.isEmpty == false }.wait()
        #expect(stillParked)
        _ = try produce(h, topic: "t", records: batch(["wake"]), acks: 1)
        guard case .respond(var body) = try parked.futureResult.wait() else { Issue.record("no response"); return }
        _ = try ResponseHeader(from: &body, headerVersion: 1)
        let response = try FetchResponse(from: &body, version: 12)
        #expect(try values(response.responses[0].partitions[0]).map(\.1) == ["wake"])
    }

    @Test func theFirstBatchIsReturnedWholeEvenAbovePartitionMaxBytes() throws {
        let h = try BrokerHarness()
        try createTopic(h, "t")
        _ = try produce(h, topic: "t", records: batch([String(repeating: "x", count: 500)]))
        _ = try produce(h, topic: "t", records: batch(["small"]))
        let data = try fetch(h, topic: "t", offset: 0, partitionMaxBytes: 10)
        #expect(try values(data).map(\.0) == [0])
    }

    @Test func logAppendTimeTopicsGetTheBrokersTime() throws {
        let h = try BrokerHarness()
        try createTopic(h, "t", configs: ["message.timestamp.type": "LogAppendTime"])
        let r = try #require(try produce(h, topic: "t", records: batch(["a"], timestamp: 1)))
        #expect(r.logAppendTimeMs > 1_600_000_000_000)
        let data = try fetch(h, topic: "t", offset: 0)
        let decoded = try RecordBatchDecoder.decodeAll(try #require(data.records?.buffer), decompressedBytesMax: 1 << 20)
        #expect(decoded[0].header.isLogAppendTime)
        #expect(decoded[0].records[0].timestamp.rawValue == r.logAppendTimeMs)
    }

    @Test func listOffsetsEarliestLatestAndByTimestamp() throws {
        let h = try BrokerHarness()
        try createTopic(h, "t")
        _ = try produce(h, topic: "t", records: batch(["a", "b"], timestamp: 1_000))
        _ = try produce(h, topic: "t", records: batch(["c"], timestamp: 2_000))
        func list(_ ts: Int64, version: Int16 = 6) throws -> ListOffsetsResponse.ListOffsetsPartitionResponse {
            let r = try #require(try h.send(ListOffsetsRequest(replicaId: -1, topics: [
                .init(name: "t", partitions: [.init(partitionIndex: 0, timestamp: ts)])]), version: version))
            return r.topics[0].partitions[0]
        }
        #expect(try list(-2).offset == 0)
        #expect(try list(-1).offset == 3)
        #expect(try list(1_500).offset == 2)
        #expect(try list(1_500).timestamp == 2_000)
        #expect(try list(9_999).offset == -1)
        #expect(try list(-1, version: 0).oldStyleOffsets == [3])
    }

    /// Inside a compressed batch the answer is the exact record, as in Kafka, not the batch start.
    @Test func listOffsetsByTimestampOpensCompressedBatches() throws {
        let h = try BrokerHarness()
        try createTopic(h, "t")
        var b = RecordBatchBuilder(compression: .gzip)
        for i in 0..<10 { b.append(timestamp: TimestampMs(1_000 + Int64(i) * 10), key: nil, value: ByteBuffer(string: "v\(i)")) }
        _ = try produce(h, topic: "t", records: b.finish())
        let r = try #require(try h.send(ListOffsetsRequest(replicaId: -1, topics: [
            .init(name: "t", partitions: [.init(partitionIndex: 0, timestamp: 1_045)])]), version: 6))
        #expect(r.topics[0].partitions[0].offset == 5)
        #expect(r.topics[0].partitions[0].timestamp == 1_050)
    }

    /// Retention deletes whole sealed segments; the log start offset moves, survives a restart,
    /// and fetches below it are out of range.
    @Test func retentionAdvancesTheLogStartOffset() throws {
        let h = try BrokerHarness()
        try createTopic(h, "t", configs: ["segment.bytes": "1024", "retention.ms": "60000"])
        for i in 0..<20 {
            let old = try #require(try produce(h, topic: "t", records: batch([String(repeating: "x", count: 200)], timestamp: 1_000 + Int64(i))))
            #expect(old.errorCode == 0)
        }
        let before = try h.onLoop { $0.partitions.values.first!.segmentCount }
        #expect(before > 3)
        try h.onLoop { $0.applyRetention() }
        let start = try h.onLoop { $0.partitions.values.first!.logStartOffset }
        #expect(start > Offset(0))
        #expect(try fetch(h, topic: "t", offset: 0).errorCode == 1)
        #expect(try fetch(h, topic: "t", offset: start.rawValue).errorCode == 0)
        try h.close()
        try h.open()
        #expect(try fetch(h, topic: "t", offset: 0).errorCode == 1)
        #expect(try h.onLoop { $0.partitions.values.first!.logStartOffset } == start)
    }
}
