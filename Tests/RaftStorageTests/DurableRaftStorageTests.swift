import LogStorage
import RaftCore
@testable import RaftStorage
import RunnelCore
import Testing

@Suite struct DurableRaftStorageTests {
    @Test func freshDirectoryIsAFreshNode() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let storage = try openStorage(dir.path)
        #expect(storage.initialState() == RaftInitialState(hardState: .empty, snapshot: RaftSnapshot(index: .zero, term: .zero, confState: ConfState())))
        #expect(storage.firstIndex == LogIndex(1))
        #expect(storage.lastIndex == .zero)
        #expect(try storage.term(at: .zero) == .zero)
        #expect(throws: RaftStorageError.unavailable) { try storage.term(at: LogIndex(1)) }
    }

    @Test func persistedStateSurvivesAReopen() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let storage = try openStorage(dir.path)
        var written = makeEntries(1, 5, term: 1)
        written.append(Entry(term: Term(2), index: LogIndex(6), kind: .noop))
        written.append(Entry(term: Term(2), index: LogIndex(7), kind: .confChange, data: ConfChange(.addVoter, NodeID(4)).encoded))
        try storage.save(snapshot: nil, entries: Array(written[0..<5]), hardState: HardState(term: Term(1), vote: NodeID(3), commit: LogIndex(2)))
        try storage.save(snapshot: nil, entries: Array(written[5...]), hardState: HardState(term: Term(2), vote: NodeID(1), commit: LogIndex(6)))
        for crash in [false, true] {
            // Both a clean close and a crash (nothing after the last save is needed: save fsyncs).
            let reopened = try openStorage(dir.path)
            #expect(reopened.initialState().hardState == HardState(term: Term(2), vote: NodeID(1), commit: LogIndex(6)), "crash \(crash)")
            #expect(reopened.lastIndex == LogIndex(7))
            #expect(try storedEntries(reopened) == written)
            #expect(try reopened.term(at: LogIndex(5)) == Term(1))
            #expect(try reopened.term(at: LogIndex(6)) == Term(2))
            if crash { reopened.abandon() } else { try reopened.close() }
        }
        storage.abandon()
    }

    @Test func entriesHonourRangeAndMaxCount() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let storage = try openStorage(dir.path)
        let written = makeEntries(1, 40, term: 3, payloadBytes: 100)  // several segments of 4 KiB
        try storage.save(snapshot: nil, entries: written, hardState: nil)
        #expect(try storage.entries(in: LogIndex(7)..<LogIndex(30), maxCount: 5) == Array(written[6..<11]))
        #expect(try storage.entries(in: LogIndex(35)..<LogIndex(41), maxCount: 100) == Array(written[34...]))
        #expect(throws: RaftStorageError.unavailable) { try storage.entries(in: LogIndex(35)..<LogIndex(42), maxCount: 1) }
        #expect(storage.log.segmentCount > 1)
        storage.abandon()
    }

    /// A follower's conflicting suffix: entries from the cut on are replaced, the ones before it
    /// (in the same stored batch) survive, also across a reopen.
    @Test func conflictingEntriesReplaceTheStoredSuffix() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let storage = try openStorage(dir.path)
        try storage.save(snapshot: nil, entries: makeEntries(1, 10, term: 1), hardState: HardState(term: Term(1), vote: .none, commit: LogIndex(3)))
        let replacement = makeEntries(6, 8, term: 2)
        try storage.save(snapshot: nil, entries: replacement, hardState: HardState(term: Term(2), vote: .none, commit: LogIndex(3)))
        let expected = Array(makeEntries(1, 5, term: 1)) + replacement
        #expect(storage.lastIndex == LogIndex(8))
        #expect(try storedEntries(storage) == expected)
        #expect(try storage.term(at: LogIndex(6)) == Term(2))
        storage.abandon()
        let reopened = try openStorage(dir.path)
        #expect(try storedEntries(reopened) == expected)
        // Replacing from the very first index empties the log first.
        try reopened.save(snapshot: nil, entries: makeEntries(1, 2, term: 4), hardState: nil)
        #expect(try storedEntries(reopened) == makeEntries(1, 2, term: 4))
        reopened.abandon()
    }

    /// The torn tail of an interrupted save of three entries, cut at every byte position
    /// (zeroed, as in a preallocated segment, and cut off, as after a file-size change): recovery
    /// keeps the earlier saves and every whole entry (one batch each) of the torn one, and the log
    /// continues from there.
    @Test func tornTailAtEveryBytePositionKeepsTheWholeEntries() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let storage = try openStorage(dir.path)
        let hs = HardState(term: Term(2), vote: NodeID(2), commit: LogIndex(4))
        try storage.save(snapshot: nil, entries: makeEntries(1, 3, term: 1), hardState: nil)
        try storage.save(snapshot: nil, entries: makeEntries(4, 6, term: 2), hardState: hs)
        let lastStart = storage.log.activeSegment.sizeBytes
        try storage.save(snapshot: nil, entries: makeEntries(7, 9, term: 2), hardState: nil)
        let lastEnd = storage.log.activeSegment.sizeBytes
        #expect(storage.log.segmentCount == 1)
        storage.abandon()
        let path = dir.file("00000000000000000001.log")
        let original = fileBytes(path)
        // Where each of the torn save's batches (entries 7, 8, 9) ends.
        var batchEnds: [Int] = []
        var position = lastStart
        while position < lastEnd {
            position += 12 + Int(original[(position + 8)..<(position + 12)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            batchEnds.append(position)
        }
        #expect(batchEnds.count == 3 && batchEnds.last == lastEnd)
        let all = makeEntries(1, 3, term: 1) + makeEntries(4, 9, term: 2)
        for tornAt in lastStart..<lastEnd {
            for zeroTail in [true, false] {
                var bytes = original
                if zeroTail {
                    for i in tornAt..<lastEnd { bytes[i] = 0 }
                } else {
                    bytes.removeSubrange(tornAt...)
                }
                writeFile(path, bytes)
                // Entries whose batch is byte-for-byte intact survive, up to the first damaged one.
                var whole = 6
                var batchStart = lastStart
                for end in batchEnds {
                    guard bytes.count >= end, bytes[batchStart..<end] == original[batchStart..<end] else { break }
                    whole += 1
                    batchStart = end
                }
                let reopened = try openStorage(dir.path)
                defer { reopened.abandon() }
                let label: Comment = "torn at \(tornAt), zero tail \(zeroTail)"
                #expect(whole < 9 || zeroTail, label)  // Cutting the file always tears the last batch.
                #expect(reopened.lastIndex == LogIndex(UInt64(whole)), label)
                #expect(try storedEntries(reopened) == Array(all.prefix(whole)), label)
                #expect(reopened.initialState().hardState == hs)
                try reopened.save(snapshot: nil, entries: makeEntries(UInt64(whole + 1), UInt64(whole + 1), term: 3), hardState: nil)
                #expect(try reopened.term(at: LogIndex(UInt64(whole + 1))) == Term(3))
            }
        }
    }

    /// Appends after a torn tail land where the surviving entries end, and a conflicting save
    /// cuts exactly at its first index (one entry per batch): nothing before it is rewritten.
    @Test func conflictCutsExactlyAtTheFirstReplacedEntry() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let storage = try openStorage(dir.path)
        try storage.save(snapshot: nil, entries: makeEntries(1, 5, term: 1), hardState: nil)
        let sizeAfterFour = storage.log.activeSegment.sizeBytes
        try storage.save(snapshot: nil, entries: makeEntries(6, 6, term: 1), hardState: nil)
        try storage.save(snapshot: nil, entries: makeEntries(6, 7, term: 2), hardState: nil)
        #expect(storage.log.activeSegment.sizeBytes > sizeAfterFour)
        #expect(try storedEntries(storage) == makeEntries(1, 5, term: 1) + makeEntries(6, 7, term: 2))
        storage.abandon()
    }

    @Test func compactionDropsEntriesAndSurvivesAReopen() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let storage = try openStorage(dir.path)
        let written = makeEntries(1, 60, term: 1, payloadBytes: 100)
        try storage.save(snapshot: nil, entries: Array(written[0..<30]), hardState: nil)
        try storage.save(snapshot: nil, entries: Array(written[30...]), hardState: HardState(term: Term(1), vote: .none, commit: LogIndex(60)))
        let segmentsBefore = storage.log.segmentCount
        let snapshot = RaftSnapshot(index: LogIndex(45), term: Term(1), confState: ConfState(voters: [NodeID(1), NodeID(2)]), data: [1, 2, 3])
        try storage.compact(with: snapshot)
        #expect(storage.log.segmentCount < segmentsBefore)
        for reopen in [false, true] {
            let s = reopen ? try openStorage(dir.path) : storage
            #expect(s.snapshot() == snapshot)
            #expect(s.firstIndex == LogIndex(46))
            #expect(s.lastIndex == LogIndex(60))
            #expect(try s.term(at: LogIndex(45)) == Term(1))
            #expect(throws: RaftStorageError.compacted) { try s.term(at: LogIndex(44)) }
            #expect(throws: RaftStorageError.compacted) { try s.entries(in: LogIndex(45)..<LogIndex(47), maxCount: 9) }
            #expect(try storedEntries(s) == Array(written[45...]))
            s.abandon()
        }
    }

    /// A snapshot from the leader: entries after it survive when the log holds the snapshot's
    /// (index, term); otherwise the log restarts right after the snapshot.
    @Test func installedSnapshotKeepsOnlyAMatchingSuffix() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let storage = try openStorage(dir.path)
        try storage.save(snapshot: nil, entries: makeEntries(1, 10, term: 1), hardState: nil)
        let matching = RaftSnapshot(index: LogIndex(4), term: Term(1), confState: ConfState(voters: [NodeID(1)]), data: [9])
        try storage.save(snapshot: matching, entries: [], hardState: HardState(term: Term(1), vote: .none, commit: LogIndex(4)))
        #expect(storage.firstIndex == LogIndex(5))
        #expect(try storedEntries(storage) == makeEntries(5, 10, term: 1))
        let foreign = RaftSnapshot(index: LogIndex(12), term: Term(3), confState: ConfState(voters: [NodeID(1)]), data: [7])
        try storage.save(snapshot: foreign, entries: makeEntries(13, 14, term: 3), hardState: HardState(term: Term(3), vote: .none, commit: LogIndex(12)))
        storage.abandon()
        let reopened = try openStorage(dir.path)
        #expect(reopened.snapshot() == foreign)
        #expect(reopened.firstIndex == LogIndex(13))
        #expect(try storedEntries(reopened) == makeEntries(13, 14, term: 3))
        reopened.abandon()
    }

    /// A crash after the leader's snapshot file was written but before the log was cut or the
    /// hard state written: the next open cuts the disagreeing log and adopts the snapshot's commit.
    @Test func snapshotWrittenJustBeforeACrashWinsOverTheLog() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let storage = try openStorage(dir.path)
        try storage.save(snapshot: nil, entries: makeEntries(1, 8, term: 1), hardState: HardState(term: Term(1), vote: .none, commit: LogIndex(2)))
        storage.abandon()
        let snapshot = RaftSnapshot(index: LogIndex(6), term: Term(2), confState: ConfState(voters: [NodeID(1)]), data: [])
        try RaftStateFiles.write(RaftStateFiles.encode(snapshot), name: RaftStateFiles.snapshotName, directory: dir.path,
                                 fileSystem: PosixFileSystem())
        let reopened = try openStorage(dir.path)
        #expect(reopened.firstIndex == LogIndex(7))
        #expect(reopened.lastIndex == LogIndex(6))
        #expect(reopened.initialState().hardState == HardState(term: Term(1), vote: .none, commit: LogIndex(6)))
        try reopened.save(snapshot: nil, entries: makeEntries(7, 7, term: 2), hardState: nil)
        reopened.abandon()
    }

    @Test func founderBootstrapsOnceAndIgnoresTheVotersLater() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let voters = [NodeID(1), NodeID(2), NodeID(3)]
        let storage = try openStorage(dir.path, voters: voters)
        #expect(try storedEntries(storage) == RaftBootstrap.entries(voters: voters))
        #expect(storage.initialState().hardState == RaftBootstrap.hardState(voters: voters))
        try storage.save(snapshot: nil, entries: makeEntries(4, 5, term: 2), hardState: HardState(term: Term(2), vote: NodeID(1), commit: LogIndex(4)))
        storage.abandon()
        let reopened = try openStorage(dir.path, voters: voters)
        #expect(reopened.lastIndex == LogIndex(5))
        #expect(reopened.initialState().hardState.vote == NodeID(1))
        reopened.abandon()
    }

    /// Without the hard-state file a founder's log may only hold a prefix of the bootstrap (a
    /// crash during the first start); more means damage, and guessing could double a vote.
    @Test func missingHardStateBesideAForeignLogIsAnError() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let storage = try openStorage(dir.path, voters: [NodeID(1)])
        try storage.save(snapshot: nil, entries: makeEntries(2, 3, term: 2), hardState: HardState(term: Term(2), vote: NodeID(1), commit: LogIndex(1)))
        storage.abandon()
        try PosixFileSystem().remove(dir.file(RaftStateFiles.hardStateName))
        // A non-founder (a node added later) may legitimately crash before its first hard state.
        let joiner = try openStorage(dir.path)
        #expect(joiner.initialState().hardState == .empty)
        #expect(joiner.lastIndex == LogIndex(3))
        joiner.abandon()
        #expect {
            try openStorage(dir.path, voters: [NodeID(1)])
        } throws: { error in
            guard case .corruptFile(let path, _)? = error as? StorageError else { return false }
            return path.hasSuffix(RaftStateFiles.hardStateName)
        }
    }

    @Test(arguments: ["flip", "truncate", "empty", "garbage"])
    func damagedStateFilesAreErrorsNamingTheFile(_ damage: String) throws {
        for name in [RaftStateFiles.hardStateName, RaftStateFiles.snapshotName] {
            let dir = TempDirectory()
            defer { dir.remove() }
            let storage = try openStorage(dir.path)
            try storage.save(snapshot: nil, entries: makeEntries(1, 4, term: 1), hardState: HardState(term: Term(1), vote: NodeID(2), commit: LogIndex(3)))
            try storage.compact(with: RaftSnapshot(index: LogIndex(2), term: Term(1), confState: ConfState(voters: [NodeID(2)]), data: [5, 6]))
            storage.abandon()
            let path = dir.file(name)
            var bytes = fileBytes(path)
            switch damage {
            case "flip": bytes[bytes.count / 2] ^= 0x40
            case "truncate": bytes.removeLast(3)
            case "empty": bytes = []
            default: bytes = Array("term=7 vote=2\n".utf8)
            }
            writeFile(path, bytes)
            #expect("\(damage) \(name)", performing: { try openStorage(dir.path) }, throws: { error in
                guard case .corruptFile(let reported, _)? = error as? StorageError else { return false }
                return reported == path
            })
        }
    }

    @Test func hardStateCommitPastTheLogIsAnError() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let storage = try openStorage(dir.path)
        try storage.save(snapshot: nil, entries: makeEntries(1, 2, term: 1), hardState: nil)
        storage.abandon()
        try RaftStateFiles.write(RaftStateFiles.encode(HardState(term: Term(1), vote: .none, commit: LogIndex(5))),
                                 name: RaftStateFiles.hardStateName, directory: dir.path, fileSystem: PosixFileSystem())
        #expect(throws: StorageError.self) { try openStorage(dir.path) }
    }

    @Test func stateFilesRoundTrip() throws {
        let hs = HardState(term: Term(UInt64.max - 1), vote: NodeID(77), commit: LogIndex(1 << 40))
        #expect(try RaftStateFiles.decodeHardState(RaftStateFiles.encode(hs), path: "x") == hs)
        let snapshot = RaftSnapshot(index: LogIndex(9), term: Term(4), confState: ConfState(voters: [NodeID(3), NodeID(1)]),
                                    data: Array(0...255))
        #expect(try RaftStateFiles.decodeSnapshot(RaftStateFiles.encode(snapshot), path: "x") == snapshot)
    }
}
