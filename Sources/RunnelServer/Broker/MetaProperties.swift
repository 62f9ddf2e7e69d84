import ClusterMetadata
import Foundation
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

/// `<log.dirs>/meta.properties`, as KRaft writes it: the node id and the cluster id. Created on
/// first start (the cluster id is a random Kafka-style uuid) unless it was written beforehand, as
/// `kafka-storage format` does and `runnel dev` does for its nodes (so that they share one
/// cluster id); afterwards a node.id that differs from the file stops start-up, because the data
/// belongs to another node.
enum MetaProperties {
    static func load(dataDirectory: String, nodeID: BrokerID) throws -> String {
        if let stored = try read(dataDirectory: dataDirectory) {
            if let storedNode = stored.nodeID, storedNode != String(nodeID.rawValue) {
                throw ConfigError("node.id \(nodeID) does not match node.id=\(storedNode) in \(path(dataDirectory)): this data directory belongs to another node")
            }
            return stored.clusterID
        }
        var rng = SystemRandomNumberGenerator()
        let cluster = TopicID.random(using: &rng).description
        try format(dataDirectory: dataDirectory, nodeID: nodeID, clusterID: cluster)
        return cluster
    }

    static func path(_ dataDirectory: String) -> String { dataDirectory + "/meta.properties" }

    /// The ids in an existing meta.properties; nil when the file does not exist.
    static func read(dataDirectory: String) throws -> (clusterID: String, nodeID: String?)? {
        let path = path(dataDirectory)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        guard let cluster = values["cluster.id"], !cluster.isEmpty else {
            throw ConfigError("\(path) has no cluster.id; it is not a Runnel or Kafka data directory")
        }
        return (cluster, values["node.id"])
    }

    /// Writes meta.properties for `nodeID` in `clusterID` (atomically, fsynced).
    static func format(dataDirectory: String, nodeID: BrokerID, clusterID: String) throws {
        let path = path(dataDirectory)
        let text = "#\n#Written by Runnel\nversion=1\nnode.id=\(nodeID.rawValue)\ncluster.id=\(clusterID)\n"
        let tmp = path + ".tmp"
        try text.write(toFile: tmp, atomically: false, encoding: .utf8)
        let fd = open(tmp, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
        guard rename(tmp, path) == 0 else { throw StorageFailure("rename", path: path, errno: errno) }
    }
}
