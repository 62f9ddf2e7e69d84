import NIOCore
import NIOPosix
import NIOSSL
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
        if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
            return "TLS: the broker's certificate does not name the host connected to (\(error))"
        }
        if isTLS(error) { return describeTLS("\(error)") }
        return "\(error)"
    }

    static func isTLS(_ error: any Error) -> Bool {
        error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError
    }

    /// BoringSSL's reason code (`…:TLSV1_ALERT_CERTIFICATE_REQUIRED at …`) with what it means here.
    static func describeTLS(_ text: String) -> String {
        let code = text.split(separator: ":").last { $0.contains(" at ") }.map { String($0.prefix { $0 != " " }) }
            ?? (text.contains("EOF during handshake") ? "EOF during handshake" : text)
        let hint: String
        switch code {
        case "TLSV1_ALERT_CERTIFICATE_REQUIRED": hint = "the broker requires a client certificate (ssl.keystore.location)"
        case "CERTIFICATE_VERIFY_FAILED": hint = "the broker's certificate is not trusted by ssl.truststore.location, or has expired"
        case "TLSV1_ALERT_UNKNOWN_CA", "SSLV3_ALERT_BAD_CERTIFICATE", "SSLV3_ALERT_CERTIFICATE_EXPIRED",
             "TLSV1_ALERT_DECRYPT_ERROR", "SSLV3_ALERT_CERTIFICATE_UNKNOWN":
            hint = "the broker refused this client's certificate"
        case "EOF during handshake", "WRONG_VERSION_NUMBER":
            hint = "the handshake did not complete: is this a TLS (SSL) listener?"
        default: hint = "the handshake failed"
        }
        return "TLS: \(hint) (\(code))"
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
