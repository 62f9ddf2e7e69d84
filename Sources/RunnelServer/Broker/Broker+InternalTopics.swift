import ClusterMetadata
import LogStorage
import Logging
import RunnelCore

/// Internal topics the broker creates for itself on first use.
extension Broker {
    static let consumerOffsetsTopic = "__consumer_offsets"

    /// Creates `__consumer_offsets` when it does not exist yet (Kafka does this on the first
    /// FindCoordinator for a group). Its partitions never expire by time or size: Kafka keeps
    /// the topic compacted, and until Runnel has compaction, deleting old segments would lose
    /// committed offsets. Returns nil when it exists (or was created), else the refusal.
    func ensureConsumerOffsetsTopic() -> MetadataController.Refusal? {
        if image.topic(TopicName(Self.consumerOffsetsTopic)) != nil { return nil }
        let partitions = Int32(config.int("offsets.topic.num.partitions")!)
        let rf = Int16(config.int("offsets.topic.replication.factor")!)
        let configs = [
            "segment.bytes": config.string("offsets.topic.segment.bytes")!,
            "retention.ms": "-1",
            "retention.bytes": "-1",
        ]
        switch createTopic(name: Self.consumerOffsetsTopic, partitions: partitions, replicationFactor: rf, configs: configs) {
        case .success:
            logger.info("created \(Self.consumerOffsetsTopic) with \(counted(partitions, "partition"))")
            return nil
        case .failure(let refusal):
            logger.error("cannot create \(Self.consumerOffsetsTopic): \(refusal.message)")
            return refusal
        }
    }
}
