import Foundation
import LogStorage

/// Wraps the real file system and fails chosen operations on paths with a chosen suffix, with a
/// chosen errno (EIO unless told; pwrite defaults to ENOSPC, a full disk). Fault tests of the
/// storage layer and of the broker (which takes a `FileSystem` for its logs) use it.
public final class FaultyFileSystem: FileSystem, @unchecked Sendable {
    // @unchecked: `failures` is guarded by `lock`.
    public enum Operation: Hashable, Sendable { case open, truncate, sync, map, remove, rename, pwrite }
    private let real = PosixFileSystem()
    private let lock = NSLock()
    private var failures: [Operation: (matches: @Sendable (String) -> Bool, errno: Int32)] = [:]

    public init() {}

    /// From now on, `operation` on any path ending in `pathSuffix` fails with `errno`.
    public func fail(_ operation: Operation, pathSuffix: String, errno code: Int32? = nil) {
        fail(operation, errno: code) { $0.hasSuffix(pathSuffix) }
    }

    /// From now on, `operation` on any path containing `fragment` (e.g. "/orders-0/") fails.
    public func fail(_ operation: Operation, pathContaining fragment: String, errno code: Int32? = nil) {
        fail(operation, errno: code) { $0.contains(fragment) }
    }

    private func fail(_ operation: Operation, errno code: Int32?, matching: @escaping @Sendable (String) -> Bool) {
        let code = code ?? (operation == .pwrite ? ENOSPC : EIO)
        lock.withLock { failures[operation] = (matching, code) }
    }

    public func heal() { lock.withLock { failures = [:] } }

    private func check(_ operation: Operation, _ path: String, _ name: String) throws(StorageError) {
        let failure = lock.withLock { failures[operation] }
        if let failure, failure.matches(path) { throw .io(operation: name, path: path, errno: failure.errno) }
    }

    public func open(_ path: String, create: Bool, truncate: Bool) throws(StorageError) -> Int32 {
        try check(.open, path, "open")
        return try real.open(path, create: create, truncate: truncate)
    }
    public func close(_ fd: Int32) { real.close(fd) }
    public func size(_ fd: Int32, path: String) throws(StorageError) -> Int { try real.size(fd, path: path) }
    public func truncate(_ fd: Int32, path: String, size: Int) throws(StorageError) {
        try check(.truncate, path, "ftruncate")
        try real.truncate(fd, path: path, size: size)
    }
    public func sync(_ fd: Int32, path: String) throws(StorageError) {
        try check(.sync, path, "fdatasync")
        try real.sync(fd, path: path)
    }
    public func pread(_ fd: Int32, path: String, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(StorageError) -> Int {
        try real.pread(fd, path: path, into: buffer, at: offset)
    }
    public func pwrite(_ fd: Int32, path: String, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError) {
        try check(.pwrite, path, "pwrite")
        try real.pwrite(fd, path: path, bytes, at: offset)
    }
    public func pwrite(_ fd: Int32, path: String, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer,
                       at offset: Int) throws(StorageError) {
        try check(.pwrite, path, "pwrite")
        try real.pwrite(fd, path: path, first, second, at: offset)
    }
    public func map(_ fd: Int32, path: String, length: Int) throws(StorageError) -> UnsafeMutableRawPointer {
        try check(.map, path, "mmap")
        return try real.map(fd, path: path, length: length)
    }
    public func unmap(_ address: UnsafeMutableRawPointer, length: Int) { real.unmap(address, length: length) }
    public func rename(_ from: String, to: String) throws(StorageError) {
        try check(.rename, from, "rename")
        try real.rename(from, to: to)
    }
    public func remove(_ path: String) throws(StorageError) {
        try check(.remove, path, "unlink")
        try real.remove(path)
    }
    public func makeDirectory(_ path: String) throws(StorageError) { try real.makeDirectory(path) }
    public func removeDirectory(_ path: String) throws(StorageError) { try real.removeDirectory(path) }
    public func contents(ofDirectory path: String) throws(StorageError) -> [String] { try real.contents(ofDirectory: path) }
    public func isDirectory(_ path: String) -> Bool? { real.isDirectory(path) }
    public func syncDirectory(_ path: String) throws(StorageError) { try real.syncDirectory(path) }
}
