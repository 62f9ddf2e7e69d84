import RunnelCore

/// A change to cluster metadata: the unit of the metadata log (DESIGN.md §5). Every node applies
/// committed records, in order, to a `MetadataImage`. Today a single node writes and applies them
/// itself; under Raft they will be proposed by the controller and applied once committed.
///
/// Encoding (`encode`/`decode`): int8 record type, int8 version (0), then the fields big-endian;
/// strings as int16 length + UTF-8. The log that holds them adds framing and CRCs.
public enum MetadataRecord: Equatable, Sendable {
    case topic(name: TopicName, id: TopicID)
    case partition(PartitionState)
    /// A topic config override set (value) or removed (nil).
    case config(topic: TopicName, key: String, value: String?)
    case removeTopic(id: TopicID)
    /// Producer ids below `nextProducerID` have been handed out (InitProducerId), so a restart
    /// never reuses one.
    case producerIDs(nextProducerID: Int64)

    var typeTag: UInt8 {
        switch self {
        case .topic: return 1
        case .partition: return 2
        case .config: return 3
        case .removeTopic: return 4
        case .producerIDs: return 5
        }
    }
}

/// One partition's assignment and leadership.
public struct PartitionState: Equatable, Sendable {
    public var topicID: TopicID
    public var partition: PartitionID
    public var replicas: [BrokerID]
    public var isr: [BrokerID]
    public var leader: BrokerID
    public var leaderEpoch: LeaderEpoch

    public init(topicID: TopicID, partition: PartitionID, replicas: [BrokerID], isr: [BrokerID],
                leader: BrokerID, leaderEpoch: LeaderEpoch) {
        self.topicID = topicID
        self.partition = partition
        self.replicas = replicas
        self.isr = isr
        self.leader = leader
        self.leaderEpoch = leaderEpoch
    }
}

/// Why a stored metadata record could not be decoded.
public struct MetadataDecodeError: Error, Equatable, CustomStringConvertible, Sendable {
    public let reason: String
    public var description: String { "metadata record: \(reason)" }
}

extension MetadataRecord {
    public func encode() -> [UInt8] {
        var w = ByteWriter()
        w.u8(typeTag)
        w.u8(0)
        switch self {
        case .topic(let name, let id):
            w.string(name.rawValue)
            w.topicID(id)
        case .partition(let p):
            w.topicID(p.topicID)
            w.i32(p.partition.rawValue)
            w.brokers(p.replicas)
            w.brokers(p.isr)
            w.i32(p.leader.rawValue)
            w.i32(p.leaderEpoch.rawValue)
        case .config(let topic, let key, let value):
            w.string(topic.rawValue)
            w.string(key)
            if let value { w.u8(1); w.string(value) } else { w.u8(0) }
        case .removeTopic(let id):
            w.topicID(id)
        case .producerIDs(let next):
            w.i64(next)
        }
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(MetadataDecodeError) -> MetadataRecord {
        var r = ByteReader(bytes: bytes)
        let tag = try r.u8()
        let version = try r.u8()
        guard version == 0 else { throw MetadataDecodeError(reason: "unknown version \(version) of record type \(tag)") }
        let record: MetadataRecord
        switch tag {
        case 1:
            record = .topic(name: TopicName(try r.string()), id: try r.topicID())
        case 2:
            let id = try r.topicID()
            let partition = PartitionID(try r.i32())
            let replicas = try r.brokers()
            let isr = try r.brokers()
            let leader = BrokerID(try r.i32())
            let epoch = LeaderEpoch(try r.i32())
            record = .partition(PartitionState(topicID: id, partition: partition, replicas: replicas, isr: isr,
                                               leader: leader, leaderEpoch: epoch))
        case 3:
            let topic = TopicName(try r.string())
            let key = try r.string()
            let value: String? = try r.u8() == 1 ? try r.string() : nil
            record = .config(topic: topic, key: key, value: value)
        case 4:
            record = .removeTopic(id: try r.topicID())
        case 5:
            record = .producerIDs(nextProducerID: try r.i64())
        default:
            throw MetadataDecodeError(reason: "unknown record type \(tag)")
        }
        guard r.atEnd else { throw MetadataDecodeError(reason: "\(bytes.count - r.position) trailing bytes after record type \(tag)") }
        return record
    }
}

struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func i32(_ v: Int32) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func i64(_ v: Int64) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        precondition(utf8.count <= Int(Int16.max), "metadata string too long")
        withUnsafeBytes(of: Int16(utf8.count).bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: utf8)
    }
    mutating func topicID(_ id: TopicID) { i64(Int64(bitPattern: id.high)); i64(Int64(bitPattern: id.low)) }
    mutating func brokers(_ ids: [BrokerID]) { i32(Int32(ids.count)); for id in ids { i32(id.rawValue) } }
}

struct ByteReader {
    let bytes: [UInt8]
    var position = 0
    var atEnd: Bool { position == bytes.count }

    mutating func take(_ n: Int) throws(MetadataDecodeError) -> ArraySlice<UInt8> {
        guard n >= 0, bytes.count - position >= n else {
            throw MetadataDecodeError(reason: "truncated: need \(n) bytes at \(position) of \(bytes.count)")
        }
        defer { position += n }
        return bytes[position..<position + n]
    }
    mutating func u8() throws(MetadataDecodeError) -> UInt8 { try take(1).first! }
    mutating func int<T: FixedWidthInteger>(_: T.Type) throws(MetadataDecodeError) -> T {
        var v: T = 0
        for b in try take(MemoryLayout<T>.size) { v = v << 8 | T(b) }
        return v
    }
    mutating func i32() throws(MetadataDecodeError) -> Int32 { try int(Int32.self) }
    mutating func i64() throws(MetadataDecodeError) -> Int64 { try int(Int64.self) }
    mutating func string() throws(MetadataDecodeError) -> String {
        let n = Int(try int(Int16.self))
        guard let s = String(validating: try take(n), as: UTF8.self) else {
            throw MetadataDecodeError(reason: "invalid UTF-8 string at \(position - n)")
        }
        return s
    }
    mutating func topicID() throws(MetadataDecodeError) -> TopicID {
        TopicID(high: UInt64(bitPattern: try i64()), low: UInt64(bitPattern: try i64()))
    }
    mutating func brokers() throws(MetadataDecodeError) -> [BrokerID] {
        let n = Int(try i32())
        guard n >= 0, n <= (bytes.count - position) / 4 else { throw MetadataDecodeError(reason: "bad broker count \(n)") }
        var out: [BrokerID] = []
        for _ in 0..<n { out.append(BrokerID(try i32())) }
        return out
    }
}
