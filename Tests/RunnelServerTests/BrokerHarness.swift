import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelTesting
import Testing
@testable import RunnelServer

/// An in-process broker on its own event loop and temp data directory, driven with encoded
/// request frames through the same dispatcher the network uses.
final class BrokerHarness {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let pool = NIOThreadPool(numberOfThreads: 1)
    let directory: TemporaryDirectory
    let overrides: [String]
    let fileSystem: any FileSystem
    /// The principal requests are sent as (what SASL or mTLS would have set on the connection).
    var principal: KafkaPrincipal = .anonymous
    /// What the broker logged (kept here, not printed, so a passing run shows only results).
    let log = LogCapture()
    private(set) var broker: Broker!

    init(overrides: [String] = [], directory: TemporaryDirectory? = nil,
         fileSystem: any FileSystem = PosixFileSystem()) throws {
        pool.start()
        self.directory = try directory ?? TemporaryDirectory(prefix: "runnel-broker-test")
        self.overrides = overrides
        self.fileSystem = fileSystem
        try open()
    }

    func open() throws {
        let config = try BrokerConfig(overrides: ["log.dirs=\(directory.path)", "listeners=PLAINTEXT://127.0.0.1:0"] + overrides)
        let loop = group.next()
        let pool = self.pool
        let fileSystem = self.fileSystem
        let logger = log.logger
        broker = try loop.submit {
            try ServerNode.open(config: config, loop: loop, threadPool: pool, logger: logger, fileSystem: fileSystem).broker
        }.wait()
    }

    /// Clean shutdown of the broker (the harness can `open()` it again on the same directory).
    func close() throws {
        let broker = self.broker!
        try broker.loop.flatSubmit { broker.shutdown() }.wait()
        self.broker = nil
    }

    func frame<R: KafkaRequest>(_ request: R, version: Int16, correlationId: Int32 = 7) -> ByteBuffer {
        var frame = ByteBuffer()
        RequestHeader(apiKey: R.apiKey.rawValue, apiVersion: version, correlationId: correlationId, clientId: "harness")
            .encode(into: &frame, headerVersion: R.apiKey.requestHeaderVersion(apiVersion: version))
        request.encode(into: &frame, version: version)
        return frame
    }

    /// Dispatches `frame` on `connection` (default: a PLAINTEXT connection of `principal`).
    func dispatch(_ frame: ByteBuffer, connection: ConnectionInfo? = nil) throws -> DispatchResult {
        let broker = self.broker!
        let promise = broker.loop.makePromise(of: DispatchResult.self)
        let connection = connection
            ?? ConnectionInfo(id: 1, remote: "harness", host: "/127.0.0.1", listenerName: "PLAINTEXT", principal: principal)
        broker.loop.execute {
            broker.dispatch(frame: frame, connection: connection) { promise.succeed($0) }
        }
        return try promise.futureResult.wait()
    }

    /// Sends a request and decodes its response (nil when the broker sent none).
    func send<R: KafkaRequest>(_ request: R, version: Int16) throws -> R.Response? {
        try decode(try dispatch(frame(request, version: version, correlationId: 7)), as: R.self, version: version)
    }

    /// Decodes what the broker answered to a request of type `R` sent with correlation id 7.
    func decode<R: KafkaRequest>(_ result: DispatchResult, as _: R.Type, version: Int16) throws -> R.Response? {
        switch result {
        case .noResponse: return nil
        case .close(let reason): throw HarnessError(message: "broker closed the connection: \(reason)")
        case .respond(var body), .respondThenClose(var body, _):
            let header = try ResponseHeader(from: &body, headerVersion: R.apiKey.responseHeaderVersion(apiVersion: version))
            #expect(header.correlationId == 7)
            let response = try R.Response(from: &body, version: version)
            #expect(body.readableBytes == 0, "\(body.readableBytes) bytes after the \(R.Response.self)")
            return response
        }
    }

    /// Runs `body` on the broker's loop (to read its state).
    func onLoop<T>(_ body: @escaping (Broker) throws -> T) throws -> T {
        let broker = self.broker!
        return try broker.loop.submit { try body(broker) }.wait()
    }

    deinit {
        if let broker { _ = try? broker.loop.flatSubmit { broker.shutdown() }.wait() }
        try? group.syncShutdownGracefully()
        try? pool.syncShutdownGracefully()
        directory.remove()
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
