/// The second step of deleting a log (`LogManager.detachLog`): releases the log's segments
/// (their mappings and descriptors) and removes its renamed directory. Any thread.
///
/// `perform` does it all at once. `step` does a bounded piece per call — a file shrunk by at most
/// `chunkBytes`, or one file or the directory removed — for a caller that spaces the steps out
/// (one at a time, each after the previous returned; `@unchecked Sendable` on that promise):
/// freeing a gigabyte in one go makes ext4 (with online discard) hold every other fsync on the
/// disk for hundreds of milliseconds, and acks=all answers wait for fsyncs.
public final class LogRemoval: @unchecked Sendable {
    /// The `…-delete` directory, or the first of the files.
    public let path: String
    let fileSystem: any FileSystem
    /// The detached segments, held until the first step lets them go on its thread (unmapping a
    /// large segment is itself slow).
    private var segments: [LogSegment]
    /// Files still to remove, the next last (nil until the directory is listed).
    private var pending: [String]?
    private let removesDirectory: Bool

    /// Removes the directory `path` and everything in it.
    init(path: String, fileSystem: any FileSystem, segments: [LogSegment]) {
        self.path = path
        self.fileSystem = fileSystem
        self.segments = segments
        self.removesDirectory = true
    }

    /// Removes `files` (in order) and nothing else: a log's segments dropped by retention.
    init(files: [String], fileSystem: any FileSystem, segments: [LogSegment]) {
        self.path = files.first ?? ""
        self.fileSystem = fileSystem
        self.segments = segments
        self.pending = files.reversed()
        self.removesDirectory = false
    }

    /// Removes everything now.
    public func perform() throws(StorageError) {
        while try !step(chunkBytes: Int.max) {}
    }

    /// One bounded piece of the removal; true once the directory is gone.
    public func step(chunkBytes: Int) throws(StorageError) -> Bool {
        segments = []
        if pending == nil { pending = try fileSystem.contents(ofDirectory: path).map { path + "/" + $0 } }
        guard let file = pending?.last else {
            if removesDirectory { try fileSystem.removeDirectory(path) }
            return true
        }
        if chunkBytes < Int.max, let fd = try? fileSystem.open(file, create: false, truncate: false) {
            defer { fileSystem.close(fd) }
            let size = try fileSystem.size(fd, path: file)
            if size > chunkBytes {
                try fileSystem.truncate(fd, path: file, size: size - chunkBytes)
                return false
            }
        }
        try fileSystem.remove(file)
        pending?.removeLast()
        return false
    }
}
