import RunnelCore

/// One segment of a partition log: `<20-digit base offset>.log` plus its `.index` and
/// `.timeindex` (see `OffsetIndex`, `TimeIndex`).
///
/// `.log` format: RecordBatch v2 batches back to back, exactly the bytes of the wire
/// (PROTOCOL.md §4) with baseOffset and partitionLeaderEpoch stamped. Nothing else: no file
/// header, no footer. The segment's base offset is in its name; the batches' offsets increase.
///
/// Life: the active segment's `.log` is preallocated with a sparse `ftruncate` to `segment.bytes`
/// (a hole, so an idle partition costs no disk) and mapped; an append is a pwrite at the end of
/// the data (see `append` for why not a memcpy into the mapping) and a position bump; reads use
/// the mapping. On roll or clean close the file is cut to its real size (after which its length
/// is the data length) and fsynced. Sealed segments stay mapped for fetches.
///
/// Crash story: after an unclean stop the active segment is a file of `segment.bytes` whose tail
/// is zeros (never written) or a torn batch. Recovery (`recover`) walks the batches from the
/// start, validating length, magic, CRC-32C and increasing offsets, stops at the first invalid
/// byte (an all-zero batch prefix is the normal end of preallocated data), cuts the file there
/// and rebuilds both indexes from the batches it kept. A log truncation cuts the file (which
/// also zeroes the cut range when the file is re-extended) so that truncated batches cannot come
/// back in a later recovery.
///
/// A full disk is an ENOSPC from the append's pwrite (the log goes offline, as Kafka takes a log
/// dir offline), never a SIGBUS: nothing stores into the hole through the mapping.
///
/// Threading: owned by one thread (the partition's owner); only `logHandle` (through a
/// `FlushRequest`) is used from another thread, for fdatasync.
public final class LogSegment {
    public let baseOffset: Offset
    let logHandle: FileHandle
    private var logMapping: Mapping?
    /// Bytes the file has (and the mapping covers) while active; `sizeBytes` when sealed.
    private(set) var capacityBytes: Int
    /// Bytes of valid batches.
    public private(set) var sizeBytes: Int
    public private(set) var offsetIndex: OffsetIndex
    public private(set) var timeIndex: TimeIndex
    /// One past the segment's last offset (`baseOffset` while empty).
    public private(set) var nextOffset: Offset
    /// The largest batch maxTimestamp in the segment (-1 while none).
    public private(set) var maxTimestampSoFar: TimestampMs = .none
    private(set) var offsetOfMaxTimestampSoFar: Offset
    private var bytesSinceLastIndexEntry = 0
    /// Start of the segment's age for `segment.ms`: its first batch's timestamp, or the wall
    /// clock at its first append when that batch had none.
    private(set) var rollingBaseTimestamp: TimestampMs?
    /// Whether `rollingBaseTimestamp` is a record timestamp (then age is measured in record
    /// time, as Kafka does: the incoming batch's timestamp minus the first one's).
    private(set) var rollingBaseIsRecordTime = false
    public private(set) var isActive = false
    /// An index file did not exist when the segment was opened (it must be rebuilt).
    private var indexFileMissing: Bool

    public var logPath: String { logHandle.path }
    var isEmpty: Bool { sizeBytes == 0 }

    public static func fileName(baseOffset: Offset, suffix: String) -> String {
        let digits = String(baseOffset.rawValue)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
    }

    private init(directory: String, baseOffset: Offset, create: Bool, fileSystem: any FileSystem) throws(StorageError) {
        self.baseOffset = baseOffset
        let prefix = directory + "/" + Self.fileName(baseOffset: baseOffset, suffix: "")
        logHandle = try FileHandle(path: prefix + ".log", create: create, truncate: create, fileSystem: fileSystem)
        sizeBytes = try logHandle.size()
        capacityBytes = sizeBytes
        logMapping = sizeBytes > 0 ? try Mapping(handle: logHandle, length: sizeBytes) : nil
        // A missing index file is created empty and then rebuilt (`loadTrusted` reports it).
        let offsetIndexMissing = fileSystem.isDirectory(prefix + ".index") == nil
        let timeIndexMissing = fileSystem.isDirectory(prefix + ".timeindex") == nil
        indexFileMissing = !create && (offsetIndexMissing || timeIndexMissing)
        offsetIndex = OffsetIndex(file: try IndexFile(path: prefix + ".index", entryBytes: OffsetIndex.entryBytes,
                                                      create: create || offsetIndexMissing, fileSystem: fileSystem),
                                  baseOffset: baseOffset)
        timeIndex = TimeIndex(file: try IndexFile(path: prefix + ".timeindex", entryBytes: TimeIndex.entryBytes,
                                                  create: create || timeIndexMissing, fileSystem: fileSystem),
                              baseOffset: baseOffset)
        nextOffset = baseOffset
        offsetOfMaxTimestampSoFar = baseOffset
    }

    /// A new, empty, active segment (files created or emptied, preallocated and mapped).
    public static func create(directory: String, baseOffset: Offset, config: LogConfig,
                              fileSystem: any FileSystem) throws(StorageError) -> LogSegment {
        let segment = try LogSegment(directory: directory, baseOffset: baseOffset, create: true, fileSystem: fileSystem)
        try segment.activate(config: config)
        return segment
    }

    /// An existing segment, sealed, as found on disk. The caller then either trusts it
    /// (`loadTrusted`) or recovers it (`recover`), and activates the last one.
    static func open(directory: String, baseOffset: Offset, fileSystem: any FileSystem) throws(StorageError) -> LogSegment {
        try LogSegment(directory: directory, baseOffset: baseOffset, create: false, fileSystem: fileSystem)
    }

    // MARK: Reading

    /// The batch header at `position`, or nil when no plausible batch (complete within the data)
    /// starts there. No CRC check: the bytes were validated on append or by recovery.
    public func header(at position: Int) -> RecordBatchHeader? {
        if case .batch(let header) = batch(at: position) { return header }
        return nil
    }

    /// What starts at a byte position of the data.
    public enum BatchAt: Equatable, Sendable {
        case batch(RecordBatchHeader)
        /// `position` is the end of the data: nothing more to read.
        case end
        /// Bytes are there but no plausible batch header starts at `position` (the file was
        /// damaged after it was written): `reason` says what is wrong.
        case unreadable(reason: String)
    }

    /// The batch header at `position`, the end of the data, or why the bytes there are no batch.
    /// Checks what a walk relies on (length within the data, magic 2, a last offset not below
    /// the base offset); no CRC.
    public func batch(at position: Int) -> BatchAt {
        guard position >= 0, position < sizeBytes, let mapping = logMapping else { return .end }
        guard position + RecordBatchHeader.size <= sizeBytes,
              let header = RecordBatchHeader(mapping.bytes(position ..< position + RecordBatchHeader.size))
        else { return .unreadable(reason: "\(sizeBytes - position) bytes at position \(position) are too few for a batch header") }
        guard header.batchLength >= Int32(RecordBatchHeader.size - RecordBatchHeader.logOverhead),
              header.totalSize <= sizeBytes - position
        else {
            return .unreadable(reason: "batch at position \(position) has batchLength \(header.batchLength), "
                + "which does not fit the \(sizeBytes - position) bytes left")
        }
        guard header.magic == 2 else { return .unreadable(reason: "batch at position \(position) has magic \(header.magic), not 2") }
        // A negative lastOffsetDelta would make a read's next offset go backwards (found by
        // FuzzStorageFiles in a segment below the recovery point, which is not re-validated).
        guard header.lastOffsetDelta >= 0 else {
            return .unreadable(reason: "batch at position \(position) has lastOffsetDelta \(header.lastOffsetDelta)")
        }
        return .batch(header)
    }

    /// The bytes of `range`, which must lie within the valid data.
    public func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        precondition(range.upperBound <= sizeBytes, "read past the end of \(logPath)")
        guard let mapping = logMapping else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return mapping.bytes(range)
    }

    var mapping: Mapping? { logMapping }

    /// The first batch whose last offset is ≥ `target`: index lookup, then a short forward scan.
    /// nil when the segment has none, or when the scan met bytes it cannot parse (`locateBatch`
    /// tells the two apart).
    public func findBatch(atOrAfter target: Offset) -> (position: Int, header: RecordBatchHeader)? {
        if case .found(let position, let header) = locateBatch(atOrAfter: target) { return (position, header) }
        return nil
    }

    /// Where a forward scan for an offset ended.
    public enum BatchLocation: Equatable, Sendable {
        case found(position: Int, header: RecordBatchHeader)
        /// Every batch of the segment ends before the target.
        case pastEnd
        /// The scan met a damaged header at `position` before reaching the target: the bytes
        /// from there on cannot be walked, so nothing after them may be served in their place.
        case unreadable(position: Int, reason: String)
    }

    /// `findBatch` that says why it found nothing.
    public func locateBatch(atOrAfter target: Offset) -> BatchLocation {
        var position = offsetIndex.lookup(target).position
        while true {
            switch batch(at: position) {
            case .batch(let header):
                if header.lastOffset >= target.rawValue { return .found(position: position, header: header) }
                position += header.totalSize
            case .end:
                return .pastEnd
            case .unreadable(let reason):
                return .unreadable(position: position, reason: reason)
            }
        }
    }

    /// Walks every batch header from the start (no CRC): length within the data, magic 2,
    /// offsets increasing from `minimumOffset`. nil when the walk reaches the end of the data;
    /// else what stopped it. Cheap (one header read per batch): run on the active segment at
    /// every start, because a clean-shutdown marker says nothing about bytes damaged at rest.
    func headerChainProblem(minimumOffset: Offset) -> String? {
        var position = 0
        var expected = max(minimumOffset, baseOffset)
        while true {
            switch batch(at: position) {
            case .end:
                return nil
            case .unreadable(let reason):
                return reason
            case .batch(let header):
                guard header.baseOffset >= expected.rawValue, header.lastOffset >= header.baseOffset else {
                    return "batch at position \(position) has offsets \(header.baseOffset)...\(header.lastOffset), expected from \(expected)"
                }
                expected = Offset(header.lastOffset + 1)
                position += header.totalSize
            }
        }
    }

    /// The first record with timestamp ≥ `timestamp`, as (offset, timestamp); nil when every
    /// batch in the segment is older.
    func firstRecord(atOrAfter timestamp: TimestampMs,
                     compressed: CompressedBatchScanner? = nil) -> (offset: Offset, timestamp: TimestampMs)? {
        guard maxTimestampSoFar >= timestamp else { return nil }
        let startOffset = timeIndex.lastEntry(before: timestamp)?.offset ?? baseOffset
        var position = offsetIndex.lookup(startOffset).position
        while let header = header(at: position) {
            if header.maxTimestamp >= timestamp.rawValue {
                return RecordScan.firstRecord(in: bytes(position ..< position + header.totalSize), header: header,
                                              atOrAfter: timestamp, compressed: compressed)
            }
            position += header.totalSize
        }
        return nil
    }

    // MARK: Appending

    /// Whether a batch of `bytes` fits without exceeding `segmentBytes` (or the mapping).
    func hasRoom(forBytes bytes: Int, segmentBytes: Int) -> Bool {
        sizeBytes + bytes <= min(segmentBytes, capacityBytes)
    }

    /// Copies one stamped, validated batch to the end of the segment and indexes it.
    /// Writes `batch` at the end of the log file and lets `stamp` rewrite its first 61 bytes (the
    /// header: offsets, epoch; for LogAppendTime attributes, maxTimestamp and CRC) on the way.
    /// `header` must describe the batch as stored after stamping.
    ///
    /// Why pwrite and not a memcpy into the mapping: a store into a page of the mapping that is
    /// not in the page cache faults, and ext4 then reads the page in, zero-filling it (plus
    /// readahead) before the copy overwrites it. Profiled with 16 KiB records, that zeroing was
    /// 75 % of the broker's time (213 MB/s). pwrite of whole pages skips the read-in, and reports
    /// a full disk as ENOSPC instead of SIGBUS. The mapping stays for reads: it shares the page
    /// cache, so it sees the written bytes at once.
    func append(_ batch: UnsafeRawBufferPointer, header: RecordBatchHeader, indexIntervalBytes: Int, now: TimestampMs,
                stamp: (UnsafeMutableRawBufferPointer) -> Void = { _ in }) throws(StorageError) {
        precondition(isActive && sizeBytes + batch.count <= capacityBytes, "append to a full or sealed segment")
        precondition(header.baseOffset >= nextOffset.rawValue, "offsets must increase")
        precondition(batch.count >= RecordBatchHeader.size, "a batch is at least its header")
        let headerBytes = RecordBatchHeader.size
        try withUnsafeTemporaryAllocation(byteCount: headerBytes, alignment: 8) { (stamped) throws(StorageError) in
            stamped.copyMemory(from: UnsafeRawBufferPointer(rebasing: batch[0..<headerBytes]))
            stamp(stamped)
            try logHandle.pwrite(UnsafeRawBufferPointer(stamped), UnsafeRawBufferPointer(rebasing: batch[headerBytes...]),
                                 at: sizeBytes)
        }
        if sizeBytes == 0 {
            rollingBaseIsRecordTime = header.maxTimestamp >= 0
            rollingBaseTimestamp = rollingBaseIsRecordTime ? TimestampMs(header.maxTimestamp) : now
        }
        indexBatch(header, at: sizeBytes, indexIntervalBytes: indexIntervalBytes)
        sizeBytes += batch.count
    }

    /// Index bookkeeping for a batch at `position`, shared by append and recovery (Kafka's rule:
    /// an entry when more than `indexIntervalBytes` were appended since the last one).
    private func indexBatch(_ header: RecordBatchHeader, at position: Int, indexIntervalBytes: Int) {
        if header.maxTimestamp > maxTimestampSoFar.rawValue {
            maxTimestampSoFar = TimestampMs(header.maxTimestamp)
            offsetOfMaxTimestampSoFar = Offset(header.lastOffset)
        }
        if bytesSinceLastIndexEntry > indexIntervalBytes && !offsetIndex.isFull {
            offsetIndex.append(offset: Offset(header.lastOffset), position: position)
            timeIndex.maybeAppend(timestamp: maxTimestampSoFar, offset: offsetOfMaxTimestampSoFar)
            bytesSinceLastIndexEntry = 0
        }
        bytesSinceLastIndexEntry += header.totalSize
        nextOffset = Offset(header.lastOffset + 1)
    }

    /// True when an index has no room for another entry (a reason to roll).
    var indexIsFull: Bool { offsetIndex.isFull || timeIndex.isFull }

    // MARK: State changes

    /// Makes this the active segment: preallocates the log to `segment.bytes` and the indexes
    /// to `segment.index.bytes`, and maps them.
    func activate(config: LogConfig) throws(StorageError) {
        let capacity = max(config.segmentBytes, sizeBytes)
        if capacity != capacityBytes || logMapping == nil || logMapping!.length < capacity {
            try logHandle.truncate(to: capacity)
            logMapping = nil
            logMapping = try Mapping(handle: logHandle, length: capacity)
            capacityBytes = capacity
        }
        try offsetIndex.file.resize(capacityBytes: config.indexSizeMaxBytes)
        try timeIndex.file.resize(capacityBytes: config.indexSizeMaxBytes)
        if rollingBaseTimestamp == nil, let first = header(at: 0) {
            rollingBaseTimestamp = first.maxTimestamp >= 0 ? TimestampMs(first.maxTimestamp) : nil
            rollingBaseIsRecordTime = rollingBaseTimestamp != nil
        }
        isActive = true
    }

    /// Roll or clean close: writes the final time-index entry, cuts the log and the indexes to
    /// their real sizes and makes everything durable.
    /// Makes the segment read-only: final time-index entry, files cut to their real size. With
    /// `sync` the log and index files are fsynced here (clean close, recovery); a roll passes
    /// false and leaves the log's fsync to a flush off the owner thread (the log's recovery
    /// point stays below this segment until then), as Kafka flushes a rolled segment in the
    /// background.
    func seal(sync: Bool = true) throws(StorageError) {
        guard isActive else { return }
        timeIndex.maybeAppend(timestamp: maxTimestampSoFar, offset: offsetOfMaxTimestampSoFar, final: true)
        try logHandle.truncate(to: sizeBytes)
        capacityBytes = sizeBytes
        isActive = false
        try offsetIndex.file.trim()
        try timeIndex.file.trim()
        guard sync else { return }
        // One fdatasync covers the written data and the new size.
        try logHandle.sync()
        try offsetIndex.file.sync()
        try timeIndex.file.sync()
    }

    /// After `recover` of a segment that stays sealed: the final time-index entry, both indexes
    /// cut to their entries (recovery grew them to `segment.index.bytes`) and everything fsynced,
    /// as a roll leaves a segment; a later clean start then trusts the indexes as they are.
    func finishRecoveredSealed() throws(StorageError) {
        precondition(!isActive, "finishRecoveredSealed on the active segment")
        timeIndex.maybeAppend(timestamp: maxTimestampSoFar, offset: offsetOfMaxTimestampSoFar, final: true)
        try offsetIndex.file.trim()
        try timeIndex.file.trim()
        try logHandle.sync()
        try offsetIndex.file.sync()
        try timeIndex.file.sync()
    }

    /// Removes every batch from the one holding `offset` on (a batch is never split: when
    /// `offset` is inside a batch, that whole batch goes). Returns the bytes removed.
    @discardableResult
    func truncate(to offset: Offset) throws(StorageError) -> Int {
        guard let (position, _) = findBatch(atOrAfter: offset) else { return 0 }
        return try truncate(toPosition: position)
    }

    /// Cuts the data at `position` (a batch boundary), fixes the indexes and the in-memory
    /// summary. The file is cut (so the removed bytes read as zeros if it is re-extended) and
    /// synced, so removed batches cannot come back.
    @discardableResult
    func truncate(toPosition position: Int) throws(StorageError) -> Int {
        let removed = sizeBytes - position
        guard removed > 0, let firstRemoved = header(at: position) else { return 0 }
        offsetIndex.truncate(toPositionsBelow: position)
        timeIndex.truncate(toOffsetsBelow: Offset(firstRemoved.baseOffset))
        sizeBytes = position
        try logHandle.truncate(to: position)
        if isActive { try logHandle.truncate(to: capacityBytes) } else { capacityBytes = position }
        try logHandle.sync()
        if let problem = reloadTail() { throw .corruptFile(path: logPath, reason: "after truncation: \(problem)") }
        if sizeBytes == 0 { rollingBaseTimestamp = nil }
        return removed
    }

    /// Recomputes `nextOffset`, the max timestamp and the bytes since the last index entry from
    /// the indexes plus a forward scan from the last offset-index entry (bounded by about
    /// `index.interval.bytes`). Returns why the data does not end on a batch boundary, if so.
    func reloadTail() -> String? {
        if let last = timeIndex.lastEntry {
            maxTimestampSoFar = last.timestamp
            offsetOfMaxTimestampSoFar = last.offset
        } else {
            maxTimestampSoFar = .none
            offsetOfMaxTimestampSoFar = baseOffset
        }
        let lastEntry = offsetIndex.entryCount > 0 ? offsetIndex.entry(offsetIndex.entryCount - 1) : nil
        let start = lastEntry?.position ?? 0
        var position = start
        nextOffset = baseOffset
        while position < sizeBytes {
            guard let header = header(at: position) else { return "no whole batch at position \(position) of \(sizeBytes)" }
            // An entry is (last offset, position) of one batch. One that names a later offset than
            // its batch holds would let the next append's entry go backwards (a trap in
            // `OffsetIndex.append`), so the index is not trusted (found by FuzzStorageFiles).
            if position == start, let lastEntry, lastEntry.offset.rawValue != header.lastOffset {
                return "the last offset-index entry says offset \(lastEntry.offset) at position \(start), " +
                    "but the batch there ends at offset \(header.lastOffset)"
            }
            guard header.baseOffset >= nextOffset.rawValue else {
                return "batch at position \(position) has base offset \(header.baseOffset) below \(nextOffset)"
            }
            if header.maxTimestamp > maxTimestampSoFar.rawValue {
                maxTimestampSoFar = TimestampMs(header.maxTimestamp)
                offsetOfMaxTimestampSoFar = Offset(header.lastOffset)
            }
            nextOffset = Offset(header.lastOffset + 1)
            position += header.totalSize
        }
        bytesSinceLastIndexEntry = sizeBytes - start
        return nil
    }

    /// Checks the indexes of a segment found on disk after a clean stop and loads its summary.
    /// nil when it can be trusted; else the reason it must be recovered. With `walkHeaders`
    /// (the active segment) every batch header is walked as well, not only the tail after the
    /// last index entry.
    func loadTrusted(walkHeaders: Bool = false, minimumOffset: Offset = .zero) -> String? {
        if indexFileMissing { return "an index file is missing" }
        if walkHeaders, let problem = headerChainProblem(minimumOffset: minimumOffset) { return "\(logPath): \(problem)" }
        if let problem = offsetIndex.problem(logBytes: sizeBytes) { return "\(offsetIndex.file.path): \(problem)" }
        if let problem = reloadTail() { return "\(logPath): \(problem)" }
        if let problem = timeIndex.problem(endOffset: nextOffset) { return "\(timeIndex.file.path): \(problem)" }
        return nil
    }

    /// Where recovery cut a segment and why.
    public struct RecoveryCut: Sendable, Equatable {
        public var path: String
        public var position: Int
        public var bytesRemoved: Int
        public var reason: String
    }

    /// Validates every batch from the start, rebuilds both indexes, and cuts the file at the
    /// first invalid byte. `minimumOffset` is where the previous segment ended (offsets must
    /// increase across segments). Returns the cut, or nil when the data ended cleanly (end of
    /// file or the zero tail of preallocation).
    func recover(minimumOffset: Offset, config: LogConfig) throws(StorageError) -> RecoveryCut? {
        indexFileMissing = false
        try offsetIndex.file.reset()
        try timeIndex.file.reset()
        try offsetIndex.file.resize(capacityBytes: config.indexSizeMaxBytes)
        try timeIndex.file.resize(capacityBytes: config.indexSizeMaxBytes)
        maxTimestampSoFar = .none
        offsetOfMaxTimestampSoFar = baseOffset
        bytesSinceLastIndexEntry = 0
        nextOffset = baseOffset
        let fileBytes = sizeBytes
        var expected = max(minimumOffset, baseOffset)
        var position = 0
        var reason: String? = nil
        while position < fileBytes {
            let rest = logMapping!.bytes(position ..< fileBytes)
            if Self.isZeroPrefix(rest) { break }
            switch RecordBatchHeader.validateStored(rest) {
            case .failure(let invalid):
                reason = invalid.description
            case .success(let header):
                if header.baseOffset < expected.rawValue {
                    reason = "base offset \(header.baseOffset) is below \(expected) (offsets must increase)"
                } else if header.lastOffset - baseOffset.rawValue > Int64(Int32.max) {
                    reason = "last offset \(header.lastOffset) is too far from the segment base \(baseOffset)"
                } else {
                    indexBatch(header, at: position, indexIntervalBytes: config.indexIntervalBytes)
                    expected = Offset(header.lastOffset + 1)
                    position += header.totalSize
                    continue
                }
            }
            break
        }
        sizeBytes = position
        if position < fileBytes { try logHandle.truncate(to: position) }
        capacityBytes = position
        rollingBaseTimestamp = nil
        guard let reason else { return nil }
        return RecoveryCut(path: logPath, position: position, bytesRemoved: fileBytes - position, reason: reason)
    }

    /// True when the bytes where a batch should start are zeros: the 12-byte baseOffset +
    /// batchLength prefix (or all that is left, when less). No batch has batchLength 0.
    static func isZeroPrefix(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let n = min(bytes.count, RecordBatchHeader.logOverhead)
        for i in 0..<n where bytes[i] != 0 { return false }
        return true
    }

    /// Renames the segment's files to `….deleted` (removed by whoever takes the returned paths,
    /// or by the next open of the log, which drops every `.deleted` file) and returns the new
    /// paths, log last. The object must not be used afterwards, as after `deleteFiles`.
    func renameForDeletion() throws(StorageError) -> [String] {
        let fileSystem = logHandle.fileSystem
        var renamed: [String] = []
        for path in [offsetIndex.file.path, timeIndex.file.path, logPath] {
            try fileSystem.rename(path, to: path + ".deleted")
            renamed.append(path + ".deleted")
        }
        isActive = false
        return renamed
    }

    /// Removes the segment's files. The object must not be used afterwards (mappings held by
    /// outstanding slices stay valid until they are dropped).
    func deleteFiles() throws(StorageError) {
        let fileSystem = logHandle.fileSystem
        try fileSystem.remove(offsetIndex.file.path)
        try fileSystem.remove(timeIndex.file.path)
        try fileSystem.remove(logPath)
        isActive = false
    }
}
