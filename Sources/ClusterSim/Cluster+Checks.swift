import ClusterMetadata
import Replication
import RunnelCore

// The invariants (RELIABILITY.md, DESIGN.md §5), checked after every event. The global
// knowledge: `committed`, per partition the log below the highest high watermark any replica
// ever had — it only grows, and every replica's log below its own high watermark, every ISR
// member's log below its leader's, and the current leader's whole log must agree with it.
// Checks are incremental: a replica's `checked` says how much of its log was compared already.

struct EpochKey: Hashable {
    var partition: TopicPartition
    var epoch: LeaderEpoch
}

struct ProducerKey: Hashable {
    var producerID: Int64
    var epoch: Int16
    var sequence: Int32
    init(_ record: SimRecord) {
        producerID = record.producerID
        epoch = record.producerEpoch
        sequence = record.sequence
    }
}

extension Cluster {
    mutating func checkAfterEvent() {
        for node in nodes where node.isUp {
            for key in node.replicas.keys.sorted() { checkReplica(node.address, key) }
        }
        for key in workload.allPartitions { checkCurrentLeader(key) }
    }

    /// One leader per partition and leader epoch, the leader in its ISR and the ISR among the
    /// replicas, the high watermark within the log and never back within an epoch, and the log
    /// below the high watermark equal to the committed log.
    private mutating func checkReplica(_ address: Address, _ key: TopicPartition) {
        let replica = nodes[index(address)].replicas[key]!
        if let state = replica.leaderState {
            let epochKey = EpochKey(partition: key, epoch: state.leaderEpoch)
            if let other = leaderOfEpoch[epochKey], other != replica.broker {
                return fail("one-leader", "brokers \(other) and \(replica.broker) both lead \(key) in epoch \(state.leaderEpoch)")
            }
            leaderOfEpoch[epochKey] = replica.broker
            if !state.isr.contains(replica.broker) || !state.isr.allSatisfy(state.replicas.contains) {
                return fail("isr-shape", "leader \(replica.broker) of \(key) has ISR \(state.isr), replicas \(state.replicas)")
            }
        }
        if replica.highWatermark > replica.logEnd {
            return fail("hw-in-log", "broker \(replica.broker) \(key) high watermark \(replica.highWatermark) past its log end \(replica.logEnd)")
        }
        verifyPrefix(address, key, through: replica.highWatermark, why: "below its high watermark")
    }

    /// The current leader (of the newest state in any image, once it took office) holds the whole
    /// committed log and every acknowledged record; every member of the newest committed ISR —
    /// that state's, or a newer one of the same leader epoch the leader took from an accepted
    /// AlterPartition answer (sent once the record is applied, so committed, though no running
    /// image may show it yet) — holds, durably, everything below the leader's high watermark.
    private mutating func checkCurrentLeader(_ key: TopicPartition) {
        guard let state = newestState(key), state.hasLeader else { return }
        let leaderAddress = Address(state.leader.rawValue)
        guard nodes[index(leaderAddress)].isUp, let leader = nodes[index(leaderAddress)].replicas[key],
              leader.leaderState?.leaderEpoch == state.leaderEpoch else { return }
        let committedCount = committed[key]?.count ?? 0
        if leader.log.count < committedCount {
            return fail("leader-completeness", "leader \(state.leader) of \(key) in epoch \(state.leaderEpoch) has \(leader.log.count) records, \(committedCount) are committed")
        }
        verifyPrefix(leaderAddress, key, through: Offset(Int64(committedCount)), why: "as leader")
        for ack in unconfirmedAcks where ack.partition == key {
            let offset = Int(ack.offset.rawValue)
            if offset >= leader.log.count || !sameBatch(leader.log[offset], ack.record) {
                return fail("acked-lost", "acks=all \(ack.record) acknowledged at \(key)@\(offset) is not there on leader \(state.leader) in epoch \(state.leaderEpoch)")
            }
        }
        let hw = leader.highWatermark
        let isr = leader.partitionEpoch > state.partitionEpoch ? leader.leaderState!.isr : state.isr
        for member in isr where member != state.leader {
            guard let replica = nodes[index(Address(member.rawValue))].replicas[key] else { continue }
            if replica.durableEnd < hw {
                return fail("isr-holds-committed", "ISR member \(member) of \(key) holds \(replica.durableEnd) durable records, below leader \(state.leader)'s high watermark \(hw) (epoch \(state.leaderEpoch), ISR \(isr))")
            }
            verifyPrefix(Address(member.rawValue), key, through: hw, why: "as ISR member")
        }
    }

    /// The partition's newest committed state: the highest (leader epoch, partition epoch) any
    /// node ever applied. Not only the running images': when every node that applied a newer
    /// state is down, a running image's leader is a deposed one, not the current leader (seed
    /// 1983 at 1500 steps: a lagging node took office in an epoch already succeeded, and the
    /// check held it to the log its successor had committed).
    func newestState(_ key: TopicPartition) -> PartitionState? { newestCommitted[key] }

    /// Compares `address`'s log of `key` with the committed log up to `end`, extending the
    /// committed log where it is shorter (the records below a high watermark are committed).
    private mutating func verifyPrefix(_ address: Address, _ key: TopicPartition, through end: Offset, why: String) {
        let i = index(address)
        let replica = nodes[i].replicas[key]!
        let stop = min(Int(end.rawValue), replica.log.count)
        guard replica.checked < stop else { return }
        for offset in replica.checked..<stop {
            let record = replica.log[offset]
            let count = committed[key]?.count ?? 0
            if offset < count {
                if committed[key]![offset] != record {
                    return fail("committed-prefix", "broker \(replica.broker) holds \(record) at \(key)@\(offset) \(why); committed is \(committed[key]![offset])")
                }
            } else {
                if record.producerID >= 0, !committedKeys[key, default: []].insert(ProducerKey(record)).inserted {
                    return fail("duplicate", "idempotent \(record) committed twice in \(key) (again at \(offset))")
                }
                committed[key, default: []].append(record)
                confirmAcks(key)
            }
        }
        nodes[i].replicas[key]!.checked = stop
    }

    /// An acks=all acknowledgement: the record must be committed at that offset (it is, if the
    /// answer waited for the high watermark); one that is not yet stays under watch.
    mutating func acknowledged(_ request: ProduceRequest, at offset: Offset) {
        ackedAll[request.partition, default: [:]][offset.rawValue] = request.record
        unconfirmedAcks.append((request.partition, offset, request.record))
        confirmAcks(request.partition)
    }

    private mutating func confirmAcks(_ key: TopicPartition) {
        let log = committed[key] ?? []
        var remaining: [(partition: TopicPartition, offset: Offset, record: SimRecord)] = []
        for ack in unconfirmedAcks {
            let offset = Int(ack.offset.rawValue)
            guard ack.partition == key, offset < log.count else { remaining.append(ack); continue }
            if !sameBatch(log[offset], ack.record) {
                fail("acked-lost", "acks=all \(ack.record) acknowledged at \(key)@\(offset), but \(log[offset]) is committed there")
            }
        }
        unconfirmedAcks = remaining
    }

    func sameBatch(_ stored: SimRecord, _ sent: SimRecord) -> Bool {
        stored.value == sent.value && ProducerKey(stored) == ProducerKey(sent)
    }

    /// After a leader's append: an idempotent producer's batch is in its log once.
    mutating func checkAppendedOnce(_ address: Address, _ key: TopicPartition) {
        let log = nodes[index(address)].replicas[key]!.log
        guard let last = log.last, last.producerID >= 0 else { return }
        let producerKey = ProducerKey(last)
        if let first = log.dropLast().firstIndex(where: { $0.producerID >= 0 && ProducerKey($0) == producerKey }) {
            fail("duplicate", "broker \(address) appended \(last) to \(key) at \(log.count - 1); it is already at \(first)")
        }
    }

    /// Each node's image: a partition's leader in its ISR, the ISR among its replicas, and leader
    /// epochs that never go back.
    mutating func checkImage(_ address: Address) {
        let i = index(address)
        for (topic, state) in nodes[i].image.allPartitions {
            let key = TopicPartition(topic, state.partition)
            if (state.hasLeader && !state.isr.contains(state.leader)) || !state.isr.allSatisfy(state.replicas.contains) {
                return fail("isr-shape", "node \(address)'s image has \(key) led by \(state.leader), ISR \(state.isr), replicas \(state.replicas)")
            }
            if let seen = nodes[i].imageEpochs[key], state.leaderEpoch < seen {
                return fail("epoch-monotonic", "node \(address)'s image moved \(key) from leader epoch \(seen) to \(state.leaderEpoch)")
            }
            nodes[i].imageEpochs[key] = state.leaderEpoch
            if newestCommitted[key].map({ ($0.leaderEpoch.rawValue, $0.partitionEpoch) < (state.leaderEpoch.rawValue, state.partitionEpoch) }) ?? true {
                newestCommitted[key] = state
            }
        }
    }
}
