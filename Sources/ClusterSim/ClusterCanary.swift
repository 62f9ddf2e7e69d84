import ClusterMetadata
import Replication

/// Deliberately broken rules that prove the checker has teeth. Two live in the pure modules
/// (package-access canary sets, off everywhere but here); three live in this module's model of
/// the broker's shell, where the rule they break is a shell decision.
enum ClusterCanary: String, CaseIterable, Sendable {
    /// `LeaderState`: the high watermark counts the most advanced replicas, in the ISR or not.
    case hwOutsideISR = "hw-outside-isr"
    /// `MetadataController`: an election takes the first usable replica, in the ISR or not.
    case electOutsideISR = "elect-outside-isr"
    /// Follower model: a replica that starts following a new leader epoch cuts its log to its own
    /// high watermark (Kafka before KIP-101) — besides the diverging-epoch truncation.
    case truncateToHW = "truncate-to-hw"
    /// Produce model: acks=all is answered right after the leader's append, like acks=1.
    case earlyAck = "early-ack"
    /// Follower model: the next fetch leaves before the fsync of what the last one brought, so
    /// the position the leader counts is not durable.
    case unsyncedPosition = "unsynced-position"

    var replication: Set<ReplicationCanary> { self == .hwOutsideISR ? [.hwOutsideISR] : [] }
    var controller: Set<ControllerCanary> { self == .electOutsideISR ? [.electOutsideISR] : [] }
}
