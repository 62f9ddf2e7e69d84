import Foundation
import RunnelCore

/// The files of a `runnel dev` cluster: its directory, marked as one (`.runnel-dev`), a
/// directory per node with the node's generated `server.properties`, and each node's
/// meta.properties formatted with one cluster id for all — what `kafka-storage format -t <id>`
/// does on every node of a KRaft cluster, since voters of different cluster ids refuse each other.
public enum DevDirectory {
    /// Present in every directory `runnel dev` has prepared; `--fresh` deletes only such directories.
    public static let markerName = ".runnel-dev"

    /// What a dev directory may hold besides node directories: the marker.
    static func belongs(_ entry: String) -> Bool {
        if entry == markerName { return true }
        guard entry.hasPrefix("node-"), let id = Int(entry.dropFirst("node-".count)) else { return false }
        return DevCluster.nodeDirectoryName(Int32(clamping: id)) == entry
    }

    /// Why `directory` is not a runnel dev directory, or nil when it is one (or does not exist).
    /// An existing directory is one when it holds the marker and nothing but node directories,
    /// or when it is empty.
    public static func refusal(_ directory: String) -> String? {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory) else { return nil }
        guard isDirectory.boolValue else { return "\(directory) is not a directory" }
        guard let entries = try? fm.contentsOfDirectory(atPath: directory) else { return "\(directory) cannot be read" }
        if entries.isEmpty { return nil }
        guard entries.contains(markerName) else {
            return "\(directory) is not a runnel dev directory (it has no \(markerName) file)"
        }
        if let stranger = entries.sorted().first(where: { !belongs($0) }) {
            return "\(directory) holds '\(stranger)', which runnel dev did not create"
        }
        return nil
    }

    /// Deletes `directory` (for --fresh) after checking that it is a runnel dev directory.
    public static func wipe(_ directory: String) throws {
        if let refusal = refusal(directory) { throw ConfigError("--fresh refuses to delete it: \(refusal)") }
        guard FileManager.default.fileExists(atPath: directory) else { return }
        try FileManager.default.removeItem(atPath: directory)
    }

    /// Creates the directories, the marker and every node's properties file, and formats each
    /// node's meta.properties with the cluster's id (kept from the nodes that have one). Returns
    /// the cluster id.
    @discardableResult
    public static func prepare(_ cluster: DevCluster) throws -> String {
        if let refusal = refusal(cluster.directory) { throw ConfigError("runnel dev will not use it: \(refusal)") }
        let fm = FileManager.default
        try fm.createDirectory(atPath: cluster.directory, withIntermediateDirectories: true)
        try Data("Written by runnel dev: a local cluster's data; runnel dev --fresh may delete this directory.\n".utf8)
            .write(to: URL(fileURLWithPath: cluster.directory + "/" + markerName))
        var stored: [Int32: String] = [:]
        for node in cluster.nodes {
            try fm.createDirectory(atPath: node.directory, withIntermediateDirectories: true)
            if let meta = try MetaProperties.read(dataDirectory: node.directory) { stored[node.id] = meta.clusterID }
        }
        let ids = Set(stored.values)
        guard ids.count <= 1 else {
            let list = stored.sorted { $0.key < $1.key }.map { "node \($0.key): \($0.value)" }.joined(separator: ", ")
            throw ConfigError("the nodes in \(cluster.directory) belong to different clusters (\(list)); start with --fresh")
        }
        var rng = SystemRandomNumberGenerator()
        let clusterID = ids.first ?? TopicID.random(using: &rng).description
        for node in cluster.nodes {
            if stored[node.id] == nil {
                try MetaProperties.format(dataDirectory: node.directory, nodeID: BrokerID(node.id), clusterID: clusterID)
            }
            try Data(cluster.propertiesText(of: node).utf8).write(to: URL(fileURLWithPath: node.propertiesFile))
        }
        return clusterID
    }
}
