import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// TCP ports on 127.0.0.1 for `runnel dev`: finding free ones, checking chosen ones, and
/// telling when a node's listener accepts connections.
public enum LoopbackPorts {
    /// `count` distinct ports that were free a moment ago: as many sockets bound to port 0 at
    /// once (so the kernel cannot hand out one port twice), read back, then closed. Another
    /// program may take one before a node binds it; the node then stops, naming the port.
    public static func free(count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        var ports: [Int] = []
        for _ in 0..<count {
            let (fd, error) = boundSocket(port: 0, reuseAddress: false)
            guard fd >= 0 else { throw ConfigError("cannot find a free port on 127.0.0.1: \(error)") }
            sockets.append(fd)
            var addr = sockaddr_in()
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
            }
            ports.append(Int(UInt16(bigEndian: addr.sin_port)))
        }
        return ports
    }

    /// Throws naming the first of `ports` that cannot be bound on 127.0.0.1 (with the reason).
    /// Binds with SO_REUSEADDR, as the broker's listeners do, so a port that only has connections
    /// in TIME_WAIT counts as free.
    public static func checkFree(_ ports: [Int]) throws {
        for port in ports {
            let (fd, error) = boundSocket(port: port, reuseAddress: true)
            guard fd >= 0 else { throw ConfigError("port \(port) on 127.0.0.1 is not free: \(error)") }
            close(fd)
        }
    }

    /// true when something accepts TCP connections on 127.0.0.1:`port`.
    public static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = loopback(port)
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    private static func loopback(_ port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return addr
    }

    /// A socket bound to 127.0.0.1:`port`, or -1 and the reason. Without SO_REUSEADDR for port 0:
    /// with it, Linux may give two held sockets the same port.
    private static func boundSocket(port: Int, reuseAddress: Bool) -> (Int32, String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return (-1, String(cString: strerror(errno))) }
        var one: Int32 = 1
        if reuseAddress { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) }
        var addr = loopback(port)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            return (-1, reason)
        }
        return (fd, "")
    }
}
