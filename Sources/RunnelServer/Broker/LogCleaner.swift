import Foundation
import LogStorage
import NIOConcurrencyHelpers
import NIOCore
import RunnelCore

/// The log cleaner (docs/decisions.md D145, D151): `log.cleaner.threads` threads of its own (not
/// NIO's pool, whose threads serve fsync), each asking the owner loop for the next log to clean
/// (`CleanerHost.nextCleanerJob`), running the clean (`CleanerJob.run`: reads and writes on this
/// thread), handing each written group back to the owner to swap in, and reporting the result.
/// When there is nothing to clean a thread waits `log.cleaner.backoff.ms`. One byte budget,
/// `log.cleaner.io.max.bytes.per.second`, is shared by all threads.
///
/// Threading: the host's methods run on its loop (the worker waits for them: workers are never
/// event-loop threads). `abort` and `stop` may be called from the loop; they never wait.
final class LogCleaner: @unchecked Sendable {
    // @unchecked: mutable state is behind `lock`; the rest is set in init.
    struct Settings: Equatable {
        var threads: Int
        var backoffMs: Int64
        var ioBytesPerSecond: Double
        var dedupeBufferBytes: Int64
    }

    /// One clean in progress, as the owner hands it to a worker.
    struct Work: Sendable {
        let key: TopicPartition
        let job: CleanerJob
    }

    let settings: Settings
    let throttle: CleanerThrottle
    private let loop: any EventLoop
    private weak var host: (any CleanerHost)?
    private let lock = NIOLock()
    private let wakeUp = NSCondition()
    private var stopping = false
    /// The logs being cleaned and whether their clean was told to stop.
    private var inProgress: [TopicPartition: Bool] = [:]
    private var running = 0

    init(settings: Settings, host: any CleanerHost, loop: any EventLoop) {
        self.settings = settings
        self.throttle = CleanerThrottle(bytesPerSecond: settings.ioBytesPerSecond)
        self.host = host
        self.loop = loop
    }

    /// `maxKeys` for a clean (D151): the dedupe buffer, split among the threads, over 40 bytes a
    /// key (Kafka's 24-byte entry and 16-byte digest). The map holds exact keys (D140), so this
    /// bounds a count of keys, not bytes.
    var maxKeysPerClean: Int {
        let perThread = settings.dedupeBufferBytes / Int64(max(1, settings.threads))
        return Int(max(1, perThread / (24 + 16)))
    }

    func start() {
        for number in 0..<settings.threads {
            let thread = Thread { [self] in work(number) }
            thread.name = "runnel-cleaner-\(number)"
            lock.withLock { running += 1 }
            thread.start()
        }
    }

    /// Tells every thread to stop (a clean in progress stops at its next batch). Does not wait.
    func stop() {
        lock.withLock {
            stopping = true
            for key in inProgress.keys { inProgress[key] = true }
        }
        throttle.stop()
        wakeUp.lock()
        wakeUp.broadcast()
        wakeUp.unlock()
    }

    /// The clean of `key`, if one runs, stops at its next batch and swaps nothing more in
    /// (retention, truncation or deletion of that log). Does not wait.
    func abort(_ key: TopicPartition) {
        lock.withLock { if inProgress[key] != nil { inProgress[key] = true } }
    }

    /// The logs being cleaned now.
    var busy: Set<TopicPartition> { lock.withLock { Set(inProgress.keys) } }

    /// Threads still running (0 some time after `stop`).
    var runningThreads: Int { lock.withLock { running } }

    private var isStopping: Bool { lock.withLock { stopping } }

    private func work(_ number: Int) {
        defer { lock.withLock { running -= 1 } }
        while !isStopping {
            guard let work = takeNext() else {
                sleep(milliseconds: settings.backoffMs)
                continue
            }
            let key = work.key
            let outcome: Result<PartitionLog.CleanResult?, StorageError>
            let started = DispatchTime.now().uptimeNanoseconds
            do {
                let result = try work.job.run(charge: { [throttle] bytes in throttle.charge(bytes) },
                                              isAborted: { [self] in lock.withLock { inProgress[key] ?? true } },
                                              apply: { (group) throws(StorageError) -> Bool in try self.apply(group, of: key) })
                outcome = .success(result)
            } catch {
                outcome = .failure(error)
            }
            let aborted = lock.withLock { inProgress.removeValue(forKey: key) ?? true }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let finished = loop.submit { [self] in host?.cleanerFinished(key, outcome: outcome, aborted: aborted, seconds: seconds) }
            _ = try? finished.wait()
        }
    }

    /// The next log to clean, registered as in progress on the loop (so two threads never take
    /// the same log); nil when none is due, or the host or the loop is gone.
    private func takeNext() -> Work? {
        let future = loop.submit { [self] () -> Work? in
            guard let host, !isStopping else { return nil }
            guard let work = host.nextCleanerJob(busy: busy) else { return nil }
            lock.withLock { inProgress[work.key] = false }
            return work
        }
        do {
            return try future.wait()
        } catch {
            // The loop is gone (the broker was never shut down properly): nothing to clean for.
            stop()
            return nil
        }
    }

    /// Swaps `group` in on the loop, unless the clean was aborted meanwhile.
    private func apply(_ group: CleanedGroup, of key: TopicPartition) throws(StorageError) -> Bool {
        let future = loop.submit { [self] () -> Result<Bool, StorageError> in
            guard let host, lock.withLock({ inProgress[key] == false }) else {
                if let path = group.cleanedPath { try? FileManager.default.removeItem(atPath: path) }
                return .success(false)
            }
            do throws(StorageError) {
                return .success(try host.applyCleaned(group, of: key))
            } catch {
                return .failure(error)
            }
        }
        guard let result = try? future.wait() else { return false }
        return try result.get()
    }

    /// Waits up to `milliseconds`, or until `stop`.
    private func sleep(milliseconds: Int64) {
        wakeUp.lock()
        defer { wakeUp.unlock() }
        let deadline = Date(timeIntervalSinceNow: Double(milliseconds) / 1000)
        while !isStopping && Date() < deadline {
            _ = wakeUp.wait(until: deadline)
        }
    }
}

/// What the cleaner asks of the broker, on the broker's loop.
protocol CleanerHost: AnyObject {
    /// The next log to clean (the filthiest not in `busy`), its job prepared; nil when none is due.
    func nextCleanerJob(busy: Set<TopicPartition>) -> LogCleaner.Work?
    /// Swaps a written group into `key`'s log; false when the log changed (or went) meanwhile.
    func applyCleaned(_ group: CleanedGroup, of key: TopicPartition) throws(StorageError) -> Bool
    /// A clean ended: its checkpoint (when it finished and was not aborted) is recorded.
    func cleanerFinished(_ key: TopicPartition, outcome: Result<PartitionLog.CleanResult?, StorageError>, aborted: Bool,
                         seconds: Double)
}

/// Kafka's cleaner throttler: every byte read or written by any cleaner thread is charged, and a
/// thread that finds the budget spent sleeps off the debt in steps of at most 10 ms. At most a
/// tenth of a second's budget may be saved up while idle.
final class CleanerThrottle: @unchecked Sendable {
    // @unchecked: mutable state is behind `lock`.
    private let lock = NIOLock()
    private var rate: Double
    /// The budget; `log.cleaner.io.max.bytes.per.second` is a dynamic broker key, so it changes
    /// at run time (`set(bytesPerSecond:)`), as Kafka's `updateDesiredRatePerSec`.
    var bytesPerSecond: Double { lock.withLock { rate } }
    private var available: Double
    private var last: UInt64
    private var stopped = false

    init(bytesPerSecond: Double) {
        self.rate = bytesPerSecond
        self.available = 0
        self.last = DispatchTime.now().uptimeNanoseconds
    }

    var isUnlimited: Bool { Self.unlimited(bytesPerSecond) }
    private static func unlimited(_ rate: Double) -> Bool { !rate.isFinite || rate <= 0 }

    /// A new budget for the bytes charged from now on (a debt already being slept off stands).
    func set(bytesPerSecond: Double) {
        lock.withLock {
            rate = bytesPerSecond
            available = min(available, Self.unlimited(rate) ? 0 : rate / 10)
        }
    }

    /// Charges `bytes`; returns after the debt, if any, is slept off (or at once after `stop`).
    func charge(_ bytes: Int) {
        var wait: Double = lock.withLock {
            let now = DispatchTime.now().uptimeNanoseconds
            defer { last = now }
            guard !Self.unlimited(rate) else { return 0 }
            let refill = Double(now &- last) / 1e9 * rate
            available = min(rate / 10, available + refill) - Double(bytes)
            return available < 0 ? -available / rate : 0
        }
        while wait > 0, !lock.withLock({ stopped }) {
            let step = min(wait, 0.01)
            Thread.sleep(forTimeInterval: step)
            wait -= step
        }
    }

    func stop() { lock.withLock { stopped = true } }
}
