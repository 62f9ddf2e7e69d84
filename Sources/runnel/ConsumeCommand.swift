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
            -f tokens: %s value, %k key, %t topic, %p partition, %o offset, %T timestamp, %h headers, \
            %S/%K value/key length, %% percent; escapes \\n \\t \\r \\\\. Without --exit-at-end the \
            command waits for new records until interrupted.
            """
    )

    @OptionGroup var client: ClientOptions
    @Argument(help: "Topic name.") var topic: String
    @Option(name: [.short, .customLong("partition")], help: "Only this partition (default: all).") var partition: Int32?
    @Option(name: [.short, .customLong("offset")], help: "beginning, end, OFFSET or @TIMESTAMP_MS.") var offset: String = "beginning"
    @Option(name: [.customShort("n"), .customLong("count")], help: "Exit after this many records.") var count: Int?
    @Option(name: [.short, .customLong("format")], help: "Output format (default: %s\\n).") var format: String?
    @Flag(name: [.short, .customLong("exit-at-end")], help: "Exit once every partition's end is reached.") var exitAtEnd = false
    @Option(name: .customLong("max-wait-ms"), help: "How long one fetch may wait for data.") var maxWaitMs: Int32 = 500

    func validate() throws {
        _ = try Self.parseStart(offset)
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
        let start = try Self.parseStart(offset)
        var config = ConsumerConfig()
        config.maxWaitMs = maxWaitMs
        config.offsetReset = .nearest
        let limit = count
        let exitAtEnd = self.exitAtEnd
        try await client.withClient { client in
            let consumer = KafkaConsumer(client: client, config: config)
            try await consumer.assign(topic: topic, partitions: partition.map { [PartitionID($0)] }, at: start)
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
