import KafkaMessages
import Logging
import NIOCore
import RunnelClient
import RunnelCore

/// A broker's way to the active controller (DESIGN.md §5), on the broker's loop: which node
/// leads the metadata quorum as last reported, and one connection to that node's CONTROLLER
/// listener (reopened when the controller moves or the connection fails), used for forwarded
/// admin requests, registration and heartbeats. It never waits: a request when no controller is
/// known, or whose address is unknown, fails at once and the caller retries later.
final class ControllerChannel {
    struct Unavailable: Error, CustomStringConvertible {
        let description: String
    }

    private let loop: any EventLoop
    private let nodeID: BrokerID
    private let addresses: [BrokerID: (host: String, port: Int)]
    private let logger: Logger
    /// The active controller as last reported by the metadata quorum.
    private(set) var activeID: BrokerID?
    private var connection: (id: BrokerID, future: EventLoopFuture<BrokerConnection>)?

    /// TLS when the controllers' listener is an SSL one (nil: plain TCP).
    private let tls: ClientTLS?

    init(loop: any EventLoop, nodeID: BrokerID, addresses: [BrokerID: (host: String, port: Int)], logger: Logger,
         tls: ClientTLS? = nil) {
        self.tls = tls
        self.loop = loop
        self.nodeID = nodeID
        self.addresses = addresses
        self.logger = logger
    }

    /// The quorum's leader changed (nil: none known).
    func leaderChanged(_ id: BrokerID?) {
        loop.preconditionInEventLoop()
        activeID = id
        if let current = connection, current.id != id {
            current.future.whenSuccess { $0.close() }
            connection = nil
        }
    }

    /// While no leader is known (a broker-only node before the log reaches it), requests go to
    /// the voters in turn; `rotate()` moves to the next one after a refusal.
    private var guess = 0

    func rotate() {
        guess += 1
        if activeID == nil, let current = connection {
            current.future.whenSuccess { $0.close() }
            connection = nil
        }
    }

    private var target: BrokerID? {
        if let activeID { return activeID }
        let voters = addresses.keys.sorted()
        return voters.isEmpty ? nil : voters[guess % voters.count]
    }

    /// Sends `request` to the active controller at `version` (to a voter in turn while none is known).
    func send<R: KafkaRequest>(_ request: R, version: Int16, timeoutMs: Int64 = 30_000) -> EventLoopFuture<R.Response> {
        loop.preconditionInEventLoop()
        guard let id = target else {
            return loop.makeFailedFuture(Unavailable(description: "no active controller is known yet"))
        }
        guard let address = addresses[id] else {
            return loop.makeFailedFuture(Unavailable(description: "node \(id) leads the quorum but is not in controller.quorum.voters"))
        }
        let future: EventLoopFuture<BrokerConnection>
        if let current = connection, current.id == id {
            future = current.future
        } else {
            future = BrokerConnection.connect(to: BrokerAddress(host: address.host, port: address.port), on: loop,
                                              clientId: "runnel-broker-\(nodeID)", connectTimeoutMs: 2000,
                                              requestTimeoutMs: timeoutMs, frameBytesMax: 100 << 20, tls: tls)
            connection = (id, future)
        }
        return future.flatMap { $0.send(request, version: version, timeoutMs: timeoutMs) }
            .hop(to: loop)
            .flatMapErrorThrowing { [weak self] error in
                // A failed connection is dropped; the next request opens a new one.
                if let self, let current = self.connection, current.id == id {
                    current.future.whenSuccess { $0.close() }
                    self.connection = nil
                    if self.activeID == nil { self.guess += 1 }
                }
                throw error
            }
    }

    func close() {
        connection?.future.whenSuccess { $0.close() }
        connection = nil
    }
}
