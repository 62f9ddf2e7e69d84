import ClusterMetadata
import Foundation
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

/// The single node's metadata log: an append-only file of `MetadataRecord`s, replayed into a
/// `MetadataImage` at start-up. (Under Raft this becomes the replicated `__cluster_metadata`
/// log; the records stay the same.)
///
/// File `<log.dirs>/__cluster_metadata/metadata.log`, a sequence of frames:
///
///     uint32 length   bytes of payload
///     uint32 crc      CRC-32C of payload
///     payload         MetadataRecord.encode()
///
/// Crash story: every append is fsynced before the admin request that caused it is answered.
/// A torn or corrupt tail (short frame, CRC mismatch, zero length) is cut at start-up with one
/// log line; frames before it are intact because each was fsynced before the next was written.
/// A frame that passes its CRC but does not decode or apply means the file is not ours or the
/// code regressed: start-up stops with an error naming the file and offset.
final class MetadataLogStore {
    let path: String
    private var fd: Int32
    private(set) var image: MetadataImage
    private(set) var sizeBytes: Int

    static let directoryName = "__cluster_metadata"
    static let frameHeaderBytes = 8
    /// A metadata record is small; anything above this is corruption, not a record.
    static let recordBytesMax = 1 << 20

    init(dataDirectory: String, logger: Logger) throws {
        let dir = dataDirectory + "/" + Self.directoryName
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        path = dir + "/metadata.log"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StorageFailure("open", path: path, errno: errno) }
        let bytes = try Self.readAll(fd: fd, path: path)
        var image = MetadataImage()
        var position = 0
        var cutReason: String?
        while position < bytes.count {
            guard bytes.count - position >= Self.frameHeaderBytes else { cutReason = "short frame header"; break }
            let length = Int(bytes.readU32(at: position))
            let crc = bytes.readU32(at: position + 4)
            guard length > 0, length <= Self.recordBytesMax else { cutReason = "frame length \(length)"; break }
            guard bytes.count - position - Self.frameHeaderBytes >= length else { cutReason = "frame cut short"; break }
            let payload = Array(bytes[(position + 8)..<(position + 8 + length)])
            guard CRC32C.checksum(payload) == crc else { cutReason = "CRC-32C mismatch"; break }
            do {
                image = try image.applying(try MetadataRecord.decode(payload))
            } catch {
                throw StorageFailure("replay", path: path, detail: "record at byte \(position): \(error)")
            }
            position += Self.frameHeaderBytes + length
        }
        if let cutReason {
            logger.warning("metadata log: cut \(bytes.count - position) bytes at byte \(position) of \(path) (\(cutReason))")
            guard ftruncate(fd, off_t(position)) == 0, fsync(fd) == 0 else {
                throw StorageFailure("truncate", path: path, errno: errno)
            }
        }
        self.image = image
        self.sizeBytes = position
    }

    deinit { close(fd) }

    /// Appends records, fsyncs, then applies them. Either all are durable and applied, or the
    /// call throws and the image is unchanged (a partial write is cut at the next start-up
    /// because the frames after it are absent or fail their CRC).
    func append(_ records: [MetadataRecord]) throws {
        var next = image
        var frames: [UInt8] = []
        for record in records {
            next = try next.applying(record)
            let payload = record.encode()
            frames.appendU32(UInt32(payload.count))
            frames.appendU32(CRC32C.checksum(payload))
            frames += payload
        }
        let written = frames.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(sizeBytes)) }
        guard written == frames.count else { throw StorageFailure("write", path: path, errno: errno) }
        guard fdatasync(fd) == 0 else { throw StorageFailure("fdatasync", path: path, errno: errno) }
        sizeBytes += frames.count
        image = next
    }

    static func readAll(fd: Int32, path: String) throws -> [UInt8] {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw StorageFailure("stat", path: path, errno: errno) }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(done)) }
            guard n > 0 else { throw StorageFailure("read", path: path, errno: errno) }
            done += n
        }
        return bytes
    }
}

/// An I/O failure that names the operation and the file.
struct StorageFailure: Error, CustomStringConvertible {
    let description: String
    init(_ operation: String, path: String, errno: Int32) {
        description = "\(operation) \(path): \(String(cString: strerror(errno)))"
    }
    init(_ operation: String, path: String, detail: String) {
        description = "\(operation) \(path): \(detail)"
    }
}

extension [UInt8] {
    func readU32(at i: Int) -> UInt32 {
        UInt32(self[i]) << 24 | UInt32(self[i + 1]) << 16 | UInt32(self[i + 2]) << 8 | UInt32(self[i + 3])
    }
    mutating func appendU32(_ v: UInt32) {
        append(UInt8(v >> 24)); append(UInt8((v >> 16) & 0xFF)); append(UInt8((v >> 8) & 0xFF)); append(UInt8(v & 0xFF))
    }
}
