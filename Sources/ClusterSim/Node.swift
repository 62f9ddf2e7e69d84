import ClusterMetadata
import RaftCore
import RunnelCore

/// One simulated process: a metadata-quorum member (a voter, or a learner for a broker-only
/// node) and a broker. `storage` and the replicas' logs are its disk; everything else is lost in
/// a crash.
struct Node {
    let address: Address
    let isVoter: Bool
    var raft: RaftNode?
    let storage: MemoryRaftStorage
    var raftConfig: RaftConfig
    /// A paused process (SIGSTOP): it neither ticks nor takes messages until resumed.
    var paused = false

    /// The committed metadata, applied up to `applied`.
    var image = MetadataImage()
    var applied = LogIndex.zero
    /// Set while this node is the active controller.
    var controller: ActiveController?

    /// This process's registration: a new incarnation per life; the epoch once registered.
    var incarnation: TopicID
    var brokerEpoch: Int64?
    var lastRegisterSent: UInt64?
    var lastHeartbeatSent: UInt64 = 0
    /// Whether this life serves produce and fetch requests yet (see `Cluster.brokerTick`).
    var serving = false
    /// Whether this life's metadata caught up at start-up (its replicas take roles from then on).
    var caughtUp = false
    var replicas: [TopicPartition: Replica] = [:]

    /// Checker bookkeeping: the leader epoch of each partition in this life's image.
    var imageEpochs: [TopicPartition: LeaderEpoch] = [:]

    var nodeID: NodeID { NodeID(UInt64(address)) }
    var broker: BrokerID { BrokerID(Int32(address)) }
    var isUp: Bool { raft != nil }
    var isRunning: Bool { raft != nil && !paused }
}

/// The active controller's state (the simulator's `ControllerService`): the pure
/// `MetadataController` with its broker sessions, the latest image (committed plus this
/// controller's proposals not yet applied) and the answers waiting for their entry to apply.
struct ActiveController {
    var term: Term
    var logic: MetadataController
    var latest: MetadataImage
    var replies: [LogIndex: [Message]] = [:]
    var lastRebalance: UInt64
}
