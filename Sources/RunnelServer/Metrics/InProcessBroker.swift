import Foundation
import KafkaMessages
import KafkaWire
import Logging
import NIOCore
import NIOPosix

/// A single-node broker in this process, driven by request frames without sockets: what the
/// package-benchmark suite uses to count the allocations of a request through the dispatcher and
/// its handler, with metrics on and off (docs/decisions.md D127). Not for serving clients.
public final class InProcessBroker {
    private let group: MultiThreadedEventLoopGroup
    private let threadPool: NIOThreadPool
    private let node: ServerNode
    private let metrics: BrokerMetrics?
    private var stopped = false

    /// Opens (or creates) a broker in `dataDirectory`; `metrics` as `runnel.metrics.listener`
    /// would turn them on (the registry and every hook, without the HTTP listener).
    public init(dataDirectory: String, metrics: Bool, overrides: [String] = []) throws {
        let config = try BrokerConfig(overrides: ["log.dirs=\(dataDirectory)"] + overrides)
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        let made = metrics ? BrokerMetrics(apiKeys: ApiSupport.ranges.keys.sorted()) : nil
        self.metrics = made
        let loop = group.next()
        let logger = Logger(label: "runnel-in-process", factory: { _ in SwiftLogNoOpLogHandler() })
        node = try loop.submit { [threadPool] in
            try ServerNode.open(config: config, loop: loop, threadPool: threadPool, logger: logger, metrics: made)
        }.wait()
    }

    /// Dispatches `frame` (a request without its size prefix) `times` times on the broker's
    /// loop, one after another, and returns the last answer (nil: no response, or closed).
    @discardableResult
    public func serve(_ frame: ByteBuffer, times: Int = 1) throws -> ByteBuffer? {
        let broker = node.broker
        return try broker.loop.submit { () -> ByteBuffer? in
            var last: ByteBuffer?
            let connection = ConnectionInfo(id: 1, remote: "in-process")
            let completion: (DispatchResult) -> Void = { result in
                if case .respond(let body) = result { last = body } else { last = nil }
            }
            for _ in 0..<times { broker.dispatch(frame: frame, connection: connection, completion: completion) }
            return last
        }.wait()
    }

    /// A request frame as a client sends it, without the size prefix.
    public static func frame(_ key: ApiKey, version: Int16, _ request: some KafkaRequest) -> ByteBuffer {
        var buffer = ByteBuffer()
        RequestHeader(apiKey: key.rawValue, apiVersion: version, correlationId: 1, clientId: "in-process")
            .encode(into: &buffer, headerVersion: key.requestHeaderVersion(apiVersion: version))
        request.encode(into: &buffer, version: version)
        return buffer
    }

    /// The Prometheus exposition as a scrape would return it (empty with metrics off).
    public func exposition() throws -> String {
        try node.scrapeMetrics().wait()
    }

    public func shutdown() {
        guard !stopped else { return }
        stopped = true
        let broker = node.broker
        _ = try? broker.loop.flatSubmit { broker.shutdown() }.wait()
        try? group.syncShutdownGracefully()
        try? threadPool.syncShutdownGracefully()
    }

    deinit { shutdown() }
}
