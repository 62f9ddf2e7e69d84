import RunnelCore

/// The mmap'd array of fixed-size entries behind `OffsetIndex` and `TimeIndex`.
///
/// An index file is preallocated (sparse `ftruncate`) to `segment.index.bytes` while its segment
/// is active and trimmed to `entryCount × entryBytes` when the segment rolls or the log closes
/// cleanly. So after a clean stop the file size says how many entries there are; after an unclean
/// stop the file may hold a zero tail and is rebuilt from the log (indexes are never checksummed:
/// on any doubt they are rebuilt).
///
/// Threading: owner thread only.
struct IndexFile {
    let handle: FileHandle
    let entryBytes: Int
    private(set) var mapping: Mapping?
    /// Entries in use.
    private(set) var entryCount: Int
    /// Entries the file (and the mapping) currently has room for.
    private(set) var capacityEntries: Int

    var path: String { handle.path }

    /// Opens (or creates) an index file and maps it whole. `entryCount` is the file size divided
    /// by the entry size, which is right for a trimmed file; `fileSizeBytes` lets the caller
    /// check it.
    init(path: String, entryBytes: Int, create: Bool, fileSystem: any FileSystem) throws(StorageError) {
        handle = try FileHandle(path: path, create: create, truncate: create, fileSystem: fileSystem)
        self.entryBytes = entryBytes
        let size = try handle.size()
        fileSizeBytes = size
        entryCount = size / entryBytes
        capacityEntries = size / entryBytes
        mapping = capacityEntries > 0 ? try Mapping(handle: handle, length: capacityEntries * entryBytes) : nil
    }

    /// The file size (as found at open, then as set by `resize` and `trim`).
    private(set) var fileSizeBytes: Int

    /// Grows (or shrinks, never below the entries in use) the file and the mapping to hold
    /// `bytes / entryBytes` entries.
    mutating func resize(capacityBytes bytes: Int) throws(StorageError) {
        let entries = max(bytes / entryBytes, entryCount)
        guard entries != capacityEntries || mapping == nil && entries > 0 else { return }
        try handle.truncate(to: entries * entryBytes)
        fileSizeBytes = entries * entryBytes
        mapping = nil
        capacityEntries = entries
        if entries > 0 { mapping = try Mapping(handle: handle, length: entries * entryBytes) }
    }

    /// Cuts the file to the entries in use (roll, clean close). The mapping stays but no entry
    /// past `capacityEntries` is ever touched, so the part beyond the end of file is never read.
    mutating func trim() throws(StorageError) {
        try handle.truncate(to: entryCount * entryBytes)
        fileSizeBytes = entryCount * entryBytes
        capacityEntries = entryCount
    }

    func entry(_ index: Int) -> UnsafeRawBufferPointer {
        precondition(index >= 0 && index < entryCount, "index entry \(index) of \(entryCount)")
        return mapping!.bytes(index * entryBytes ..< (index + 1) * entryBytes)
    }

    /// Appends one entry, written by `fill`. The caller checked there is room.
    mutating func append(_ fill: (UnsafeMutableRawBufferPointer) -> Void) {
        precondition(entryCount < capacityEntries, "append to a full index \(path)")
        fill(mapping!.mutableBytes(entryCount * entryBytes ..< (entryCount + 1) * entryBytes))
        entryCount += 1
    }

    /// Drops every entry by cutting the file to zero bytes (recovery rebuilds from there). Unlike
    /// zeroing through the mapping, this writes nothing: a crashed active segment's index is its
    /// whole preallocated size (10 MiB), and zeroing it in memory dirtied and allocated every page
    /// (1 GB of writes and 2.6 s of start-up for the 50 partitions of __consumer_offsets).
    mutating func reset() throws(StorageError) {
        mapping = nil
        try handle.truncate(to: 0)
        fileSizeBytes = 0
        entryCount = 0
        capacityEntries = 0
    }

    /// Drops entries from `count` on; zeroes them so that a later crash cannot resurrect them.
    mutating func truncate(toCount count: Int) {
        precondition(count >= 0 && count <= entryCount)
        if count < entryCount {
            mapping!.mutableBytes(count * entryBytes ..< entryCount * entryBytes).initializeMemory(as: UInt8.self, repeating: 0)
        }
        entryCount = count
    }

    func sync() throws(StorageError) { try handle.sync() }

    /// Greatest entry index whose key (read by `key`) is ≤ `target`, or nil when every key is
    /// greater. Keys are increasing. Binary search over the mapping: no entry is copied.
    func lastIndex(atOrBelow target: Int64, key: (UnsafeRawBufferPointer) -> Int64) -> Int? {
        var low = 0, high = entryCount - 1, found: Int? = nil
        while low <= high {
            let mid = (low + high) / 2
            if key(entry(mid)) <= target {
                found = mid
                low = mid + 1
            } else {
                high = mid - 1
            }
        }
        return found
    }
}
