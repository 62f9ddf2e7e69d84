import RunnelCore

/// A change to cluster metadata: the unit of the metadata log (DESIGN.md §5). Every node applies
/// committed records, in order, to a `MetadataImage`; the active controller writes them
/// (`MetadataController` decides which).
///
/// Encoding (`encode`/`decode`): int8 record type, int8 version, then the fields big-endian;
/// strings as int16 length + UTF-8. The log that holds them adds framing and CRCs. A decoder
/// reads every version it ever wrote (version 0 partition records, from before partition
/// epochs, decode with partition epoch 0).
public enum MetadataRecord: Equatable, Sendable {
    case topic(name: TopicName, id: TopicID)
    /// The whole new state of one partition (creation, and every later change: leader, ISR,
    /// replicas). Kafka splits this into PartitionRecord and PartitionChangeRecord; one full
    /// state per change keeps replay trivial and the records stay small.
    case partition(PartitionState)
    /// A topic config override set (value) or removed (nil).
    case config(topic: TopicName, key: String, value: String?)
    case removeTopic(id: TopicID)
    /// Producer ids below `nextProducerID` have been handed out (InitProducerId), so a restart
    /// never reuses one.
    case producerIDs(nextProducerID: Int64)
    /// A broker registered (or registered again after a restart): always fenced at first.
    case registerBroker(BrokerRegistration)
    /// A registered broker's fencing or controlled-shutdown state changed. `epoch` is the
    /// registration it applies to; a record for an older registration is ignored.
    case brokerChange(id: BrokerID, epoch: Int64, fenced: Bool?, inControlledShutdown: Bool?)
    case unregisterBroker(id: BrokerID, epoch: Int64)
    /// A dynamic broker config set (value) or removed (nil): Kafka's ConfigRecord for resource
    /// type BROKER. `resourceName` is a broker id ("1") or empty for the cluster-wide default.
    case brokerConfig(resourceName: String, key: String, value: String?)
    /// A user's SCRAM credential for one mechanism (Kafka's UserScramCredentialRecord), or its
    /// removal (nil). `mechanism` is Kafka's code: 1 SCRAM-SHA-256, 2 SCRAM-SHA-512.
    case scramCredential(user: String, mechanism: Int8, credential: ScramCredential?)

    var typeTag: UInt8 {
        switch self {
        case .topic: return 1
        case .partition: return 2
        case .config: return 3
        case .removeTopic: return 4
        case .producerIDs: return 5
        case .registerBroker: return 6
        case .brokerChange: return 7
        case .unregisterBroker: return 8
        case .brokerConfig: return 9
        case .scramCredential: return 10
        }
    }

    /// The version `encode` writes for this record type.
    var version: UInt8 {
        switch self {
        case .partition: return 1
        default: return 0
        }
    }
}

/// One partition's assignment and leadership.
public struct PartitionState: Equatable, Sendable {
    public var topicID: TopicID
    public var partition: PartitionID
    /// The assigned replicas; the first is the preferred leader.
    public var replicas: [BrokerID]
    /// In-sync replicas: never empty (when its last member is fenced it stays, leaderless, so
    /// that broker can lead again when it returns).
    public var isr: [BrokerID]
    /// `BrokerID.noLeader` (-1) while no eligible replica is available.
    public var leader: BrokerID
    /// Bumped whenever the leader changes.
    public var leaderEpoch: LeaderEpoch
    /// Bumped by every change of the partition (leader, ISR, replicas); AlterPartition requests
    /// must name the current one.
    public var partitionEpoch: Int32

    public init(topicID: TopicID, partition: PartitionID, replicas: [BrokerID], isr: [BrokerID],
                leader: BrokerID, leaderEpoch: LeaderEpoch, partitionEpoch: Int32 = 0) {
        self.topicID = topicID
        self.partition = partition
        self.replicas = replicas
        self.isr = isr
        self.leader = leader
        self.leaderEpoch = leaderEpoch
        self.partitionEpoch = partitionEpoch
    }

    public var hasLeader: Bool { leader != .noLeader }
    /// The preferred leader: the first assigned replica.
    public var preferredLeader: BrokerID { replicas.first ?? .noLeader }
}

extension BrokerID {
    /// Kafka's NO_LEADER: a partition without an eligible leader.
    public static let noLeader = BrokerID(-1)
}

/// A broker's registration with the controller (Kafka's RegisterBrokerRecord).
public struct BrokerRegistration: Equatable, Sendable {
    public struct Endpoint: Equatable, Sendable, CustomStringConvertible {
        public var name: String
        public var host: String
        public var port: Int32
        /// Kafka's security protocol id (0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL).
        public var securityProtocol: Int16
        public init(name: String, host: String, port: Int32, securityProtocol: Int16 = 0) {
            self.name = name
            self.host = host
            self.port = port
            self.securityProtocol = securityProtocol
        }
        public var description: String { "\(name)://\(host):\(port)" }
    }

    public var id: BrokerID
    /// Random per broker process start: a second process with the same id is told apart.
    public var incarnation: TopicID
    /// Assigned by the controller (the metadata offset of this record); heartbeats and
    /// AlterPartition name it, so a request from an earlier life of the broker is refused.
    public var epoch: Int64
    public var listeners: [Endpoint]
    public var rack: String?
    public var fenced: Bool
    public var inControlledShutdown: Bool

    public init(id: BrokerID, incarnation: TopicID, epoch: Int64, listeners: [Endpoint], rack: String?,
                fenced: Bool = true, inControlledShutdown: Bool = false) {
        self.id = id
        self.incarnation = incarnation
        self.epoch = epoch
        self.listeners = listeners
        self.rack = rack
        self.fenced = fenced
        self.inControlledShutdown = inControlledShutdown
    }

    /// May lead partitions and be added to ISRs: unfenced and not shutting down.
    public var isUsable: Bool { !fenced && !inControlledShutdown }
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
        w.u8(version)
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
            w.i32(p.partitionEpoch)
        case .config(let topic, let key, let value):
            w.string(topic.rawValue)
            w.string(key)
            w.optionalString(value)
        case .removeTopic(let id):
            w.topicID(id)
        case .producerIDs(let next):
            w.i64(next)
        case .registerBroker(let b):
            w.i32(b.id.rawValue)
            w.topicID(b.incarnation)
            w.i64(b.epoch)
            w.i32(Int32(b.listeners.count))
            for l in b.listeners {
                w.string(l.name)
                w.string(l.host)
                w.i32(l.port)
                w.i16(l.securityProtocol)
            }
            w.optionalString(b.rack)
            w.bool(b.fenced)
            w.bool(b.inControlledShutdown)
        case .brokerChange(let id, let epoch, let fenced, let shutdown):
            w.i32(id.rawValue)
            w.i64(epoch)
            w.optionalBool(fenced)
            w.optionalBool(shutdown)
        case .unregisterBroker(let id, let epoch):
            w.i32(id.rawValue)
            w.i64(epoch)
        case .brokerConfig(let resourceName, let key, let value):
            w.string(resourceName)
            w.string(key)
            w.optionalString(value)
        case .scramCredential(let user, let mechanism, let credential):
            w.encodeScramCredential(user: user, mechanism: mechanism, credential: credential)
        }
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(MetadataDecodeError) -> MetadataRecord {
        var r = ByteReader(bytes: bytes)
        let tag = try r.u8()
        let version = try r.u8()
        let newest: UInt8 = tag == 2 ? 1 : 0
        guard version <= newest else { throw MetadataDecodeError(reason: "unknown version \(version) of record type \(tag)") }
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
            let partitionEpoch = version >= 1 ? try r.i32() : 0
            record = .partition(PartitionState(topicID: id, partition: partition, replicas: replicas, isr: isr,
                                               leader: leader, leaderEpoch: epoch, partitionEpoch: partitionEpoch))
        case 3:
            let topic = TopicName(try r.string())
            let key = try r.string()
            record = .config(topic: topic, key: key, value: try r.optionalString())
        case 4:
            record = .removeTopic(id: try r.topicID())
        case 5:
            record = .producerIDs(nextProducerID: try r.i64())
        case 6:
            let id = BrokerID(try r.i32())
            let incarnation = try r.topicID()
            let epoch = try r.i64()
            let count = Int(try r.i32())
            guard count >= 0, count <= 64 else { throw MetadataDecodeError(reason: "bad listener count \(count)") }
            var listeners: [BrokerRegistration.Endpoint] = []
            for _ in 0..<count {
                listeners.append(.init(name: try r.string(), host: try r.string(), port: try r.i32(),
                                       securityProtocol: try r.int(Int16.self)))
            }
            let rack = try r.optionalString()
            let fenced = try r.bool()
            let shutdown = try r.bool()
            record = .registerBroker(BrokerRegistration(id: id, incarnation: incarnation, epoch: epoch, listeners: listeners,
                                                        rack: rack, fenced: fenced, inControlledShutdown: shutdown))
        case 7:
            record = .brokerChange(id: BrokerID(try r.i32()), epoch: try r.i64(), fenced: try r.optionalBool(),
                                   inControlledShutdown: try r.optionalBool())
        case 8:
            record = .unregisterBroker(id: BrokerID(try r.i32()), epoch: try r.i64())
        case 9:
            let resourceName = try r.string()
            let key = try r.string()
            record = .brokerConfig(resourceName: resourceName, key: key, value: try r.optionalString())
        case 10:
            record = try r.decodeScramCredential()
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
    mutating func i16(_ v: Int16) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func bool(_ v: Bool) { u8(v ? 1 : 0) }
    /// 0 = absent, 1 = false, 2 = true.
    mutating func optionalBool(_ v: Bool?) { u8(v.map { $0 ? 2 : 1 } ?? 0) }
    mutating func optionalString(_ s: String?) {
        if let s { u8(1); string(s) } else { u8(0) }
    }
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
    mutating func bool() throws(MetadataDecodeError) -> Bool {
        switch try u8() {
        case 0: return false
        case 1: return true
        case let v: throw MetadataDecodeError(reason: "bad boolean \(v) at \(position - 1)")
        }
    }
    mutating func optionalBool() throws(MetadataDecodeError) -> Bool? {
        switch try u8() {
        case 0: return nil
        case 1: return false
        case 2: return true
        case let v: throw MetadataDecodeError(reason: "bad optional boolean \(v) at \(position - 1)")
        }
    }
    mutating func optionalString() throws(MetadataDecodeError) -> String? {
        switch try u8() {
        case 0: return nil
        case 1: return try string()
        case let v: throw MetadataDecodeError(reason: "bad optional-string flag \(v) at \(position - 1)")
        }
    }
    mutating func brokers() throws(MetadataDecodeError) -> [BrokerID] {
        let n = Int(try i32())
        guard n >= 0, n <= (bytes.count - position) / 4 else { throw MetadataDecodeError(reason: "bad broker count \(n)") }
        var out: [BrokerID] = []
        for _ in 0..<n { out.append(BrokerID(try i32())) }
        return out
    }
}

extension MetadataRecord {
    /// Several records as one payload (a Raft entry's data, a snapshot's body): uint32 count,
    /// then each record as uint32 length + `encode()`.
    public static func encodeBatch(_ records: [MetadataRecord]) -> [UInt8] {
        var w = ByteWriter()
        w.i32(Int32(records.count))
        for record in records {
            let bytes = record.encode()
            w.i32(Int32(bytes.count))
            w.bytes += bytes
        }
        return w.bytes
    }

    public static func decodeBatch(_ bytes: [UInt8]) throws(MetadataDecodeError) -> [MetadataRecord] {
        var r = ByteReader(bytes: bytes)
        let count = Int(try r.i32())
        guard count >= 0, count <= bytes.count / 4 else { throw MetadataDecodeError(reason: "bad record count \(count)") }
        var records: [MetadataRecord] = []
        records.reserveCapacity(count)
        for _ in 0..<count {
            let length = Int(try r.i32())
            records.append(try decode(Array(try r.take(length))))
        }
        guard r.atEnd else { throw MetadataDecodeError(reason: "\(bytes.count - r.position) trailing bytes after \(count) records") }
        return records
    }
}

extension MetadataImage {
    /// A metadata snapshot's bytes: the metadata offset it was taken at (int64), then
    /// `snapshotRecords()` as a batch.
    public func encodeSnapshot() -> [UInt8] {
        var w = ByteWriter()
        w.i64(recordCount)
        w.bytes += MetadataRecord.encodeBatch(snapshotRecords())
        return w.bytes
    }

    public static func decodeSnapshot(_ bytes: [UInt8]) throws(MetadataDecodeError) -> MetadataImage {
        var r = ByteReader(bytes: bytes)
        let offset = try r.i64()
        let records = try MetadataRecord.decodeBatch(Array(bytes[r.position...]))
        return try restoring(snapshot: records, recordCount: offset)
    }
}
