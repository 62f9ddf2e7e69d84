import ClusterMetadata
import Foundation
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

// Metadata (key 3), versions 0-12. Brokers (this node, at its advertised listener), cluster id,
// controller id (this node: it is the one-voter controller), topics with stable topic ids
// (v10+), partitions with leader, leader epoch, replicas, ISR.
// - v0: an empty topic list means all topics; v1+: null means all, empty means none.
// - v10+: a topic may be named by id only; an unknown id gets UNKNOWN_TOPIC_ID (100).
// - Unknown topics are created when auto.create.topics.enable is true and the request allows
//   it (AllowAutoTopicCreation, v4+; always allowed before v4), with num.partitions partitions.
// - Authorized operations (v8+; the cluster's only in v8-10, where the field exists): when asked
//   for, what `authorizer` allows (every topic/cluster operation until ACLs exist); otherwise
//   Kafka's "not requested" value, Int32.min. Topics named by an unknown id get none, as in Kafka.
// Not implemented: racks.
extension Broker {
    func handleMetadata(_ request: MetadataRequest, _ context: RequestContext, _ respond: Responder<MetadataResponse>) {
        var response = MetadataResponse()
        response.brokers = liveBrokers(listener: context.connection.listenerName)
        response.clusterId = clusterID
        response.controllerId = controlPlane.activeControllerID?.rawValue ?? -1

        let allowAutoCreate = config.bool("auto.create.topics.enable") && (context.version < 4 || request.allowAutoTopicCreation)
        let wantsAll = request.topics == nil || (context.version == 0 && request.topics!.isEmpty)
        if wantsAll {
            response.topics = image.topicNames.map { topicMetadata(image.topic($0)!) }
        } else {
            for wanted in request.topics! {
                if let name = wanted.name {
                    response.topics.append(metadata(forTopicNamed: name, autoCreate: allowAutoCreate))
                } else if let topic = image.topic(id: wanted.topicId) {
                    response.topics.append(topicMetadata(topic))
                } else {
                    var missing = MetadataResponse.MetadataResponseTopic()
                    missing.errorCode = KafkaErrorCode.unknownTopicID.rawValue
                    missing.name = nil
                    missing.topicId = wanted.topicId
                    response.topics.append(missing)
                }
            }
        }
        if context.version >= 8 { addAuthorizedOperations(request, context, to: &response) }
        respond.send(response)
    }

    private func addAuthorizedOperations(_ request: MetadataRequest, _ context: RequestContext, to response: inout MetadataResponse) {
        if request.includeClusterAuthorizedOperations && context.version <= 10 {
            response.clusterAuthorizedOperations = authorizer.authorizedOperations(.cluster, name: "kafka-cluster", context: context)
        }
        guard request.includeTopicAuthorizedOperations else { return }
        for i in response.topics.indices {
            guard let name = response.topics[i].name else { continue }
            response.topics[i].topicAuthorizedOperations = authorizer.authorizedOperations(.topic, name: name, context: context)
        }
    }

    private func metadata(forTopicNamed name: String, autoCreate: Bool) -> MetadataResponse.MetadataResponseTopic {
        if let topic = image.topic(TopicName(name)) { return topicMetadata(topic) }
        var missing = MetadataResponse.MetadataResponseTopic()
        missing.name = name
        if TopicName.invalidReason(name) != nil {
            missing.errorCode = KafkaErrorCode.invalidTopicException.rawValue
            return missing
        }
        guard autoCreate else {
            missing.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
            return missing
        }
        let partitions = Int32(config.int("num.partitions")!)
        let rf = Int16(config.int("default.replication.factor")!)
        var created: Result<MetadataImage.Topic, MetadataController.Refusal>?
        createTopic(name: name, partitions: partitions, replicationFactor: rf, configs: [:], viaActiveController: true) { [self] result in
            created = result
            if case .success = result { logger.info("auto-created topic \(name) with \(counted(partitions, "partition"))") }
        }
        switch created {
        case .success(let topic)?:
            return topicMetadata(topic)
        case .failure(let refusal)?:
            missing.errorCode = refusal.code.rawValue
            return missing
        case nil:
            // Still being committed (a multi-node quorum): clients retry, as with Kafka.
            missing.errorCode = KafkaErrorCode.leaderNotAvailable.rawValue
            return missing
        }
    }

    func topicMetadata(_ topic: MetadataImage.Topic) -> MetadataResponse.MetadataResponseTopic {
        var out = MetadataResponse.MetadataResponseTopic()
        out.name = topic.name.rawValue
        out.topicId = topic.id
        out.isInternal = topic.name.rawValue.hasPrefix("__")
        out.partitions = topic.partitions.map { p in
            var mp = MetadataResponse.MetadataResponsePartition()
            mp.partitionIndex = p.partition.rawValue
            mp.leaderId = p.leader.rawValue
            mp.leaderEpoch = p.leaderEpoch.rawValue
            mp.replicaNodes = p.replicas.map(\.rawValue)
            mp.isrNodes = p.isr.map(\.rawValue)
            return mp
        }
        return out
    }

    /// Every unfenced registered broker at its client listener (this one at its live address,
    /// and always listed: before it registers, a client must still reach it).
    func liveBrokers(listener: String? = nil) -> [MetadataResponse.MetadataResponseBroker] {
        var out = [advertisedBroker(listener: listener)]
        for id in image.unfencedBrokers where id != nodeID {
            guard let endpoint = endpoint(of: id, listener: listener) else { continue }
            var broker = MetadataResponse.MetadataResponseBroker()
            broker.nodeId = id.rawValue
            broker.host = endpoint.host
            broker.port = endpoint.port
            broker.rack = image.broker(id)?.rack
            out.append(broker)
        }
        return out.sorted { $0.nodeId < $1.nodeId }
    }

    func advertisedBroker(listener name: String? = nil) -> MetadataResponse.MetadataResponseBroker {
        var broker = MetadataResponse.MetadataResponseBroker()
        broker.nodeId = nodeID.rawValue
        let listener = advertisedListener(named: name)
        broker.host = listener.host
        broker.port = Int32(listener.port)
        return broker
    }
}
