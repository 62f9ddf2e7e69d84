import ClusterMetadata
import RaftCore
import Replication
import RunnelCore

// One line per message for the trace and a violation's history.

extension Cluster {
    func describe(_ body: Body) -> String {
        switch body {
        case .raft(let m):
            var s = "raft \(m.kind) term=\(m.term)"
            if m.kind == .append { s += " log=\(m.logTerm)/\(m.index) commit=\(m.commit) entries=\(m.entries.count)" }
            if m.kind == .appendResponse { s += m.reject ? " reject=\(m.index)" : " index=\(m.index)" }
            return s
        case .register(let request): return "register \(request.id)"
        case .registered(_, let epoch): return "registered epoch=\(epoch.map(String.init) ?? "refused")"
        case .heartbeat(let hb): return "heartbeat \(hb.id) epoch=\(hb.epoch) offset=\(hb.metadataOffset)"
        case .heartbeatReply(let code, let fenced): return "heartbeat-reply \(code)" + (fenced ? " fenced" : "")
        case .alterPartition(let change, _, let id):
            return "alter-partition #\(id) \(change.topic)-\(change.partition) epoch=\(change.leaderEpoch)/\(change.partitionEpoch) isr=\(change.newISR)"
        case .alterPartitionReply(let change, let answer, let id):
            let said: String
            switch answer {
            case .accepted(let isr, let epoch, let partitionEpoch): said = "isr=\(isr) epoch=\(epoch)/\(partitionEpoch)"
            case .refused(let code): said = "refused \(code)"
            case .notDelivered: said = "not delivered"
            }
            return "alter-partition-reply #\(id) \(change.topic)-\(change.partition) to isr=\(change.newISR) \(said)"
        case .createTopic(let name, let partitions, _, _): return "create-topic \(name) partitions=\(partitions)"
        case .createTopicReply(let name, let code): return "create-topic-reply \(name) \(code)"
        case .fetch(let f):
            return "fetch \(f.partition) epoch=\(f.currentLeaderEpoch) offset=\(f.fetchOffset) last-epoch=\(f.lastFetchedEpoch?.description ?? "-")"
        case .fetchReply(let r):
            var s = "fetch-reply \(r.partition) \(r.error) hw=\(r.highWatermark) records=\(r.records.count)"
            if let d = r.diverging { s += " diverging=\(d.epoch)@\(d.endOffset)" }
            return s
        case .produce(let p): return "produce \(p.partition) \(p.record) acks=\(p.acks) id=\(p.id)"
        case .produceReply(let r): return "produce-reply \(r.partition) id=\(r.id) \(r.error) offset=\(r.offset)"
        }
    }
}
