import ClusterMetadata
import Foundation
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

/// Control-plane changes: the controller decides (pure `MetadataController`, on the quorum's
/// loop), the metadata quorum commits the records, and this broker's `ReplicaManager` acts on
/// them when they are applied here. Every completion runs on the broker's loop, after the records
/// were applied here, so a Produce right after a CreateTopics finds its partitions.
extension Broker {
    typealias Refusal = MetadataController.Refusal

    /// The advertised listener clients should use: the first advertised one, with the bound port
    /// when the configured port was 0 and a real host name when the host was left empty.
    var advertisedListener: Listener { advertisedListener(named: nil) }

    /// Every advertised client listener (registered with the controller, so that each listener's
    /// clients are sent to the same listener of other brokers, as Kafka does).
    var advertisedListeners: [Listener] {
        let controllerNames = config.controllerListenerNames
        return config.advertisedListeners.filter { !controllerNames.contains($0.name) }.map { advertisedListener(named: $0.name) }
    }

    /// The advertised listener called `name` (the one a request came in on), else the first.
    func advertisedListener(named name: String?) -> Listener {
        let controllerNames = config.controllerListenerNames
        let first = config.advertisedListeners.first { !controllerNames.contains($0.name) } ?? config.advertisedListeners[0]
        var listener = name.flatMap { n in config.advertisedListeners.first { $0.name == n && !controllerNames.contains(n) } } ?? first
        if listener.port == 0, listener.name == first.name, let bound = boundPort { listener.port = bound }
        if listener.host.isEmpty || listener.host == "0.0.0.0" || listener.host == "::" {
            listener.host = ProcessInfo.processInfo.hostName
        }
        return listener
    }

    /// Where clients reach broker `id`: this broker at its live advertised listener, another at
    /// the listener of the same name in its registration (or its first one); nil when unknown.
    func endpoint(of id: BrokerID, listener listenerName: String? = nil) -> (host: String, port: Int32)? {
        if id == nodeID {
            let listener = advertisedListener(named: listenerName)
            return (listener.host, Int32(listener.port))
        }
        guard let registration = image.broker(id) else { return nil }
        let name = listenerName.flatMap { n in registration.listeners.contains { $0.name == n } ? n : nil } ?? config.advertisedListeners[0].name
        guard let endpoint = registration.listeners.first(where: { $0.name == name }) ?? registration.listeners.first else { return nil }
        return (endpoint.host, endpoint.port)
    }

    /// The partition when this broker leads it (clients produce to, fetch from and list offsets of
    /// leaders only).
    func leaderPartition(_ key: TopicPartition) -> Partition? {
        guard metadataCaughtUp, let partition = replicas.partitions[key], partition.isLeader else { return nil }
        return partition
    }

    /// The error for a partition this broker does not lead: KAFKA_STORAGE_ERROR when its log
    /// could not be opened here, NOT_LEADER_OR_FOLLOWER when it exists (the client refreshes its
    /// metadata and goes to the leader), else UNKNOWN_TOPIC_OR_PARTITION.
    func missingPartitionError(_ key: TopicPartition) -> Int16 {
        if replicas.failed[key] != nil { return KafkaErrorCode.kafkaStorageError.rawValue }
        return image.partition(key.topic, key.partition) != nil ? KafkaErrorCode.notLeaderOrFollower.rawValue : KafkaErrorCode.unknownTopicOrPartition.rawValue
    }

    /// Creates a topic through the controller. `capReplicationFactor` lowers the replication
    /// factor to the number of available brokers (Kafka does so for its internal topics).
    /// `viaActiveController`: when another node is the active controller, send it a
    /// CreateTopics and complete with LEADER_NOT_AVAILABLE once it accepted (the topic reaches this
    /// broker's metadata a moment later, and clients retry), for the broker's own creations
    /// (auto-creation, internal topics).
    func createTopic(name: String, partitions: Int32, replicationFactor: Int16, configs: [String: String],
                     validateOnly: Bool = false, capReplicationFactor: Bool = false, viaActiveController: Bool = false,
                     completion: @escaping (Result<MetadataImage.Topic, Refusal>) -> Void) {
        if viaActiveController && !controlPlane.isActiveControllerHere && !validateOnly {
            var topic = CreateTopicsRequest.CreatableTopic(name: name, numPartitions: partitions,
                                                            replicationFactor: capReplicationFactor
                                                                ? max(1, min(replicationFactor, Int16(clamping: image.usableBrokers.count)))
                                                                : replicationFactor)
            topic.configs = configs.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value) }
            controlPlane.controllerChannel.send(CreateTopicsRequest(topics: [topic], timeoutMs: 30_000), version: 7).whenComplete { result in
                switch result {
                case .success(let response):
                    let code = response.topics.first?.errorCode ?? KafkaErrorCode.unknownServerError.rawValue
                    if code == 0 || code == KafkaErrorCode.topicAlreadyExists.rawValue {
                        completion(.failure(.init(.leaderNotAvailable, "topic \(name) is being created")))
                    } else {
                        completion(.failure(.init(KafkaErrorCode(code), response.topics.first?.errorMessage ?? "creating \(name) failed")))
                    }
                case .failure(let error):
                    completion(.failure(.init(.leaderNotAvailable, "creating \(name): \(error)")))
                }
            }
            return
        }
        let box = TopicBox()
        var random = topicIDs
        controlPlane.submit({ controller, latest in
            let available = Int16(clamping: controller.placementBrokers(in: latest).count)
            let rf = capReplicationFactor ? max(1, min(replicationFactor, available)) : replicationFactor
            let decision = controller.createTopic(name: name, partitions: partitions, replicationFactor: rf,
                                                  configs: configs, in: latest, ids: &random)
            guard case .success(let records) = decision else { return decision }
            box.topic = (try? latest.applying(records))?.topic(TopicName(name))
            return validateOnly ? .success([]) : decision
        }) { [self] result in
            switch result {
            case .failure(let refusal):
                completion(.failure(refusal))
            case .success where validateOnly:
                if let topic = box.topic { completion(.success(topic)) } else {
                    completion(.failure(.init(.unknownServerError, "creating topic \(name): the decision holds no topic")))
                }
            case .success:
                guard let topic = image.topic(TopicName(name)) else {
                    completion(.failure(.init(.unknownServerError, "topic \(name) was committed but is not in the metadata")))
                    return
                }
                if let refusal = localReplicaFailure(topic, what: "creating topic \(name)") {
                    // All or nothing: a topic whose local logs cannot be created is deleted again.
                    undoCreation(of: topic) { completion(.failure(refusal)) }
                    return
                }
                completion(.success(topic))
            }
        }
    }

    /// A refusal naming what ran out, when a local replica of `topic` could not be opened.
    private func localReplicaFailure(_ topic: MetadataImage.Topic, what: String) -> Refusal? {
        let failures = topic.partitions.compactMap { state -> (PartitionID, String)? in
            replicas.failed[TopicPartition(topic.name, state.partition)].map { (state.partition, $0) }
        }
        guard let (partition, reason) = failures.min(by: { $0.0 < $1.0 }) else { return nil }
        logger.error("\(what) failed at partition \(partition) of \(topic.partitions.count): \(reason); nothing was created")
        return .init(.kafkaStorageError,
                     "\(what) failed at partition \(partition) of \(topic.partitions.count): \(reason). Nothing was created.")
    }

    private func undoCreation(of topic: MetadataImage.Topic, then: @escaping () -> Void) {
        let id = topic.id
        controlPlane.submit({ _, latest in
            latest.topic(id: id) == nil ? .success([]) : .success([.removeTopic(id: id)])
        }) { [self] result in
            if case .failure(let refusal) = result {
                logger.error("removing topic \(topic.name) after its failed creation: \(refusal.message)")
            }
            then()
        }
    }

    func createPartitions(topic: String, totalCount: Int32, validateOnly: Bool,
                          completion: @escaping (Refusal?) -> Void) {
        var random = topicIDs
        controlPlane.submit({ controller, latest in
            let decision = controller.createPartitions(topic: topic, totalCount: totalCount, in: latest, random: &random)
            if validateOnly, case .success = decision { return .success([]) }
            return decision
        }) { [self] result in
            switch result {
            case .failure(let refusal):
                completion(refusal)
            case .success:
                if !validateOnly { logger.info("topic \(topic) now has \(counted(Int(totalCount), "partition"))") }
                completion(nil)
            }
        }
    }

    func deleteTopic(name: String, completion: @escaping (Refusal?) -> Void) {
        guard config.bool("delete.topic.enable") else {
            completion(.init(.topicDeletionDisabled, "Topic deletion is disabled (delete.topic.enable=false)."))
            return
        }
        let count = image.topic(TopicName(name))?.partitions.count ?? 0
        controlPlane.submit({ controller, latest in controller.deleteTopic(name: name, in: latest) }) { [self] result in
            switch result {
            case .failure(let refusal):
                completion(refusal)
            case .success:
                logger.info("deleted topic \(name) and its \(counted(count, "partition"))")
                completion(nil)
            }
        }
    }
}

/// Carries a decision's would-be topic from the quorum's loop to the broker's.
private final class TopicBox: @unchecked Sendable {
    // @unchecked: written on the quorum loop before the completion is scheduled on the owner.
    var topic: MetadataImage.Topic?
}
