import ClusterMetadata
import Foundation
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

/// The metadata log of Runnel's single-node releases (before the Raft controller): an
/// append-only file of `MetadataRecord`s, `<log.dirs>/__cluster_metadata/metadata.log`, frames of
///
///     uint32 length   bytes of payload
///     uint32 crc      CRC-32C of payload
///     payload         MetadataRecord.encode()
///
/// Each frame was fsynced before the next was written, so a torn or corrupt tail (short frame, CRC
/// mismatch, zero length) holds nothing acknowledged and is ignored. Today's broker reads it once,
/// to convert a data directory of those releases: its records become the first entry of the
/// Raft metadata log, and the file is renamed `metadata.log.converted` (`ControlPlane.startQuorum`).
enum LegacyMetadataLog {
    static let directoryName = "__cluster_metadata"
    static let fileName = "metadata.log"
    static let convertedSuffix = ".converted"
    static let frameHeaderBytes = 8
    /// A metadata record is small; anything above this is corruption, not a record.
    static let recordBytesMax = 1 << 20

    static func path(dataDirectory: String) -> String {
        dataDirectory + "/" + directoryName + "/" + fileName
    }

    /// The records of the legacy file in `dataDirectory`, or nil when there is none (or it was
    /// converted already). A frame that passes its CRC but does not decode stops with an error
    /// naming the file and byte: that file is not ours, or not intact.
    static func read(dataDirectory: String, logger: Logger) throws -> [MetadataRecord]? {
        let path = path(dataDirectory: dataDirectory)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageFailure("open", path: path, errno: errno) }
        defer { close(fd) }
        let bytes = try readAll(fd: fd, path: path)
        var records: [MetadataRecord] = []
        var position = 0
        var cutReason: String?
        while position < bytes.count {
            guard bytes.count - position >= frameHeaderBytes else { cutReason = "short frame header"; break }
            let length = Int(bytes.readU32(at: position))
            let crc = bytes.readU32(at: position + 4)
            guard length > 0, length <= recordBytesMax else { cutReason = "frame length \(length)"; break }
            guard bytes.count - position - frameHeaderBytes >= length else { cutReason = "frame cut short"; break }
            let payload = Array(bytes[(position + 8)..<(position + 8 + length)])
            guard CRC32C.checksum(payload) == crc else { cutReason = "CRC-32C mismatch"; break }
            do {
                records.append(try MetadataRecord.decode(payload))
            } catch {
                throw StorageFailure("convert", path: path, detail: "record at byte \(position): \(error)")
            }
            position += frameHeaderBytes + length
        }
        if let cutReason {
            logger.warning("legacy metadata log: ignoring \(bytes.count - position) bytes at byte \(position) of \(path) (\(cutReason))")
        }
        return records
    }

    /// Marks the file converted (renamed, kept for the operator) so it is never read again.
    static func markConverted(dataDirectory: String) throws {
        let path = path(dataDirectory: dataDirectory)
        guard rename(path, path + convertedSuffix) == 0 else { throw StorageFailure("rename", path: path, errno: errno) }
        let dir = dataDirectory + "/" + directoryName
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
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
}
