import ArgumentParser
import Foundation
import RunnelClient
import RunnelCore

/// `runnel cluster info|elect-leaders`: the cluster's brokers, controller and metadata quorum, and
/// leader elections by hand (`kafka-cluster`, `kafka-metadata-quorum` and
/// `kafka-leader-election` in one place).
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Show the cluster's brokers, controller and metadata quorum; run leader elections.",
        subcommands: [Info.self, ElectLeaders.self]
    )

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the brokers (fenced or not), the active controller and the metadata quorum with each member's lag.")

        @OptionGroup var client: ClientOptions
        @Flag(name: .customLong("json"), help: "Print JSON.") var json = false

        func run() async throws {
            let (cluster, quorum) = try await client.withClient { client in
                (try await client.describeCluster(includeFenced: true), try await client.describeQuorum())
            }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            if json {
                StandardOutput.write(try TopicJSON.encode(ClusterJSON.Info(cluster: cluster, quorum: quorum)) + "\n")
            } else {
                StandardOutput.write(Self.text(cluster, quorum, now: now))
            }
        }

        static func text(_ cluster: ClusterDescription, _ quorum: QuorumDescription, now: Int64) -> String {
            var out = "Cluster: \(cluster.clusterID)\tController: \(cluster.controllerID.map(\.description) ?? "none")\n\n"
            let brokers = cluster.brokers.map { broker in
                [broker.id.description, broker.address.description, broker.rack ?? "-",
                 cluster.listsFencedBrokers ? (broker.isFenced ? "fenced" : "unfenced") : "unfenced"]
            }
            out += TextTable.render(header: ["BROKER", "ADDRESS", "RACK", "STATE"], rows: brokers)
            out += "\nQuorum: leader \(quorum.leaderID), epoch \(quorum.leaderEpoch), high watermark \(quorum.highWatermark)\n"
            func ago(_ timestamp: Int64) -> String { timestamp < 0 ? "-" : "\(max(0, now - timestamp)) ms ago" }
            let members = quorum.voters.map { ($0, $0.id == quorum.leaderID ? "leader" : "voter") }
                + quorum.observers.map { ($0, "observer") }
            let rows = members.map { replica, role in
                [replica.id.description, role, replica.logEndOffset < 0 ? "-" : "\(replica.logEndOffset)",
                 quorum.lag(of: replica).map(String.init) ?? "-", ago(replica.lastFetchTimestamp), ago(replica.lastCaughtUpTimestamp)]
            }
            out += TextTable.render(header: ["NODE", "ROLE", "LOG-END-OFFSET", "LAG", "LAST-FETCH", "LAST-CAUGHT-UP"], rows: rows)
            return out
        }
    }

    struct ElectLeaders: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "elect-leaders",
            abstract: "Give leadership back to preferred replicas, or with --unclean to any live replica of leaderless partitions.",
            discussion: """
                Without --topic, every partition of every topic. A partition whose election is not needed is \
                not an error; any other refusal (the preferred replica is not in the ISR, no live replica) \
                makes the command exit 1.
                """)

        @OptionGroup var client: ClientOptions
        @Option(name: .customLong("topic"), help: "Only this topic's partitions.") var topic: String?
        @Option(name: .customLong("partition"), help: "Only this partition of --topic (repeatable).") var partitions: [Int32] = []
        @Flag(name: .customLong("unclean"),
              help: "Unclean election: a leaderless partition gets any live replica, even outside the ISR (records may be lost).")
        var unclean = false

        func validate() throws {
            if !partitions.isEmpty && topic == nil { throw ValidationError("--partition needs --topic") }
        }

        func run() async throws {
            let type: ElectionType = unclean ? .unclean : .preferred
            let (results, leaders) = try await client.withClient { client -> ([ElectionResult], [String: PartitionMetadata]) in
                var wanted: [RunnelCore.TopicPartition]?
                if let topic {
                    let ids = partitions.isEmpty ? try await client.topicMetadata(topic, refresh: true).partitions.map(\.id)
                        : partitions.map { PartitionID($0) }
                    wanted = ids.map { RunnelCore.TopicPartition(TopicName(topic), $0) }
                }
                let results = try await client.electLeaders(type, partitions: wanted)
                var leaders: [String: PartitionMetadata] = [:]
                for result in results where result.error == .none {
                    if let metadata = client.metadata.topics[result.partition.topic.rawValue]?.partition(result.partition.partition) {
                        leaders[result.partition.description] = metadata
                    }
                }
                return (results, leaders)
            }
            var failed = false
            for result in results {
                let key = result.partition.description
                if result.error == .none {
                    let detail = leaders[key].map { " (leader \($0.leader.map(\.description) ?? "none"), leader epoch \($0.leaderEpoch))" } ?? ""
                    print("\(key): elected\(detail)")
                } else {
                    if result.error.rawValue != 84 { failed = true }
                    print("\(key): \(result.error.phrase)\(result.message.map { ": \($0)" } ?? "")")
                }
            }
            if results.isEmpty {
                CommandFailure.printError("no partition needed an election")
            }
            if failed { throw ExitCode.failure }
        }
    }
}

/// Shapes of `runnel cluster info --json`.
enum ClusterJSON {
    struct Broker: Encodable {
        var id: Int32
        var host: String
        var port: Int
        var rack: String?
        var fenced: Bool
    }

    struct Replica: Encodable {
        var id: Int32
        var role: String
        var logEndOffset: Int64
        var lag: Int64?
        var lastFetchTimestamp: Int64
        var lastCaughtUpTimestamp: Int64
    }

    struct Quorum: Encodable {
        var leader: Int32
        var epoch: Int32
        var highWatermark: Int64
        var voters: [Replica]
        var observers: [Replica]
    }

    struct Info: Encodable {
        var clusterId: String
        var controller: Int32?
        var brokers: [Broker]
        var quorum: Quorum

        init(cluster: ClusterDescription, quorum: QuorumDescription) {
            clusterId = cluster.clusterID
            controller = cluster.controllerID?.rawValue
            brokers = cluster.brokers.map {
                Broker(id: $0.id.rawValue, host: $0.address.host, port: $0.address.port, rack: $0.rack, fenced: $0.isFenced)
            }
            func replica(_ r: QuorumDescription.Replica, _ role: String) -> Replica {
                Replica(id: r.id.rawValue, role: role, logEndOffset: r.logEndOffset, lag: quorum.lag(of: r),
                        lastFetchTimestamp: r.lastFetchTimestamp, lastCaughtUpTimestamp: r.lastCaughtUpTimestamp)
            }
            self.quorum = Quorum(leader: quorum.leaderID.rawValue, epoch: quorum.leaderEpoch, highWatermark: quorum.highWatermark,
                                 voters: quorum.voters.map { replica($0, $0.id == quorum.leaderID ? "leader" : "voter") },
                                 observers: quorum.observers.map { replica($0, "observer") })
        }
    }
}
