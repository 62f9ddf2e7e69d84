public import Logging
public import RunnelCore

// Opening, recovery and closing.
//
// Open after a clean stop (`needsRecovery == false`): file sizes are data sizes (everything was
// trimmed and fsynced at close), so no batch is read except a short tail scan per segment from
// its last offset-index entry; each index is sanity-checked (size a multiple of its entry size,
// entries increasing, nothing past the log end) and rebuilt from the log if it fails.
//
// Open after an unclean stop: every segment from the one holding the recovery point to the last
// (always at least the last) is validated batch by batch (`LogSegment.recover`): length, magic,
// CRC-32C, increasing offsets. At the first invalid byte the segment is cut, every later
// segment is deleted and one log line says what was cut. Zeros where a batch should start are
// the normal end of the preallocated active segment. The recovered data is then fsynced, so the
// recovery point becomes the log end.

extension PartitionLog {
    /// Opens (or creates, when the directory has no segment) the log in `directory`.
    ///
    /// - Parameters:
    ///   - recoveryPoint: from `recovery-point-offset-checkpoint` (0 when unknown).
    ///   - logStartOffset: from `log-start-offset-checkpoint` (nil when unknown).
    ///   - needsRecovery: true after an unclean stop (no clean-shutdown marker).
    public static func open(
        directory: String, topic: TopicName, partition: PartitionID, config: LogConfig,
        recoveryPoint: Offset = .zero, logStartOffset: Offset? = nil, needsRecovery: Bool,
        now: TimestampMs, fileSystem: any FileSystem = PosixFileSystem(), logger: Logger
    ) throws(StorageError) -> PartitionLog {
        if fileSystem.isDirectory(directory) == nil { try fileSystem.makeDirectory(directory) }
        let bases = try segmentBaseOffsets(in: directory, fileSystem: fileSystem)
        var segments: [LogSegment] = []
        for base in bases {
            segments.append(try LogSegment.open(directory: directory, baseOffset: base, fileSystem: fileSystem))
        }
        if segments.isEmpty {
            let start = logStartOffset ?? .zero
            segments = [try LogSegment.create(directory: directory, baseOffset: start, config: config, fileSystem: fileSystem)]
            try fileSystem.syncDirectory(directory)
            return PartitionLog(topic: topic, partition: partition, directory: directory, config: config,
                                fileSystem: fileSystem, logger: logger, segments: segments, logStartOffset: start,
                                recoveryPoint: start, now: now)
        }
        let label = "\(topic)-\(partition)"
        try load(&segments, recoveryPoint: recoveryPoint, needsRecovery: needsRecovery, config: config,
                 label: label, logger: logger)
        // Segments entirely below the log start (DeleteRecords or retention not yet applied).
        var start = max(logStartOffset ?? segments[0].baseOffset, segments[0].baseOffset)
        while segments.count > 1 && segments[1].baseOffset <= start { try segments.removeFirst().deleteFiles() }
        let last = segments[segments.count - 1]
        try last.activate(config: config)
        if needsRecovery { try last.logHandle.sync() }
        try fileSystem.syncDirectory(directory)
        start = min(start, last.nextOffset)
        return PartitionLog(topic: topic, partition: partition, directory: directory, config: config,
                            fileSystem: fileSystem, logger: logger, segments: segments, logStartOffset: start,
                            recoveryPoint: last.nextOffset, now: now)
    }

    /// Base offsets of the `.log` files in `directory`, sorted. A compaction's `.log.swap` file
    /// first replaces the segments it was cleaned from (`completeSwaps`). Leftovers are then
    /// removed: index files without a log, and Kafka's temporary suffixes (`.deleted`,
    /// `.cleaned`, `.swap`, `.tmp`).
    static func segmentBaseOffsets(in directory: String, fileSystem: any FileSystem) throws(StorageError) -> [Offset] {
        var names = try fileSystem.contents(ofDirectory: directory)
        var logs = Set<Int64>()
        for name in names where name.hasSuffix(".log") {
            if let base = baseOffset(fromFileName: name, suffix: ".log") { logs.insert(base) }
        }
        if names.contains(where: { $0.hasSuffix(".log.swap") }) {
            logs = try completeSwaps(in: directory, names: names, logs: logs, fileSystem: fileSystem)
            names = try fileSystem.contents(ofDirectory: directory)
        }
        for name in names {
            let orphanIndex = [".index", ".timeindex"].contains { suffix in
                baseOffset(fromFileName: name, suffix: suffix).map { !logs.contains($0) } ?? false
            }
            let temporary = [".deleted", ".cleaned", ".swap", ".tmp"].contains { name.hasSuffix($0) }
            if orphanIndex || temporary { try fileSystem.remove(directory + "/" + name) }
        }
        return logs.sorted().map { Offset($0) }
    }

    static func baseOffset(fromFileName name: String, suffix: String) -> Int64? {
        guard name.hasSuffix(suffix) else { return nil }
        let digits = name.dropLast(suffix.count)
        guard digits.count == 20, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(digits)
    }

    /// Trusts or recovers each segment (see the file comment); cuts and deletes as needed.
    private static func load(_ segments: inout [LogSegment], recoveryPoint: Offset, needsRecovery: Bool,
                             config: LogConfig, label: String, logger: Logger) throws(StorageError) {
        var firstToRecover = segments.count
        if needsRecovery {
            firstToRecover = segments.count - 1
            while firstToRecover > 0 && segments[firstToRecover].baseOffset > recoveryPoint { firstToRecover -= 1 }
        }
        var index = 0
        var scanned = 0
        while index < segments.count {
            let segment = segments[index]
            let isLast = index == segments.count - 1
            var mustRecover = index >= firstToRecover
            let previousEnd = index > 0 ? segments[index - 1].nextOffset : segment.baseOffset
            if !mustRecover, let problem = segment.loadTrusted(walkHeaders: isLast, minimumOffset: previousEnd) {
                logger.warning("recovering \(label) segment \(segment.baseOffset) although the last stop was clean: \(problem)")
                mustRecover = true
            }
            if mustRecover {
                scanned += 1
                let fileBytes = segment.sizeBytes
                var cut = try segment.recover(minimumOffset: previousEnd, config: config)
                if cut == nil && !isLast && segment.sizeBytes < fileBytes {
                    cut = LogSegment.RecoveryCut(path: segment.logPath, position: segment.sizeBytes,
                                                 bytesRemoved: fileBytes - segment.sizeBytes,
                                                 reason: "zero bytes where a batch should start in a sealed segment")
                }
                if let cut {
                    let later = segments.count - index - 1
                    while segments.count > index + 1 { try segments.removeLast().deleteFiles() }
                    logger.warning("""
                        recovery of \(label) cut \(cut.path) at position \(cut.position): \(cut.reason); \
                        \(cut.bytesRemoved) bytes removed, \(later) later segments deleted, log end offset now \
                        \(segment.nextOffset)
                        """)
                    break
                }
                if !isLast { try segment.finishRecoveredSealed() }
            }
            index += 1
        }
        if scanned > 0 {
            logger.debug("recovered \(label): scanned \(scanned) segments, log end offset \(segments.last!.nextOffset)")
        }
    }

    /// Clean close: fsyncs rolled segments not yet flushed, seals the active segment (final
    /// time-index entry, files cut to size, fsync), after which the recovery point is the log end. The log cannot be used afterwards.
    /// An offline log is closed without writing.
    public func close() throws(StorageError) {
        guard !segments.isEmpty else { return }
        endOffsetAtClose = logEndOffset
        defer { segments = [] }
        guard failure == nil else { return }
        try guarded { () throws(StorageError) in
            // Rolled segments whose background flush has not run yet, then the active one.
            for segment in segments.dropLast() where segment.nextOffset > recoveryPoint { try segment.logHandle.sync() }
            try activeSegment.seal()
            recoveryPoint = logEndOffset
        }
    }

    /// Drops the log without writing anything (tests use it to simulate a crash; deletion uses
    /// it before removing the files).
    public func abandon() {
        if !segments.isEmpty { endOffsetAtClose = logEndOffset }
        segments = []
    }

    /// Removes every file of the log and its directory (DeleteTopics). The log is closed.
    func deleteAllFiles() throws(StorageError) {
        let doomed = segments
        abandon()
        for segment in doomed { try segment.deleteFiles() }
        for name in try fileSystem.contents(ofDirectory: directory) {
            try fileSystem.remove(directory + "/" + name)
        }
        try fileSystem.removeDirectory(directory)
    }
}
