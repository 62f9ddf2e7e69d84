import KafkaMessages
import KafkaWire
import NIOCore
import Testing

/// Frames real clients sent (GoldenRequestFrames.swift): each must decode completely with the
/// header version its API implies, re-encode to the identical bytes, and carry the values the
/// capture scenario put in.
@Suite struct GoldenRequestTests {
    @Test(arguments: goldenRequests)
    func decodesAndReencodesByteForByte(_ golden: GoldenFrame) throws {
        let frame = bufferFromHex(golden.hex)
        let decoded = try decodeRequestFrame(frame)
        #expect(decoded.apiKey.rawValue == golden.apiKey)
        #expect(decoded.header.apiVersion == golden.apiVersion)
        #expect(decoded.header.clientId?.isEmpty == false, "every client sends a client id")
        let reencoded = encodeRequestFrame(decoded)
        #expect(hexString(reencoded) == hexString(frame))
        try checkKnownValues(decoded.body, golden: golden, frame: frame)
    }

    @Test func everyVersionPROTOCOLmdListsHasAGoldenFrame() {
        let required: [ApiKey: [Int16]] = [
            .apiVersions: [0, 3, 4], .metadata: [4, 5, 8, 12], .produce: [3, 7, 8, 9], .fetch: [4, 10, 11, 12],
            .listOffsets: [1, 2, 5, 7], .createTopics: [3, 4, 5], .deleteTopics: [3, 4], .describeConfigs: [1, 2],
            .createPartitions: [0, 1, 2], .initProducerId: [0, 1, 4], .findCoordinator: [0, 1, 2, 3],
            .joinGroup: [5, 7], .syncGroup: [3, 5], .heartbeat: [1, 3], .leaveGroup: [1, 3],
            .offsetCommit: [3, 7, 8, 9], .offsetFetch: [3, 5, 7, 8, 9], .consumerGroupHeartbeat: [1],
        ]
        for (key, versions) in required {
            for version in versions {
                #expect(goldenRequests.contains { $0.apiKey == key.rawValue && $0.apiVersion == version },
                        "no golden frame for \(key) v\(version)")
            }
        }
    }

    /// Values fixed by the capture scripts: topic "golden" partition 0, group "golden-group",
    /// admin creates topic "created" with 3 partitions and retention.ms=1000.
    private func checkKnownValues(_ body: any KafkaRequest, golden: GoldenFrame, frame: ByteBuffer) throws {
        switch body {
        case let produce as ProduceRequest:
            let partition = try #require(produce.topicData.first?.partitionData.first)
            #expect(produce.topicData.first?.name == "golden")
            #expect(partition.index == 0)
            let records = try #require(partition.records)
            #expect(records.readableBytes >= 61, "at least one RecordBatch header")
            #expect(records.getInteger(at: records.readerIndex + 16, as: UInt8.self) == 2, "magic 2")
            // The records field is a slice of the frame, not a copy.
            let framePointer = frame.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
            let recordsPointer = records.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
            #expect(recordsPointer > framePointer && recordsPointer < framePointer + UInt(frame.readableBytes))
        case let fetch as FetchRequest:
            #expect(fetch.topics.count == 1)
            #expect(fetch.topics.first?.partitions.first?.partition == 0)
            if golden.apiVersion < 13 { #expect(fetch.topics.first?.topic == "golden") }
        case let list as ListOffsetsRequest:
            #expect(list.topics.first?.name == "golden")
            #expect(list.replicaId == -1)
        case let join as JoinGroupRequest:
            #expect(join.groupId == "golden-group")
            #expect(join.protocolType == "consumer")
            let metadata = try #require(join.protocols.first?.metadata)
            var buffer = ByteBuffer(bytes: metadata)
            let version = try buffer.readKafkaInt16()
            let subscription = try ConsumerProtocolSubscription(from: &buffer, version: min(version, 3))
            #expect(subscription.topics == ["golden"])
        case let sync as SyncGroupRequest:
            #expect(sync.groupId == "golden-group")
            #expect(sync.generationId == 1)
        case let heartbeat as HeartbeatRequest:
            #expect(heartbeat.groupId == "golden-group")
        case let leave as LeaveGroupRequest:
            #expect(leave.groupId == "golden-group")
        case let commit as OffsetCommitRequest:
            #expect(commit.groupId == "golden-group")
            #expect(commit.topics.first?.partitions.first?.committedOffset == 1)
        case let fetchOffsets as OffsetFetchRequest:
            if golden.apiVersion >= 8 {
                #expect(fetchOffsets.groups.first?.groupId == "golden-group")
            } else {
                #expect(fetchOffsets.groupId == "golden-group")
            }
        case let find as FindCoordinatorRequest:
            if golden.apiVersion < 4 { #expect(find.key == "golden-group") }
        case let create as CreateTopicsRequest:
            let topic = try #require(create.topics.first)
            #expect(topic.name == "created")
            #expect(topic.numPartitions == 3)
            #expect(topic.configs.contains { $0.name == "retention.ms" && $0.value == "1000" })
        case let delete as DeleteTopicsRequest:
            let names = golden.apiVersion >= 6 ? delete.topics.compactMap(\.name) : delete.topicNames
            #expect(names == ["created"])
        case let partitions as CreatePartitionsRequest:
            #expect(partitions.topics.first?.name == "golden")
            #expect(partitions.topics.first?.count == 4)
        case let describe as DescribeConfigsRequest:
            #expect(describe.resources.first?.resourceName == "golden")
            #expect(describe.resources.first?.resourceType == 2)
        case let versions as ApiVersionsRequest:
            if golden.apiVersion >= 3 { #expect(!versions.clientSoftwareName.isEmpty) }
        case let heartbeat as ConsumerGroupHeartbeatRequest:
            #expect(heartbeat.groupId == "golden-group")
            #expect(heartbeat.memberEpoch == 0)
            #expect(heartbeat.subscribedTopicNames == ["golden"])
        case is MetadataRequest, is InitProducerIdRequest:
            break
        default:
            Issue.record("no known-value check for \(golden)")
        }
    }
}
