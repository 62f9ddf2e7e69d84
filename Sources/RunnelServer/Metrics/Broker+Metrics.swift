import ClusterMetadata
import GroupCoordinator
import NIOCore
import RaftCore
import Replication
import RunnelCore

/// What /metrics and /health ask of a running node. Implemented by `ServerNode`; everything it
/// reads is read on the owner loops (the quorum's for Raft, the broker's for the rest).
protocol MetricsSource {
    /// Refreshes the scrape-time gauges and returns the whole exposition.
    func scrapeMetrics() -> EventLoopFuture<String>
    /// Whether the broker is ready, and why not.
    func health() -> EventLoopFuture<Health>
}

/// The answer of GET /health.
struct Health: Equatable, Sendable {
    var ready: Bool
    var reason: String
}

extension Broker {
    /// Readiness as an operator means it: the metadata replayed and the replicas' logs opened,
    /// registered with the active controller, and not fenced. Owner loop.
    func health() -> Health {
        loop.preconditionInEventLoop()
        if shuttingDown { return Health(ready: false, reason: "shutting down") }
        if !metadataCaughtUp {
            return Health(ready: false, reason: "not ready: the metadata log is still being replayed; partition logs are not loaded yet")
        }
        guard let lifecycle = controlPlane.lifecycle, lifecycle.epoch >= 0 else {
            return Health(ready: false, reason: "not ready: not registered with the active controller")
        }
        if lifecycle.isFenced {
            return Health(ready: false, reason: "not ready: fenced by the active controller (broker epoch \(lifecycle.epoch))")
        }
        // Cut off from the controller, a broker hears of its fencing only when it is reachable
        // again: a silence longer than the session means the controller has fenced it by now.
        let silentMs = (NIODeadline.now() - lifecycle.lastAnswer).nanoseconds / 1_000_000
        let sessionMs = Int64(config.int("broker.session.timeout.ms") ?? 9000)
        if silentMs > sessionMs {
            return Health(ready: false, reason: "not ready: no heartbeat answer from the active controller for \(silentMs) ms, "
                + "longer than broker.session.timeout.ms=\(sessionMs): the controller fences this broker")
        }
        return Health(ready: true, reason: "ok: node \(nodeID) registered (broker epoch \(lifecycle.epoch)), unfenced, \(counted(partitions.count, "partition log")) loaded")
    }

    /// The facts behind the scrape-time gauges. Owner loop.
    func metricsSnapshot(raft: RaftStatus?) -> BrokerMetrics.Snapshot {
        loop.preconditionInEventLoop()
        var snapshot = BrokerMetrics.Snapshot()
        snapshot.topics = Set(image.topicNames)
        for (key, partition) in partitions {
            let state = partition.leaderState
            snapshot.partitions.append(.init(
                key: key, logStart: partition.logStartOffset.rawValue, logEnd: partition.logEndOffset.rawValue,
                highWatermark: partition.highWatermark.rawValue, isLeader: state != nil,
                underReplicated: state.map { $0.isr.count < $0.replicas.count } ?? false, offline: partition.isOffline))
        }
        snapshot.failedLogs = replicas.failed.count
        for name in image.topicNames {
            for state in image.topic(name)?.partitions ?? [] where state.leader == BrokerID.noLeader {
                snapshot.leaderlessPartitions += 1
            }
        }
        for coordinator in groups.coordinators.values {
            snapshot.groupStates += coordinator.groupStates
            for committed in coordinator.committedOffsets {
                guard let partition = partitions[committed.partition], !partition.isOffline else { continue }
                snapshot.lags.append((committed.group, committed.partition,
                                      max(0, partition.highWatermark.rawValue - committed.offset.rawValue)))
            }
        }
        snapshot.raft = raft.map { .init(term: $0.term.rawValue, commit: $0.commit.rawValue, applied: $0.applied.rawValue,
                                         leader: $0.leader.rawValue) }
        snapshot.ready = health().ready
        return snapshot
    }

    /// Gives the broker its metrics: every replica made from now on (and every one already
    /// open) reaches its topic's counters through a stored reference.
    func attachMetrics(_ metrics: BrokerMetrics) {
        self.metrics = metrics
        replicas.topicMetrics = { [unowned metrics] topic in metrics.topic(topic) }
        for partition in partitions.values { partition.metrics = metrics.topic(partition.topic) }
    }
}

extension ServerNode: MetricsSource {
    func scrapeMetrics() -> EventLoopFuture<String> {
        let broker = self.broker
        let quorum = controlPlane.quorum
        guard let metrics = broker.metrics else {
            return broker.loop.makeSucceededFuture("")
        }
        return quorum.loop.submit { quorum.status }.flatMap { status in
            broker.loop.submit {
                metrics.refresh(broker.metricsSnapshot(raft: status))
                return metrics.exposition()
            }
        }
    }

    func health() -> EventLoopFuture<Health> {
        let broker = self.broker
        return broker.loop.submit { broker.health() }
    }
}
