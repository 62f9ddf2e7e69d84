// Runs the controller scenarios in testdata/*.txt through the shared scenario-file runner
// (RunnelTesting.ScenarioFile). With CONTROLLER_REWRITE=1 the files are rewritten with the actual
// output instead of failing: review the diff as you would review code.
//
// Commands (times are milliseconds, `at=` sets the controller's clock):
//   register ID [incarnation=N] [rack=R] at=T           BrokerRegistration
//   heartbeat ID [epoch=E] [offset=O|caught-up] [fence] [shutdown] at=T
//   expire at=T                                          fence brokers whose session ended
//   active at=T                                          this controller became active
//   create-topic NAME partitions=N rf=R [seed=S] [unclean]
//   create-partitions NAME count=N [seed=S]
//   delete-topic NAME
//   alter-partition TOPIC:P from=ID isr=A,B [leader-epoch=E] [partition-epoch=E] [broker-epoch=E]
//   elect preferred|unclean TOPIC:P
//   rebalance                                            auto.leader.rebalance
//   unregister ID
//   show brokers | show partitions
//   snapshot                                             replaying the image's snapshot gives it back
// A decision's records are applied at once (committed), printed one per line.
import Foundation
import RunnelCore
import RunnelTesting
import Testing
@testable import ClusterMetadata

struct ControllerScenario {
    var image = MetadataImage()
    var controller = MetadataController(config: .init(sessionTimeoutMs: 9000))
    var now: Int64 = 0
    var random = SeededRandom(seed: 1)

    mutating func run(_ line: String) throws -> String {
        let c = ScenarioCommand(line)
        if let at = c.int64("at") { now = at }
        switch c.name {
        case "register":
            let id = BrokerID(Int32(c.word(1)!)!)
            let incarnation = TopicID(high: 0, low: UInt64(c.int("incarnation") ?? 1))
            let request = MetadataController.RegistrationRequest(
                id: id, incarnation: incarnation,
                listeners: [.init(name: "PLAINTEXT", host: "host\(id)", port: 9092)], rack: c.arguments["rack"])
            return try apply(controller.register(request, in: image, now: now).map { ($0.records, "epoch=\($0.epoch)") })
        case "heartbeat":
            let id = BrokerID(Int32(c.word(1)!)!)
            let epoch = c.int64("epoch") ?? image.broker(id)?.epoch ?? -1
            let offset = c.arguments["offset"] == "caught-up" || c.arguments["offset"] == nil
                ? image.recordCount : c.int64("offset")!
            let hb = MetadataController.Heartbeat(id: id, epoch: epoch, metadataOffset: offset,
                                                  wantFence: c.has("fence"), wantShutDown: c.has("shutdown"))
            return try apply(controller.heartbeat(hb, in: image, now: now).map { r in
                (r.records, "reply caughtUp=\(r.reply.isCaughtUp) fenced=\(r.reply.isFenced) shutDown=\(r.reply.shouldShutDown)")
            })
        case "expire":
            return try apply(.success((controller.expireSessions(in: image, now: now), "")))
        case "active":
            controller.becameActive(image: image, now: now)
            return "sessions renewed for \(image.brokers.keys.sorted().map(\.description).joined(separator: ","))"
        case "create-topic":
            if let seed = c.int("seed") { random = SeededRandom(seed: UInt64(seed)) }
            let configs = c.has("unclean") ? ["unclean.leader.election.enable": "true"] : [:]
            return try apply(controller.createTopic(name: c.word(1)!, partitions: Int32(c.int("partitions") ?? 1),
                                                    replicationFactor: Int16(c.int("rf") ?? 1), configs: configs,
                                                    in: image, ids: &random).map { ($0, "") })
        case "create-partitions":
            if let seed = c.int("seed") { random = SeededRandom(seed: UInt64(seed)) }
            return try apply(controller.createPartitions(topic: c.word(1)!, totalCount: Int32(c.int("count")!), in: image,
                                                         random: &random).map { ($0, "") })
        case "delete-topic":
            return try apply(controller.deleteTopic(name: c.word(1)!, in: image).map { ($0, "") })
        case "alter-partition":
            let (topic, partition) = topicPartition(c.word(1)!)
            let state = image.partition(topic, partition)
            let from = BrokerID(Int32(c.int("from")!))
            let change = MetadataController.ISRChange(
                topic: topic, partition: partition,
                leaderEpoch: LeaderEpoch(Int32(c.int("leader-epoch") ?? Int(state?.leaderEpoch.rawValue ?? 0))),
                partitionEpoch: Int32(c.int("partition-epoch") ?? Int(state?.partitionEpoch ?? 0)),
                newISR: c.list("isr")!.map { BrokerID(Int32($0)!) })
            let brokerEpoch = c.int64("broker-epoch") ?? image.broker(from)?.epoch ?? -1
            return try apply(controller.alterPartition(change, from: from, brokerEpoch: brokerEpoch, in: image).map { r in
                (r.record.map { [$0] } ?? [], r.record == nil ? "unchanged" : "")
            })
        case "elect":
            let type: MetadataController.ElectionType = c.word(1) == "unclean" ? .unclean : .preferred
            let (topic, partition) = topicPartition(c.word(2)!)
            return try apply(controller.electLeader(type, topic: topic, partition: partition, in: image).map { ([$0], "") })
        case "rebalance":
            return try apply(.success((controller.rebalanceLeaders(in: image), "")))
        case "unregister":
            return try apply(controller.unregister(BrokerID(Int32(c.word(1)!)!), in: image).map { ($0, "") })
        case "show":
            return c.word(1) == "brokers" ? showBrokers() : showPartitions()
        case "snapshot":
            let records = image.snapshotRecords()
            let restored = try MetadataImage.restoring(snapshot: records, recordCount: image.recordCount)
            for r in records { guard try MetadataRecord.decode(r.encode()) == r else { return "record does not round-trip: \(r)" } }
            return restored == image ? "ok: \(records.count) records rebuild the image" : "MISMATCH after replaying the snapshot"
        default:
            return "unknown command \(c.name)"
        }
    }

    func topicPartition(_ s: String) -> (TopicName, PartitionID) {
        let parts = s.split(separator: ":")
        return (TopicName(String(parts[0])), PartitionID(Int32(parts[1])!))
    }

    /// Applies a decision's records (each must survive its encoding) and prints them.
    mutating func apply(_ result: Result<([MetadataRecord], String), MetadataController.Refusal>) throws -> String {
        switch result {
        case .failure(let refusal):
            return "error \(refusal.code.rawValue): \(refusal.message)"
        case .success(let (records, note)):
            var lines: [String] = []
            for record in records {
                #expect(try MetadataRecord.decode(record.encode()) == record, "\(record) round-trips")
                lines.append("record " + describe(record))
                image = try image.applying(record)
            }
            if !note.isEmpty { lines.append(note) }
            return lines.joined(separator: "\n")
        }
    }

    func brokers(_ ids: [BrokerID]) -> String { ids.map(\.description).joined(separator: ",") }

    func describe(_ record: MetadataRecord) -> String {
        switch record {
        case .topic(let name, _): return "topic \(name)"
        case .partition(let p):
            let name = image.topic(id: p.topicID)?.name.rawValue ?? "?"
            return "partition \(name):\(p.partition) " + partitionFields(p)
        case .config(let topic, let key, let value): return "config \(topic) \(key)=\(value ?? "<removed>")"
        case .removeTopic(let id): return "remove-topic \(image.topic(id: id)?.name.rawValue ?? "?")"
        case .producerIDs(let next): return "producer-ids next=\(next)"
        case .registerBroker(let b):
            return "register-broker \(b.id) epoch=\(b.epoch) fenced=\(b.fenced)" + (b.rack.map { " rack=\($0)" } ?? "")
        case .brokerChange(let id, let epoch, let fenced, let shutdown):
            return "broker-change \(id) epoch=\(epoch)" + (fenced.map { " fenced=\($0)" } ?? "")
                + (shutdown.map { " shutting-down=\($0)" } ?? "")
        case .unregisterBroker(let id, let epoch): return "unregister-broker \(id) epoch=\(epoch)"
        case .brokerConfig(let resource, let key, let value):
            return "broker-config \(resource.isEmpty ? "<default>" : resource) \(key)=\(value ?? "<removed>")"
        case .acl(_, let binding): return "acl \(binding)"
        case .removeAcl(let id): return "remove-acl \(id)"

        case .scramCredential(let user, let mechanism, let credential):
            return "scram-credential \(user) mechanism=\(mechanism) " + (credential.map { "iterations=\($0.iterations)" } ?? "<removed>")
        }
    }

    func partitionFields(_ p: PartitionState) -> String {
        "replicas=\(brokers(p.replicas)) isr=\(brokers(p.isr)) leader=\(p.leader) epoch=\(p.leaderEpoch) pe=\(p.partitionEpoch)"
    }

    func showBrokers() -> String {
        image.brokers.keys.sorted().map { id in
            let b = image.brokers[id]!
            let state = b.fenced ? "fenced" : b.inControlledShutdown ? "shutting-down" : "active"
            return "broker \(id) epoch=\(b.epoch) \(state)"
        }.joined(separator: "\n")
    }

    func showPartitions() -> String {
        image.allPartitions.map { "\($0.topic):\($0.state.partition) " + partitionFields($0.state) }.joined(separator: "\n")
    }
}

// The acl_*.txt files are AclScenarioTests'.
@Test(arguments: ScenarioFile.files(besides: #filePath).map(\.lastPathComponent).filter { !$0.hasPrefix("acl_") })
func controllerScenario(_ name: String) throws {
    let url = ScenarioFile.files(besides: #filePath).first { $0.lastPathComponent == name }!
    var scenario = ControllerScenario()
    let mismatches = try ScenarioFile.run(url, rewriteVariable: "CONTROLLER_REWRITE") { try scenario.run($0) }
    #expect(mismatches.isEmpty, "\(mismatches.map(\.description).joined(separator: "\n\n"))")
}

@Test func controllerScenarioFilesExist() {
    #expect(ScenarioFile.files(besides: #filePath).count >= 5)
}
