public import RunnelCore

// Replacing sealed segments by their cleaned copy (log compaction, docs/decisions.md D145–D146).
//
// Crash story, step by step (each rename and directory fsync is one step; a crash may stop the
// sequence anywhere):
//   1. the cleaned batches are written to `<base>.log.cleaned` and fsynced;
//   2. it is renamed `<base>.log.swap` and the directory fsynced: the commit point;
//   3. the old segments' files are renamed `….deleted` (index files first, the log last, oldest
//      segment first);
//   4. the swap file is renamed `<base>.log` and the directory fsynced; its indexes are rebuilt.
// Open (`segmentBaseOffsets`) finishes or discards what a crash left: a `.cleaned` file is
// removed (the old segments are all still there); a `.log.swap` file replaces every segment whose
// base offset lies in [its base, its last offset] (whatever of them step 3 had not renamed yet)
// and takes its name, its stale index files removed so that they are rebuilt; `.deleted` files are
// removed. So after a cut at any step the log holds either every old segment or the cleaned one,
// never neither.

extension PartitionLog {
    /// Replaces the `count` consecutive sealed segments starting with the one at `firstBase` by
    /// one segment at `firstBase` holding `batches` (stored batches, offsets increasing, all within
    /// the replaced segments' offsets; each is checked, CRC included, as compaction leaves them:
    /// `validateStored`). With no batches the segments
    /// are removed and nothing replaces them. Offsets in between read as gaps, as compaction leaves
    /// them. The old files go to `removeLater` when set, else they are removed at once.
    public func replaceSegments(from firstBase: Offset, count: Int, with batches: [[UInt8]]) throws(StorageError) {
        try checkWritable()
        guard let index = segments.firstIndex(where: { $0.baseOffset == firstBase }), count > 0,
              index + count < segments.count
        else {
            throw .corruptFile(path: directory, reason: "no \(count) sealed segments start at \(firstBase) to replace")
        }
        let rangeEnd = segments[index + count].baseOffset
        let logPath = directory + "/" + LogSegment.fileName(baseOffset: firstBase, suffix: ".log")
        var expected = firstBase
        for batch in batches {
            let header = try batch.withUnsafeBytes { bytes in
                Result { () throws(StorageError) in try Self.checkedCleanedBatch(bytes, path: logPath + ".cleaned") }
            }.get()
            guard header.baseOffset >= expected.rawValue, header.lastOffset < rangeEnd.rawValue else {
                throw .malformedBatch(path: logPath + ".cleaned",
                                      reason: "batch \(header.baseOffset)-\(header.lastOffset) is outside \(expected)..<\(rangeEnd)")
            }
            expected = Offset(header.lastOffset + 1)
        }
        try guarded { () throws(StorageError) in
            if !batches.isEmpty {
                // 1. The cleaned file, durable before anything refers to it.
                let cleaned = try FileHandle(path: logPath + ".cleaned", create: true, truncate: true, fileSystem: fileSystem)
                var position = 0
                for batch in batches {
                    try batch.withUnsafeBytes { bytes in
                        Result { () throws(StorageError) in try cleaned.pwrite(bytes, at: position) }
                    }.get()
                    position += batch.count
                }
                try cleaned.sync()
            }
            try commitSwapUnguarded(at: index, count: count, hasCleaned: !batches.isEmpty)
        }
    }

    /// Steps 2–4 of the swap for the `count` segments at `index`, whose `<base>.log.cleaned` file
    /// (when `hasCleaned`) is whole and fsynced. Owner thread; the caller guards.
    func commitSwapUnguarded(at index: Int, count: Int, hasCleaned: Bool) throws(StorageError) {
        let firstBase = segments[index].baseOffset
        let previousEnd = index > 0 ? segments[index - 1].nextOffset : firstBase
        let logPath = directory + "/" + LogSegment.fileName(baseOffset: firstBase, suffix: ".log")
        if hasCleaned {
            // 2. The commit point.
            try fileSystem.rename(logPath + ".cleaned", to: logPath + ".swap")
            try fileSystem.syncDirectory(directory)
        }
        // 3. The old segments leave.
        let old = Array(segments[index..<index + count])
        var files: [String] = []
        for segment in old { files += try segment.renameForDeletion() }
        var replacement: [LogSegment] = []
        if hasCleaned {
            // 4. The swap takes the first old segment's name; its indexes are rebuilt.
            try fileSystem.rename(logPath + ".swap", to: logPath)
            let segment = try LogSegment.open(directory: directory, baseOffset: firstBase, fileSystem: fileSystem)
            if let cut = try segment.recover(minimumOffset: previousEnd, config: config) {
                throw .corruptFile(path: cut.path, reason: "the cleaned segment did not read back: \(cut.reason)")
            }
            try segment.finishRecoveredSealed()
            replacement = [segment]
        }
        try fileSystem.syncDirectory(directory)
        segments.replaceSubrange(index..<index + count, with: replacement)
        if let removeLater {
            removeLater(LogRemoval(files: files, fileSystem: fileSystem, segments: old))
        } else {
            for file in files { try fileSystem.remove(file) }
        }
    }

    static func checkedCleanedBatch(_ batch: UnsafeRawBufferPointer, path: String) throws(StorageError) -> RecordBatchHeader {
        let result = RecordBatchHeader.validateStored(batch)
        switch result {
        case .success(let header) where header.totalSize == batch.count:
            return header
        case .success(let header):
            throw .malformedBatch(path: path, reason: "batch of \(header.totalSize) bytes comes with \(batch.count)")
        case .failure(let invalid):
            throw .malformedBatch(path: path, reason: invalid.description)
        }
    }

    /// Open's part of the swap (see the file comment): completes every `<base>.log.swap` in
    /// `directory`, given the base offsets of the `.log` files there; returns the bases after it.
    static func completeSwaps(in directory: String, names: [String], logs: Set<Int64>,
                              fileSystem: any FileSystem) throws(StorageError) -> Set<Int64> {
        var logs = logs
        var changed = false
        for name in names.sorted() {
            guard let base = baseOffset(fromFileName: name, suffix: ".log.swap") else { continue }
            let swapPath = directory + "/" + name
            let last = try lastOffset(ofSwap: swapPath, fileSystem: fileSystem) ?? base
            for replaced in logs.filter({ $0 >= base && $0 <= last }) {
                for suffix in [".index", ".timeindex", ".log"] {
                    try fileSystem.remove(directory + "/" + LogSegment.fileName(baseOffset: Offset(replaced), suffix: suffix))
                }
                logs.remove(replaced)
            }
            try fileSystem.rename(swapPath, to: directory + "/" + LogSegment.fileName(baseOffset: Offset(base), suffix: ".log"))
            logs.insert(base)
            changed = true
        }
        if changed { try fileSystem.syncDirectory(directory) }
        return logs
    }

    /// The last offset of the last whole batch in a swap file (nil when it holds none). The file
    /// was fsynced before it was renamed, so it is whole; the walk still stops at anything that
    /// is not a batch header.
    private static func lastOffset(ofSwap path: String, fileSystem: any FileSystem) throws(StorageError) -> Int64? {
        let handle = try FileHandle(path: path, create: false, truncate: false, fileSystem: fileSystem)
        let size = try handle.size()
        var header = [UInt8](repeating: 0, count: RecordBatchHeader.size)
        var position = 0
        var last: Int64? = nil
        while position + RecordBatchHeader.size <= size {
            let read = try header.withUnsafeMutableBytes { buffer in
                Result { () throws(StorageError) -> Int in try fileSystem.pread(handle.fd, path: path, into: buffer, at: position) }
            }.get()
            guard read == RecordBatchHeader.size,
                  let parsed = header.withUnsafeBytes({ RecordBatchHeader($0) }),
                  parsed.totalSize >= RecordBatchHeader.size, position + parsed.totalSize <= size
            else { break }
            last = parsed.lastOffset
            position += parsed.totalSize
        }
        return last
    }
}
