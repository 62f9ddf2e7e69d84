import KafkaWire
import NIOCore
import RunnelCore

/// Renders consumed records with kcat-like format strings (`runnel consume -f`):
///
///     %s value   %k key   %t topic   %p partition   %o offset   %T timestamp (ms)
///     %S value length   %K key length (-1 when null)   %h headers as k=v,k=v   %% a percent sign
///     \n newline   \t tab   \r carriage return   \\ backslash
///
/// A null key or value renders as nothing. The format is parsed once into segments.
public struct RecordFormatter: Sendable {
    enum Segment: Sendable, Equatable {
        case literal([UInt8])
        case value, key, topic, partition, offset, timestamp, valueLength, keyLength, headers
    }

    let segments: [Segment]

    /// The default: the value, one per line.
    public static let valuePerLine = try! RecordFormatter(format: "%s\\n")

    public init(format: String) throws {
        var segments: [Segment] = []
        var literal: [UInt8] = []
        func flush() {
            if !literal.isEmpty { segments.append(.literal(literal)) }
            literal = []
        }
        let bytes = Array(format.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if (byte == UInt8(ascii: "%") || byte == UInt8(ascii: "\\")) && index + 1 < bytes.count {
                let next = bytes[index + 1]
                index += 2
                if byte == UInt8(ascii: "\\") {
                    switch next {
                    case UInt8(ascii: "n"): literal.append(0x0A)
                    case UInt8(ascii: "t"): literal.append(0x09)
                    case UInt8(ascii: "r"): literal.append(0x0D)
                    case UInt8(ascii: "\\"): literal.append(UInt8(ascii: "\\"))
                    default: literal += [byte, next]
                    }
                    continue
                }
                let token: Segment
                switch next {
                case UInt8(ascii: "%"): literal.append(UInt8(ascii: "%")); continue
                case UInt8(ascii: "s"): token = .value
                case UInt8(ascii: "k"): token = .key
                case UInt8(ascii: "t"): token = .topic
                case UInt8(ascii: "p"): token = .partition
                case UInt8(ascii: "o"): token = .offset
                case UInt8(ascii: "T"): token = .timestamp
                case UInt8(ascii: "S"): token = .valueLength
                case UInt8(ascii: "K"): token = .keyLength
                case UInt8(ascii: "h"): token = .headers
                default:
                    throw KafkaClientError.invalidArgument(
                        "format token '%\(Character(Unicode.Scalar(next)))' is not one of %s %k %t %p %o %T %S %K %h %%")
                }
                flush()
                segments.append(token)
            } else {
                literal.append(byte)
                index += 1
            }
        }
        flush()
        self.segments = segments
    }

    /// Appends the rendering of `record` to `out`.
    public func render(_ record: ConsumerRecord, into out: inout [UInt8]) {
        for segment in segments {
            switch segment {
            case .literal(let bytes): out += bytes
            case .value: append(record.value, to: &out)
            case .key: append(record.key, to: &out)
            case .topic: out += record.topic.utf8
            case .partition: out += String(record.partition.rawValue).utf8
            case .offset: out += String(record.offset.rawValue).utf8
            case .timestamp: out += String(record.timestamp.rawValue).utf8
            case .valueLength: out += String(record.value?.readableBytes ?? -1).utf8
            case .keyLength: out += String(record.key?.readableBytes ?? -1).utf8
            case .headers:
                for (index, header) in record.headers.enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    out += header.key.utf8
                    out.append(UInt8(ascii: "="))
                    append(header.value, to: &out)
                }
            }
        }
    }

    public func render(_ record: ConsumerRecord) -> String {
        var out: [UInt8] = []
        render(record, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private func append(_ buffer: ByteBuffer?, to out: inout [UInt8]) {
        guard let buffer else { return }
        buffer.withUnsafeReadableBytes { out.append(contentsOf: $0) }
    }
}
