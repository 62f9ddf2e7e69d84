public import LogStorage
public import Logging
public import RaftCore
public import RunnelCore

// Opening: read the two state files, recover the segments (torn tail cut), rebuild the term
// table, reconcile the log with the snapshot, check the hard state against the log, and
// bootstrap a founding member on its very first start. See `DurableRaftStorage` for the crash
// story each step relies on.

extension DurableRaftStorage {
    /// The segment files' topic name (it appears only in log lines: the directory is the caller's).
    public static let topic = TopicName("__raft_metadata")

    /// Segments of 64 MiB (preallocated sparse and mapped, like partition logs), no time-based
    /// roll and no retention: the Raft log shrinks only by snapshots (`compact(with:)`).
    public static let defaultLogConfig = LogConfig(segmentBytes: 64 * 1024 * 1024, segmentMs: Int64.max,
                                                   indexSizeMaxBytes: 1024 * 1024, retentionMs: -1)

    /// Opens (or creates) the Raft storage in `directory`.
    ///
    /// - Parameters:
    ///   - voters: the founding voters (`controller.quorum.voters`) when this node is a founder,
    ///     else empty. On the first start of a founder (no hard-state file, no snapshot) the
    ///     bootstrap entries and hard state (`RaftBootstrap`) are written, durably, before this
    ///     returns; later starts ignore it.
    ///   - learners: the founding learners, when the group is founded with some (every founder
    ///     passes the same lists). A node that joins later, as a learner or a voter, passes no
    ///     voters and no learners and is added by a committed `ConfChange`.
    /// - Throws: `StorageError` for I/O failures, and `.corruptFile` naming the file when a state
    ///   file is damaged or the files contradict each other (e.g. a commit index past the log).
    public static func open(directory: String, bootstrap voters: [NodeID] = [], learners: [NodeID] = [],
                            config: LogConfig = defaultLogConfig,
                            fileSystem: any FileSystem = PosixFileSystem(), logger: Logger) throws(StorageError) -> DurableRaftStorage {
        if fileSystem.isDirectory(directory) == nil { try fileSystem.makeDirectory(directory) }
        let snapshotPath = directory + "/" + RaftStateFiles.snapshotName
        let hardStatePath = directory + "/" + RaftStateFiles.hardStateName
        var snapshot = RaftSnapshot(index: .zero, term: .zero, confState: ConfState())
        if let bytes = try RaftStateFiles.read(name: RaftStateFiles.snapshotName, directory: directory, fileSystem: fileSystem) {
            snapshot = try RaftStateFiles.decodeSnapshot(bytes, path: snapshotPath)
        }
        let hardStateBytes = try RaftStateFiles.read(name: RaftStateFiles.hardStateName, directory: directory, fileSystem: fileSystem)
        var hardState = HardState.empty
        if let hardStateBytes { hardState = try RaftStateFiles.decodeHardState(hardStateBytes, path: hardStatePath) }

        let log = try PartitionLog.open(
            directory: directory, topic: topic, partition: PartitionID(0), config: config,
            recoveryPoint: .zero, logStartOffset: nil, needsRecovery: true,
            now: noTime, fileSystem: fileSystem, logger: logger)
        do throws(StorageError) {
            var terms = try scanTerms(log, directory: directory)
            try reconcile(log, terms: &terms, with: snapshot, directory: directory, logger: logger)
            let lastIndex = snapshot.index + UInt64(terms.count)
            if hardState != .empty {
                guard hardState.commit <= lastIndex else {
                    throw .corruptFile(path: hardStatePath, reason: "commit \(hardState.commit) is past the last stored entry \(lastIndex)")
                }
                // A leader's snapshot is committed by definition; its hard state may not have
                // reached the disk before a crash (the snapshot file is written first).
                hardState.commit = max(hardState.commit, snapshot.index)
            }
            let storage = DurableRaftStorage(directory: directory, fileSystem: fileSystem, log: log, hardState: hardState,
                                             snapshot: snapshot, terms: terms)
            if hardStateBytes == nil && snapshot.index == .zero && !voters.isEmpty {
                try storage.bootstrap(voters: voters, learners: learners, hardStatePath: hardStatePath)
            }
            return storage
        } catch {
            log.abandon()
            throw error
        }
    }

    /// The term of every entry from the log start to the log end, checking that the records'
    /// offsets are consecutive Raft indexes.
    private static func scanTerms(_ log: PartitionLog, directory: String) throws(StorageError) -> [Term] {
        var terms: [Term] = []
        var next = log.logStartOffset
        while next < log.logEndOffset {
            guard case .records(let slice) = log.read(from: next, maxBytes: readChunkBytes), !slice.isEmpty else {
                throw .corruptFile(path: directory, reason: "no batch at offset \(next) below the log end \(log.logEndOffset)")
            }
            var problem: String?
            slice.withUnsafeBytes { bytes in
                forEachBatch(in: bytes) { batch in
                    guard problem == nil else { return }
                    do throws(RaftRecordError) {
                        try RaftEntryCodec.decode(batch) { entry in
                            let offset = Offset(Int64(entry.index.rawValue))
                            guard offset >= next, problem == nil else { return }  // Below the log start.
                            if offset != next {
                                problem = "entry at offset \(offset) where \(next) was expected"
                                return
                            }
                            terms.append(entry.term)
                            next = next + 1
                        }
                    } catch {
                        problem = error.description
                    }
                }
            }
            if let problem { throw .corruptFile(path: directory, reason: problem) }
        }
        return terms
    }

    /// Makes the log start right after the snapshot (see the type's crash story): the log was
    /// opened from its first segment, so entries at or below the snapshot are still visible here
    /// and can be compared with it. A new, empty log is restarted at `snapshot.index + 1`. `terms` covers
    /// the log from its start on entry and from `snapshot.index + 1` on return.
    private static func reconcile(_ log: PartitionLog, terms: inout [Term], with snapshot: RaftSnapshot,
                                  directory: String, logger: Logger) throws(StorageError) {
        let start = UInt64(log.logStartOffset.rawValue)
        let end = UInt64(log.logEndOffset.rawValue)
        let snapshotIndex = snapshot.index.rawValue
        if start > snapshotIndex + 1 {
            throw .corruptFile(path: directory, reason: "the log starts at index \(start) but the snapshot ends at \(snapshotIndex)")
        }
        if start == snapshotIndex + 1 { return }
        if snapshotIndex < end, terms[Int(snapshotIndex - start)] == snapshot.term {
            try log.deleteRecords(before: Offset(Int64(snapshotIndex + 1)))
            terms.removeFirst(Int(snapshotIndex + 1 - start))
            return
        }
        if start < end {
            logger.warning("""
                Raft log \(directory) disagrees with its snapshot at index \(snapshotIndex) (term \(snapshot.term)): \
                dropping entries \(start)..<\(end) and restarting the log at \(snapshotIndex + 1)
            """)
        }
        try log.truncateFully(startingAt: Offset(Int64(snapshotIndex + 1)))
        terms = []
    }

    /// First start of a founding member: writes `RaftBootstrap`'s entries and hard state. A crash
    /// part-way leaves a prefix of the bootstrap entries and no hard-state file, which lands here
    /// again; anything else in the log without a hard-state file is damage, not a fresh node.
    private func bootstrap(voters: [NodeID], learners: [NodeID], hardStatePath: String) throws(StorageError) {
        let expected = RaftBootstrap.entries(voters: voters, learners: learners)
        let stored = terms.isEmpty ? [] : readEntries(from: firstIndex, count: terms.count)
        guard stored.count <= expected.count, stored == Array(expected.prefix(stored.count)) else {
            throw .corruptFile(path: hardStatePath, reason: """
                missing, but the log holds \(stored.count) entries that are not the bootstrap of voters \
                \(voters.map(\.description).joined(separator: ","))\
                \(learners.isEmpty ? "" : " and learners " + learners.map(\.description).joined(separator: ","))
                """)
        }
        try save(snapshot: nil, entries: expected, hardState: RaftBootstrap.hardState(voters: voters, learners: learners))
    }
}
