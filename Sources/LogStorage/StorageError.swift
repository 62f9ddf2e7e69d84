// Operating errors of the storage layer (STYLE.md "three kinds of error"): every case names the
// file and the operation or field, so that a log line or a failed test says what went wrong where.
// Programmer errors (an append from the wrong state, an offset that goes backwards inside the
// module) are preconditions instead.

public import RunnelCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed. `operation` is the call (`open`, `ftruncate`, `fdatasync`, …).
    case io(operation: String, path: String, errno: Int32)
    /// A batch larger than the segment size can never be stored; refused before anything changes.
    case batchTooLarge(bytes: Int, segmentBytes: Int, path: String)
    /// The bytes handed to `append` are not one batch (length field and buffer size disagree).
    case malformedBatch(path: String, reason: String)
    /// A batch handed to `appendAssigned` would not continue the log.
    case offsetNotIncreasing(path: String, baseOffset: Offset, logEndOffset: Offset)
    /// A file this module owns has content it cannot use (e.g. a checkpoint with a bad line).
    case corruptFile(path: String, reason: String)
    /// `createLog` for a partition whose directory already exists.
    case logAlreadyExists(path: String)
    /// The log hit an I/O error earlier and refuses further writes until it is reopened
    /// (Kafka takes the log dir offline for the same reason: after a failed write or fsync the
    /// page cache may no longer say what is on disk).
    case logFailed(path: String, cause: String)
    /// The log was closed or deleted.
    case logClosed(path: String)

    public var description: String {
        switch self {
        case .io(let operation, let path, let code):
            return "\(operation) failed on \(path): \(String(cString: strerror(code))) (errno \(code))"
        case .batchTooLarge(let bytes, let segmentBytes, let path):
            return "batch of \(bytes) bytes is larger than segment.bytes \(segmentBytes) of \(path)"
        case .malformedBatch(let path, let reason):
            return "malformed batch for \(path): \(reason)"
        case .offsetNotIncreasing(let path, let base, let end):
            return "batch base offset \(base) is below the log end offset \(end) of \(path)"
        case .corruptFile(let path, let reason):
            return "corrupt file \(path): \(reason)"
        case .logAlreadyExists(let path):
            return "log directory \(path) already exists"
        case .logFailed(let path, let cause):
            return "log \(path) is offline after an earlier I/O error: \(cause)"
        case .logClosed(let path):
            return "log \(path) is closed"
        }
    }
}
