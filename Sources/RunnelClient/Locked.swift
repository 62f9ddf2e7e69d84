import Foundation

/// A value behind a mutex. RunnelClient's shared state is small and the critical sections are
/// short (no I/O, no awaits inside), so a plain lock beats an actor hop on the produce path.
final class Locked<Value>: @unchecked Sendable {
    // @unchecked: every access to `value` goes through `lock`.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
