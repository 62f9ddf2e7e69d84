// Runs the compaction scenarios in testdata/compaction_*.txt through the shared scenario-file
// runner (RunnelTesting.ScenarioFile). With COMPACTION_REWRITE=1 the files are rewritten with the
// actual output instead of failing: review the diff as you would review code.
//
// Two simulated worlds, one per group of commands. Times are milliseconds.
//
// Choosing a log (CleanerSelection):
//   log NAME [ratio=R] [min-lag=MS] [max-lag=MS] [start=O] [hw=O] [checkpoint=O]
//                                 a compacted log with these keys (no hw: the log end)
//   segment NAME base=B end=E bytes=N [first-ts=T] [max-ts=T]
//                                 appends a segment to NAME; its last segment is the active one
//   set NAME [hw=O] [checkpoint=O] [start=O]
//   range NAME now=T              the cleanable range and whether the log is to be cleaned
//   pick now=T [busy=A,B]         the logs to clean, filthiest first
//
// Cleaning one partition (OffsetMap, RecordRetention):
//   batch [pid=P] [horizon=T] [control] [last=O] KEY…
//                                 appends a batch to the active segment; each KEY is `k` (a record
//                                 with a value), `k*` (a tombstone) or `-` (no key), optionally
//                                 `@O` for its offset (default: the next one). A batch with a
//                                 producer id makes its last offset that producer's latest.
//   roll                          seals the active segment and starts a new one
//   expire pid=P                  the producer leaves the producer-state window
//   clean now=T [upto=O] [max-keys=N] [retention=MS]
//                                 cleans every segment below `upto` (default: the active segment's
//                                 base), the offset map built from the checkpoint; prints the map
//                                 and each batch's plan, applies it and moves the checkpoint
//   show                          every segment's batches
//   read                          the newest record of each key, as a consumer reading the whole
//                                 log keeps it (a key whose newest record is a tombstone is absent)
//
// After every clean, the harness checks: the batches keep their offsets; nothing above the map
// changed; and each key's newest record survives, unless it is a tombstone whose horizon had
// passed. A violation prints as an "invariant" line.
import Compaction
import Foundation
import RunnelTesting
import Testing

struct CompactionScenario {
    // Selection world.
    var logs: [String: LogToCleanInput] = [:]
    var order: [String] = []

    // Partition world.
    var segments: [[BatchSummary]] = [[]]
    var checkpoint: Int64 = 0
    var producers: [Int64: Int64] = [:]
    var nextOffset: Int64 = 0

    mutating func run(_ line: String) throws -> String {
        let command = ScenarioCommand(line)
        switch command.name {
        case "log": return defineLog(command)
        case "segment": return addSegment(command)
        case "set": return setLog(command)
        case "range": return showRange(command)
        case "pick": return pick(command)
        case "batch": return appendBatch(command)
        case "roll":
            segments.append([])
            return "segment \(segments.count - 1) starts at \(nextOffset)"
        case "expire":
            let pid = Int64(command.int("pid")!)
            producers[pid] = nil
            return "producer \(pid) expired"
        case "clean": return clean(command)
        case "show": return describeLog()
        case "read": return read()
        default: return "unknown command \(command.name)"
        }
    }

    // MARK: choosing a log

    mutating func defineLog(_ command: ScenarioCommand) -> String {
        let name = command.word(1)!
        var config = CompactionConfig()
        if let ratio = command.arguments["ratio"].flatMap(Double.init) { config.minCleanableDirtyRatio = ratio }
        if let lag = command.int64("min-lag") { config.minCompactionLagMs = lag }
        if let lag = command.int64("max-lag") { config.maxCompactionLagMs = lag }
        let log = LogToCleanInput(name: name, segments: [], logStartOffset: command.int64("start") ?? 0,
                                  highWatermark: command.int64("hw") ?? -1, checkpoint: command.int64("checkpoint"),
                                  config: config)
        logs[name] = log
        order.append(name)
        return "log \(name)"
    }

    mutating func addSegment(_ command: ScenarioCommand) -> String {
        let name = command.word(1)!
        let segment = SegmentSummary(baseOffset: command.int64("base")!, endOffset: command.int64("end")!,
                                     sizeBytes: command.int64("bytes")!, firstBatchTimestamp: command.int64("first-ts"),
                                     largestTimestamp: command.int64("max-ts") ?? -1)
        logs[name]!.segments.append(segment)
        return "\(name) segments=\(logs[name]!.segments.count) end=\(segment.endOffset)"
    }

    mutating func setLog(_ command: ScenarioCommand) -> String {
        let name = command.word(1)!
        if let hw = command.int64("hw") { logs[name]!.highWatermark = hw }
        if let checkpoint = command.int64("checkpoint") { logs[name]!.checkpoint = checkpoint }
        if let start = command.int64("start") { logs[name]!.logStartOffset = start }
        return "ok"
    }

    /// The log as the cleaner sees it; a log defined without hw has its HW at its end.
    func input(_ name: String) -> LogToCleanInput {
        var log = logs[name]!
        if log.highWatermark < 0 { log.highWatermark = log.logEndOffset }
        return log
    }

    func showRange(_ command: ScenarioCommand) -> String {
        let name = command.word(1)!
        let log = input(name)
        let range = CleanerSelection.cleanableRange(log, nowMs: command.int64("now")!)
        var lines = [describe(range)]
        if range.checkpointReset { lines.append("checkpoint reset to \(range.firstDirtyOffset)") }
        lines.append(CleanerSelection.reason(range, config: log.config).map { "clean: \($0.rawValue)" } ?? "not cleanable")
        return lines.joined(separator: "\n")
    }

    func describe(_ range: CleanableRange) -> String {
        let ratio = String(format: "%.3f", range.dirtyRatio)
        return "dirty \(range.firstDirtyOffset)..<\(range.firstUncleanableOffset) (\(range.uncleanableBecause.rawValue))"
            + " clean=\(range.cleanBytes) cleanable=\(range.cleanableBytes) ratio=\(ratio) delay=\(range.compactionDelayMs)"
    }

    func pick(_ command: ScenarioCommand) -> String {
        let busy = Set(command.list("busy") ?? [])
        let candidates = CleanerSelection.cleanable(order.map(input), nowMs: command.int64("now")!, busy: busy)
        guard !candidates.isEmpty else { return "nothing to clean" }
        return candidates.enumerated().map { i, candidate in
            "\(i + 1). \(candidate.name) \(candidate.reason.rawValue) " + describe(candidate.range)
        }.joined(separator: "\n")
    }

    // MARK: cleaning a partition

    mutating func appendBatch(_ command: ScenarioCommand) -> String {
        let base = nextOffset
        var records: [RecordSummary] = []
        for word in command.words.dropFirst() where word != "control" {
            var spec = Substring(word)
            var offset = records.last.map { $0.offset + 1 } ?? base
            if let at = spec.firstIndex(of: "@") {
                offset = Int64(spec[spec.index(after: at)...])!
                spec = spec[..<at]
            }
            let tombstone = spec.hasSuffix("*")
            if tombstone { spec = spec.dropLast() }
            let key: [UInt8]? = spec == "-" ? nil : Array(spec.utf8)
            records.append(RecordSummary(offset: offset, key: key, hasValue: !tombstone))
        }
        let last = command.int64("last") ?? records.last?.offset ?? base
        let pid = command.int64("pid") ?? -1
        let batch = BatchSummary(baseOffset: base, lastOffset: last, producerId: pid, isControl: command.has("control"),
                                 deleteHorizonMs: command.int64("horizon"), records: records)
        segments[segments.count - 1].append(batch)
        nextOffset = last + 1
        if pid >= 0 { producers[pid] = last }
        return "appended \(base)-\(last)"
    }

    mutating func clean(_ command: ScenarioCommand) -> String {
        let now = command.int64("now")!
        let retention = command.int64("retention") ?? CompactionConfig().deleteRetentionMs
        let activeBase = segments.last!.first?.baseOffset ?? nextOffset
        let upto = command.int64("upto") ?? activeBase
        let maxKeys = command.int("max-keys") ?? Int.max
        let cleanedSegments = segments.indices.filter { i in
            let end = i + 1 < segments.count ? (segments[i + 1].first?.baseOffset ?? nextOffset) : nextOffset
            return i + 1 < segments.count && end <= upto
        }
        let map = OffsetMap.build(segments: cleanedSegments.map { segments[$0] }, from: checkpoint, to: upto,
                                  maxKeys: maxKeys)
        var lines = [map.latestOffset < checkpoint ? "map empty (nothing dirty below \(upto))"
            : "map \(map.count) keys, offsets \(checkpoint)...\(map.latestOffset)"]
        let before = segments
        for i in cleanedSegments {
            var rewritten: [BatchSummary] = []
            for batch in segments[i] {
                let plan = RecordRetention.plan(batch, map: map, nowMs: now, deleteRetentionMs: retention,
                                                producerLastOffsets: producers)
                lines.append(describe(plan, batch))
                guard plan.action != .drop else { continue }
                var out = batch
                out.records = batch.records.filter { plan.kept.contains($0.offset) }
                out.deleteHorizonMs = plan.deleteHorizonMs
                rewritten.append(out)
            }
            segments[i] = rewritten
        }
        if map.latestOffset >= checkpoint {
            checkpoint = map.latestOffset + 1
            lines.append("checkpoint \(checkpoint)")
        }
        lines += invariants(before: before, after: segments, map: map, now: now)
        return lines.joined(separator: "\n")
    }

    func describe(_ plan: BatchPlan, _ batch: BatchSummary) -> String {
        var text = "\(plan.baseOffset)-\(plan.lastOffset) \(plan.action.rawValue)"
        if plan.action == .rewrite { text += " kept=" + plan.kept.map(String.init).joined(separator: ",") }
        if let horizon = plan.deleteHorizonMs, plan.action != .drop {
            text += batch.deleteHorizonMs == nil ? " horizon=\(horizon) (new)" : " horizon=\(horizon)"
        }
        return text
    }

    func invariants(before: [[BatchSummary]], after: [[BatchSummary]], map: OffsetMap, now: Int64) -> [String] {
        var problems: [String] = []
        let oldBatches = before.flatMap { $0 }
        let newBatches = after.flatMap { $0 }
        // Offsets never change: every surviving batch is one of the old ones, same base and last.
        for batch in newBatches where !oldBatches.contains(where: { $0.baseOffset == batch.baseOffset && $0.lastOffset == batch.lastOffset }) {
            problems.append("invariant: batch \(batch.baseOffset)-\(batch.lastOffset) is new")
        }
        for (a, b) in zip(newBatches, newBatches.dropFirst()) where b.baseOffset <= a.lastOffset {
            problems.append("invariant: batches \(a.baseOffset) and \(b.baseOffset) out of order")
        }
        // Nothing above the map changes.
        let oldAbove = oldBatches.flatMap(\.records).filter { $0.offset > map.latestOffset }
        let newAbove = newBatches.flatMap(\.records).filter { $0.offset > map.latestOffset }
        if oldAbove != newAbove { problems.append("invariant: records above the map changed") }
        // Each key's newest record survives (unless it is an expired tombstone).
        var newest: [[UInt8]: (RecordSummary, BatchSummary)] = [:]
        for batch in oldBatches { for record in batch.records { if let key = record.key { newest[key] = (record, batch) } } }
        let surviving = Set(newBatches.flatMap(\.records).map(\.offset))
        for (key, (record, batch)) in newest where !surviving.contains(record.offset) {
            let expired = !record.hasValue && (batch.deleteHorizonMs.map { now >= $0 } ?? false)
            if !expired { problems.append("invariant: newest record of \(String(decoding: key, as: UTF8.self)) at \(record.offset) lost") }
        }
        return problems
    }

    func describeLog() -> String {
        segments.enumerated().map { i, batches in
            let text = batches.map { batch -> String in
                var head = "\(batch.baseOffset)-\(batch.lastOffset)"
                if batch.producerId >= 0 { head += " pid=\(batch.producerId)" }
                if batch.isControl { head += " control" }
                if let horizon = batch.deleteHorizonMs { head += " horizon=\(horizon)" }
                let records = batch.records.map { record -> String in
                    let key = record.key.map { String(decoding: $0, as: UTF8.self) } ?? "-"
                    return "\(key)\(record.hasValue ? "" : "*")@\(record.offset)"
                }
                return "[\(([head] + records).joined(separator: " "))]"
            }
            return "segment \(i): " + (text.isEmpty ? "empty" : text.joined(separator: " "))
        }.joined(separator: "\n")
    }

    func read() -> String {
        var newest: [String: RecordSummary] = [:]
        for record in segments.flatMap({ $0 }).flatMap(\.records) {
            if let key = record.key { newest[String(decoding: key, as: UTF8.self)] = record }
        }
        let live = newest.filter { $0.value.hasValue }.sorted { $0.key < $1.key }
        return live.isEmpty ? "no keys" : live.map { "\($0.key)=@\($0.value.offset)" }.joined(separator: " ")
    }
}

@Test(arguments: ScenarioFile.files(besides: #filePath).map(\.lastPathComponent))
func compactionScenario(_ name: String) throws {
    let url = ScenarioFile.files(besides: #filePath).first { $0.lastPathComponent == name }!
    var scenario = CompactionScenario()
    let mismatches = try ScenarioFile.run(url, rewriteVariable: "COMPACTION_REWRITE") { try scenario.run($0) }
    #expect(mismatches.isEmpty, "\(mismatches.map(\.description).joined(separator: "\n\n"))")
}

@Test func compactionScenarioFilesExist() {
    #expect(ScenarioFile.files(besides: #filePath).filter { $0.lastPathComponent.hasPrefix("compaction_") }.count >= 4)
}
