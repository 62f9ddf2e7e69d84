import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import RunnelCore

/// Runs one broker process: event loops, the broker state, the listeners, and the signal handling
/// that turns SIGTERM/SIGINT into a graceful shutdown (stop accepting, finish in-flight requests,
/// flush, write the clean-shutdown marker, exit 0).
public final class BrokerRuntime {
    public let config: BrokerConfig
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let threadPool: NIOThreadPool
    private var broker: Broker?
    private var server: KafkaServer?
    public private(set) var boundAddresses: [SocketAddress] = []
    private let startedAt = DispatchTime.now()

    public init(config: BrokerConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: config.networkThreads)
        threadPool = NIOThreadPool(numberOfThreads: config.ioThreads)
        threadPool.start()
    }

    /// Opens the data directory (recovering logs after an unclean stop) and binds the listeners.
    public func start() throws {
        let owner = group.next()
        let broker = try owner.submit { [config, logger, threadPool] in
            try Broker(config: config, loop: owner, threadPool: threadPool, logger: logger)
        }.wait()
        self.broker = broker
        let server = KafkaServer(group: group, dispatcher: broker, frameBytesMax: config.requestBytesMax, logger: logger)
        for listener in config.listeners {
            boundAddresses.append(try server.bind(listener))
        }
        if let port = boundAddresses.first?.port {
            try owner.submit { broker.boundPort = port }.wait()
        }
        self.server = server
        let pending = config.explicitKeysNotYetInEffect
        if !pending.isEmpty {
            logger.notice("accepted but not yet in effect in Runnel: \(pending.joined(separator: ", "))")
        }
        let ms = Double(DispatchTime.now().uptimeNanoseconds - startedAt.uptimeNanoseconds) / 1e6
        logger.info("runnel \(RunnelVersion.current) ready: listeners \(boundAddresses.map(\.description).joined(separator: ", ")), data \(config.dataDirectory), node.id \(config.nodeID), \(String(format: "%.0f", ms)) ms to ready")
    }

    /// Blocks until SIGTERM or SIGINT, then shuts down gracefully. Returns the exit status.
    public func runUntilSignalled() -> Int32 {
        let signalled = DispatchSemaphore(value: 0)
        let queue = DispatchQueue(label: "runnel.signals")
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler {
                self.logger.info("received \(sig == SIGTERM ? "SIGTERM" : "SIGINT"): shutting down")
                signalled.signal()
            }
            source.resume()
            sources.append(source)
        }
        signalled.wait()
        return shutdown()
    }

    /// Graceful shutdown; returns the exit status (0 when everything was flushed).
    @discardableResult
    public func shutdown() -> Int32 {
        server?.stopAccepting()
        var status: Int32 = 0
        if let broker {
            do {
                try broker.loop.flatSubmit { broker.shutdown() }.wait()
            } catch {
                logger.error("shutdown: \(error)")
                status = 1
            }
        }
        try? group.syncShutdownGracefully()
        try? threadPool.syncShutdownGracefully()
        logger.info("stopped\(status == 0 ? " cleanly" : " with errors")")
        return status
    }
}
