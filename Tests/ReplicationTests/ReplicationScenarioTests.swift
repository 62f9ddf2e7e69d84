// Runs the replication scenarios in testdata/*.txt through the shared scenario-file runner
// (RunnelTesting.ScenarioFile). With REPLICATION_REWRITE=1 the files are rewritten with the
// actual output instead of failing: review the diff as you would review code.
//
// The harness simulates one partition: every replica has a log (the leader epoch of each
// offset, which identifies a record: one leader per epoch) and a leader-epoch cache; the leader
// has a `LeaderState`; the controller is the scenario itself (it commits or refuses the
// leader's ISR proposals and elects leaders). Times are milliseconds; `at=T` on any command sets
// the clock first.
//
//   init replicas=1,2,3 [leader=1] [isr=..] [lag=10000] [min-isr=1] [fsync]
//                                 the leader takes office in epoch 0 over empty logs
//   produce N [acks=all]          the leader appends N records in its epoch (one batch)
//   flush                         (fsync) the leader's durable end reaches its log end
//   fetch ID [max=N]              follower ID fetches from its log end, naming its latest
//                                 epoch; the leader answers with records (up to N) and its
//                                 high watermark, or with a diverging epoch, on which the
//                                 follower truncates (FollowerTruncation)
//   isr-check                     the leader's ISR proposal now, if any, is sent
//   commit | refuse               the controller commits / refuses the pending ISR change
//                                 (`refuse` drops it without asking `ReplicaRules`)
//   controller-commit             the controller commits the pending change; the leader
//                                 learns nothing yet (its answer is lost or still on the way)
//   answer accepted | lost | refused=NAME
//                                 the leader settles an answer to its pending change by
//                                 `ReplicaRules.apply` (NAME: a KafkaErrorCode, as
//                                 STALE_BROKER_EPOCH); `accepted` carries the controller's state
//   metadata                      the leader applies the controller's committed state (a new
//                                 partition epoch settles what is pending)
//   elect ID [isr=..]             ID leads the next epoch (it takes office at its log end)
//   retain OFFSET                 retention moves the leader's log start to OFFSET
//   lose ID to=N                  follower ID crashed with only N records on disk
//   show                          leader state: HW, ISR, pending, maximal ISR, followers
//   logs                          every replica: log as epoch ranges, HW, epoch cache
//   check                         where each replica's log stops agreeing with the leader's
//   checkpoint ID                 replica ID's leader-epoch-checkpoint text (and round trip)
//   cache assign E@S | end-offset E leo=L | truncate-end O | truncate-start O | epoch-at O
//         | show | clear | checkpoint
//                                 a standalone cache
//   load-checkpoint TEXT          parses checkpoint text, '|' standing for a newline
//
// After an event, acks=all produces waiting on the high watermark print when they finish.
// After every command, each replica's epoch cache is checked against its log and against its
// checkpoint text, and every member of the controller's ISR must hold the log below the
// leader's high watermark; a violation prints as an "invariant" line.
import Foundation
import Replication
import RunnelCore
import RunnelTesting
import Testing

/// One replica's log: the leader epoch that wrote each offset from `logStart` on.
struct SimReplica {
    let id: BrokerID
    var logStart: Int64 = 0
    var epochs: [LeaderEpoch] = []
    var cache = LeaderEpochCache()
    var highWatermark: Int64 = 0

    var logEnd: Int64 { logStart + Int64(epochs.count) }

    func epoch(at offset: Int64) -> LeaderEpoch { epochs[Int(offset - logStart)] }

    /// Appends records as a follower (or a leader) does: every batch's epoch goes to the cache.
    mutating func append(_ records: [LeaderEpoch]) {
        for epoch in records {
            cache.assign(epoch: epoch, startOffset: Offset(logEnd))
            epochs.append(epoch)
        }
    }

    /// Kafka's truncateTo: the cache is cut even when the log is not, since it may end in an
    /// epoch this replica led without writing.
    mutating func truncate(to offset: Int64) {
        cache.truncateFromEnd(Offset(offset))
        guard offset < logEnd else { return }
        epochs.removeLast(Int(logEnd - max(offset, logStart)))
        highWatermark = min(highWatermark, logEnd)
    }

    /// The log restarts empty at `offset` (a follower below the leader's log start). Kafka's
    /// truncateFullyAndStartAt clears the epoch cache.
    mutating func restart(at offset: Int64) {
        logStart = offset
        epochs = []
        cache = LeaderEpochCache()
        highWatermark = offset
    }

    /// Retention: the log start moves forward.
    mutating func retain(from offset: Int64) {
        guard offset > logStart, offset <= logEnd else { return }
        epochs.removeFirst(Int(offset - logStart))
        logStart = offset
        cache.truncateFromStart(Offset(offset))
        highWatermark = max(highWatermark, offset)
    }

    /// The cache the log implies: the first offset of each epoch's run.
    var derivedEntries: [EpochEntry] {
        var entries: [EpochEntry] = []
        for (i, epoch) in epochs.enumerated() where entries.last?.epoch != epoch {
            entries.append(EpochEntry(epoch: epoch, startOffset: Offset(logStart + Int64(i))))
        }
        return entries
    }

    var logDescription: String {
        var runs: [String] = []
        var i = 0
        while i < epochs.count {
            var j = i
            while j + 1 < epochs.count, epochs[j + 1] == epochs[i] { j += 1 }
            let from = logStart + Int64(i), to = logStart + Int64(j)
            runs.append("e\(epochs[i])[\(from == to ? "\(from)" : "\(from)-\(to)")]")
            i = j + 1
        }
        let start = logStart > 0 ? "start=\(logStart) " : ""
        return start + (runs.isEmpty ? "empty" : runs.joined(separator: " ")) + " end=\(logEnd)"
    }
}

struct ReplicationScenario {
    var order: [BrokerID] = []
    var replicas: [BrokerID: SimReplica] = [:]
    var leader: BrokerID?
    var state: LeaderState?
    var now: Int64 = 0
    var lagTimeMs: Int64 = 10_000
    var minISR = 1
    var fsync = false
    var waiting: [(number: Int, end: Offset)] = []
    var produced = 0
    var scratch = LeaderEpochCache()
    /// The controller's committed ISR and partition epoch, and the partition epoch the leader knows.
    var controllerISR: [BrokerID] = []
    var controllerPartitionEpoch: Int32 = 0
    var partitionEpoch: Int32 = 0

    mutating func run(_ line: String) throws -> String {
        if line.hasPrefix("load-checkpoint") {
            let text = line.dropFirst("load-checkpoint".count).drop { $0 == " " }
                .replacingOccurrences(of: "|", with: "\n")
            do {
                let cache = try LeaderEpochCache(checkpointText: text)
                return "ok: " + entries(cache)
            } catch {
                return "error: \(error.description)"
            }
        }
        let c = ScenarioCommand(line)
        if let at = c.int64("at") { now = at }
        var lines: [String]
        switch c.name {
        case "init": lines = initialize(c)
        case "produce": lines = produce(count: Int(c.word(1)!)!, acksAll: c.arguments["acks"] == "all")
        case "flush": lines = flush()
        case "fetch": lines = fetch(id(c.word(1)!), max: c.int("max"))
        case "isr-check": lines = isrCheck()
        case "commit": lines = commit()
        case "refuse": lines = refuse()
        case "controller-commit": lines = controllerCommit()
        case "answer": lines = answer(c.word(1) ?? "", refusal: c.arguments["refused"])
        case "metadata": lines = metadata()
        case "elect": lines = elect(id(c.word(1)!), isr: c.list("isr")?.map(id))
        case "retain": lines = retain(Int64(c.word(1)!)!)
        case "lose": lines = lose(id(c.word(1)!), to: c.int64("to")!)
        case "show": lines = show()
        case "logs": lines = order.map { "\($0): " + describe(replicas[$0]!) }
        case "check": lines = check()
        case "checkpoint": lines = checkpoint(id(c.word(1)!))
        case "cache": lines = cacheCommand(c)
        default: lines = ["unknown command \(c.name)"]
        }
        lines += completeProduces()
        lines += invariants()
        return lines.joined(separator: "\n")
    }

    /// Offsets `from..<to` as "a-b", or "a" for one.
    func span(_ from: Int64, _ to: Int64) -> String { to - from == 1 ? "\(from)" : "\(from)-\(to - 1)" }
    func id(_ s: String) -> BrokerID { BrokerID(Int32(s)!) }
    func list(_ ids: [BrokerID]) -> String { ids.isEmpty ? "none" : ids.map(\.description).joined(separator: ",") }
    func entries(_ cache: LeaderEpochCache) -> String {
        cache.entries.isEmpty ? "(empty)" : cache.entries.map(\.description).joined(separator: " ")
    }
    func describe(_ r: SimReplica) -> String {
        "\(r.logDescription) hw=\(r.highWatermark) cache=\(entries(r.cache))"
    }

    // MARK: Commands

    mutating func initialize(_ c: ScenarioCommand) -> [String] {
        order = c.list("replicas")!.map(id)
        replicas = Dictionary(uniqueKeysWithValues: order.map { ($0, SimReplica(id: $0)) })
        waiting = []
        produced = 0
        lagTimeMs = c.int64("lag") ?? lagTimeMs
        minISR = c.int("min-isr") ?? minISR
        fsync = c.has("fsync")
        let isr = c.list("isr")?.map(id) ?? order
        return takeOffice(c.int("leader").map { BrokerID(Int32($0)) } ?? order[0], epoch: LeaderEpoch(0), isr: isr)
    }

    mutating func takeOffice(_ newLeader: BrokerID, epoch: LeaderEpoch, isr: [BrokerID]) -> [String] {
        var lines: [String] = []
        for w in waiting { lines.append("produce #\(w.number) NOT_LEADER_OR_FOLLOWER") }
        waiting = []
        var r = replicas[newLeader]!
        r.cache.assign(epoch: epoch, startOffset: Offset(r.logEnd))
        state = LeaderState(leader: newLeader, leaderEpoch: epoch, replicas: order, isr: isr,
                            highWatermark: Offset(r.highWatermark), logEnd: Offset(r.logEnd),
                            position: Offset(r.logEnd), now: now)
        r.highWatermark = state!.highWatermark.rawValue
        replicas[newLeader] = r
        leader = newLeader
        controllerISR = isr
        controllerPartitionEpoch += 1
        partitionEpoch = controllerPartitionEpoch
        lines.append("leader \(newLeader) epoch \(epoch) takes office at \(r.logEnd) hw=\(r.highWatermark) isr=\(list(isr))")
        return lines
    }

    mutating func produce(count: Int, acksAll: Bool) -> [String] {
        guard var state, let leader else { return ["no leader"] }
        if acksAll, !state.acceptsAcksAll(minISR: minISR) {
            return ["error NOT_ENOUGH_REPLICAS: isr \(list(state.isr)) is smaller than min.insync.replicas \(minISR)"]
        }
        var r = replicas[leader]!
        let first = r.logEnd
        r.append(Array(repeating: state.leaderEpoch, count: count))
        state.leaderAppended(logEnd: Offset(r.logEnd))
        let before = state.highWatermark
        if !fsync { _ = state.leaderPositionChanged(Offset(r.logEnd)) }
        replicas[leader] = r
        self.state = state
        var lines = ["appended \(span(first, r.logEnd)) in epoch \(state.leaderEpoch)"]
        if acksAll {
            produced += 1
            waiting.append((produced, Offset(r.logEnd)))
            lines[0] += ", produce #\(produced) waits for hw \(r.logEnd)"
        }
        lines += hwMoved(from: before)
        return lines
    }

    mutating func flush() -> [String] {
        guard var state else { return ["no leader"] }
        let before = state.highWatermark
        _ = state.leaderPositionChanged(state.leaderLogEnd)
        self.state = state
        return ["leader position \(state.leaderPosition)"] + hwMoved(from: before)
    }

    mutating func fetch(_ follower: BrokerID, max: Int?) -> [String] {
        guard var state, let leader else { return ["no leader"] }
        guard follower != leader, var f = replicas[follower] else { return ["\(follower) is not a follower"] }
        let l = replicas[leader]!
        let fetchOffset = f.logEnd
        let lastEpoch = f.cache.latestEpoch
        var lines = ["request offset=\(fetchOffset) last-epoch=\(lastEpoch.map(\.description) ?? "none")"]
        if let lastEpoch {
            // The leader's check (Kafka's Partition.fetchRecords): the follower's last epoch must
            // end in the leader's log at or after the fetch offset, in that same epoch.
            let answer = l.cache.endOffset(for: lastEpoch, logEndOffset: Offset(l.logEnd))
            if answer == nil || answer!.epoch < lastEpoch || answer!.endOffset.rawValue < fetchOffset {
                let truncation = FollowerTruncation.offset(leader: answer, local: f.cache, localLogEnd: Offset(fetchOffset))
                lines.append("diverging epoch=\(answer.map { "\($0.epoch)" } ?? "-1") end=\(answer.map { "\($0.endOffset)" } ?? "-1")")
                f.truncate(to: truncation.offset.rawValue)
                lines.append("truncate to \(truncation.offset)" + (truncation.complete ? "" : ", ask again")
                             + " -> " + describe(f))
                replicas[follower] = f
                return lines
            }
        }
        if fetchOffset > l.logEnd {  // Kafka's handleOutOfRangeError: the leader's log is shorter
            f.truncate(to: l.logEnd)
            replicas[follower] = f
            return lines + ["OFFSET_OUT_OF_RANGE: truncate to the leader's end \(l.logEnd)"]
        }
        if fetchOffset < l.logStart {
            f.restart(at: l.logStart)
            replicas[follower] = f
            return lines + ["OFFSET_OUT_OF_RANGE: log restarts at the leader's start \(l.logStart)"]
        }
        let responseHW = state.highWatermark  // read before the fetch updates the leader's state
        _ = state.followerFetched(follower, position: Offset(fetchOffset), now: now)
        self.state = state
        let end = min(l.logEnd, fetchOffset + Int64(max ?? Int.max / 2))
        let records = (fetchOffset..<end).map { l.epoch(at: $0) }
        f.append(records)
        f.highWatermark = min(responseHW.rawValue, f.logEnd)
        replicas[follower] = f
        lines.append((records.isEmpty ? "no records" : "records \(span(fetchOffset, end))") + " hw=\(responseHW)")
        return lines + hwMoved(from: responseHW)
    }

    mutating func isrCheck() -> [String] {
        guard var state else { return ["no leader"] }
        if let pending = state.pendingISR { return ["no change: isr \(list(pending)) is pending"] }
        guard let change = state.isrChange(now: now, lagTimeMs: lagTimeMs) else { return ["no change"] }
        state.proposed(change)
        self.state = state
        return ["propose isr=\(list(change))"]
    }

    mutating func commit() -> [String] {
        guard var state, let pending = state.pendingISR else { return ["nothing pending"] }
        let before = state.highWatermark
        _ = state.committed(replicas: state.replicas, isr: pending, now: now)
        self.state = state
        controllerISR = pending
        controllerPartitionEpoch += 1
        partitionEpoch = controllerPartitionEpoch
        return ["committed isr=\(list(pending))"] + hwMoved(from: before)
    }

    mutating func controllerCommit() -> [String] {
        guard let pending = state?.pendingISR else { return ["nothing pending"] }
        controllerISR = pending
        controllerPartitionEpoch += 1
        return ["controller commits isr=\(list(pending)) at partition epoch \(controllerPartitionEpoch)"]
    }

    mutating func answer(_ kind: String, refusal: String?) -> [String] {
        guard let current = state, let pending = current.pendingISR else { return ["nothing pending"] }
        let answer: ReplicaRules.ISRAnswer
        switch kind {
        case "accepted":
            answer = .accepted(isr: controllerISR, leaderEpoch: current.leaderEpoch, partitionEpoch: controllerPartitionEpoch)
        case "lost":
            answer = .notDelivered
        default:
            guard let refusal, let code = Self.errorCodes[refusal] else { return ["unknown answer"] }
            answer = .refused(code)
        }
        let before = current.highWatermark
        let (settlement, _) = ReplicaRules.apply(answer, proposedEpoch: current.leaderEpoch, proposedISR: pending, to: &state,
                                                 partitionEpoch: &partitionEpoch, replicas: current.replicas, now: now)
        return ["\(settlement): isr=\(list(state!.isr)) pending=\(state!.pendingISR.map(list) ?? "-")"] + hwMoved(from: before)
    }

    mutating func metadata() -> [String] {
        guard var state else { return ["no leader"] }
        guard controllerPartitionEpoch > partitionEpoch else { return ["nothing new"] }
        let before = state.highWatermark
        _ = state.committed(replicas: state.replicas, isr: controllerISR, now: now)
        self.state = state
        partitionEpoch = controllerPartitionEpoch
        return ["leader takes isr=\(list(controllerISR)) at partition epoch \(partitionEpoch)"] + hwMoved(from: before)
    }

    static let errorCodes: [String: KafkaErrorCode] = [
        "NOT_CONTROLLER": .notController, "REQUEST_TIMED_OUT": .requestTimedOut, "INVALID_UPDATE_VERSION": .invalidUpdateVersion,
        "STALE_BROKER_EPOCH": .staleBrokerEpoch, "NOT_LEADER_OR_FOLLOWER": .notLeaderOrFollower,
        "FENCED_LEADER_EPOCH": .fencedLeaderEpoch, "UNKNOWN_TOPIC_OR_PARTITION": .unknownTopicOrPartition,
        "INVALID_REQUEST": .invalidRequest, "INELIGIBLE_REPLICA": .ineligibleReplica,
    ]

    mutating func refuse() -> [String] {
        guard var state, state.pendingISR != nil else { return ["nothing pending"] }
        state.proposalFailed()
        self.state = state
        return ["refused, isr stays \(list(state.isr))"]
    }

    mutating func elect(_ newLeader: BrokerID, isr: [BrokerID]?) -> [String] {
        guard let state else { return ["no leader"] }
        let epoch = LeaderEpoch(state.leaderEpoch.rawValue + 1)
        return takeOffice(newLeader, epoch: epoch, isr: isr ?? state.isr)
    }

    /// A replica crashes before its log reached the disk: it comes back with only `to` records.
    mutating func lose(_ replica: BrokerID, to offset: Int64) -> [String] {
        guard replica != leader, var r = replicas[replica] else { return ["only a follower may lose its tail"] }
        r.truncate(to: offset)
        replicas[replica] = r
        return ["\(replica): " + describe(r)]
    }

    mutating func retain(_ offset: Int64) -> [String] {
        guard let leader, var r = replicas[leader] else { return ["no leader"] }
        r.retain(from: offset)
        replicas[leader] = r
        return ["\(leader): " + describe(r)]
    }

    func show() -> [String] {
        guard let state else { return ["no leader"] }
        var lines = ["leader \(state.leader) epoch \(state.leaderEpoch) epoch-start=\(state.epochStartOffset)"
            + " end=\(state.leaderLogEnd) position=\(state.leaderPosition) hw=\(state.highWatermark)",
                     "isr=\(list(state.isr)) pending=\(state.pendingISR.map(list) ?? "-") maximal=\(list(state.maximalISR))"
                        + (state.withdrawnNewcomers.isEmpty ? "" : " withdrawn=\(list(state.withdrawnNewcomers))")]
        for id in order where id != state.leader {
            guard let f = state.followers[id] else { continue }
            lines.append("follower \(id) position=\(f.position.map(\.description) ?? "-") caught-up=\(f.lastCaughtUpMs)")
        }
        return lines
    }

    func check() -> [String] {
        guard let leader else { return ["no leader"] }
        let l = replicas[leader]!
        return order.filter { $0 != leader }.map { id in
            let f = replicas[id]!
            var agree = Swift.max(f.logStart, l.logStart)
            while agree < Swift.min(f.logEnd, l.logEnd), f.epoch(at: agree) == l.epoch(at: agree) { agree += 1 }
            let verdict = agree == f.logEnd ? "a prefix of the leader's log"
                : "DIVERGES from the leader at \(agree)"
            return "\(id): end=\(f.logEnd) \(verdict)"
        }
    }

    func checkpoint(_ replica: BrokerID) -> [String] { checkpointLines(replicas[replica]!.cache) }

    func checkpointLines(_ cache: LeaderEpochCache) -> [String] {
        let text = cache.checkpointText
        let back = try? LeaderEpochCache(checkpointText: text)
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
            + [back == cache ? "round trip ok" : "ROUND TRIP FAILED"]
    }

    mutating func cacheCommand(_ c: ScenarioCommand) -> [String] {
        switch c.word(1) {
        case "assign":
            let parts = c.word(2)!.split(separator: "@")
            let changed = scratch.assign(epoch: LeaderEpoch(Int32(parts[0])!), startOffset: Offset(Int64(parts[1])!))
            return ["\(changed ? "changed" : "unchanged"): " + entries(scratch)]
        case "end-offset":
            let answer = scratch.endOffset(for: LeaderEpoch(Int32(c.word(2)!)!), logEndOffset: Offset(c.int64("leo")!))
            return [answer.map { "epoch=\($0.epoch) end=\($0.endOffset)" } ?? "undefined"]
        case "truncate-end":
            let changed = scratch.truncateFromEnd(Offset(Int64(c.word(2)!)!))
            return ["\(changed ? "changed" : "unchanged"): " + entries(scratch)]
        case "truncate-start":
            let changed = scratch.truncateFromStart(Offset(Int64(c.word(2)!)!))
            return ["\(changed ? "changed" : "unchanged"): " + entries(scratch)]
        case "epoch-at":
            return [scratch.epoch(at: Offset(Int64(c.word(2)!)!)).map { "epoch \($0)" } ?? "none"]
        case "show":
            return [entries(scratch)]
        case "clear":
            scratch = LeaderEpochCache()
            return [entries(scratch)]
        case "checkpoint":
            return checkpointLines(scratch)
        default:
            return ["unknown cache command"]
        }
    }

    // MARK: After every command

    func hwMoved(from before: Offset) -> [String] {
        guard let state, state.highWatermark != before else { return [] }
        return ["leader hw \(before) -> \(state.highWatermark)"]
    }

    mutating func completeProduces() -> [String] {
        guard let state, let leader else { return [] }
        replicas[leader]!.highWatermark = state.highWatermark.rawValue
        var lines: [String] = []
        waiting.removeAll { w in
            switch state.ackState(end: w.end, minISR: minISR) {
            case .waiting: return false
            case .done: lines.append("produce #\(w.number) done")
            case .notEnoughReplicasAfterAppend: lines.append("produce #\(w.number) NOT_ENOUGH_REPLICAS_AFTER_APPEND")
            }
            return true
        }
        return lines
    }

    /// Each cache must be what its log implies — plus, at most, a last epoch that has not
    /// written yet (a leader that took office, or a replica that led and wrote nothing) — and
    /// must survive its checkpoint text.
    func invariants() -> [String] {
        var lines: [String] = []
        for id in order {
            let r = replicas[id]!
            let derived = r.derivedEntries
            var cached = r.cache.entries
            if cached.count == derived.count + 1, let last = cached.last, last.startOffset.rawValue == r.logEnd,
               derived.last.map({ $0.epoch < last.epoch }) ?? true {
                cached.removeLast()
            }
            // A log whose start moved keeps its first epoch starting at the log start.
            if cached != derived { lines.append("invariant: \(id)'s cache \(entries(r.cache)) does not match its log \(r.logDescription)") }
            if (try? LeaderEpochCache(checkpointText: r.cache.checkpointText)) != r.cache {
                lines.append("invariant: \(id)'s checkpoint does not round-trip")
            }
        }
        if let leader, let state, let l = replicas[leader] {
            if l.cache.latestEpoch != state.leaderEpoch { lines.append("invariant: the leader's cache ends in another epoch") }
            if state.highWatermark.rawValue > l.logEnd { lines.append("invariant: hw past the leader's log end") }
            // A member of the controller's ISR may be elected: it must hold what the HW says is committed.
            for id in controllerISR where id != leader && replicas[id]!.logEnd < state.highWatermark.rawValue {
                lines.append("invariant: \(id), in the controller's ISR \(list(controllerISR)), ends at \(replicas[id]!.logEnd), below hw \(state.highWatermark)")
            }
        }
        return lines
    }
}

@Test(arguments: ScenarioFile.files(besides: #filePath).map(\.lastPathComponent))
func replicationScenario(_ name: String) throws {
    let url = ScenarioFile.files(besides: #filePath).first { $0.lastPathComponent == name }!
    var scenario = ReplicationScenario()
    let mismatches = try ScenarioFile.run(url, rewriteVariable: "REPLICATION_REWRITE") { try scenario.run($0) }
    #expect(mismatches.isEmpty, "\(mismatches.map(\.description).joined(separator: "\n\n"))")
}

@Test func replicationScenarioFilesExist() {
    #expect(ScenarioFile.files(besides: #filePath).count >= 6)
}
