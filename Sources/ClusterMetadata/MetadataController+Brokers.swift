import RunnelCore

// Broker lifecycle (Kafka's BrokerRegistration / BrokerHeartbeat, keys 62/63):
//
//     register ──▶ fenced ──(heartbeat: caught up with the metadata log)──▶ unfenced
//        ▲            ▲                                                        │
//        │            └──(session expired: no heartbeat for sessionTimeoutMs)──┤
//        │            └──(controlled shutdown done: no leadership left)◀─ in controlled shutdown
//        └── a restart registers again (new incarnation, new epoch): fenced until caught up
//
// Registration epochs are the metadata offset of the registration record, so they only grow;
// heartbeats and ISR changes name the epoch and are refused for an older one. "Caught up" means
// the broker has applied the metadata log up to its own registration record.

extension MetadataController {
    public struct RegistrationRequest: Equatable, Sendable {
        public var id: BrokerID
        public var incarnation: TopicID
        public var listeners: [BrokerRegistration.Endpoint]
        public var rack: String?
        public init(id: BrokerID, incarnation: TopicID, listeners: [BrokerRegistration.Endpoint], rack: String?) {
            self.id = id
            self.incarnation = incarnation
            self.listeners = listeners
            self.rack = rack
        }
    }

    /// A broker registers (at start-up). Refused with DUPLICATE_BROKER_REGISTRATION while another
    /// process (another incarnation) holds the id and its session is alive — alive meaning it has
    /// heartbeated to this controller: after a controller failover or a whole-cluster restart the
    /// sessions granted to every registered broker do not keep a restarted broker out (a live
    /// old process would have heartbeated within an interval). A new registration
    /// is fenced, and every partition the earlier registration led or was in sync for gets a new
    /// leader first (its log may be behind after a crash). Returns the records and the new epoch.
    public mutating func register(_ request: RegistrationRequest, in image: MetadataImage,
                                  now: Int64) -> Result<(records: [MetadataRecord], epoch: Int64), Refusal> {
        if let existing = image.broker(request.id), existing.incarnation != request.incarnation,
           !existing.fenced, heardFrom.contains(request.id), sessionAlive(request.id, now: now) {
            return .failure(Refusal(KafkaErrorCode.duplicateBrokerRegistration,
                                    "Another broker is registered with id \(request.id) and its session is alive."))
        }
        var records: [MetadataRecord] = []
        if let existing = image.broker(request.id), !existing.fenced {
            records = leadershipRecords(losing: [request.id], in: image)
        }
        let epoch = image.recordCount + Int64(records.count)   // the registration record's offset
        records.append(.registerBroker(BrokerRegistration(id: request.id, incarnation: request.incarnation, epoch: epoch,
                                                          listeners: request.listeners, rack: request.rack, fenced: true)))
        lastContact[request.id] = now
        heardFrom.insert(request.id)
        return .success((records, epoch))
    }

    public struct Heartbeat: Equatable, Sendable {
        public var id: BrokerID
        public var epoch: Int64
        /// The metadata offset the broker has applied up to (exclusive: records below it).
        public var metadataOffset: Int64
        public var wantFence: Bool
        public var wantShutDown: Bool
        public init(id: BrokerID, epoch: Int64, metadataOffset: Int64, wantFence: Bool = false, wantShutDown: Bool = false) {
            self.id = id
            self.epoch = epoch
            self.metadataOffset = metadataOffset
            self.wantFence = wantFence
            self.wantShutDown = wantShutDown
        }
    }

    public struct HeartbeatReply: Equatable, Sendable {
        public var isCaughtUp: Bool
        public var isFenced: Bool
        public var shouldShutDown: Bool
        public init(isCaughtUp: Bool, isFenced: Bool, shouldShutDown: Bool) {
            self.isCaughtUp = isCaughtUp
            self.isFenced = isFenced
            self.shouldShutDown = shouldShutDown
        }
    }

    /// A broker's heartbeat: renews its session and moves it through fenced → unfenced →
    /// controlled shutdown → fenced. The reply describes the broker once the records apply.
    public mutating func heartbeat(_ hb: Heartbeat, in image: MetadataImage,
                                   now: Int64) -> Result<(records: [MetadataRecord], reply: HeartbeatReply), Refusal> {
        guard let broker = image.broker(hb.id) else {
            return .failure(Refusal(KafkaErrorCode.brokerIDNotRegistered, "Broker \(hb.id) is not registered."))
        }
        guard broker.epoch == hb.epoch else {
            return .failure(Refusal(KafkaErrorCode.staleBrokerEpoch,
                                    "Broker \(hb.id) epoch \(hb.epoch) is stale; its registration is epoch \(broker.epoch)."))
        }
        lastContact[hb.id] = now
        heardFrom.insert(hb.id)
        let caughtUp = hb.metadataOffset > broker.epoch
        var records: [MetadataRecord] = []
        var fenced = broker.fenced
        var shouldShutDown = false
        if hb.wantShutDown {
            if !broker.inControlledShutdown && !broker.fenced {
                records.append(.brokerChange(id: hb.id, epoch: hb.epoch, fenced: nil, inControlledShutdown: true))
            }
            // Move leadership and ISR membership away; once nothing is left, fence it and let it go.
            var after = (try? image.applying(records)) ?? image
            let moves = leadershipRecords(losing: [hb.id], in: after)
            records += moves
            after = (try? after.applying(moves)) ?? after
            let stillLeads = after.allPartitions.contains { $0.state.leader == hb.id }
            if !stillLeads || broker.fenced {
                if !broker.fenced { records.append(.brokerChange(id: hb.id, epoch: hb.epoch, fenced: true, inControlledShutdown: nil)) }
                fenced = true
                shouldShutDown = true
            }
        } else if hb.wantFence {
            if !broker.fenced {
                records.append(.brokerChange(id: hb.id, epoch: hb.epoch, fenced: true, inControlledShutdown: nil))
                let after = (try? image.applying(records)) ?? image
                records += leadershipRecords(losing: [hb.id], in: after)
            }
            fenced = true
        } else if broker.fenced && caughtUp && !broker.inControlledShutdown {
            records.append(.brokerChange(id: hb.id, epoch: hb.epoch, fenced: false, inControlledShutdown: nil))
            let after = (try? image.applying(records)) ?? image
            records += leadershipRecordsForLeaderless(in: after)
            fenced = false
        }
        return .success((records, HeartbeatReply(isCaughtUp: caughtUp, isFenced: fenced, shouldShutDown: shouldShutDown)))
    }

    /// Fences every unfenced broker whose session expired, moving its leaderships (and ISR
    /// memberships) to others. Called periodically by the active controller.
    public mutating func expireSessions(in image: MetadataImage, now: Int64) -> [MetadataRecord] {
        let expired = image.unfencedBrokers.filter { !sessionAlive($0, now: now) }
        guard !expired.isEmpty else { return [] }
        var records: [MetadataRecord] = expired.map {
            .brokerChange(id: $0, epoch: image.broker($0)!.epoch, fenced: true, inControlledShutdown: nil)
        }
        let after = (try? image.applying(records)) ?? image
        records += leadershipRecords(losing: Set(expired), in: after)
        return records
    }

    /// When the broker's session ends (ms), or nil when it never heartbeated to this controller.
    public func sessionDeadline(_ id: BrokerID) -> Int64? {
        lastContact[id].map { $0 + config.sessionTimeoutMs }
    }

    func sessionAlive(_ id: BrokerID, now: Int64) -> Bool {
        guard let deadline = sessionDeadline(id) else { return false }
        return now < deadline
    }

    /// This node just became the active controller: every registered broker gets a full session
    /// from now (the previous controller's view of heartbeats is gone).
    public mutating func becameActive(image: MetadataImage, now: Int64) {
        lastContact = [:]
        heardFrom = []
        for id in image.brokers.keys { lastContact[id] = now }
    }

    /// Removes a broker's registration (UnregisterBroker): it must be fenced first.
    public func unregister(_ id: BrokerID, in image: MetadataImage) -> Result<[MetadataRecord], Refusal> {
        guard let broker = image.broker(id) else {
            return .failure(Refusal(KafkaErrorCode.brokerIDNotRegistered, "Broker \(id) is not registered."))
        }
        guard broker.fenced else {
            return .failure(Refusal(KafkaErrorCode.invalidRequest, "Broker \(id) is still active; stop it before unregistering it."))
        }
        return .success([.unregisterBroker(id: id, epoch: broker.epoch)])
    }
}
