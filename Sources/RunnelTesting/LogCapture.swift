import Foundation
public import Logging

/// Keeps the log lines of the code under test instead of printing them, so that a passing run
/// shows only test results — a fault test's expected "log … is offline" error must not read as
/// a failure — and so that a test can check what was logged.
///
/// Give `logger` to the code under test (every test-support default does); read `lines` or
/// `warnings` afterwards.
public final class LogCapture: @unchecked Sendable {
    // @unchecked: `stored` is only touched under `lock`.
    private let lock = NSLock()
    private var stored: [(Logger.Level, String)] = []

    public init() {}

    public var lines: [(level: Logger.Level, message: String)] { lock.withLock { stored.map { ($0.0, $0.1) } } }
    /// Messages at warning level and above.
    public var warnings: [String] { lines.filter { $0.level >= .warning }.map(\.message) }

    public func append(_ level: Logger.Level, _ message: String) { lock.withLock { stored.append((level, message)) } }

    /// A logger whose every line (trace and up) goes to this capture.
    public var logger: Logger {
        Logger(label: "test") { _ in Handler(capture: self) }
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { capture.append(event.level, "\(event.message)") }
    }
}
