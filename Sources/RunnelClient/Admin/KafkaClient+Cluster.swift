import KafkaMessages
import RunnelCore

/// The cluster as DescribeCluster tells it.
public struct ClusterDescription: Sendable, Equatable {
    public struct Broker: Sendable, Equatable {
        public var id: BrokerID
        public var address: BrokerAddress
        public var rack: String?
        /// Known only from brokers that answer DescribeCluster v2 (false otherwise).
        public var isFenced: Bool
    }

    public var clusterID: String
    /// The active controller, nil when the broker knows none.
    public var controllerID: BrokerID?
    /// Sorted by id.
    public var brokers: [Broker]
    /// Kafka's bit field (bit i = ACL operation i), when asked for.
    public var authorizedOperations: Int32?
    /// Whether fenced brokers are listed (the broker answered v2).
    public var listsFencedBrokers: Bool
}

/// The metadata quorum as its leader tells it (DescribeQuorum).
public struct QuorumDescription: Sendable, Equatable {
    public struct Replica: Sendable, Equatable {
        public var id: BrokerID
        /// -1 when the leader has not heard from it in its term.
        public var logEndOffset: Int64
        /// Wall-clock ms, -1 when unknown.
        public var lastFetchTimestamp: Int64
        public var lastCaughtUpTimestamp: Int64
    }

    public var leaderID: BrokerID
    public var leaderEpoch: Int32
    public var highWatermark: Int64
    public var voters: [Replica]
    public var observers: [Replica]

    /// The leader's log end offset (its own entry), which every lag is measured against.
    public var leaderLogEndOffset: Int64 {
        voters.first { $0.id == leaderID }?.logEndOffset ?? highWatermark
    }

    /// How many entries `replica` is behind the leader, nil when unknown.
    public func lag(of replica: Replica) -> Int64? {
        replica.logEndOffset < 0 ? nil : max(0, leaderLogEndOffset - replica.logEndOffset)
    }
}

/// Which kind of leader election ElectLeaders runs.
public enum ElectionType: Int8, Sendable {
    /// Give leadership to the first replica, when it is in the ISR and available.
    case preferred = 0
    /// Elect any available replica of a partition without a leader, even outside the ISR (records
    /// only the old leader had are lost).
    case unclean = 1
}

/// One partition's election outcome.
public struct ElectionResult: Sendable, Equatable {
    public var partition: RunnelCore.TopicPartition
    /// `.none` when a new leader was elected.
    public var error: KafkaErrorCode
    public var message: String?
}

extension KafkaClient {
    /// Cluster id, active controller and brokers, from any broker. `includeFenced` lists fenced
    /// brokers too where the broker supports it (DescribeCluster v2).
    public func describeCluster(includeFenced: Bool = false, includeAuthorizedOperations: Bool = false) async throws
        -> ClusterDescription {
        try await withRetries {
            let (response, version) = try await send(.any) { _ in
                var request = DescribeClusterRequest()
                request.includeClusterAuthorizedOperations = includeAuthorizedOperations
                request.includeFencedBrokers = includeFenced
                return request
            }
            let code = KafkaErrorCode(response.errorCode)
            guard code == .none else {
                throw KafkaClientError.kafka(code: code, message: response.errorMessage, context: "describe cluster")
            }
            let brokers = response.brokers.map { broker in
                ClusterDescription.Broker(id: BrokerID(broker.brokerId), address: BrokerAddress(host: broker.host, port: Int(broker.port)),
                                          rack: broker.rack, isFenced: broker.isFenced)
            }.sorted { $0.id < $1.id }
            return ClusterDescription(
                clusterID: response.clusterId, controllerID: response.controllerId >= 0 ? BrokerID(response.controllerId) : nil,
                brokers: brokers,
                authorizedOperations: response.clusterAuthorizedOperations == Int32.min ? nil : response.clusterAuthorizedOperations,
                listsFencedBrokers: version >= 2 && includeFenced)
        }
    }

    /// The metadata quorum (`__cluster_metadata` partition 0) as the active controller sees it;
    /// any broker forwards the request there.
    public func describeQuorum() async throws -> QuorumDescription {
        try await withRetries {
            let (response, _) = try await send(.any) { _ in
                DescribeQuorumRequest(topics: [.init(topicName: "__cluster_metadata", partitions: [.init(partitionIndex: 0)])])
            }
            let code = KafkaErrorCode(response.errorCode)
            guard code == .none else {
                throw KafkaClientError.kafka(code: code, message: response.errorMessage, context: "describe quorum")
            }
            guard let partition = response.topics.first?.partitions.first else {
                throw KafkaClientError.protocolViolation(address: "broker", detail: "DescribeQuorum response names no partition")
            }
            let partitionCode = KafkaErrorCode(partition.errorCode)
            guard partitionCode == .none else {
                throw KafkaClientError.kafka(code: partitionCode, message: partition.errorMessage, context: "describe quorum")
            }
            func replica(_ state: DescribeQuorumResponse.ReplicaState) -> QuorumDescription.Replica {
                .init(id: BrokerID(state.replicaId), logEndOffset: state.logEndOffset, lastFetchTimestamp: state.lastFetchTimestamp,
                      lastCaughtUpTimestamp: state.lastCaughtUpTimestamp)
            }
            return QuorumDescription(leaderID: BrokerID(partition.leaderId), leaderEpoch: partition.leaderEpoch,
                                     highWatermark: partition.highWatermark, voters: partition.currentVoters.map(replica),
                                     observers: partition.observers.map(replica))
        }
    }

    /// Runs leader elections for `partitions` (nil: every partition; then partitions that need
    /// no election are left out of the results). Per-partition refusals are results, not
    /// errors; an error that stops the whole request (no controller) is thrown. Sent to any
    /// broker, which forwards it to the active controller: the controller named in cached
    /// metadata may be the very node whose failure made the election necessary.
    public func electLeaders(_ type: ElectionType, partitions: [RunnelCore.TopicPartition]?, timeoutMs: Int32 = 30_000) async throws
        -> [ElectionResult] {
        let results: [ElectionResult] = try await withRetries {
            let (response, _) = try await send(.any, timeoutMs: Int64(timeoutMs) + config.requestTimeoutMs) { _ in
                var request = ElectLeadersRequest()
                request.electionType = type.rawValue
                request.timeoutMs = timeoutMs
                if let partitions {
                    var byTopic: [TopicName: [Int32]] = [:]
                    for key in partitions { byTopic[key.topic, default: []].append(key.partition.rawValue) }
                    request.topicPartitions = byTopic.keys.sorted().map { .init(topic: $0.rawValue, partitions: byTopic[$0]!) }
                } else {
                    request.topicPartitions = nil
                }
                return request
            }
            let code = KafkaErrorCode(response.errorCode)
            guard code == .none else {
                throw KafkaClientError.kafka(code: code, message: nil, context: "elect leaders")
            }
            let results = response.replicaElectionResults.flatMap { topic in
                topic.partitionResult.map { result in
                    ElectionResult(partition: RunnelCore.TopicPartition(TopicName(topic.topic), PartitionID(result.partitionId)),
                                   error: KafkaErrorCode(result.errorCode), message: result.errorMessage)
                }
            }.sorted { $0.partition < $1.partition }
            if let retriable = results.first(where: { $0.error == .notController || $0.error == .requestTimedOut }) {
                throw KafkaClientError.kafka(code: retriable.error, message: retriable.message, context: "elect leaders")
            }
            return results
        }
        let topics = Set(results.filter { $0.error == .none }.map(\.partition.topic.rawValue))
        if !topics.isEmpty { _ = try? await refreshMetadata(topics: topics.sorted()) }
        return results
    }
}
