import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Short, lower-case reasons for connection failures ("connection refused"), so that the CLI's
/// one-line error names the cause rather than an NIO type.
enum ConnectErrorText {
    static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return describe(first.error) }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "cannot resolve host" }
            return "no address for host"
        }
        if let error = error as? IOError { return describe(errno: error.errnoCode, fallback: "\(error)") }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout(let amount): return "connect timed out after \(amount.nanoseconds / 1_000_000) ms"
            case .ioOnClosedChannel, .alreadyClosed, .eof: return "connection closed"
            default: return "\(error)"
            }
        }
        if error is SocketAddressError { return "cannot resolve host" }
        return "\(error)"
    }

    static func describe(errno code: Int32, fallback: String) -> String {
        switch code {
        case ECONNREFUSED: return "connection refused"
        case ECONNRESET: return "connection reset by peer"
        case ETIMEDOUT: return "connection timed out"
        case EHOSTUNREACH: return "host unreachable"
        case ENETUNREACH: return "network unreachable"
        case EPIPE: return "broken pipe"
        case EADDRNOTAVAIL: return "address not available"
        default: return fallback
        }
    }
}
