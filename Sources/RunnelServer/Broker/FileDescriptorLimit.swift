import Foundation
import LogStorage
import Logging

/// The process's open-file limit (RLIMIT_NOFILE) and what the logs need of it.
///
/// Every segment keeps three descriptors open (`.log`, `.index`, `.timeindex`), so a broker with
/// many partitions runs out of descriptors long before memory; Kafka operators raise the limit to
/// 100,000 or more. At start-up the broker raises its soft limit to the hard limit (as many
/// servers do: the hard limit is what the operator allowed) and warns when even that is low for
/// the segments on disk.
enum FileDescriptorLimit {
    static let descriptorsPerSegment = 3
    /// Descriptors kept free for connections, the metadata log and new partitions.
    static let headroom = 1024
    /// What Kafka's operations guides ask for; below it, a notice says so.
    static let recommended: UInt64 = 100_000

    /// The soft and hard limits now.
    static func current() -> (soft: UInt64, hard: UInt64) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (0, 0) }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }

    /// Raises the soft limit to the hard limit; returns the soft limit in force afterwards.
    @discardableResult
    static func raiseSoftLimit(logger: Logger) -> UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            let before = limit.rlim_cur
            limit.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
                logger.info("raised the open-file limit (RLIMIT_NOFILE) from \(before) to \(limit.rlim_max), the hard limit")
            } else {
                logger.warning("could not raise the open-file limit from \(before) to \(limit.rlim_max): \(String(cString: strerror(errno)))")
                return UInt64(before)
            }
        }
        return UInt64(limit.rlim_cur)
    }

    /// Warns when `segments` segments on disk need more descriptors than the limit leaves
    /// (with headroom), and notes a limit under the recommended one.
    static func check(segments: Int, partitions: Int, logger: Logger) {
        let soft = current().soft
        let needed = UInt64(segments * descriptorsPerSegment + headroom)
        if soft < needed {
            logger.warning("""
                the open-file limit is \(soft) but the \(partitions) partitions on disk hold \(segments) segments, \
                which keep \(segments * descriptorsPerSegment) descriptors open (plus connections): raise the hard \
                limit (ulimit -Hn, LimitNOFILE= in systemd) to \(max(needed * 2, recommended)) or more
                """)
        } else if soft < recommended {
            logger.notice("the open-file limit is \(soft); Kafka operators raise it to \(recommended) or more (each segment holds \(descriptorsPerSegment) descriptors)")
        }
    }

    /// A storage error in words an operator can act on: what ran out, not only the errno.
    static func explain(_ error: any Error) -> String {
        guard let storage = error as? StorageError, case .io(let operation, let path, let code) = storage else {
            return "\(error)"
        }
        switch code {
        case EMFILE:
            return "the broker ran out of file descriptors (\(operation) of \(path): too many open files; the open-file "
                + "limit is \(current().soft), each segment holds \(descriptorsPerSegment)): raise RLIMIT_NOFILE (ulimit -n)"
        case ENFILE:
            return "the system-wide file table is full (\(operation) of \(path)): raise fs.file-max"
        case ENOSPC:
            return "the disk holding the log directory is full (\(operation) of \(path): no space left on device)"
        case EDQUOT:
            return "the disk quota of the log directory is exhausted (\(operation) of \(path))"
        default:
            return storage.description
        }
    }
}
