// The file-system seam: every system call LogStorage makes goes through `FileSystem`, so fault
// tests can wrap `PosixFileSystem` and fail any operation on any file. Each failure is thrown as
// `StorageError.io` naming the operation and the path; nothing here crashes on an I/O error.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// File-scope wrappers: inside `PosixFileSystem` the method names shadow the C functions.
private func sysOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func sysClose(_ fd: Int32) -> Int32 { close(fd) }
private func sysPread(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, _ offset: off_t) -> Int {
    pread(fd, buffer, count, offset)
}
private func sysPwrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int, _ offset: off_t) -> Int {
    pwrite(fd, buffer, count, offset)
}
private func sysRename(_ from: String, _ to: String) -> Int32 { rename(from, to) }

/// The narrow set of file operations LogStorage needs.
///
/// Implementations MUST be safe to call from several threads at once: the flush path
/// (`FlushRequest.perform`) calls `sync` from a thread-pool thread while the owner thread keeps
/// appending.
public protocol FileSystem: Sendable {
    /// Opens `path` read-write; creates it (mode 0644) when `create` is true and it is missing,
    /// and empties it when `truncate` is true.
    func open(_ path: String, create: Bool, truncate: Bool) throws(StorageError) -> Int32
    func close(_ fd: Int32)
    func size(_ fd: Int32, path: String) throws(StorageError) -> Int
    /// Sets the file size; growing makes a sparse hole (no disk blocks), shrinking drops data.
    func truncate(_ fd: Int32, path: String, size: Int) throws(StorageError)
    /// Makes the file's data (and the size) durable: fdatasync. On Linux this also covers pages
    /// written through a MAP_SHARED mapping, which share the page cache.
    func sync(_ fd: Int32, path: String) throws(StorageError)
    func pread(_ fd: Int32, path: String, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(StorageError) -> Int
    func pwrite(_ fd: Int32, path: String, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError)
    /// Writes `first` then `second` contiguously at `offset` (one pwritev where the
    /// implementation can). The default is two `pwrite`s.
    func pwrite(_ fd: Int32, path: String, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer,
                at offset: Int) throws(StorageError)
    /// Maps `length` bytes of the file shared, read-write.
    func map(_ fd: Int32, path: String, length: Int) throws(StorageError) -> UnsafeMutableRawPointer
    func unmap(_ address: UnsafeMutableRawPointer, length: Int)
    func rename(_ from: String, to: String) throws(StorageError)
    /// Removes a file; a missing file is not an error.
    func remove(_ path: String) throws(StorageError)
    func makeDirectory(_ path: String) throws(StorageError)
    /// Removes an empty directory.
    func removeDirectory(_ path: String) throws(StorageError)
    /// Names in `path`, without "." and "..".
    func contents(ofDirectory path: String) throws(StorageError) -> [String]
    /// nil when nothing exists at `path`, else whether it is a directory.
    func isDirectory(_ path: String) -> Bool?
    /// fsync of a directory, making created, renamed and removed entries durable.
    func syncDirectory(_ path: String) throws(StorageError)
}


extension FileSystem {
    public func pwrite(_ fd: Int32, path: String, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer,
                       at offset: Int) throws(StorageError) {
        try pwrite(fd, path: path, first, at: offset)
        try pwrite(fd, path: path, second, at: offset + first.count)
    }
}

/// The real file system (POSIX calls).
public struct PosixFileSystem: FileSystem {
    public init() {}

    private static func fail(_ operation: String, _ path: String) -> StorageError {
        .io(operation: operation, path: path, errno: errno)
    }

    public func open(_ path: String, create: Bool, truncate: Bool) throws(StorageError) -> Int32 {
        var flags = O_RDWR | O_CLOEXEC
        if create { flags |= O_CREAT }
        if truncate { flags |= O_TRUNC }
        let fd = sysOpen(path, flags, 0o644)
        guard fd >= 0 else { throw Self.fail("open", path) }
        return fd
    }

    public func close(_ fd: Int32) { _ = sysClose(fd) }

    public func size(_ fd: Int32, path: String) throws(StorageError) -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Self.fail("fstat", path) }
        return Int(info.st_size)
    }

    public func truncate(_ fd: Int32, path: String, size: Int) throws(StorageError) {
        guard ftruncate(fd, off_t(size)) == 0 else { throw Self.fail("ftruncate", path) }
    }

    public func sync(_ fd: Int32, path: String) throws(StorageError) {
        guard fdatasync(fd) == 0 else { throw Self.fail("fdatasync", path) }
    }

    public func pread(_ fd: Int32, path: String, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(StorageError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = sysPread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.fail("pread", path)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    public func pwrite(_ fd: Int32, path: String, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError) {
        var done = 0
        while done < bytes.count {
            let n = sysPwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.fail("pwrite", path)
            }
            done += n
        }
    }

    /// One pwritev for both parts (a batch's stamped header and its body: one syscall per
    /// append); a short write finishes with pwrite.
    public func pwrite(_ fd: Int32, path: String, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer,
                       at offset: Int) throws(StorageError) {
        var vectors = (iovec(iov_base: UnsafeMutableRawPointer(mutating: first.baseAddress), iov_len: first.count),
                       iovec(iov_base: UnsafeMutableRawPointer(mutating: second.baseAddress), iov_len: second.count))
        var n: Int
        repeat {
            n = withUnsafeMutablePointer(to: &vectors) {
                $0.withMemoryRebound(to: iovec.self, capacity: 2) { pwritev(fd, $0, 2, off_t(offset)) }
            }
        } while n < 0 && errno == EINTR
        if n < 0 { throw Self.fail("pwritev", path) }
        let total = first.count + second.count
        guard n < total else { return }
        // Short write: finish the rest with plain pwrites.
        if n < first.count {
            try pwrite(fd, path: path, UnsafeRawBufferPointer(rebasing: first[n...]), at: offset + n)
            try pwrite(fd, path: path, second, at: offset + first.count)
        } else {
            try pwrite(fd, path: path, UnsafeRawBufferPointer(rebasing: second[(n - first.count)...]), at: offset + n)
        }
    }

    public func map(_ fd: Int32, path: String, length: Int) throws(StorageError) -> UnsafeMutableRawPointer {
        precondition(length > 0, "mmap of an empty range")
        let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let address, address != MAP_FAILED else { throw Self.fail("mmap", path) }
        return address
    }

    public func unmap(_ address: UnsafeMutableRawPointer, length: Int) { _ = munmap(address, length) }

    public func rename(_ from: String, to: String) throws(StorageError) {
        guard sysRename(from, to) == 0 else { throw Self.fail("rename to \(to)", from) }
    }

    public func remove(_ path: String) throws(StorageError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw Self.fail("unlink", path) }
    }

    public func makeDirectory(_ path: String) throws(StorageError) {
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw Self.fail("mkdir", path) }
    }

    public func removeDirectory(_ path: String) throws(StorageError) {
        guard rmdir(path) == 0 || errno == ENOENT else { throw Self.fail("rmdir", path) }
    }

    public func contents(ofDirectory path: String) throws(StorageError) -> [String] {
        guard let dir = opendir(path) else { throw Self.fail("opendir", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public func isDirectory(_ path: String) -> Bool? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (info.st_mode & S_IFMT) == S_IFDIR
    }

    public func syncDirectory(_ path: String) throws(StorageError) {
        let fd = sysOpen(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
        guard fd >= 0 else { throw Self.fail("open directory", path) }
        defer { _ = sysClose(fd) }
        guard fsync(fd) == 0 else { throw Self.fail("fsync directory", path) }
    }
}

/// An open file descriptor, closed when the last reference goes. Immutable, so it can travel to
/// the flush thread: a `FlushRequest` keeps its files open even if the owner deletes or rolls
/// the segment meanwhile (fdatasync on an unlinked file is harmless).
public final class FileHandle: Sendable {
    public let fd: Int32
    public let path: String
    let fileSystem: any FileSystem

    init(path: String, create: Bool, truncate: Bool, fileSystem: any FileSystem) throws(StorageError) {
        self.fd = try fileSystem.open(path, create: create, truncate: truncate)
        self.path = path
        self.fileSystem = fileSystem
    }

    deinit { fileSystem.close(fd) }

    func size() throws(StorageError) -> Int { try fileSystem.size(fd, path: path) }
    func truncate(to size: Int) throws(StorageError) { try fileSystem.truncate(fd, path: path, size: size) }
    func sync() throws(StorageError) { try fileSystem.sync(fd, path: path) }
    func pwrite(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError) {
        try fileSystem.pwrite(fd, path: path, bytes, at: offset)
    }
    func pwrite(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, at offset: Int) throws(StorageError) {
        try fileSystem.pwrite(fd, path: path, first, second, at: offset)
    }
}

/// A shared read-write mapping of a file, unmapped when the last reference goes. A `LogSlice`
/// handed to a fetch keeps the mapping alive, so a segment deleted meanwhile cannot turn the
/// slice into a dangling pointer.
///
/// @unchecked Sendable: `address` and `length` never change; the bytes behind them are written by
/// the owner thread only, and readers only read ranges the owner published before handing them
/// out (DESIGN.md §7).
public final class Mapping: @unchecked Sendable {
    public let address: UnsafeMutableRawPointer
    public let length: Int
    let fileSystem: any FileSystem

    init(handle: FileHandle, length: Int) throws(StorageError) {
        self.address = try handle.fileSystem.map(handle.fd, path: handle.path, length: length)
        self.length = length
        self.fileSystem = handle.fileSystem
    }

    deinit { fileSystem.unmap(address, length: length) }

    func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        precondition(range.lowerBound >= 0 && range.upperBound <= length, "range outside the mapping")
        return UnsafeRawBufferPointer(start: address + range.lowerBound, count: range.count)
    }

    /// Drops the mapping's pages from this process's resident set (MADV_DONTNEED). The mapping
    /// is MAP_SHARED and file-backed, so nothing is lost: the pages stay in the page cache (dirty
    /// ones are still written back) and the next read through the mapping faults them in again.
    func releaseResidentPages() {
        _ = madvise(address, length, MADV_DONTNEED)
    }

    func mutableBytes(_ range: Range<Int>) -> UnsafeMutableRawBufferPointer {
        precondition(range.lowerBound >= 0 && range.upperBound <= length, "range outside the mapping")
        return UnsafeMutableRawBufferPointer(start: address + range.lowerBound, count: range.count)
    }
}
