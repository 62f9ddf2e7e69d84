import Foundation
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

/// One node's two owners, created and wired together here and nowhere else: the `ControlPlane`
/// (metadata quorum, controller, registration and heartbeats, forwarding to the active
/// controller) and the `Broker` (the data plane). The broker holds its control plane; the control
/// plane sees the broker only as its `ControlPlaneHost`, which receives the applied metadata.
struct ServerNode {
    let broker: Broker
    let controlPlane: ControlPlane

    /// Opens the data directory and the metadata quorum, and every local replica the metadata
    /// places here. Call on `loop`, the broker's. `quorumLoop` runs the metadata quorum (nil:
    /// `loop`); a quorum on `loop` is started here — a single voter elects itself, replays its
    /// log and converts the data directory of a single-node release within the call — and the
    /// node is serving when this returns. Otherwise the caller starts the quorum on its loop
    /// (`ControlPlane.startQuorum`), then calls `finishStartup` once the metadata has caught up.
    static func open(config: BrokerConfig, loop: any EventLoop, threadPool: NIOThreadPool, logger: Logger,
                     fileSystem: any FileSystem = PosixFileSystem(), quorumLoop: (any EventLoop)? = nil,
                     metrics: BrokerMetrics? = nil) throws -> ServerNode {
        let dataDirectory = config.dataDirectory
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let clusterID = try MetaProperties.load(dataDirectory: dataDirectory, nodeID: config.nodeID)
        let controlPlane = try ControlPlane(config: config, clusterID: clusterID, loop: loop, quorumLoop: quorumLoop,
                                            logger: logger)
        let broker = try Broker(config: config, controlPlane: controlPlane, loop: loop, threadPool: threadPool,
                                logger: logger, fileSystem: fileSystem)
        controlPlane.attach(broker)
        if let metrics { broker.attachMetrics(metrics) }
        let node = ServerNode(broker: broker, controlPlane: controlPlane)
        if controlPlane.sharesLoop {
            try controlPlane.startQuorum()
            node.finishStartup()
        }
        return node
    }

    /// After the metadata is replayed (on the broker's loop): local replicas opened (strays
    /// deleted), groups loaded, periodic work scheduled, registration with the controller begun.
    func finishStartup() {
        broker.finishStartup(latest: controlPlane.sharesLoop ? controlPlane.quorum.image : nil)
        controlPlane.startServing(advertising: broker.advertisedListeners)
    }

    /// Registers with the controller and starts heartbeating before the metadata has caught up
    /// (a broker-only node: registering makes the controller add it to the quorum as a learner).
    func startLifecycle() {
        controlPlane.startLifecycle(advertising: broker.advertisedListeners)
    }
}
