import ClusterMetadata
import LogStorage
import Logging
import RunnelCore

/// Internal topics the broker creates for itself on first use.
extension Broker {
    static let consumerOffsetsTopic = "__consumer_offsets"

    /// nil once `__consumer_offsets` exists. Otherwise starts creating it (once; Kafka does
    /// this on the first FindCoordinator for a group) and says why group requests must wait:
    /// COORDINATOR_NOT_AVAILABLE while the creation is under way (clients retry), or the
    /// refusal. With a single-voter quorum the creation completes within the call. The topic is
    /// compacted, as in Kafka (D10): the newest record of each group, member and committed
    /// partition stays, tombstones go after `delete.retention.ms`. The replication
    /// factor is offsets.topic.replication.factor capped at the available brokers, as Kafka does.
    func ensureConsumerOffsetsTopic() -> MetadataController.Refusal? {
        if image.topic(TopicName(Self.consumerOffsetsTopic)) != nil { return nil }
        let pending = MetadataController.Refusal(.coordinatorNotAvailable,
                                                 "\(Self.consumerOffsetsTopic) is being created")
        guard !creatingOffsetsTopic else { return pending }
        creatingOffsetsTopic = true
        let partitions = Int32(config.int("offsets.topic.num.partitions")!)
        let rf = Int16(config.int("offsets.topic.replication.factor")!)
        let configs = [
            "cleanup.policy": "compact",
            "segment.bytes": config.string("offsets.topic.segment.bytes")!,
        ]
        var outcome: MetadataController.Refusal?? = nil
        createTopic(name: Self.consumerOffsetsTopic, partitions: partitions, replicationFactor: rf, configs: configs,
                    capReplicationFactor: true, viaActiveController: true) { [self] result in
            creatingOffsetsTopic = false
            switch result {
            case .success:
                logger.info("created \(Self.consumerOffsetsTopic) with \(counted(partitions, "partition"))")
                outcome = .some(nil)
                groups.topicsChanged()
            case .failure(let refusal) where refusal.code.rawValue == KafkaErrorCode.leaderNotAvailable.rawValue:
                outcome = .some(pending)   // created by the active controller; here in a moment
            case .failure(let refusal):
                logger.error("cannot create \(Self.consumerOffsetsTopic): \(refusal.message)")
                outcome = .some(refusal)
            }
        }
        return outcome ?? pending
    }
}
