import LogStorage
import RaftCore
@testable import RaftStorage
import RunnelCore
import Testing

/// The snapshot file's membership: learners are persisted (format version 2), files written
/// before learners existed (version 1) still decode, and a membership without learners is still
/// written as version 1.
@Suite struct SnapshotConfStateTests {
    /// `raft-snapshot` as the code before learners wrote it: index 9, term 4, voters 1 and 3,
    /// data AA BB. Frozen bytes: never regenerate them from the current encoder.
    static let versionOneFile: [UInt8] = [
        0x52, 0x53, 0x4E, 0x01,                          // magic "RSN", version 1
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,  // index
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04,  // term
        0x00, 0x00, 0x00, 0x02,                          // voter count
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,  // voter 1
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,  // voter 3
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,  // data length
        0xAA, 0xBB,                                      // data
        0x1F, 0x7D, 0x57, 0x53,                          // CRC-32C
    ]
    static let versionOneSnapshot = RaftSnapshot(index: LogIndex(9), term: Term(4),
                                                 confState: ConfState(voters: [NodeID(1), NodeID(3)]), data: [0xAA, 0xBB])

    @Test func fileWithoutLearnersDecodesAndIsStillWrittenTheSame() throws {
        #expect(try RaftStateFiles.decodeSnapshot(Self.versionOneFile, path: "x") == Self.versionOneSnapshot)
        #expect(RaftStateFiles.encode(Self.versionOneSnapshot) == Self.versionOneFile)
    }

    @Test func learnersRoundTripInVersionTwo() throws {
        let snapshot = RaftSnapshot(index: LogIndex(12), term: Term(3),
                                    confState: ConfState(voters: [NodeID(2), NodeID(1)], learners: [NodeID(9), NodeID(5)]),
                                    data: Array(0...40))
        let bytes = RaftStateFiles.encode(snapshot)
        #expect(Array(bytes.prefix(4)) == [0x52, 0x53, 0x4E, 0x02])
        #expect(bytes.count == Self.versionOneFile.count - 2 + 4 + 8 * 2 + 41)
        let decoded = try RaftStateFiles.decodeSnapshot(bytes, path: "x")
        #expect(decoded == snapshot)
        #expect(decoded.confState.learners == [NodeID(5), NodeID(9)])
    }

    @Test func damagedMembershipIsAnErrorNamingTheFile() throws {
        // A node that is both voter and learner: well-formed bytes, contradictory content.
        var writer = ByteWriter()
        writer.bytes += RaftStateFiles.snapshotMagicWithLearners
        writer.append(UInt64(1))
        writer.append(UInt64(1))
        writer.append(ids: [NodeID(1), NodeID(2)])
        writer.append(ids: [NodeID(2)])
        writer.append(UInt64(0))
        writer.appendCRC()
        let contradictory = writer.bytes
        // A learner count far past the bound.
        var huge = RaftStateFiles.encode(RaftSnapshot(index: LogIndex(1), term: Term(1),
                                                      confState: ConfState(voters: [NodeID(1)], learners: [NodeID(2)])))
        huge[4 + 8 + 8 + 4 + 8] = 0x7F
        huge.removeLast(4)
        huge += withUnsafeBytes(of: CRC32C.checksum(huge).bigEndian, Array.init)
        for bytes in [contradictory, huge] {
            #expect(performing: { try RaftStateFiles.decodeSnapshot(bytes, path: "/d/raft-snapshot") }, throws: { error in
                guard case .corruptFile(let path, _)? = error as? StorageError else { return false }
                return path == "/d/raft-snapshot"
            })
        }
    }

    @Test func founderWithLearnersBootstrapsAndCompactsWithThem() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let voters = [NodeID(1), NodeID(2), NodeID(3)]
        let learners = [NodeID(7)]
        let storage = try DurableRaftStorage.open(directory: dir.path, bootstrap: voters, learners: learners,
                                                  config: testConfig, logger: quietLogger())
        #expect(try storedEntries(storage) == RaftBootstrap.entries(voters: voters, learners: learners))
        #expect(storage.initialState().hardState == RaftBootstrap.hardState(voters: voters, learners: learners))
        let conf = ConfState(voters: voters, learners: learners)
        try storage.compact(with: RaftSnapshot(index: LogIndex(4), term: Term(1), confState: conf, data: [1]))
        storage.abandon()
        // Reopened with the same founders (ignored now) and with none: the snapshot keeps the learners.
        for founders in [voters, []] {
            let reopened = try DurableRaftStorage.open(directory: dir.path, bootstrap: founders, learners: founders.isEmpty ? [] : learners,
                                                       config: testConfig, logger: quietLogger())
            #expect(reopened.snapshot().confState == conf)
            #expect(reopened.initialState().snapshot.confState.learners == learners)
            reopened.abandon()
        }
    }
}
