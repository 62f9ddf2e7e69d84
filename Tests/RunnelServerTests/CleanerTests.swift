// The log cleaner's shell (Broker/LogCleaner.swift, Broker+Cleaner.swift; D151–D153).
import Foundation
import Testing
@testable import RunnelServer

@Suite struct CleanerThrottleTests {
    /// 1 MB/s: 300 kB charged in 3 steps take about 0.3 s (no credit is saved before the first
    /// charge); unlimited returns at once; a stopped throttle no longer sleeps.
    @Test func theBudgetIsSleptOffAndStopEndsTheWait() {
        let limited = CleanerThrottle(bytesPerSecond: 1_000_000)
        let start = Date()
        for _ in 0..<3 { limited.charge(100_000) }
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed >= 0.25 && elapsed < 2, "took \(elapsed) s")

        let unlimited = CleanerThrottle(bytesPerSecond: .infinity)
        let quick = Date()
        unlimited.charge(1 << 30)
        #expect(Date().timeIntervalSince(quick) < 0.05)

        let stopped = CleanerThrottle(bytesPerSecond: 1_000)
        stopped.stop()
        let now = Date()
        stopped.charge(1_000_000)  // 1000 s of budget
        #expect(Date().timeIntervalSince(now) < 0.5)
    }
}
