import ClusterMetadata
import KafkaMessages
import Logging
import RunnelCore

// ElectLeaders (key 43), versions 0-2: preferred (v0, or type 0) and unclean (type 1) leader
// elections, decided by the active controller (`MetadataController.electLeader`) and answered
// once the new leaders are committed and applied on this broker. A broker that is not the active
// controller forwards the request to it, as CreateTopics (D50).
// - Per partition, as KRaft answers: ELECTION_NOT_NEEDED (the preferred replica already leads; an
//   unclean election for a partition that has a leader), PREFERRED_LEADER_NOT_AVAILABLE (the
//   preferred replica is fenced, shutting down or out of the ISR), ELIGIBLE_LEADERS_NOT_AVAILABLE
//   (no usable replica at all), UNKNOWN_TOPIC_OR_PARTITION.
// - A null topic list means every partition of every topic; then, as in Kafka, partitions whose
//   election was not needed are left out (each topic is still listed).
// - An election type other than 0 or 1 is INVALID_REQUEST (top level, v1+; every partition).
// - When the controller cannot decide (NOT_CONTROLLER, a commit that timed out), v1+ carries the
//   error at the top level and every listed partition carries it too (v0 has only the latter).
// Not implemented: the timeout (elections complete with the commit, bounded by the controller's
// 30 s proposal timeout).
extension Broker {
    /// Runs the request against this node's controller (NOT_CONTROLLER per item when it is not
    /// the active one); `RequestRouter` forwards it to the active controller first when it must.
    func handleElectLeaders(_ request: ElectLeadersRequest, _ context: RequestContext,
                               _ respond: Responder<ElectLeadersResponse>) {
        let rawType = context.version >= 1 ? request.electionType : 0
        guard let type = MetadataController.ElectionType(rawValue: rawType) else {
            return respond.send(Self.electLeadersFailure(request, context.version,
                                                         .init(.invalidRequest, "Unknown election type \(rawType).")))
        }
        // Each named partition once, in request order.
        var wanted: [(topic: String, partitions: [Int32])]?
        if let listed = request.topicPartitions {
            var order: [String] = []
            var partitions: [String: [Int32]] = [:]
            for entry in listed {
                if partitions[entry.topic] == nil { order.append(entry.topic) }
                for p in entry.partitions where !(partitions[entry.topic] ?? []).contains(p) { partitions[entry.topic, default: []].append(p) }
            }
            wanted = order.map { ($0, partitions[$0]!) }
        }
        let box = ElectionBox()
        controlPlane.submit({ controller, latest in
            let targets = wanted ?? latest.topicNames.map { name in
                (name.rawValue, latest.topic(name)!.partitions.map(\.partition.rawValue))
            }
            var records: [MetadataRecord] = []
            box.results = targets.map { topic, partitions in
                var results: [(Int32, MetadataController.Refusal?)] = []
                for p in partitions {
                    switch controller.electLeader(type, topic: TopicName(topic), partition: PartitionID(p), in: latest) {
                    case .success(let record):
                        records.append(record)
                        results.append((p, nil))
                    case .failure(let refusal):
                        // Electing everything, partitions that need no election are left out.
                        if wanted == nil && refusal.code == KafkaErrorCode.electionNotNeeded { continue }
                        results.append((p, refusal))
                    }
                }
                return (topic, results)
            }
            return .success(records)
        }) { [self] outcome in
            if case .failure(let refusal) = outcome {
                logger.info("electing leaders failed: \(refusal.message)")
                return respond.send(Self.electLeadersFailure(request, context.version, refusal))
            }
            var response = ElectLeadersResponse()
            response.replicaElectionResults = box.results.map { topic, partitions in
                ElectLeadersResponse.ReplicaElectionResult(topic: topic, partitionResult: partitions.map { partition, refusal in
                    ElectLeadersResponse.PartitionResult(partitionId: partition, errorCode: refusal?.code.rawValue ?? 0,
                                                         errorMessage: refusal?.message)
                })
            }
            let elected = box.results.reduce(0) { $0 + $1.partitions.filter { $0.1 == nil }.count }
            if elected > 0 { logger.info("\(type == .preferred ? "preferred" : "unclean") election: \(counted(elected, "new leader"))") }
            respond.send(response)
        }
    }

    /// The answer when no election could be decided: the error at the top level (v1+) and on
    /// every listed partition.
    static func electLeadersFailure(_ request: ElectLeadersRequest, _ version: Int16,
                                    _ refusal: MetadataController.Refusal) -> ElectLeadersResponse {
        var response = ElectLeadersResponse()
        if version >= 1 { response.errorCode = refusal.code.rawValue }
        response.replicaElectionResults = (request.topicPartitions ?? []).map { entry in
            ElectLeadersResponse.ReplicaElectionResult(topic: entry.topic, partitionResult: entry.partitions.map {
                ElectLeadersResponse.PartitionResult(partitionId: $0, errorCode: refusal.code.rawValue, errorMessage: refusal.message)
            })
        }
        return response
    }
}

/// Carries the per-partition results of a decision from the quorum's loop to the broker's.
private final class ElectionBox: @unchecked Sendable {
    // @unchecked: written on the quorum loop before the completion is scheduled on the owner.
    var results: [(topic: String, partitions: [(Int32, MetadataController.Refusal?)])] = []
}
