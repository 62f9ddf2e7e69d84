import Foundation

/// A fresh directory under the system temp dir, removed by `remove()` (tests call it in a
/// `defer`). Names carry a prefix so a leaked one is recognisable.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "runnel-test") throws {
        let base = NSTemporaryDirectory()
        let name = "\(prefix)-\(UInt64.random(in: 0...UInt64.max))"
        path = (base as NSString).appendingPathComponent(name)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}
