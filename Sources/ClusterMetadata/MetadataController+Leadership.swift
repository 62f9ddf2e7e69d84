import RunnelCore

// Partition leadership: elections when brokers become unusable or usable again, ISR changes
// requested by leaders (AlterPartition), and preferred-leader elections (ElectLeaders and the
// automatic rebalance).
//
// The election rule (Kafka's, before eligible leader replicas): a partition whose leader can no
// longer lead gets the first replica, in replica order, that is in the ISR and usable. The ISR
// loses the brokers that can no longer serve, but never its last member: a partition whose only
// in-sync replica is fenced keeps it in the ISR with no leader (-1), so that replica leads again
// when it comes back — the only one that surely has every acknowledged record. A replica outside
// the ISR may lead only when unclean election is enabled for the topic, and then the ISR becomes
// that replica alone. Every leader change bumps the leader epoch; every change of any kind bumps
// the partition epoch.

extension MetadataController {
    /// The partition after brokers in `leaving` may no longer lead or stay in sync (fenced,
    /// shutting down, re-registered), or nil when nothing changes.
    func partitionAfterLosing(_ leaving: Set<BrokerID>, _ state: PartitionState, image: MetadataImage,
                              unclean: Bool) -> PartitionState? {
        let touched = leaving.contains(state.leader) || state.isr.contains(where: leaving.contains)
        guard touched else { return nil }
        var next = state
        let remaining = state.isr.filter { !leaving.contains($0) }
        next.isr = remaining.isEmpty ? [state.isr.contains(state.leader) ? state.leader : state.isr[0]] : remaining
        if leaving.contains(state.leader) || !state.hasLeader {
            next.leader = electLeader(next, image: image, unclean: unclean, excluding: leaving)
            if !next.isr.contains(next.leader) && next.hasLeader { next.isr = [next.leader] }
        }
        return bumped(next, from: state)
    }

    /// The first replica that is in the ISR and usable; with `unclean`, else the first usable
    /// replica at all; else no leader.
    func electLeader(_ state: PartitionState, image: MetadataImage, unclean: Bool, excluding: Set<BrokerID> = []) -> BrokerID {
        let usable = { (id: BrokerID) in image.isUsable(id) && !excluding.contains(id) }
        if canaries.contains(.electOutsideISR), let any = state.replicas.first(where: usable) { return any }
        if let clean = state.replicas.first(where: { state.isr.contains($0) && usable($0) }) { return clean }
        if unclean, let any = state.replicas.first(where: usable) { return any }
        return .noLeader
    }

    /// `next` with its epochs bumped relative to `previous` (nil when nothing changed).
    func bumped(_ next: PartitionState, from previous: PartitionState) -> PartitionState? {
        var next = next
        next.leaderEpoch = previous.leaderEpoch
        next.partitionEpoch = previous.partitionEpoch
        guard next != previous else { return nil }
        if next.leader != previous.leader { next.leaderEpoch = LeaderEpoch(previous.leaderEpoch.rawValue + 1) }
        next.partitionEpoch = previous.partitionEpoch + 1
        return next
    }

    /// Records moving every partition away from `leaving` (see `partitionAfterLosing`).
    func leadershipRecords(losing leaving: Set<BrokerID>, in image: MetadataImage) -> [MetadataRecord] {
        image.allPartitions.compactMap { topic, state in
            partitionAfterLosing(leaving, state, image: image, unclean: uncleanAllowed(image.topic(topic), image: image)).map { .partition($0) }
        }
    }

    /// Records giving leaderless partitions a leader now that `image` has more usable brokers
    /// (a broker was unfenced): the first ISR member that can lead, or with unclean election any
    /// usable replica.
    func leadershipRecordsForLeaderless(in image: MetadataImage) -> [MetadataRecord] {
        image.allPartitions.compactMap { topic, state in
            guard !state.hasLeader else { return nil }
            var next = state
            next.leader = electLeader(state, image: image, unclean: uncleanAllowed(image.topic(topic), image: image))
            guard next.hasLeader else { return nil }
            if !next.isr.contains(next.leader) { next.isr = [next.leader] }
            return bumped(next, from: state).map { .partition($0) }
        }
    }

    // MARK: AlterPartition

    /// A leader's request to change a partition's ISR (Kafka's AlterPartition).
    public struct ISRChange: Equatable, Sendable {
        public var topic: TopicName
        public var partition: PartitionID
        public var leaderEpoch: LeaderEpoch
        public var partitionEpoch: Int32
        public var newISR: [BrokerID]
        public init(topic: TopicName, partition: PartitionID, leaderEpoch: LeaderEpoch, partitionEpoch: Int32, newISR: [BrokerID]) {
            self.topic = topic
            self.partition = partition
            self.leaderEpoch = leaderEpoch
            self.partitionEpoch = partitionEpoch
            self.newISR = newISR
        }
    }

    /// Checks one ISR change from broker `from` (registration `brokerEpoch`) and answers with the
    /// partition's new state and its record, or why not. A change to the ISR the partition
    /// already has is committed too, with a new partition epoch (unlike Kafka, which answers it
    /// unchanged): a leader sends it to retire a refused change whose other copies may still be
    /// on the way — they name the old partition epoch, so none can be committed after this
    /// (docs/decisions.md D86). The record is therefore never nil.
    public func alterPartition(_ change: ISRChange, from broker: BrokerID, brokerEpoch: Int64,
                               in image: MetadataImage) -> Result<(state: PartitionState, record: MetadataRecord?), Refusal> {
        guard let registration = image.broker(broker), registration.epoch == brokerEpoch, !registration.fenced else {
            return .failure(Refusal(KafkaErrorCode.staleBrokerEpoch,
                                    "Broker \(broker) epoch \(brokerEpoch) is not its current registration, or it is fenced."))
        }
        guard let state = image.partition(change.topic, change.partition) else {
            return .failure(Refusal(KafkaErrorCode.unknownTopicOrPartition, "Partition \(change.topic)-\(change.partition) does not exist."))
        }
        guard state.leader == broker else {
            return .failure(Refusal(KafkaErrorCode.notLeaderOrFollower,
                                    "Broker \(broker) is not the leader of \(change.topic)-\(change.partition) (leader \(state.leader))."))
        }
        guard change.leaderEpoch == state.leaderEpoch else {
            return .failure(Refusal(KafkaErrorCode.fencedLeaderEpoch,
                                    "Leader epoch \(change.leaderEpoch) is not the current \(state.leaderEpoch)."))
        }
        guard change.partitionEpoch == state.partitionEpoch else {
            return .failure(Refusal(KafkaErrorCode.invalidUpdateVersion,
                                    "Partition epoch \(change.partitionEpoch) is not the current \(state.partitionEpoch)."))
        }
        let isr = change.newISR
        guard !isr.isEmpty, Set(isr).count == isr.count, isr.allSatisfy(state.replicas.contains), isr.contains(broker) else {
            return .failure(Refusal(KafkaErrorCode.invalidRequest,
                                    "ISR \(isr) must be distinct replicas of \(state.replicas) that include the leader \(broker)."))
        }
        let added = isr.filter { !state.isr.contains($0) }
        if let ineligible = added.first(where: { !image.isUsable($0) }) {
            return .failure(Refusal(KafkaErrorCode.ineligibleReplica,
                                    "Broker \(ineligible) cannot join the ISR: it is fenced, shutting down or not registered."))
        }
        var next = state
        next.isr = state.replicas.filter(isr.contains)   // replica order, whatever the request's
        var changed = bumped(next, from: state) ?? state
        if changed.partitionEpoch == state.partitionEpoch { changed.partitionEpoch += 1 }
        return .success((changed, .partition(changed)))
    }

    // MARK: ElectLeaders

    public enum ElectionType: Int8, Sendable { case preferred = 0, unclean = 1 }

    /// One partition of an ElectLeaders request: the new state's record, or why not.
    public func electLeader(_ type: ElectionType, topic: TopicName, partition: PartitionID,
                            in image: MetadataImage) -> Result<MetadataRecord, Refusal> {
        guard let state = image.partition(topic, partition) else {
            return .failure(Refusal(KafkaErrorCode.unknownTopicOrPartition, "Partition \(topic)-\(partition) does not exist."))
        }
        var next = state
        switch type {
        case .preferred:
            let preferred = state.preferredLeader
            guard state.leader != preferred else {
                return .failure(Refusal(KafkaErrorCode.electionNotNeeded, "Broker \(preferred) already leads \(topic)-\(partition)."))
            }
            guard state.isr.contains(preferred), image.isUsable(preferred) else {
                return .failure(Refusal(KafkaErrorCode.preferredLeaderNotAvailable,
                                        "The preferred leader \(preferred) of \(topic)-\(partition) is not in the ISR or not available."))
            }
            next.leader = preferred
        case .unclean:
            guard !state.hasLeader else {
                return .failure(Refusal(KafkaErrorCode.electionNotNeeded, "\(topic)-\(partition) has a leader, \(state.leader)."))
            }
            next.leader = electLeader(state, image: image, unclean: true)
            guard next.hasLeader else {
                return .failure(Refusal(KafkaErrorCode.eligibleLeadersNotAvailable, "No replica of \(topic)-\(partition) is available."))
            }
            if !next.isr.contains(next.leader) { next.isr = [next.leader] }
        }
        return .success(.partition(bumped(next, from: state)!))
    }

    /// auto.leader.rebalance.enable: for every broker whose share of preferred partitions led by
    /// someone else exceeds `leaderImbalancePercentage`, elect it where it can lead (usable and
    /// in the ISR).
    public func rebalanceLeaders(in image: MetadataImage) -> [MetadataRecord] {
        var preferredCount: [BrokerID: Int] = [:]
        var misplaced: [BrokerID: Int] = [:]
        for (_, state) in image.allPartitions {
            preferredCount[state.preferredLeader, default: 0] += 1
            if state.leader != state.preferredLeader { misplaced[state.preferredLeader, default: 0] += 1 }
        }
        let imbalanced = Set(misplaced.filter { id, count in
            count * 100 > preferredCount[id]! * config.leaderImbalancePercentage
        }.keys)
        guard !imbalanced.isEmpty else { return [] }
        return image.allPartitions.compactMap { topic, state in
            guard imbalanced.contains(state.preferredLeader), state.leader != state.preferredLeader else { return nil }
            return try? electLeader(.preferred, topic: topic, partition: state.partition, in: image).get()
        }
    }
}
