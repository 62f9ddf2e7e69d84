import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

/// Group commit for one partition log: acks=all requests wait here until their batches are on
/// disk. One flush covers every batch appended before it started; waiters that arrive while it
/// runs are covered by the next one, so the fsync rate stays bounded by the disk, not by the
/// request rate (DESIGN.md §4).
///
/// Owner-loop only. `flush` does the I/O off the loop and calls back on the loop.
final class GroupCommit {
    typealias Completion = (Result<Void, any Error>) -> Void
    /// Starts one flush of everything appended so far; calls back on the owner loop with the
    /// end offset it made durable.
    typealias Flush = (@escaping (Result<Offset, any Error>) -> Void) -> Void

    private let loop: any EventLoop
    /// Set once by the owner right after init (it needs the owner's `self`).
    var flush: Flush?
    /// Told every time the durable end moves (before the waiters it releases are answered).
    var onDurable: ((Offset) -> Void)?
    /// Everything below this offset is durable.
    private(set) var durableEnd: Offset
    private var flushing = false
    private var waiters: [(end: Offset, completion: Completion)] = []
    /// The end a background flush was asked to reach (`requestFlush`); nobody waits for it.
    private var wantedEnd: Offset

    init(loop: any EventLoop, durableEnd: Offset) {
        self.loop = loop
        self.durableEnd = durableEnd
        self.wantedEnd = durableEnd
    }

    /// Makes every offset below `end` durable soon, with nobody to tell: a flush starts now if
    /// none runs, else the one after it covers `end`. Costs no allocation per call (it runs on
    /// every leader append with `runnel.acks.all.fsync`).
    func requestFlush(end: Offset) {
        loop.preconditionInEventLoop()
        guard end > durableEnd else { return }
        wantedEnd = max(wantedEnd, end)
        startIfIdle()
    }

    /// Calls `completion` on the owner loop once every offset below `end` is durable.
    func waitDurable(end: Offset, completion: @escaping Completion) {
        loop.preconditionInEventLoop()
        if end <= durableEnd {
            completion(.success(()))
            return
        }
        waiters.append((end, completion))
        startIfIdle()
    }

    /// The lowest truncation while the running flush runs: the offsets at and past it may hold
    /// other bytes now, written after that flush started.
    private var truncatedDuringFlush: Offset?

    /// The log was truncated (replication): lower the mark. A flush running now still reports
    /// the end it was started for; everything from `end` on is not counted from it.
    func truncated(to end: Offset) {
        durableEnd = min(durableEnd, end)
        wantedEnd = min(wantedEnd, end)
        if flushing { truncatedDuringFlush = min(truncatedDuringFlush ?? end, end) }
    }

    /// Starts a flush when waiters are parked and none runs. A flush that completes without
    /// moving the durable end past a waiter's end fails that waiter rather than trying again:
    /// a flush makes no progress only when the log can no longer be flushed (offline, or
    /// truncated below the waiter), and retrying would loop forever (each `flush` may complete
    /// synchronously).
    private func startIfIdle() {
        guard !flushing, !waiters.isEmpty || wantedEnd > durableEnd, let flush else { return }
        flushing = true
        let before = durableEnd
        flush { [self] result in
            loop.preconditionInEventLoop()
            flushing = false
            let cut = truncatedDuringFlush
            truncatedDuringFlush = nil
            switch result {
            case .success(var end):
                if let cut { end = min(end, cut) }
                if end > durableEnd {
                    durableEnd = end
                    onDurable?(end)
                }
                let ready = waiters.filter { $0.end <= durableEnd }
                waiters.removeAll { $0.end <= durableEnd }
                for w in ready { w.completion(.success(())) }
                if durableEnd <= before {
                    // No progress: a requested end is dropped (nobody waits for it), waiters fail.
                    wantedEnd = min(wantedEnd, durableEnd)
                    if !waiters.isEmpty { failAll(GroupCommitError.noProgress(durableEnd: durableEnd)) }
                    return
                }
            case .failure(let error):
                // After a failed fsync the page cache no longer says what reached the disk:
                // fail every waiter (producers retry elsewhere) rather than acknowledge.
                wantedEnd = min(wantedEnd, durableEnd)
                failAll(error)
                return
            }
            startIfIdle()
        }
    }

    private func failAll(_ error: any Error) {
        let failed = waiters
        waiters.removeAll()
        for w in failed { w.completion(.failure(error)) }
    }
}

/// Why a durable wait failed without an I/O error of its own.
enum GroupCommitError: Error, CustomStringConvertible {
    /// A flush completed without making the waited-for offsets durable (the log was truncated
    /// below them, or nothing could be flushed).
    case noProgress(durableEnd: Offset)

    var description: String {
        switch self {
        case .noProgress(let end): return "the log could not make offsets at or past \(end) durable"
        }
    }
}
