import KafkaMessages
import RunnelCore

/// Finding a group's coordinator (FindCoordinator, key type 0) and sending requests to it.
///
/// The coordinator of each group is cached (`KafkaClient.coordinators`). A request that meets
/// NOT_COORDINATOR (16) or COORDINATOR_NOT_AVAILABLE (15), or whose connection fails, drops the
/// cached entry so that the next attempt asks FindCoordinator again; COORDINATOR_LOAD_IN_PROGRESS
/// (14) keeps it and only waits (the broker is reading the group's state back from its log).
extension KafkaClient {
    /// The coordinator of `group`: from the cache, else from FindCoordinator (retried with
    /// backoff while the broker answers COORDINATOR_NOT_AVAILABLE, as Kafka does while
    /// `__consumer_offsets` is being created).
    public func coordinator(for group: String, refresh: Bool = false) async throws -> BrokerID {
        if !refresh, let cached = coordinators.withLock({ $0[group] }) { return cached }
        return try await withCoordinatorRetries(group: group, context: "find coordinator of group \(group)") {
            try await findCoordinator(group)
        }
    }

    /// Forgets the cached coordinator of `group`.
    func forgetCoordinator(_ group: String) {
        coordinators.withLock { $0[group] = nil }
    }

    private func findCoordinator(_ group: String) async throws -> BrokerID {
        if metadata.brokers.isEmpty { _ = try? await refreshMetadata(topics: []) }
        let (response, _) = try await send(.any) { version in
            // v0 has no key type and means "group"; v4+ batches keys, which this client does not use.
            FindCoordinatorRequest(key: group, keyType: 0, coordinatorKeys: [])
        }
        let code = KafkaErrorCode(response.errorCode)
        guard code == .none else {
            throw KafkaClientError.kafka(code: code, message: response.errorMessage,
                                         context: "find coordinator of group \(group)")
        }
        let id = BrokerID(response.nodeId)
        let address = BrokerAddress(host: response.host, port: Int(response.port))
        updateMetadata { snapshot in
            // A coordinator missing from our metadata (or at a new address) becomes reachable.
            if snapshot.brokers[id]?.address != address {
                snapshot.brokers[id] = BrokerInfo(id: id, address: address, rack: snapshot.brokers[id]?.rack)
            }
        }
        coordinators.withLock { $0[group] = id }
        return id
    }

    /// Sends one request to the coordinator of `group` (found first if needed). A transport
    /// failure forgets the coordinator and is rethrown; error codes in the response are the
    /// caller's (see `checkCoordinatorError`).
    func sendToCoordinator<R: KafkaRequest>(group: String, timeoutMs: Int64? = nil,
                                            _ make: (Int16) throws -> R) async throws -> (R.Response, Int16) {
        let coordinator = try await self.coordinator(for: group)
        do {
            return try await send(.broker(coordinator), timeoutMs: timeoutMs, make)
        } catch let error as KafkaClientError where error.isTransient {
            forgetCoordinator(group)
            throw error
        }
    }

    /// Throws `.kafka(code:)` when `code` says the coordinator moved, is unavailable or still
    /// loading, after forgetting the cached coordinator where that helps.
    func checkCoordinatorError(_ code: KafkaErrorCode, group: String, message: String? = nil, context: String) throws {
        guard code.isCoordinatorError else { return }
        if code != .coordinatorLoadInProgress { forgetCoordinator(group) }
        throw KafkaClientError.kafka(code: code, message: message, context: context)
    }

    /// Runs `body` again while it fails with a coordinator error or a transport failure, with
    /// a growing backoff (retryBackoffMs doubling up to 1 s), at most `coordinatorAttemptsMax` times.
    func withCoordinatorRetries<T>(group: String, context: String, _ body: () async throws -> T) async throws -> T {
        var attempt = 1
        var backoffMs = max(config.retryBackoffMs, 1)
        while true {
            do {
                return try await body()
            } catch let error as KafkaClientError {
                let retriable: Bool
                switch error {
                case .connectionClosed, .requestTimedOut, .brokerUnreachable:
                    forgetCoordinator(group)
                    retriable = true
                case .kafka(let code, _, _):
                    retriable = code.isCoordinatorError
                default:
                    retriable = false
                }
                guard retriable, attempt < Self.coordinatorAttemptsMax(config) else { throw error }
                attempt += 1
                try await Task.sleep(nanoseconds: UInt64(backoffMs) * 1_000_000)
                backoffMs = min(backoffMs * 2, 1_000)
            }
        }
    }

    /// Coordinator lookups get more attempts than other requests: a fresh broker may need a
    /// few seconds to create `__consumer_offsets` and load the group.
    static func coordinatorAttemptsMax(_ config: KafkaClientConfig) -> Int {
        max(config.attemptsMax, 20)
    }
}

extension KafkaErrorCode {
    /// The group's coordinator moved, is not ready or is loading: ask again (FindCoordinator
    /// for 15 and 16), after a backoff.
    public var isCoordinatorError: Bool {
        self == .coordinatorLoadInProgress || self == .coordinatorNotAvailable || self == .notCoordinator
    }

    /// The request came from a member (or generation) the coordinator no longer accepts, or
    /// from an admin while the group has members: STALE_MEMBER_EPOCH, FENCED_MEMBER_EPOCH,
    /// UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION.
    public var isGroupMembershipError: Bool {
        [.staleMemberEpoch, .fencedMemberEpoch, .unknownMemberID, .rebalanceInProgress, .illegalGeneration].contains(self)
    }
}
