import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

/// Fetch requests parked until enough bytes arrive (`min.bytes`) or `max.wait.ms` passes
/// (DESIGN.md §1). Never woken by polling timers (the only timer is each request's own
/// deadline): a follower's fetch by appends to the partitions it reads (it reads to the log
/// end), a consumer's by their high watermark moving (it reads below it).
///
/// Owner-loop only.
struct FetchWaiters {
    final class Waiter {
        /// Re-runs the fetch; answers and returns true when it has `min.bytes` (or `force`).
        let attempt: (_ force: Bool) -> Bool
        /// A follower's fetch (woken by appends) rather than a consumer's (woken by the high watermark).
        let isReplica: Bool
        var deadline: Scheduled<Void>?
        var answered = false
        var partitions: [TopicPartition] = []
        init(isReplica: Bool = false, attempt: @escaping (_ force: Bool) -> Bool) {
            self.isReplica = isReplica
            self.attempt = attempt
        }

        func run(force: Bool) {
            guard !answered else { return }
            if attempt(force) {
                answered = true
                deadline?.cancel()
            }
        }
    }

    private var byPartition: [TopicPartition: [Waiter]] = [:]
    private var all: [ObjectIdentifier: Waiter] = [:]

    var isEmpty: Bool { all.isEmpty }

    /// Parks `waiter` on `partitions` until `maxWait`, when it is answered with what it has.
    mutating func park(_ waiter: Waiter, on partitions: [TopicPartition], maxWait: TimeAmount, loop: any EventLoop,
                       onExpire: @escaping (Waiter) -> Void) {
        waiter.partitions = partitions
        for key in partitions { byPartition[key, default: []].append(waiter) }
        all[ObjectIdentifier(waiter)] = waiter
        waiter.deadline = loop.scheduleTask(in: maxWait) { onExpire(waiter) }
    }

    /// What moved on a partition.
    enum Change {
        /// Records were appended (followers can read them).
        case appended
        /// The high watermark moved (consumers can read more).
        case highWatermark
    }

    /// Called after `change` on `key`: every waiter that can read more tries again.
    mutating func notify(_ key: TopicPartition, _ change: Change) {
        guard let waiters = byPartition[key] else { return }
        let replicas = change == .appended
        for waiter in waiters where waiter.isReplica == replicas { waiter.run(force: false) }
        prune(key)
    }

    /// The log start offset moved (DeleteRecords): parked follower fetches answer now, so the
    /// followers learn the new start from the answer without waiting out their long poll.
    mutating func logStartMoved(_ key: TopicPartition) {
        guard let waiters = byPartition[key] else { return }
        for waiter in waiters where waiter.isReplica { waiter.run(force: true) }
        prune(key)
    }

    /// A waiter's deadline passed: answer with what is there.
    mutating func expire(_ waiter: Waiter) {
        waiter.run(force: true)
        all[ObjectIdentifier(waiter)] = nil
        for key in waiter.partitions { prune(key) }
    }

    /// The partition was deleted: its waiters answer now (their re-run reports the error).
    mutating func partitionRemoved(_ key: TopicPartition, broker: Broker) {
        guard let waiters = byPartition.removeValue(forKey: key) else { return }
        for waiter in waiters { waiter.run(force: true) }
    }

    /// Shutdown: answer every parked fetch now.
    mutating func completeAll() {
        for waiter in all.values { waiter.run(force: true) }
        all.removeAll()
        byPartition.removeAll()
    }

    private mutating func prune(_ key: TopicPartition) {
        guard var waiters = byPartition[key] else { return }
        waiters.removeAll { $0.answered }
        for w in byPartition[key]! where w.answered { all[ObjectIdentifier(w)] = nil }
        byPartition[key] = waiters.isEmpty ? nil : waiters
    }
}
