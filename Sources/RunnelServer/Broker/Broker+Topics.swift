import ClusterMetadata
import Foundation
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

/// Control-plane changes: the controller decides (pure), the metadata log makes the decision
/// durable, then the broker acts on it (creates or deletes partition logs).
extension Broker {
    /// The advertised listener clients should use: the first advertised one, with the bound port
    /// when the configured port was 0 and a real host name when the host was left empty.
    var advertisedListener: Listener {
        var listener = config.advertisedListeners[0]
        if listener.port == 0, let bound = boundPort { listener.port = bound }
        if listener.host.isEmpty || listener.host == "0.0.0.0" || listener.host == "::" {
            listener.host = ProcessInfo.processInfo.hostName
        }
        return listener
    }

    func createTopic(name: String, partitions: Int32, replicationFactor: Int16, configs: [String: String],
                     validateOnly: Bool = false) -> Result<MetadataImage.Topic, MetadataController.Refusal> {
        let decision = controller.createTopic(name: name, partitions: partitions, replicationFactor: replicationFactor,
                                              configs: configs, in: image, ids: &topicIDs)
        switch decision {
        case .failure(let refusal):
            return .failure(refusal)
        case .success(let records):
            if validateOnly {
                // Apply to a scratch image only, to report what would exist.
                var scratch = image
                for r in records { scratch = (try? scratch.applying(r)) ?? scratch }
                return .success(scratch.topic(TopicName(name))!)
            }
            do {
                try metadataLog.append(records)
                try openPartitions(of: TopicName(name))
            } catch {
                logger.error("creating topic \(name): \(error)")
                return .failure(.init(KafkaError.unknownServerError, "creating topic \(name) failed: \(error)"))
            }
            if !name.hasPrefix("__") { groups.topicsChanged() }
            return .success(image.topic(TopicName(name))!)
        }
    }

    func createPartitions(topic: String, totalCount: Int32, validateOnly: Bool) -> MetadataController.Refusal? {
        switch controller.createPartitions(topic: topic, totalCount: totalCount, in: image) {
        case .failure(let refusal): return refusal
        case .success(let records):
            if validateOnly { return nil }
            do {
                try metadataLog.append(records)
                try openPartitions(of: TopicName(topic))
                logger.info("topic \(topic) now has \(totalCount) partitions")
                groups.topicsChanged()
            } catch {
                return .init(KafkaError.unknownServerError, "creating partitions of \(topic) failed: \(error)")
            }
            return nil
        }
    }

    func deleteTopic(name: String) -> MetadataController.Refusal? {
        guard config.bool("delete.topic.enable") else {
            return .init(KafkaError.topicDeletionDisabled, "Topic deletion is disabled (delete.topic.enable=false).")
        }
        switch controller.deleteTopic(name: name, in: image) {
        case .failure(let refusal): return refusal
        case .success(let records):
            let topic = TopicName(name)
            let count = image.topic(topic)?.partitions.count ?? 0
            do {
                try metadataLog.append(records)
            } catch {
                return .init(KafkaError.unknownServerError, "deleting topic \(name) failed: \(error)")
            }
            // The record is durable: the topic is gone. Its data goes now; if this fails or the
            // broker crashes first, start-up reconciliation deletes the leftovers.
            for p in 0..<count {
                let key = TopicPartition(topic, PartitionID(Int32(p)))
                partitions[key] = nil
                fetchWaiters.partitionRemoved(key, broker: self)
                do {
                    try logs.deleteLog(topic: topic, partition: key.partition)
                } catch {
                    logger.error("deleting log \(key): \(error) (removed at next start)")
                }
            }
            logger.info("deleted topic \(name) and its \(counted(count, "partition"))")
            groups.topicsChanged()
            return nil
        }
    }

    /// Opens (creating when missing) a local log for every partition of `topic`.
    func openPartitions(of topic: TopicName) throws {
        guard let t = image.topic(topic) else { return }
        let logConfig = LogConfigs.forTopic(t.configs, broker: config)
        for state in t.partitions {
            let key = TopicPartition(topic, state.partition)
            if partitions[key] != nil { continue }
            let log = try logs.log(topic, state.partition)
                ?? logs.createLog(topic: topic, partition: state.partition, config: logConfig, now: Clock.now())
            partitions[key] = LocalPartition(log: log, leaderEpoch: state.leaderEpoch, broker: self)
        }
    }
}
