import ClusterMetadata
import Foundation
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

// DescribeLogDirs (key 35), versions 0-4. Runnel has one log directory (log.dirs), so the answer
// has one entry: its absolute path and every local replica asked for (all with a null topic
// list) with the bytes of its segments. offset_lag is 0 and is_future_key false: there are no
// future replicas (no moves between directories). v4 adds the file system's total and free bytes.
// With ACLs on it needs DESCRIBE on the cluster.
extension Broker {
    func handleDescribeLogDirs(_ request: DescribeLogDirsRequest, _ context: RequestContext,
                               _ respond: Responder<DescribeLogDirsResponse>) {
        guard authorizeCluster(.describe, context) else {
            // Kafka: CLUSTER_AUTHORIZATION_FAILED at the top (v3+) and no directories.
            var response = DescribeLogDirsResponse()
            response.errorCode = KafkaErrorCode.clusterAuthorizationFailed.rawValue
            return respond.send(response)
        }
        var result = DescribeLogDirsResponse.DescribeLogDirsResult()
        result.logDir = URL(fileURLWithPath: config.dataDirectory).standardizedFileURL.path
        let wanted: Set<TopicPartition>? = request.topics.map { topics in
            Set(topics.flatMap { t in t.partitions.map { TopicPartition(TopicName(t.topic), PartitionID($0)) } })
        }
        var byTopic: [TopicName: [DescribeLogDirsResponse.DescribeLogDirsPartition]] = [:]
        for (key, partition) in partitions.sorted(by: { $0.key < $1.key }) where wanted?.contains(key) ?? true {
            byTopic[key.topic, default: []].append(.init(partitionIndex: key.partition.rawValue,
                                                         partitionSize: Int64(partition.sizeBytes),
                                                         offsetLag: 0, isFutureKey: false))
        }
        result.topics = byTopic.keys.sorted().map { .init(name: $0.rawValue, partitions: byTopic[$0]!) }
        var stats = statvfs()
        if statvfs(result.logDir, &stats) == 0 {
            result.totalBytes = Int64(stats.f_blocks) * Int64(stats.f_frsize)
            result.usableBytes = Int64(stats.f_bavail) * Int64(stats.f_frsize)
        }
        var response = DescribeLogDirsResponse()
        response.results = [result]
        respond.send(response)
    }
}
