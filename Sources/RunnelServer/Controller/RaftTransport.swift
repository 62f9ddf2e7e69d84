import KafkaMessages
import Logging
import NIOCore
import RaftCore
import RunnelClient

/// Sends Raft messages to the other members of the metadata quorum over their CONTROLLER
/// listeners (the RunnelRaft API, key 1000): one connection per peer, opened on first use and
/// reopened with exponential backoff (50 ms doubling to 2 s) after a failure. Everything runs on
/// the quorum's loop and nothing waits: messages for a peer that is not connected are queued
/// (at most `queueMax`, oldest dropped first) and sent once it is. Losing messages is safe — Raft
/// retransmits — so a failed send is logged at debug level and forgotten.
final class RaftTransport {
    static let queueMax = 4096
    static let backoffMinMs: Int64 = 50
    static let backoffMaxMs: Int64 = 2000
    static let requestTimeoutMs: Int64 = 5000

    private final class Link {
        let host: String
        let port: Int
        let tls: ClientTLS?
        var connection: BrokerConnection?
        var connecting = false
        var queue: [RaftMessage] = []
        var backoffMs: Int64 = RaftTransport.backoffMinMs
        var retry: Scheduled<Void>?
        var reportedDown = false
        init(host: String, port: Int, tls: ClientTLS?) { self.host = host; self.port = port; self.tls = tls }
    }

    let selfID: NodeID
    let clusterID: String
    private let loop: any EventLoop
    private let logger: Logger
    private var links: [NodeID: Link] = [:]
    private var closed = false

    init(selfID: NodeID, clusterID: String, loop: any EventLoop, logger: Logger) {
        self.selfID = selfID
        self.clusterID = clusterID
        self.loop = loop
        self.logger = logger
    }

    /// Where node `id`'s CONTROLLER listener is (a changed address drops the old connection).
    func setPeer(_ id: NodeID, host: String, port: Int, tls: ClientTLS? = nil) {
        if let link = links[id], link.host == host, link.port == port { return }
        links[id]?.connection?.close()
        links[id] = Link(host: host, port: port, tls: tls)
    }

    var peers: [NodeID] { links.keys.sorted() }

    func send(_ messages: [RaftMessage]) {
        loop.preconditionInEventLoop()
        guard !closed, !messages.isEmpty else { return }
        var byPeer: [NodeID: [RaftMessage]] = [:]
        for m in messages { byPeer[m.to, default: []].append(m) }
        for (to, batch) in byPeer {
            guard let link = links[to] else {
                logger.debug("raft: no address for node \(to); dropping \(batch.count) messages")
                continue
            }
            link.queue += batch
            if link.queue.count > Self.queueMax { link.queue.removeFirst(link.queue.count - Self.queueMax) }
            flush(to, link)
        }
    }

    private func flush(_ id: NodeID, _ link: Link) {
        guard !closed, !link.queue.isEmpty else { return }
        guard let connection = link.connection, connection.isActive else {
            link.connection = nil
            connect(id, link)
            return
        }
        var request = RunnelRaftRequest()
        request.clusterId = clusterID
        request.messages = link.queue.map(RaftWire.encode)
        link.queue = []
        connection.send(request, version: 0, timeoutMs: Self.requestTimeoutMs).whenComplete { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let response) where response.errorCode != 0:
                self.logger.warning("raft: node \(id) refused our messages with error \(response.errorCode)")
            case .success:
                break
            case .failure(let error):
                self.logger.debug("raft: sending to node \(id) failed: \(error)")
                connection.close()
                if link.connection === connection { link.connection = nil }
            }
        }
    }

    private func connect(_ id: NodeID, _ link: Link) {
        guard !link.connecting, link.retry == nil, !closed else { return }
        link.connecting = true
        BrokerConnection.connect(to: BrokerAddress(host: link.host, port: link.port), on: loop,
                                 clientId: "runnel-raft-\(selfID)", connectTimeoutMs: 1000,
                                 requestTimeoutMs: Self.requestTimeoutMs, frameBytesMax: 100 << 20, tls: link.tls)
            .hop(to: loop)
            .whenComplete { [weak self] result in
                guard let self else { return }
                link.connecting = false
                switch result {
                case .success(let connection):
                    if self.closed { connection.close(); return }
                    if link.reportedDown { self.logger.info("raft: connected to node \(id) at \(link.host):\(link.port)") }
                    link.connection = connection
                    link.backoffMs = Self.backoffMinMs
                    link.reportedDown = false
                    self.flush(id, link)
                case .failure(let error):
                    if !link.reportedDown {
                        self.logger.info("raft: node \(id) at \(link.host):\(link.port) is unreachable (\(error)); retrying with backoff")
                        link.reportedDown = true
                    }
                    let wait = link.backoffMs
                    link.backoffMs = min(link.backoffMs * 2, Self.backoffMaxMs)
                    link.retry = self.loop.scheduleTask(in: .milliseconds(wait)) { [weak self] in
                        link.retry = nil
                        self?.flush(id, link)
                    }
                }
            }
    }

    func close() {
        closed = true
        for link in links.values {
            link.retry?.cancel()
            link.connection?.close()
            link.queue = []
        }
    }
}
