import ArgumentParser
import Foundation
import RunnelClient
import RunnelCore

/// `runnel consume TOPIC`: prints records, one value per line or in a kcat-like format.
struct ConsumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Print records of a topic.",
        discussion: """
            -o takes beginning, end, an offset, or @TIMESTAMP_MS (the first record at or after that \
            time). The default is beginning, as in kcat (Kafka's console consumer starts at the end). \
            An offset outside the partition's log (before its start or past its end) is an error. \
            -f tokens: %s value, %k key, %t topic, %p partition, %o offset, %T timestamp, %h headers, \
            %S/%K value/key length, %% percent; escapes \\n \\t \\r \\\\. Without --exit-at-end the \
            command waits for new records until interrupted.

            With -g GROUP the command joins the consumer group GROUP (KIP-848 protocol: the \
            coordinator assigns the partitions) and starts each partition at the group's committed \
            offset. -o then only says where a partition without a committed offset (or with one \
            outside the log, which is reported on stderr) starts: beginning \
            (the default, as without -g; Kafka's auto.offset.reset default is latest) or end; an \
            offset or @TIMESTAMP_MS is refused (use `runnel group seek`). It commits the offsets of \
            the records it has printed about once a second and before it exits, and leaves the group \
            on Ctrl-C (SIGINT or SIGTERM; a second one exits at once), after -n COUNT records, or \
            with -e once every partition assigned to it is at its end.

            --pattern REGEX (or a topic argument starting with ^, as in librdkafka) subscribes the \
            group member to every topic whose whole name matches; it needs -g. The group \
            coordinator resolves the pattern (Kafka's RE2/J syntax; Runnel's differences are in \
            docs/decisions.md D33) and reassigns as matching topics are created and deleted.
            """
    )

    @OptionGroup var client: ClientOptions
    @Argument(help: "Topic name; one starting with ^ is a pattern (as --pattern).") var topic: String?
    @Option(name: .customLong("pattern"), help: "Subscribe to every topic whose whole name matches this regex (needs -g).")
    var pattern: String?
    @Option(name: [.short, .customLong("partition")], help: "Only this partition (default: all).") var partition: Int32?
    @Option(name: [.short, .customLong("offset")], help: "beginning, end, OFFSET or @TIMESTAMP_MS (default: beginning).")
    var offset: String?
    @Option(name: [.short, .customLong("group")], help: "Consume as a member of this consumer group.") var group: String?
    @Option(name: [.customShort("n"), .customLong("count")], help: "Exit after this many records.") var count: Int?
    @Option(name: [.short, .customLong("format")], help: "Output format (default: %s\\n).") var format: String?
    @Flag(name: [.short, .customLong("exit-at-end")], help: "Exit once every partition's end is reached.") var exitAtEnd = false
    @Option(name: .customLong("max-wait-ms"), help: "How long one fetch may wait for data.") var maxWaitMs: Int32 = 500

    /// The topic argument unless it is a pattern.
    var topicName: String? { topic.flatMap { $0.hasPrefix("^") ? nil : $0 } }
    /// --pattern, or the topic argument when it starts with ^.
    var topicPattern: String? { pattern ?? topic.flatMap { $0.hasPrefix("^") ? $0 : nil } }

    func validate() throws {
        let start = try Self.parseStart(offset ?? "beginning")
        if topic == nil && pattern == nil { throw ValidationError("give a topic, or --pattern REGEX with -g") }
        if topic != nil && pattern != nil { throw ValidationError("give a topic or --pattern, not both") }
        if let topicPattern {
            if topicPattern.isEmpty { throw ValidationError("--pattern needs a non-empty regex") }
            if group == nil {
                throw ValidationError("a pattern needs -g GROUP: the group's coordinator resolves it to topics")
            }
        }
        if let group {
            if group.isEmpty { throw ValidationError("-g needs a non-empty group id") }
            if partition != nil {
                throw ValidationError("-p cannot be combined with -g: the group's coordinator assigns the partitions")
            }
            if start != .beginning && start != .end {
                throw ValidationError("""
                    -o \(offset ?? "") cannot be combined with -g: a group member starts at the group's committed \
                    offsets (-o beginning|end only chooses where partitions without one start); move them with \
                    `runnel group seek`
                    """)
            }
        }
        if let count, count < 0 { throw ValidationError("-n must not be negative") }
        if let format { _ = try RecordFormatter(format: format) }
    }

    static func parseStart(_ text: String) throws -> StartOffset {
        switch text.lowercased() {
        case "beginning", "earliest", "start": return .beginning
        case "end", "latest": return .end
        default:
            if text.hasPrefix("@"), let time = Int64(text.dropFirst()), time >= 0 { return .timestamp(TimestampMs(time)) }
            if let offset = Int64(text), offset >= 0 { return .offset(Offset(offset)) }
            throw ValidationError("-o must be beginning, end, an offset or @TIMESTAMP_MS (got '\(text)')")
        }
    }

    func run() async throws {
        let formatter = try format.map { try RecordFormatter(format: $0) } ?? RecordFormatter.valuePerLine
        let start = try Self.parseStart(offset ?? "beginning")
        if let group {
            try await runInGroup(group, start: start, formatter: formatter)
            return
        }
        var config = ConsumerConfig()
        config.maxWaitMs = maxWaitMs
        // An explicit -o N outside the log is an error (D25); other starts follow the log.
        if case .offset = start { config.offsetReset = .fail } else { config.offsetReset = .nearest }
        config.onOffsetReset = { CommandFailure.printError($0.description) }
        let limit = count
        let exitAtEnd = self.exitAtEnd
        try await client.withClient { client in
            let consumer = KafkaConsumer(client: client, config: config)
            try await consumer.assign(topic: topicName!, partitions: partition.map { [PartitionID($0)] }, at: start)
            if exitAtEnd { try await consumer.loadEndOffsets() }
            var printed = 0
            var out: [UInt8] = []
            while true {
                if limit.map({ printed >= $0 }) == true { return }
                if exitAtEnd && consumer.isAtEnd { return }
                let records = try await consumer.poll()
                out.removeAll(keepingCapacity: true)
                for record in records {
                    if limit.map({ printed >= $0 }) == true { break }
                    formatter.render(record, into: &out)
                    printed += 1
                }
                StandardOutput.write(out)
            }
        }
    }
}

extension ConsumeCommand {
    /// `consume -g GROUP`: a `GroupConsumer` that commits what was printed and leaves the group
    /// when it stops.
    func runInGroup(_ groupId: String, start: StartOffset, formatter: RecordFormatter) async throws {
        var config = GroupConsumerConfig(groupId: groupId, topics: topicName.map { [$0] } ?? [])
        config.topicPattern = topicPattern
        config.consumer.maxWaitMs = maxWaitMs
        config.consumer.offsetReset = start == .end ? .latest : .earliest
        // A committed offset outside the log is reset as Kafka's auto.offset.reset does, but never silently (D25).
        config.consumer.onOffsetReset = { CommandFailure.printError("group \(groupId): \($0)") }
        // Committed at the start of the next poll, i.e. after the records were printed.
        config.autoCommitIntervalMs = 1_000
        let limit = count
        let exitAtEnd = self.exitAtEnd
        let interrupt = InterruptFlag.install()
        try await client.withClient { client in
            // Fail early, with the topic's name, when it does not exist (a pattern may match
            // nothing yet: topics created later are assigned when they appear).
            if let topicName { _ = try await client.topicMetadata(topicName) }
            let consumer = try GroupConsumer(client: client, config: config)
            do {
                var printed = 0
                var out: [UInt8] = []
                while !interrupt.isSet {
                    if limit.map({ printed >= $0 }) == true { break }
                    if exitAtEnd && consumer.isAtEnd { break }
                    let records = try await consumer.poll()
                    out.removeAll(keepingCapacity: true)
                    var firstUnprinted: [PartitionKey: Offset] = [:]
                    for record in records {
                        if limit.map({ printed >= $0 }) == true {
                            let key = PartitionKey(topic: record.topic, partition: record.partition)
                            if firstUnprinted[key] == nil { firstUnprinted[key] = record.offset }
                            continue
                        }
                        formatter.render(record, into: &out)
                        printed += 1
                    }
                    StandardOutput.write(out)
                    // Records fetched beyond -n are not committed: the group's next member reads them.
                    for (key, offset) in firstUnprinted {
                        consumer.seek(topic: key.topic, partition: key.partition, to: offset)
                    }
                }
                try await consumer.close()
            } catch {
                try? await consumer.close()
                throw error
            }
        }
    }

    struct PartitionKey: Hashable {
        var topic: String
        var partition: PartitionID
    }
}

/// The first SIGINT or SIGTERM sets a flag that the group consume loop checks between polls
/// (at most `--max-wait-ms` apart), so that it can commit and leave the group; a second one
/// exits at once with 128 + the signal number, as an uncaught signal would.
final class InterruptFlag: @unchecked Sendable {
    // @unchecked: `isSetValue` is behind `lock`; `sources` is written once, in `install`.
    private let lock = NSLock()
    private var isSetValue = false
    private var sources: [any DispatchSourceSignal] = []

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return isSetValue
    }

    /// Returns true when the flag was already set.
    private func set() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let was = isSetValue
        isSetValue = true
        return was
    }

    static func install() -> InterruptFlag {
        let flag = InterruptFlag()
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if flag.set() { exit(128 + number) }
            }
            source.resume()
            flag.sources.append(source)
        }
        return flag
    }
}
