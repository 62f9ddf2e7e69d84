#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import KafkaWire
import LogStorage
import Logging
import NIOCore
import RunnelCore

/// A partition directory whose files are the input: `PartitionLog.open` (clean start or
/// recovery), then reads, a timestamp lookup, an append, a clean close and a clean reopen; and
/// the data directory's checkpoint files through `OffsetCheckpoint.read`.
///
/// Input: `flags` byte, `recoveryPoint` byte, `secondBase` byte, then parts (uint16 length +
/// bytes; a zero length means the file is absent): segment 0's `.log`, `.index`, `.timeindex`,
/// segment `secondBase`'s `.log`, `.index`, `.timeindex`, and a checkpoint file.
/// - flags bit 0: open as after an unclean stop (recovery); bit 1: pass a log start offset
///   (`recoveryPoint`); bit 2: LogAppendTime.
///
/// Files are written to a directory of the process under /dev/shm (tmpfs) when it exists.
@main
enum FuzzStorageFiles {
    static let root: String = {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        let path = "\(base)/runnel-fuzz-storage-\(getpid())"
        mkdir(path, 0o755)
        return path
    }()
    static let partitionDir = root + "/t-0"
    static let config = LogConfig(segmentBytes: Limits.segmentBytesMin, indexIntervalBytes: 64, indexSizeMaxBytes: 4096)
    static let logger = Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() }
    static let fileSystem = PosixFileSystem()

    static func main() {
        atexit { FuzzStorageFiles.removeAll(FuzzStorageFiles.partitionDir); rmdir(FuzzStorageFiles.partitionDir); rmdir(FuzzStorageFiles.root) }
        FuzzMain.run("FuzzStorageFiles", seeds: seeds) { bytes in
            var input = FuzzInput(bytes)
            let flags = input.byte()
            let recoveryPoint = Offset(Int64(input.byte()))
            let secondBase = Offset(Int64(input.byte()))
            removeAll(partitionDir)
            mkdir(partitionDir, 0o755)
            for base in [Offset.zero, secondBase] {
                for suffix in [".log", ".index", ".timeindex"] {
                    let part = input.part()
                    if !part.isEmpty { write(part, to: partitionDir + "/" + LogSegment.fileName(baseOffset: base, suffix: suffix)) }
                }
            }
            let checkpoint = input.part()
            exercise(flags: flags, recoveryPoint: recoveryPoint)
            if !checkpoint.isEmpty {
                let path = root + "/recovery-point-offset-checkpoint"
                write(checkpoint, to: path)
                _ = try? OffsetCheckpoint.read(from: path, fileSystem: fileSystem)
                unlink(path)
            }
        }
    }

    static func exercise(flags: UInt8, recoveryPoint: Offset) {
        var config = config
        if flags & 4 != 0 { config.messageTimestampType = .logAppendTime }
        let logStart: Offset? = flags & 2 != 0 ? recoveryPoint : nil
        guard let log = try? PartitionLog.open(directory: partitionDir, topic: TopicName("t"), partition: PartitionID(0),
                                               config: config, recoveryPoint: recoveryPoint, logStartOffset: logStart,
                                               needsRecovery: flags & 1 != 0, now: TimestampMs(0),
                                               fileSystem: fileSystem, logger: logger)
        else { return }
        readAll(log)
        _ = log.offset(forTimestamp: TimestampMs(0))
        _ = log.offset(forTimestamp: TimestampMs(1_000))
        var batch = RecordBatchBuilder()
        batch.append(timestamp: TimestampMs(2_000), key: nil, value: ByteBuffer(string: "after"))
        let bytes = batch.finish()
        _ = bytes.withUnsafeReadableBytes { try? log.append(copying: $0, leaderEpoch: LeaderEpoch(1), now: TimestampMs(2_000)) }
        readAll(log)
        guard (try? log.close()) != nil else { return log.abandon() }
        // A clean close must leave files a clean start accepts.
        guard let again = try? PartitionLog.open(directory: partitionDir, topic: TopicName("t"), partition: PartitionID(0),
                                                 config: config, needsRecovery: false, now: TimestampMs(0),
                                                 fileSystem: fileSystem, logger: logger)
        else { fatalError("a log closed cleanly does not open again") }
        readAll(again)
        try? again.close()
    }

    /// Reads batch by batch from the log start to the log end, touching every byte served.
    static func readAll(_ log: PartitionLog) {
        var offset = log.earliestOffset
        for _ in 0..<10_000 {
            guard case .records(let slice) = log.read(from: offset, maxBytes: 4096), let next = slice.nextOffset else { return }
            let sum = slice.withUnsafeBytes { $0.reduce(0) { $0 &+ Int($1) } }
            _ = sum
            guard next > offset else { fatalError("read at \(offset) did not move forward (next \(next))") }
            offset = next
        }
    }

    static func write(_ bytes: UnsafeRawBufferPointer, to path: String) {
        let fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0o644)
        precondition(fd >= 0, "open \(path)")
        precondition(Glibc.write(fd, bytes.baseAddress, bytes.count) == bytes.count, "write \(path)")
        close(fd)
    }

    static func removeAll(_ dir: String) {
        guard let handle = opendir(dir) else { return }
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { unlink(dir + "/" + name) }
        }
        closedir(handle)
    }

    /// Real partition directories written by `PartitionLog` and closed cleanly: one segment, and
    /// two segments with a gzip batch; plus a checkpoint file as `OffsetCheckpoint.write` writes it.
    static func seeds() -> [(name: String, bytes: [UInt8])] {
        func build(batches: Int, gzipEvery: Int) -> [[UInt8]] {
            removeAll(partitionDir)
            let log = try! PartitionLog.open(directory: partitionDir, topic: TopicName("t"), partition: PartitionID(0),
                                             config: config, needsRecovery: false, now: TimestampMs(0),
                                             fileSystem: fileSystem, logger: logger)
            for i in 0..<batches {
                var builder = RecordBatchBuilder(compression: i % gzipEvery == gzipEvery - 1 ? .gzip : .none)
                for r in 0..<3 {
                    builder.append(timestamp: TimestampMs(Int64(1_000 + 10 * i + r)), key: ByteBuffer(string: "k\(r)"),
                                   value: ByteBuffer(string: String(repeating: "v", count: 40)))
                }
                let batch = builder.finish()
                _ = try! batch.withUnsafeReadableBytes { bytes throws(StorageError) in
                    try log.append(copying: bytes, leaderEpoch: LeaderEpoch(0), now: TimestampMs(0))
                }
            }
            let bases = log.segmentBaseOffsets
            try! log.close()
            var files: [[UInt8]] = []
            for base in bases.prefix(2) {
                for suffix in [".log", ".index", ".timeindex"] {
                    files.append(FuzzMain.readFile(partitionDir + "/" + LogSegment.fileName(baseOffset: base, suffix: suffix)) ?? [])
                }
            }
            while files.count < 6 { files.append([]) }
            return files
        }
        let checkpointPath = root + "/checkpoint"
        try! OffsetCheckpoint.write([TopicPartition(TopicName("t"), PartitionID(0)): Offset(12),
                                     TopicPartition(TopicName("orders"), PartitionID(3)): Offset(99)],
                                    to: checkpointPath, fileSystem: fileSystem)
        let checkpoint = FuzzMain.readFile(checkpointPath)!
        unlink(checkpointPath)
        var seeds: [(name: String, bytes: [UInt8])] = []
        for (name, flags, batches, gzipEvery) in [("one-segment-clean", UInt8(0), 4, 100), ("one-segment-recover", 1, 4, 100),
                                                  ("two-segments-gzip-recover", 1, 12, 3)] {
            let files = build(batches: batches, gzipEvery: gzipEvery)
            // The second segment's base is its first offset: 3 records a batch.
            let secondBase = UInt8(truncatingIfNeeded: files[3].isEmpty ? 0 : Int(files[3][7]))
            var input: [UInt8] = [flags, 0, secondBase]
            for file in files { input += FuzzSeed.part(file) }
            input += FuzzSeed.part(checkpoint)
            seeds.append((name, input))
        }
        removeAll(partitionDir)
        return seeds
    }
}
