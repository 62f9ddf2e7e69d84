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
            let topicName = TopicName(name)
            guard let after = try? records.reduce(image, { try $0.applying($1) }), let topic = after.topic(topicName) else {
                return .failure(.init(KafkaError.unknownServerError, "creating topic \(name): the controller's records do not apply"))
            }
            if validateOnly { return .success(topic) }
            if let refusal = commitWithNewLogs(records, topic: topic, what: "creating topic \(name)") {
                return .failure(refusal)
            }
            if !name.hasPrefix("__") { groups.topicsChanged() }
            return .success(image.topic(topicName)!)
        }
    }

    func createPartitions(topic: String, totalCount: Int32, validateOnly: Bool) -> MetadataController.Refusal? {
        switch controller.createPartitions(topic: topic, totalCount: totalCount, in: image, random: &topicIDs) {
        case .failure(let refusal): return refusal
        case .success(let records):
            if validateOnly { return nil }
            guard let after = try? records.reduce(image, { try $0.applying($1) }), let grown = after.topic(TopicName(topic)) else {
                return .init(KafkaError.unknownServerError, "creating partitions of \(topic): the controller's records do not apply")
            }
            if let refusal = commitWithNewLogs(records, topic: grown, what: "creating partitions of \(topic)") {
                return refusal
            }
            logger.info("topic \(topic) now has \(totalCount) partitions")
            groups.topicsChanged()
            return nil
        }
    }

    /// Creates the logs of every partition of `topic` (as it will be once `records` apply) that
    /// has none yet, then makes `records` durable. All or nothing: if any log cannot be created
    /// (descriptors or disk ran out) or the records cannot be written, the logs made here are
    /// deleted again and nothing changes; the refusal names what ran out. Logs go first because a
    /// crash between the two steps then leaves only log directories without a topic, which
    /// start-up deletes (`reconcileLogs`); the other order would leave a topic whose logs a
    /// restart under the same limits cannot open.
    private func commitWithNewLogs(_ records: [MetadataRecord], topic: MetadataImage.Topic,
                                   what: String) -> MetadataController.Refusal? {
        let logConfig = LogConfigs.forTopic(topic.configs, broker: config)
        var created: [TopicPartition: LocalPartition] = [:]
        func undo() {
            for key in created.keys.sorted() {
                do { try logs.deleteLog(topic: key.topic, partition: key.partition) } catch {
                    logger.error("\(what): removing the new log \(key) failed: \(error) (removed at next start)")
                }
            }
        }
        for state in topic.partitions {
            let key = TopicPartition(topic.name, state.partition)
            if partitions[key] != nil { continue }
            do {
                let log = try logs.createLog(topic: topic.name, partition: state.partition, config: logConfig, now: Clock.now())
                created[key] = LocalPartition(log: log, leaderEpoch: state.leaderEpoch, broker: self)
            } catch {
                undo()
                let reason = FileDescriptorLimit.explain(error)
                logger.error("\(what) failed at partition \(state.partition) of \(topic.partitions.count): \(reason); nothing was created")
                return .init(KafkaError.kafkaStorageError,
                             "\(what) failed at partition \(state.partition) of \(topic.partitions.count): \(reason). Nothing was created.")
            }
        }
        do {
            try metadataLog.append(records)
        } catch {
            undo()
            logger.error("\(what): writing the metadata log failed: \(error); nothing was created")
            return .init(KafkaError.kafkaStorageError, "\(what) failed: \(error). Nothing was created.")
        }
        partitions.merge(created) { old, _ in old }
        return nil
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
}
