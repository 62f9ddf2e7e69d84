import ArgumentParser
import Foundation
import KafkaWire
import NIOCore
import RunnelClient
import RunnelCore

/// `runnel produce TOPIC`: one record per stdin line.
struct ProduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Produce one record per stdin line.",
        discussion: "With -k SEP the text before the first SEP on a line is the key, the rest the value. A summary goes to stderr."
    )

    @OptionGroup var client: ClientOptions
    @Argument(help: "Topic name.") var topic: String
    @Option(name: [.short, .customLong("partition")], help: "Send every record to this partition (default: by key, else sticky).")
    var partition: Int32?
    @Option(name: [.customShort("k"), .customLong("key-separator")], help: "Split each line into key and value at the first SEP.")
    var keySeparator: String?
    @Option(name: .customLong("acks"), help: "all, 1 or 0.") var acks: String = "all"
    @Option(name: .customLong("compression"), help: "none, gzip, snappy, lz4 or zstd.") var compression: String = "none"
    @Option(name: .customLong("linger-ms"), help: "How long a batch waits for more records.") var lingerMs: Int64 = 5
    @Option(name: .customLong("batch-bytes"), help: "Batch size in bytes.") var batchBytes: Int = 64 * 1024
    @Flag(name: .customLong("idempotent"), help: "Use an idempotent producer (needs --acks all).") var idempotent = false

    func validate() throws {
        guard Acks(name: acks) != nil else { throw ValidationError("--acks must be all, 1 or 0 (got '\(acks)')") }
        guard let codec = Compression(name: compression), codec.isSupported else {
            throw ValidationError("--compression must be none, gzip, snappy, lz4 or zstd (got '\(compression)')")
        }
        if keySeparator?.isEmpty == true { throw ValidationError("-k needs a non-empty separator") }
    }

    func run() async throws {
        var config = ProducerConfig()
        config.acks = Acks(name: acks)!
        config.compression = Compression(name: compression)!
        config.lingerMs = lingerMs
        config.batchBytes = batchBytes
        config.idempotent = idempotent
        let started = DispatchTime.now()
        let separator = keySeparator.map { Array($0.utf8) }
        let target = partition.map { PartitionID($0) }
        let count = try await client.withClient { client in
            let producer = try await KafkaProducer(client: client, config: config)
            // Fail early, with the topic's name, when it does not exist.
            _ = try await client.topicMetadata(topic, allowAutoTopicCreation: config.allowAutoTopicCreation)
            var count = 0
            var reader = LineReader(fileDescriptor: 0)
            while let line = try reader.nextLine() {
                let (key, value) = Self.split(line, separator: separator)
                try await producer.send(topic: topic, partition: target, key: key, value: value)
                count += 1
            }
            try await producer.close()
            return count
        }
        let elapsedMs = (DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000
        FileHandle.standardError.write(Data("produced \(counted(count, "record")) to \(topic) in \(elapsedMs) ms\n".utf8))
    }

    /// Key and value of one line: with a separator, the bytes before its first occurrence are the
    /// key (a line without it has no key).
    static func split(_ line: ArraySlice<UInt8>, separator: [UInt8]?) -> (ByteBuffer?, ByteBuffer) {
        guard let separator, !separator.isEmpty, line.count >= separator.count else {
            return (nil, ByteBuffer(bytes: line))
        }
        var index = line.startIndex
        while index + separator.count <= line.endIndex {
            if line[index..<(index + separator.count)].elementsEqual(separator) {
                return (ByteBuffer(bytes: line[line.startIndex..<index]),
                        ByteBuffer(bytes: line[(index + separator.count)...]))
            }
            index += 1
        }
        return (nil, ByteBuffer(bytes: line))
    }
}

/// Reads lines ('\n'-terminated, a trailing '\r' kept) from a file descriptor in 64 KiB chunks.
/// The last line needs no terminator.
struct LineReader {
    let fileDescriptor: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false

    init(fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
    }

    mutating func nextLine() throws -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                let line = buffer[start..<newline]
                start = newline + 1
                return line
            }
            if eof {
                guard start < buffer.count else { return nil }
                let line = buffer[start...]
                start = buffer.count
                return line
            }
            buffer.removeFirst(start)
            start = 0
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            let count = chunk.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw KafkaClientError.invalidArgument("cannot read stdin: \(String(cString: strerror(errno)))")
            }
            if count == 0 { eof = true } else { buffer += chunk[0..<count] }
        }
    }
}
