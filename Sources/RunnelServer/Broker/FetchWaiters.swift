import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

/// Fetch requests parked until enough bytes arrive (`min.bytes`) or `max.wait.ms` passes
/// (DESIGN.md §1). Woken by appends to the partitions they read — never by polling timers; the
/// only timer is each request's own deadline.
///
/// Owner-loop only.
struct FetchWaiters {
    final class Waiter {
        /// Re-runs the fetch; answers and returns true when it has `min.bytes` (or `force`).
        let attempt: (_ force: Bool) -> Bool
        var deadline: Scheduled<Void>?
        var answered = false
        var partitions: [TopicPartition] = []
        init(attempt: @escaping (_ force: Bool) -> Bool) { self.attempt = attempt }

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

    /// Called after an append to `key`: every waiter reading it tries again.
    mutating func notify(_ key: TopicPartition) {
        guard let waiters = byPartition[key] else { return }
        for waiter in waiters { waiter.run(force: false) }
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
