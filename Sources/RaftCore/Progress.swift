/// What a leader knows about one follower's log (etcd-raft's Progress, simplified).
struct Progress: Sendable {
    enum State: String, Sendable {
        /// We do not know where the logs diverge: one append at a time, then wait.
        case probe
        /// The follower is in sync: pipeline appends up to `maxInflightMessages`.
        case replicate
        /// A snapshot is on its way; wait for it to land (or for a timeout, then probe again).
        case snapshot
    }

    /// Highest index known to match the leader's log.
    var match: LogIndex = .zero
    /// Next index to send.
    var next: LogIndex
    var state: State = .probe
    /// Probe: an append is outstanding; set back by any response or a heartbeat response.
    var probeSent = false
    /// Replicate: last indexes of the appends in flight (bounded by `maxInflightMessages`).
    var inflight: [LogIndex] = []
    /// Snapshot: the index being installed, and heartbeats answered since (for the retry timeout).
    var pendingSnapshot: LogIndex = .zero
    var snapshotHeartbeats = 0
    /// Heard from since the last CheckQuorum round.
    var recentActive = false
    /// The leader's tick when this member last answered in the leader's term (nil: not yet).
    var lastContactTick: UInt64?

    init(next: LogIndex) { self.next = next }

    /// The member answered (an append or heartbeat response) at leader tick `tick`.
    mutating func heard(at tick: UInt64) {
        recentActive = true
        lastContactTick = tick
    }

    mutating func becomeProbe() {
        if state == .snapshot {
            next = max(match + 1, pendingSnapshot + 1)
        } else {
            next = match + 1
        }
        state = .probe
        probeSent = false
        inflight = []
        pendingSnapshot = .zero
    }

    mutating func becomeReplicate() {
        state = .replicate
        next = match + 1
        inflight = []
        probeSent = false
    }

    mutating func becomeSnapshot(_ index: LogIndex) {
        state = .snapshot
        pendingSnapshot = index
        snapshotHeartbeats = 0
        inflight = []
    }

    /// An append response acknowledged `index`. Returns false if it told us nothing new.
    mutating func maybeUpdate(_ index: LogIndex) -> Bool {
        var updated = false
        if index > match {
            match = index
            updated = true
            probeSent = false
        }
        next = max(next, index + 1)
        inflight.removeAll { $0 <= index }
        return updated
    }

    /// The follower rejected an append at `rejected`; `hint` is where the logs may match.
    /// Returns false for a stale rejection (one that does not concern our latest probe).
    mutating func maybeDecrease(rejected: LogIndex, hint: LogIndex) -> Bool {
        if state == .replicate {
            if rejected <= match { return false }
            next = match + 1
            return true
        }
        if next - 1 != rejected { return false }
        next = max(min(rejected, hint + 1), match + 1)
        probeSent = false
        return true
    }

    /// Whether to hold back appends (the flow control that bounds in-flight data).
    func isPaused(maxInflight: Int) -> Bool {
        switch state {
        case .probe: probeSent
        case .replicate: inflight.count >= maxInflight
        case .snapshot: true
        }
    }

    /// Bookkeeping after sending an append whose last entry is `lastIndex` (`count` entries).
    mutating func sentEntries(lastIndex: LogIndex, count: Int) {
        switch state {
        case .replicate:
            if count > 0 {
                next = lastIndex + 1
                inflight.append(lastIndex)
            }
        case .probe:
            probeSent = true
        case .snapshot:
            preconditionFailure("append sent to a follower that is installing a snapshot")
        }
    }
}
