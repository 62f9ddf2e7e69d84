import RunnelCore

/// Kafka's offset checkpoint files at the data-dir root: `recovery-point-offset-checkpoint`,
/// `log-start-offset-checkpoint` (and later `replication-offset-checkpoint`).
///
/// Format (text, as Kafka writes it):
///
///     0                      version
///     2                      number of entries
///     orders 0 1234          topic, partition, offset — one line each, space separated
///     orders 1 99
///
/// Crash story: written to `<name>.tmp`, fsynced, renamed over the old file, and the directory
/// fsynced, so a reader sees the old or the new file, never a mix. A file that does not parse
/// is reported (`corruptFile`); `LogManager` then treats every offset in it as unknown, which is
/// safe (recovery from 0, log start from the first segment).
public enum OffsetCheckpoint {
    public static func write(_ entries: [TopicPartition: Offset], to path: String,
                             fileSystem: any FileSystem) throws(StorageError) {
        var text = "0\n\(entries.count)\n"
        for key in entries.keys.sorted() {
            text += "\(key.topic.rawValue) \(key.partition.rawValue) \(entries[key]!.rawValue)\n"
        }
        try CheckpointText.write(text, to: path, fileSystem: fileSystem)
    }

    /// The entries of the file at `path`; empty when it does not exist.
    public static func read(from path: String, fileSystem: any FileSystem) throws(StorageError) -> [TopicPartition: Offset] {
        guard let text = try CheckpointText.read(from: path, fileSystem: fileSystem) else { return [:] }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        func corrupt(_ reason: String) -> StorageError { .corruptFile(path: path, reason: reason) }
        guard lines.count >= 2, lines[0] == "0" else { throw corrupt("first line is not version 0") }
        guard let expected = Int(lines[1]), expected >= 0 else { throw corrupt("second line is not an entry count") }
        var entries: [TopicPartition: Offset] = [:]
        for (number, line) in lines.dropFirst(2).enumerated() where !line.isEmpty {
            let fields = line.split(separator: " ")
            guard fields.count == 3, TopicName.invalidReason(String(fields[0])) == nil,
                  let partition = Int32(fields[1]), let offset = Int64(fields[2])
            else { throw corrupt("line \(number + 3) is not 'topic partition offset'") }
            entries[TopicPartition(TopicName(String(fields[0])), PartitionID(partition))] = Offset(offset)
        }
        guard entries.count == expected else { throw corrupt("count line says \(expected), found \(entries.count) entries") }
        return entries
    }
}

/// A small text file replaced atomically — Kafka's checkpoint files (`OffsetCheckpoint`, and a
/// partition's `leader-epoch-checkpoint`): written to `<path>.tmp`, fsynced, renamed over the
/// old file, and the directory fsynced, so a reader sees the old or the new text, never a mix.
public enum CheckpointText {
    public static func write(_ text: String, to path: String, fileSystem: any FileSystem) throws(StorageError) {
        let temporary = path + ".tmp"
        let file = try FileHandle(path: temporary, create: true, truncate: true, fileSystem: fileSystem)
        let bytes = Array(text.utf8)
        try bytes.withUnsafeBytes { raw in
            Result { () throws(StorageError) in try fileSystem.pwrite(file.fd, path: temporary, raw, at: 0) }
        }.get()
        try file.sync()
        try fileSystem.rename(temporary, to: path)
        try fileSystem.syncDirectory(parentDirectory(of: path))
    }

    /// The file's text; nil when it does not exist.
    public static func read(from path: String, fileSystem: any FileSystem) throws(StorageError) -> String? {
        guard fileSystem.isDirectory(path) == false else { return nil }
        let file = try FileHandle(path: path, create: false, truncate: false, fileSystem: fileSystem)
        let size = try file.size()
        var bytes = [UInt8](repeating: 0, count: size)
        let count = try bytes.withUnsafeMutableBytes { raw in
            Result { () throws(StorageError) -> Int in try fileSystem.pread(file.fd, path: path, into: raw, at: 0) }
        }.get()
        return String(decoding: bytes[0..<count], as: UTF8.self)
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
