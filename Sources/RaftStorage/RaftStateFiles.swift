import LogStorage
import RaftCore
import RunnelCore

// The two small files next to the Raft log's segments. Both are replaced atomically: write
// `<name>.tmp`, fdatasync it, rename it over `<name>`, fsync the directory. A crash at any point
// leaves either the old file or the new one, never a mix; a leftover `.tmp` is removed when the
// log is opened (PartitionLog's cleanup of temporary files). Both end with a CRC-32C of
// everything before it, so damage is reported (naming the file) rather than believed.
//
// `raft-hard-state`, 32 bytes, big-endian:
//
//     0   4  magic "RHS" + format version 1
//     4   8  term
//     12  8  vote (node id, 0 = none)
//     20  8  commit index
//     28  4  CRC-32C of bytes 0..<28
//
// `raft-snapshot`, big-endian:
//
//     0   4  magic "RSN" + format version 1 or 2
//     4   8  index
//     12  8  term
//     20  4  voter count n
//     24  8n voter ids
//     …   4  learner count m           (version 2 only)
//     …   8m learner ids                (version 2 only)
//     …   8  data length L
//     …   L  data (the application's state-machine image)
//     …   4  CRC-32C of everything before
//
// Version 2 adds the learners. A membership without learners is still written as version 1, the
// same bytes as before learners existed, so a release without learners can read it back (a
// downgrade keeps working until the first learner is added); both versions are read.
//
// A missing hard-state file means a node that never persisted a hard state (a fresh node); a
// missing snapshot file means no snapshot was taken (index 0). A file that is present but
// unreadable is an error naming the file: guessing a term or vote could make a node vote twice.

enum RaftStateFiles {
    static let hardStateName = "raft-hard-state"
    static let snapshotName = "raft-snapshot"
    static let hardStateMagic: [UInt8] = [0x52, 0x48, 0x53, 0x01]
    static let snapshotMagic: [UInt8] = [0x52, 0x53, 0x4E, 0x01]
    /// Version 2: the membership includes learners.
    static let snapshotMagicWithLearners: [UInt8] = [0x52, 0x53, 0x4E, 0x02]
    static let hardStateBytes = 32
    /// Bound on the voters (and, separately, the learners) a snapshot file may claim, so a damaged
    /// count cannot allocate wildly.
    static let votersMax = 1024

    // MARK: Hard state

    static func encode(_ hs: HardState) -> [UInt8] {
        var out = ByteWriter()
        out.bytes += hardStateMagic
        out.append(hs.term.rawValue)
        out.append(hs.vote.rawValue)
        out.append(hs.commit.rawValue)
        out.appendCRC()
        return out.bytes
    }

    static func decodeHardState(_ bytes: [UInt8], path: String) throws(StorageError) -> HardState {
        guard bytes.count == hardStateBytes else {
            throw .corruptFile(path: path, reason: "\(bytes.count) bytes, expected \(hardStateBytes)")
        }
        var reader = try ByteReader(bytes, magic: hardStateMagic, path: path)
        return HardState(term: Term(try reader.uint64("term")), vote: NodeID(try reader.uint64("vote")),
                         commit: LogIndex(try reader.uint64("commit")))
    }

    // MARK: Snapshot

    static func encode(_ snapshot: RaftSnapshot) -> [UInt8] {
        let conf = snapshot.confState
        var out = ByteWriter()
        out.bytes.reserveCapacity(44 + 8 * (conf.voters.count + conf.learners.count) + snapshot.data.count)
        out.bytes += conf.learners.isEmpty ? snapshotMagic : snapshotMagicWithLearners
        out.append(snapshot.index.rawValue)
        out.append(snapshot.term.rawValue)
        out.append(ids: conf.voters)
        if !conf.learners.isEmpty { out.append(ids: conf.learners) }
        out.append(UInt64(snapshot.data.count))
        out.bytes += snapshot.data
        out.appendCRC()
        return out.bytes
    }

    static func decodeSnapshot(_ bytes: [UInt8], path: String) throws(StorageError) -> RaftSnapshot {
        let hasLearners = bytes.starts(with: snapshotMagicWithLearners)
        var reader = try ByteReader(bytes, magic: hasLearners ? snapshotMagicWithLearners : snapshotMagic, path: path)
        let index = LogIndex(try reader.uint64("index"))
        let term = Term(try reader.uint64("term"))
        let voters = try reader.ids("voter")
        let learners = hasLearners ? try reader.ids("learner") : []
        guard Set(voters).isDisjoint(with: learners) else {
            throw .corruptFile(path: path, reason: "a node is listed both as a voter and as a learner")
        }
        let length = try reader.uint64("data length")
        let data = try reader.bytes(length, "data")
        try reader.expectEnd()
        return RaftSnapshot(index: index, term: term, confState: ConfState(voters: voters, learners: learners), data: data)
    }

    // MARK: Atomic replacement

    /// Replaces `directory/name` with `bytes`, durably (see the file comment).
    static func write(_ bytes: [UInt8], name: String, directory: String, fileSystem: any FileSystem) throws(StorageError) {
        let path = directory + "/" + name
        let temporary = path + ".tmp"
        let fd = try fileSystem.open(temporary, create: true, truncate: true)
        do throws(StorageError) {
            try bytes.withUnsafeBytes { raw in
                Result { () throws(StorageError) in try fileSystem.pwrite(fd, path: temporary, raw, at: 0) }
            }.get()
            try fileSystem.sync(fd, path: temporary)
        } catch {
            fileSystem.close(fd)
            try? fileSystem.remove(temporary)
            throw error
        }
        fileSystem.close(fd)
        try fileSystem.rename(temporary, to: path)
        try fileSystem.syncDirectory(directory)
    }

    /// The whole content of `directory/name`, or nil when it does not exist.
    static func read(name: String, directory: String, fileSystem: any FileSystem) throws(StorageError) -> [UInt8]? {
        let path = directory + "/" + name
        switch fileSystem.isDirectory(path) {
        case nil: return nil
        case true?: throw .corruptFile(path: path, reason: "is a directory")
        case false?: break
        }
        let fd = try fileSystem.open(path, create: false, truncate: false)
        defer { fileSystem.close(fd) }
        let size = try fileSystem.size(fd, path: path)
        var bytes = [UInt8](repeating: 0, count: size)
        let read = try bytes.withUnsafeMutableBytes { raw in
            Result { () throws(StorageError) in try fileSystem.pread(fd, path: path, into: raw, at: 0) }
        }.get()
        guard read == size else { throw .corruptFile(path: path, reason: "read \(read) of \(size) bytes") }
        return bytes
    }
}

/// Big-endian fields appended to a byte array.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
    }

    /// Appends a count (4 bytes), then each id (8 bytes).
    mutating func append(ids: [NodeID]) {
        append(UInt32(ids.count))
        for id in ids { append(id.rawValue) }
    }

    /// Appends the CRC-32C of everything written so far.
    mutating func appendCRC() {
        append(CRC32C.checksum(bytes))
    }
}

/// Reads the fields of a state file after checking its magic and trailing CRC-32C. Every
/// failure is a `corruptFile` naming the file and the field.
struct ByteReader {
    let bytes: [UInt8]
    let path: String
    /// End of the payload (the CRC follows).
    let end: Int
    var position: Int

    init(_ bytes: [UInt8], magic: [UInt8], path: String) throws(StorageError) {
        guard bytes.count >= magic.count + 4, Array(bytes.prefix(magic.count)) == magic else {
            throw .corruptFile(path: path, reason: "bad magic or format version (\(bytes.count) bytes)")
        }
        let end = bytes.count - 4
        let stored = bytes[end...].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let computed = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<end])) }
        guard stored == computed else {
            throw .corruptFile(path: path, reason: "CRC-32C mismatch (stored \(stored), computed \(computed))")
        }
        self.bytes = bytes
        self.path = path
        self.end = end
        self.position = magic.count
    }

    mutating func uint64(_ field: String) throws(StorageError) -> UInt64 {
        UInt64(try fixed(8, field))
    }

    mutating func uint32(_ field: String) throws(StorageError) -> UInt32 {
        UInt32(try fixed(4, field))
    }

    private mutating func fixed(_ width: Int, _ field: String) throws(StorageError) -> UInt64 {
        guard end - position >= width else { throw .corruptFile(path: path, reason: "truncated at \(field)") }
        defer { position += width }
        return bytes[position..<(position + width)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// A count (at most `RaftStateFiles.votersMax`), then that many ids: the `ByteWriter.append(ids:)` layout.
    mutating func ids(_ field: String) throws(StorageError) -> [NodeID] {
        let count = Int(try uint32("\(field) count"))
        guard count <= RaftStateFiles.votersMax else {
            throw .corruptFile(path: path, reason: "\(field) count \(count) above \(RaftStateFiles.votersMax)")
        }
        var ids: [NodeID] = []
        for _ in 0..<count { ids.append(NodeID(try uint64(field))) }
        return ids
    }

    mutating func bytes(_ count: UInt64, _ field: String) throws(StorageError) -> [UInt8] {
        guard count <= UInt64(end - position) else { throw .corruptFile(path: path, reason: "\(field) longer than the file") }
        defer { position += Int(count) }
        return Array(bytes[position..<(position + Int(count))])
    }

    func expectEnd() throws(StorageError) {
        guard position == end else { throw .corruptFile(path: path, reason: "\(end - position) unexpected bytes before the CRC") }
    }
}
