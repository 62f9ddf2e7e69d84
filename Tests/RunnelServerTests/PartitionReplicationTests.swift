import ClusterMetadata
import KafkaWire
import LogStorage
import NIOCore
import NIOPosix
import Replication
import RunnelCore
import RunnelTesting
import Testing
@testable import RunnelServer

/// The replication side of `Partition` on a real log: which metadata it takes, the leader-epoch
/// cache it keeps on disk, and the follower's append and truncation.
@Suite struct PartitionReplicationTests {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let pool = NIOThreadPool(numberOfThreads: 1)
    let capture = LogCapture()

    /// Runs `body` on the partition's loop with a fresh log in a temp directory (`directory`
    /// keeps it across calls).
    func withPartition<T>(node: Int32 = 1, directory: TemporaryDirectory, _ body: @escaping (Partition) throws -> T) throws -> T {
        pool.start()
        let loop = group.next()
        let logger = capture.logger
        return try loop.submit {
            let logs = try LogManager(dataDirectory: directory.path, now: TimestampMs(0), logger: logger)
            let key = TopicPartition(TopicName("t"), PartitionID(0))
            let log = try logs.log(key.topic, key.partition) ?? logs.createLog(topic: key.topic, partition: key.partition, now: TimestampMs(0))
            let partition = Partition(log: log, topicID: TopicID(high: 1, low: 1), nodeID: BrokerID(node), highWatermark: nil,
                                      loop: loop, threadPool: pool, logger: logger)
            partition.acksAllFsync = false
            defer { try? logs.close() }
            return try body(partition)
        }.wait()
    }

    func state(leader: Int32, epoch: Int32, partitionEpoch: Int32, isr: [Int32]) -> PartitionState {
        PartitionState(topicID: TopicID(high: 1, low: 1), partition: PartitionID(0), replicas: [1, 2, 3].map { BrokerID($0) },
                       isr: isr.map { BrokerID($0) }, leader: BrokerID(leader), leaderEpoch: LeaderEpoch(epoch),
                       partitionEpoch: partitionEpoch)
    }

    /// Batches of `count` one-byte records starting at `base`, stamped with `epoch` as a leader
    /// would have stored them.
    func batch(base: Int64, count: Int, epoch: Int32) -> ByteBuffer {
        var builder = RecordBatchBuilder()
        for i in 0..<count { builder.append(timestamp: TimestampMs(1000 + Int64(i)), key: nil, value: ByteBuffer(string: "v")) }
        var bytes = builder.finish()
        bytes.withUnsafeMutableReadableBytes { RecordBatchHeader.stamp($0, baseOffset: base, leaderEpoch: epoch) }
        return bytes
    }

    @Test func aLeaderKeepsTheISRTheControllerAnsweredWhenOlderMetadataArrives() throws {
        let directory = try TemporaryDirectory(prefix: "partition-isr")
        let isr = try withPartition(directory: directory) { p -> [BrokerID] in
            #expect(p.adopt(state(leader: 1, epoch: 0, partitionEpoch: 0, isr: [1, 2]), now: 0) == .becameLeader)
            p.isrChangeProposed([1, 2, 3].map { BrokerID($0) })
            p.isrChangeAnswered(.accepted(isr: [1, 2, 3].map { BrokerID($0) }, leaderEpoch: LeaderEpoch(0), partitionEpoch: 1),
                                proposedEpoch: LeaderEpoch(0), proposedISR: [1, 2, 3].map { BrokerID($0) }, now: 0)
            // The metadata batch applied next still shows partition epoch 0.
            #expect(p.adopt(state(leader: 1, epoch: 0, partitionEpoch: 0, isr: [1, 2]), now: 0) == nil)
            return p.leaderState?.isr ?? []
        }
        #expect(isr == [1, 2, 3].map { BrokerID($0) })
    }

    /// Every metadata batch reaches every replica; one that does not change the partition (a
    /// heartbeat's record, another topic) must not settle an ISR change in flight: an expansion's
    /// newcomer keeps counting for the high watermark until the controller's answer or the
    /// metadata says how it ended.
    @Test func aPendingExpansionSurvivesUnrelatedMetadata() throws {
        let directory = try TemporaryDirectory(prefix: "partition-pending")
        let (pending, maximal) = try withPartition(directory: directory) { p -> ([BrokerID]?, [BrokerID]) in
            _ = p.adopt(state(leader: 1, epoch: 0, partitionEpoch: 0, isr: [1, 2]), now: 0)
            p.isrChangeProposed([1, 2, 3].map { BrokerID($0) })
            #expect(p.adopt(state(leader: 1, epoch: 0, partitionEpoch: 0, isr: [1, 2]), now: 0) == nil)
            return (p.leaderState?.pendingISR, p.leaderState?.maximalISR ?? [])
        }
        #expect(pending == [1, 2, 3].map { BrokerID($0) })
        #expect(maximal == [1, 2, 3].map { BrokerID($0) })
    }

    @Test func metadataOlderThanTheLogGivesNoRole() throws {
        let directory = try TemporaryDirectory(prefix: "partition-stale")
        try withPartition(directory: directory) { p in
            #expect(p.adopt(state(leader: 2, epoch: 3, partitionEpoch: 5, isr: [1, 2, 3]), now: 0) == .becameFollower(leader: BrokerID(2)))
            let bytes = batch(base: 0, count: 2, epoch: 3)
            _ = try bytes.withUnsafeReadableBytes { try p.appendReplicated($0, now: TimestampMs(0)) }
        }
        // Restarted, the broker replays the metadata log from its start: epoch 0 named it leader.
        try withPartition(directory: directory) { p in
            #expect(p.epochCache.latestEpoch == LeaderEpoch(3))
            #expect(p.adopt(state(leader: 1, epoch: 0, partitionEpoch: 0, isr: [1, 2, 3]), now: 0) == .becameFollower(leader: nil))
            #expect(!p.isLeader)
            #expect(p.epochCache.entries == [EpochEntry(epoch: LeaderEpoch(3), startOffset: .zero)])
            #expect(p.adopt(state(leader: 1, epoch: 4, partitionEpoch: 6, isr: [1, 2, 3]), now: 0) == .becameLeader)
            #expect(p.epochCache.entries.map(\.description) == ["3@0", "4@2"])
        }
    }

    @Test func aFollowerKeepsEpochsOnDiskAndTruncatesByThem() throws {
        let directory = try TemporaryDirectory(prefix: "partition-follower")
        try withPartition(directory: directory) { p in
            _ = p.adopt(state(leader: 2, epoch: 2, partitionEpoch: 0, isr: [1, 2, 3]), now: 0)
            for (base, count, epoch) in [(0, 3, 0), (3, 2, 1), (5, 4, 2)] as [(Int64, Int, Int32)] {
                let bytes = batch(base: base, count: count, epoch: epoch)
                let end = try bytes.withUnsafeReadableBytes { try p.appendReplicated($0, now: TimestampMs(0)) }
                #expect(end == Offset(base + Int64(count)))
            }
            #expect(p.epochCache.entries.map(\.description) == ["0@0", "1@3", "2@5"])
            // A new leader (epoch 3) that never had epoch 2 answers the follower's last fetched
            // epoch 2 with its largest epoch below it and where that ends: epoch 1, at 5.
            let cut = FollowerTruncation.offset(leader: (LeaderEpoch(1), Offset(5)), local: p.epochCache, localLogEnd: p.logEndOffset)
            #expect(cut.offset == Offset(5) && cut.complete)
            try p.truncate(to: cut.offset)
            #expect(p.logEndOffset == Offset(5))
            #expect(p.epochCache.entries.map(\.description) == ["0@0", "1@3"])
        }
        try withPartition(directory: directory) { p in
            // Reopened: the checkpoint on disk is the cut cache, the log ends where it was cut.
            #expect(p.epochCache.entries.map(\.description) == ["0@0", "1@3"])
            #expect(p.logEndOffset == Offset(5))
        }
    }

    /// A replica that took office in epoch 3 and wrote nothing, then follows a leader that never
    /// had epoch 3: the leader answers "epoch 1 ends at 3" (where the follower's log ends), and
    /// the cut, a no-op on the log, must still drop epoch 3, or every later fetch names it and
    /// gets the same answer (cluster-sim seed 9: a follower that never replicated again).
    @Test func aCutAtTheLogEndDropsAnEpochNeverWritten() throws {
        let directory = try TemporaryDirectory(prefix: "partition-empty-epoch")
        try withPartition(directory: directory) { p in
            _ = p.adopt(state(leader: 2, epoch: 1, partitionEpoch: 0, isr: [1, 2, 3]), now: 0)
            let bytes = batch(base: 0, count: 3, epoch: 1)
            _ = try bytes.withUnsafeReadableBytes { try p.appendReplicated($0, now: TimestampMs(0)) }
            #expect(p.adopt(state(leader: 1, epoch: 3, partitionEpoch: 1, isr: [1, 3]), now: 0) == .becameLeader)
            #expect(p.adopt(state(leader: 2, epoch: 4, partitionEpoch: 2, isr: [2, 3]), now: 0) == .becameFollower(leader: BrokerID(2)))
            #expect(p.epochCache.entries.map(\.description) == ["1@0", "3@3"])
            let cut = FollowerTruncation.offset(leader: (LeaderEpoch(1), Offset(3)), local: p.epochCache, localLogEnd: p.logEndOffset)
            #expect(cut.offset == Offset(3) && cut.complete)
            try p.truncate(to: cut.offset)
            #expect(p.logEndOffset == Offset(3))
            #expect(p.epochCache.latestEpoch == LeaderEpoch(1))
        }
        try withPartition(directory: directory) { p in
            #expect(p.epochCache.entries.map(\.description) == ["1@0"])
        }
    }
}
