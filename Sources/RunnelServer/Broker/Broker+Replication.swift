import ClusterMetadata
import KafkaMessages
import Logging
import NIOCore
import RunnelClient
import Replication
import RunnelCore

/// Replication on this broker (DESIGN.md §5): the follower fetchers follow the metadata's
/// leaders, and leaders send their ISR changes to the controller (AlterPartition).
extension Broker {
    /// The replica fetchers, made once (they need this broker's replicas and the metadata).
    func makeReplicaFetchers() -> ReplicaFetchers {
        var settings = ReplicaFetchers.Settings(nodeID: nodeID)
        settings.waitMaxMs = Int32(config.int("replica.fetch.wait.max.ms")!)
        settings.partitionBytesMax = Int32(config.int("replica.fetch.max.bytes")!)
        settings.responseBytesMax = Int32(config.int("replica.fetch.response.max.bytes")!)
        settings.backoffMs = config.int("replica.fetch.backoff.ms")!
        let fetchers = ReplicaFetchers(
            loop: loop, settings: settings, logger: logger,
            partition: { [weak self] key in self?.replicas.partitions[key] },
            endpoint: { [weak self] id in
                guard let self else { return nil }
                return endpoint(of: id, listener: config.interBrokerListenerName).map { BrokerAddress(host: $0.host, port: Int($0.port)) }
            },
            tls: config.tls.interBroker)
        return fetchers
    }

    /// Follows the role changes of one metadata batch.
    func followRoleChanges(_ roles: [TopicPartition: Partition.RoleChange], removed: [TopicPartition]) {
        for key in removed { replicaFetchers.follow(key, leader: nil) }
        for (key, change) in roles.sorted(by: { $0.key < $1.key }) {
            switch change {
            case .becameLeader: replicaFetchers.follow(key, leader: nil)
            case .becameFollower(let leader): replicaFetchers.follow(key, leader: leader)
            }
        }
    }

    var replicaLagTimeMs: Int64 { config.int("replica.lag.time.max.ms")! }

    /// A follower fetched one of our partitions from `position`.
    func replicaFetched(_ replica: BrokerID, partition: Partition, position: Offset) {
        guard let change = partition.followerFetched(replica, position: position, now: Clock.now().rawValue,
                                                     lagTimeMs: replicaLagTimeMs) else { return }
        // Only followers the metadata shows usable join (`ReplicaRules.mayPropose`): a restarted
        // follower catching up fetched back to back, so each fetch proposed it again (about a
        // hundred refused AlterPartitions a second until its registration was unfenced).
        guard ReplicaRules.mayPropose(change, isr: partition.leaderState?.isr ?? [], usable: image.isUsable) else { return }
        proposeISR(change, for: partition)
    }

    /// The periodic ISR check of every partition this broker leads (followers that stopped
    /// catching up leave the ISR), every replica.lag.time.max.ms / 2 as Kafka does.
    func checkISRs() {
        let now = Clock.now().rawValue
        for (_, partition) in partitions.sorted(by: { $0.key < $1.key }) where partition.isLeader {
            guard let change = partition.isrChange(now: now, lagTimeMs: replicaLagTimeMs),
                  ReplicaRules.mayPropose(change, isr: partition.leaderState?.isr ?? [], usable: image.isUsable) else { continue }
            proposeISR(change, for: partition)
        }
    }

    /// Sends one ISR change to the controller (AlterPartition v1, topics by name) with the
    /// partition's current leader and partition epochs. A success or a definitive refusal settles
    /// it; an answer that does not (not delivered, NOT_CONTROLLER, REQUEST_TIMED_OUT, a stale
    /// partition epoch) leaves it pending — the controller may have committed it, and taking the
    /// newcomer of an expansion out of the high-watermark count before the metadata says so could
    /// let the high watermark pass a replica the controller counts in — and it is sent again
    /// after a pause until the metadata or an answer settles it (as Kafka's AlterPartition
    /// manager retries).
    func proposeISR(_ isr: [BrokerID], for partition: Partition) {
        guard let state = partition.leaderState else { return }
        let epoch = state.leaderEpoch
        let before = state.isr.count
        if state.pendingISR != isr {
            logger.info("\(partition.key): proposing ISR \(isr) (was \(state.isr)) in leader epoch \(epoch)",
                        metadata: .partition(partition.key, epoch: epoch))
            partition.isrChangeProposed(isr)
        }
        guard let brokerEpoch = controlPlane.lifecycle?.epoch, brokerEpoch >= 0 else {
            return resendISR(isr, for: partition, epoch: epoch)
        }
        var request = AlterPartitionRequest()
        request.brokerId = nodeID.rawValue
        request.brokerEpoch = brokerEpoch
        var data = AlterPartitionRequest.PartitionData()
        data.partitionIndex = partition.index.rawValue
        data.leaderEpoch = epoch.rawValue
        data.newIsr = isr.map(\.rawValue)
        data.partitionEpoch = partition.partitionEpoch
        var topic = AlterPartitionRequest.TopicData()
        topic.topicName = partition.topic.rawValue
        topic.partitions = [data]
        request.topics = [topic]
        controlPlane.controllerChannel.send(request, version: 1, timeoutMs: 30_000).whenComplete { [self] result in
            let answer: ReplicaRules.ISRAnswer
            switch result {
            case .success(let response):
                let data = response.topics.first?.partitions.first
                if response.errorCode == 0, let data, data.errorCode == 0 {
                    answer = .accepted(isr: data.isr.map { BrokerID($0) }, leaderEpoch: LeaderEpoch(data.leaderEpoch),
                                       partitionEpoch: data.partitionEpoch)
                } else {
                    let code = KafkaErrorCode(response.errorCode != 0 ? response.errorCode : data?.errorCode ?? -1)
                    if code == .notController { controlPlane.controllerChannel.rotate() }
                    answer = .refused(code)
                }
            case .failure(let error):
                logger.info("\(partition.key): ISR change to \(isr) not delivered: \(error)", metadata: .partition(partition.key, epoch: epoch))
                answer = .notDelivered
            }
            switch partition.isrChangeAnswered(answer, proposedEpoch: epoch, proposedISR: isr, now: Clock.now().rawValue) {
            case .resend:
                logger.info("\(partition.key): ISR change to \(isr) not settled (\(answer)); sending it again",
                            metadata: .partition(partition.key, epoch: epoch))
                resendISR(isr, for: partition, epoch: epoch)
            case .refused:
                logger.info("\(partition.key): ISR change to \(isr) refused (\(answer))", metadata: .partition(partition.key, epoch: epoch))
            case .committed:
                // D124: counted on the leader once its own change is committed.
                metrics?.isrChanged(from: before, to: isr.count)
            case .ignored:
                break
            }
        }
    }

    /// Sends a pending ISR change again after `ReplicaRules.isrRetryBackoffMs`, unless it was
    /// settled meanwhile (the metadata committed a new partition state, leadership moved).
    private func resendISR(_ isr: [BrokerID], for partition: Partition, epoch: LeaderEpoch) {
        loop.scheduleTask(in: .milliseconds(ReplicaRules.isrRetryBackoffMs)) { [weak self, weak partition] in
            guard let self, !self.shuttingDown, let partition, let state = partition.leaderState,
                  state.leaderEpoch == epoch, state.pendingISR == isr, self.partitions[partition.key] === partition else { return }
            self.proposeISR(isr, for: partition)
        }
    }
}
