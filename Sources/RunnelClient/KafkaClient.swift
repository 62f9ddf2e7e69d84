import KafkaMessages
import NIOCore
import NIOPosix
import RunnelCore

/// A connection to a Kafka cluster: bootstrap, API-version negotiation, a metadata cache and
/// one connection per broker. Admin calls are methods of this type (`KafkaClient+Admin`);
/// `KafkaProducer` and `KafkaConsumer` are built on it.
///
/// All connections live on one event loop (the client's I/O thread); state shared with caller
/// threads is behind a lock. Call `shutdown()` when done.
public final class KafkaClient: @unchecked Sendable {
    // @unchecked: mutable state is in `state` (locked); the rest is immutable.
    public let config: KafkaClientConfig
    let eventLoop: any EventLoop
    private let ownedGroup: MultiThreadedEventLoopGroup?
    private let state = Locked(State())
    /// Group id → coordinator broker, from FindCoordinator (`KafkaClient+Coordinator`).
    let coordinators = Locked<[String: BrokerID]>([:])

    struct State {
        var bootstrap: EventLoopFuture<BrokerConnection>?
        var connections: [BrokerID: EventLoopFuture<BrokerConnection>] = [:]
        var metadata = MetadataSnapshot()
        var isShutDown = false
    }

    /// - Parameter eventLoopGroup: where connections run; by default the client starts its own
    ///   single-threaded group and stops it in `shutdown()`.
    public init(config: KafkaClientConfig, eventLoopGroup: (any EventLoopGroup)? = nil) {
        self.config = config
        if let eventLoopGroup {
            ownedGroup = nil
            eventLoop = eventLoopGroup.next()
        } else {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            ownedGroup = group
            eventLoop = group.next()
        }
    }

    public convenience init(bootstrapServers: String) throws {
        self.init(config: try KafkaClientConfig(bootstrapServers: bootstrapServers))
    }

    /// Closes every connection and stops the client's own event loop. Outstanding requests fail
    /// with `connectionClosed`.
    public func shutdown() async {
        let futures: [EventLoopFuture<BrokerConnection>] = state.withLock { state in
            state.isShutDown = true
            var all = Array(state.connections.values)
            if let bootstrap = state.bootstrap { all.append(bootstrap) }
            state.connections = [:]
            state.bootstrap = nil
            return all
        }
        for future in futures {
            if let connection = try? await future.get() {
                try? await connection.channel.close()
            }
        }
        if let ownedGroup { try? await ownedGroup.shutdownGracefully() }
    }

    /// The latest metadata the client has seen (possibly empty before the first request).
    public var metadata: MetadataSnapshot { state.withLock { $0.metadata } }

    func updateMetadata(_ body: (inout MetadataSnapshot) -> Void) {
        state.withLock { body(&$0.metadata) }
    }

    // MARK: Connections

    /// A connection to some broker: the bootstrap connection, made on first use by trying the
    /// bootstrap servers in order, then the brokers known from metadata.
    func anyConnection() -> EventLoopFuture<BrokerConnection> {
        let existing: EventLoopFuture<BrokerConnection>? = state.withLock { state in
            if state.isShutDown { return eventLoop.makeFailedFuture(KafkaClientError.shutDown) }
            if let bootstrap = state.bootstrap { return bootstrap }
            return nil
        }
        if let existing { return existing }
        let known = metadata.brokers.values.sorted { $0.id < $1.id }.map(\.address)
        var candidates = config.bootstrapServers
        for address in known where !candidates.contains(address) { candidates.append(address) }
        let future = connectFirst(candidates, index: 0, reasons: [])
        return state.withLock { state in
            if let raced = state.bootstrap { return raced }
            state.bootstrap = future
            forget(future, whenDone: { $0.bootstrap }, clear: { $0.bootstrap = nil })
            return future
        }
    }

    private func connectFirst(_ candidates: [BrokerAddress], index: Int, reasons: [KafkaClientError]) -> EventLoopFuture<BrokerConnection> {
        guard index < candidates.count else {
            if reasons.count == 1 { return eventLoop.makeFailedFuture(reasons[0]) }
            return eventLoop.makeFailedFuture(KafkaClientError.noBootstrapServerReachable(reasons: reasons.map(\.description)))
        }
        return connect(to: candidates[index]).flatMapError { error in
            let reason = (error as? KafkaClientError) ?? .brokerUnreachable(address: candidates[index].description, reason: "\(error)")
            return self.connectFirst(candidates, index: index + 1, reasons: reasons + [reason])
        }
    }

    func connect(to address: BrokerAddress) -> EventLoopFuture<BrokerConnection> {
        BrokerConnection.connect(to: address, on: eventLoop, clientId: config.clientId,
                                 connectTimeoutMs: config.connectTimeoutMs,
                                 requestTimeoutMs: config.requestTimeoutMs,
                                 frameBytesMax: config.responseBytesMax, tls: config.tls,
                                 sasl: config.sasl)
    }

    /// The connection to broker `id` (from metadata), shared by all users of the client.
    func connection(to id: BrokerID) -> EventLoopFuture<BrokerConnection> {
        enum Plan { case existing(EventLoopFuture<BrokerConnection>), connect(BrokerAddress), unknown }
        let plan: Plan = state.withLock { state in
            if state.isShutDown { return .existing(eventLoop.makeFailedFuture(KafkaClientError.shutDown)) }
            if let existing = state.connections[id] { return .existing(existing) }
            guard let address = state.metadata.brokers[id]?.address else { return .unknown }
            return .connect(address)
        }
        switch plan {
        case .existing(let future):
            return future
        case .unknown:
            return eventLoop.makeFailedFuture(KafkaClientError.kafka(
                code: .leaderNotAvailable, message: "broker \(id) is not in the cluster metadata", context: "connect"))
        case .connect(let address):
            // Reuse the bootstrap connection when it goes to the same address.
            let bootstrap = state.withLock { $0.bootstrap }
            let future: EventLoopFuture<BrokerConnection>
            if let bootstrap {
                future = bootstrap.flatMap { connection in
                    connection.address == address && connection.isActive ? self.eventLoop.makeSucceededFuture(connection)
                        : self.connect(to: address)
                }.flatMapError { _ in self.connect(to: address) }
            } else {
                future = connect(to: address)
            }
            return state.withLock { state in
                if let raced = state.connections[id] { return raced }
                state.connections[id] = future
                forget(future, whenDone: { $0.connections[id] }, clear: { $0.connections[id] = nil })
                return future
            }
        }
    }

    /// Removes a cached connection future when it fails or its channel closes, so that the next
    /// user connects afresh.
    private func forget(_ future: EventLoopFuture<BrokerConnection>,
                        whenDone current: @escaping (State) -> EventLoopFuture<BrokerConnection>?,
                        clear: @escaping (inout State) -> Void) {
        let drop = { [weak self] in
            self?.state.withLock { state in
                if let now = current(state), now === future { clear(&state) }
            }
            return
        }
        future.whenComplete { result in
            switch result {
            case .failure: drop()
            case .success(let connection): connection.closeFuture.whenComplete { _ in drop() }
            }
        }
    }

    // MARK: Requests

    /// Where a request goes.
    enum Target {
        case any
        case broker(BrokerID)
        /// The controller named in metadata (admin requests), else — or when it cannot be
        /// reached, e.g. it just died — any broker: every broker forwards admin requests to the
        /// active controller.
        case controller
    }

    func connection(for target: Target) -> EventLoopFuture<BrokerConnection> {
        switch target {
        case .any: return anyConnection()
        case .broker(let id): return connection(to: id)
        case .controller:
            if let id = metadata.controllerId { return connection(to: id).flatMapError { _ in self.anyConnection() } }
            return anyConnection()
        }
    }

    /// Sends the request that `make` builds for the negotiated version, and returns the response
    /// with that version.
    func send<R: KafkaRequest>(_ target: Target, timeoutMs: Int64? = nil,
                               _ make: (Int16) throws -> R) async throws -> (R.Response, Int16) {
        let connection = try await connection(for: target).get()
        let version = try connection.version(for: R.apiKey)
        let request = try make(version)
        let response = try await connection.send(request, version: version, timeoutMs: timeoutMs).get()
        return (response, version)
    }

    /// Sends any generated request to a broker (or any broker), at `version` or the negotiated
    /// one. For tests and tools that need a raw protocol exchange.
    public func sendRaw<R: KafkaRequest>(_ request: R, to broker: BrokerID? = nil, version: Int16? = nil) async throws -> R.Response {
        let connection = try await connection(for: broker.map(Target.broker) ?? .any).get()
        return try await connection.send(request, version: version).get()
    }

    /// The API versions the broker behind the bootstrap connection advertised.
    public func apiVersions() async throws -> ApiVersionTable {
        try await anyConnection().get().versions
    }

    /// Runs `body` again after a backoff when it fails with a retriable Kafka error or a lost
    /// connection, at most `config.attemptsMax` times.
    func withRetries<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch let error as KafkaClientError {
                let retriable: Bool
                switch error {
                case .connectionClosed, .requestTimedOut: retriable = true
                case .kafka(let code, _, _): retriable = code.isRetriable || code == .notController
                default: retriable = false
                }
                guard retriable, attempt < config.attemptsMax else { throw error }
                attempt += 1
                if case .kafka(let code, _, _) = error, code.invalidatesMetadata || code == .notController {
                    _ = try? await refreshMetadata(topics: nil)
                }
                try await Task.sleep(nanoseconds: UInt64(config.retryBackoffMs) * 1_000_000)
            }
        }
    }
}
