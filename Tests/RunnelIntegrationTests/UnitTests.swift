import KafkaWire
import NIOCore
import RunnelClient
import RunnelCore
import Testing

// Pure parts of the client: no broker needed.

/// Values from kafka-python's `kafka.partitioner.default.murmur2` (which mirrors Kafka's
/// `Utils.murmur2`), as signed 32-bit integers like Java's.
@Test(arguments: [
    ("", Int32(bitPattern: 275_646_681)),
    ("21", Int32(bitPattern: 3_321_034_988)),
    ("foobar", Int32(bitPattern: 3_504_634_814)),
    ("a-little-bit-long-string", Int32(bitPattern: 3_308_985_760)),
    ("a-little-bit-longer-string", Int32(bitPattern: 2_808_662_467)),
    ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", Int32(bitPattern: 4_236_069_325)),
    ("abc", Int32(bitPattern: 479_470_107)),
])
func murmur2MatchesKafka(key: String, expected: Int32) {
    #expect(Partitioner.murmur2(Array(key.utf8)) == expected)
}

@Test func murmur2OfNonASCIIBytesMatchesKafka() {
    #expect(Partitioner.murmur2([0xFF, 0xFE, 0x80]) == Int32(bitPattern: 4_134_240_899))
}

@Test func keyedPartitionIsPositiveMurmurModuloCount() {
    // kafka-python: (murmur2(key) & 0x7fffffff) % n
    let cases: [(String, Int, Int32)] = [("21", 10, 0), ("foobar", 10, 6), ("a-little-bit-longer-string", 10, 9),
                                         ("a-little-bit-long-string", 3, 2), ("abc", 10, 7)]
    for (key, count, expected) in cases {
        let partition = Array(key.utf8).withUnsafeBytes { Partitioner.partition(forKey: $0, partitionCount: count) }
        #expect(partition == expected, "key \(key)")
    }
}

@Test func formatterRendersEveryToken() throws {
    let record = ConsumerRecord(topic: "orders", partition: PartitionID(2), offset: Offset(41), timestamp: TimestampMs(1700),
                                key: ByteBuffer(string: "k1"), value: ByteBuffer(string: "hello"),
                                headers: [RecordHeader(key: "h", bytes: Array("v".utf8)), RecordHeader(key: "n", value: nil)])
    let formatter = try RecordFormatter(format: "%t/%p@%o %T [%k]=%s (%K,%S) {%h} 100%%\\t|\\n")
    #expect(formatter.render(record) == "orders/2@41 1700 [k1]=hello (2,5) {h=v,n=} 100%\t|\n")
}

@Test func formatterRendersNullKeyAsNothingAndLengthMinusOne() throws {
    let record = ConsumerRecord(topic: "t", partition: PartitionID(0), offset: Offset(0), timestamp: TimestampMs(0),
                                key: nil, value: ByteBuffer(string: "v"))
    #expect(try RecordFormatter(format: "%k|%K|%s").render(record) == "|-1|v")
    #expect(RecordFormatter.valuePerLine.render(record) == "v\n")
}

@Test func formatterRefusesUnknownToken() {
    #expect(throws: KafkaClientError.self) { try RecordFormatter(format: "%q") }
}

@Test func bootstrapListParses() throws {
    let list = try BrokerAddress.parseList("a:1, b:9093,[::1]:9094,c")
    #expect(list == [BrokerAddress(host: "a", port: 1), BrokerAddress(host: "b", port: 9093),
                     BrokerAddress(host: "::1", port: 9094), BrokerAddress(host: "c", port: 9092)])
    #expect(throws: KafkaClientError.self) { try BrokerAddress.parseList("a:notaport") }
    #expect(throws: KafkaClientError.self) { try BrokerAddress.parseList("a:70000") }
    #expect(throws: KafkaClientError.self) { try BrokerAddress.parseList(" , ") }
}

@Test func versionIsMinOfBothMaximaWithinBothRanges() {
    let table = ApiVersionTable(broker: [0: 0...11, 1: 0...3, 3: 0...12, 19: 2...7])
    #expect(table.version(for: .produce) == 9)     // client max 9 < broker max 11
    #expect(table.version(for: .fetch) == nil)     // broker max 3 < client min 4
    #expect(table.version(for: .metadata) == 12)
    #expect(table.version(for: .createTopics) == 7)
    #expect(table.version(for: .listOffsets) == nil)  // not advertised
    #expect(table.brokerRange(for: .fetch) == "0-3")
}

@Test func errorMessagesNameTheCause() {
    #expect(KafkaClientError.brokerUnreachable(address: "127.0.0.1:9092", reason: "connection refused").description
            == "broker unreachable: 127.0.0.1:9092 (connection refused)")
    #expect(KafkaClientError.kafka(code: KafkaErrorCode(36), message: "Topic 'x' already exists.", context: "create topic x").description
            == "create topic x: topic already exists (TOPIC_ALREADY_EXISTS, error 36): Topic 'x' already exists.")
    #expect(KafkaClientError.unknownTopicOrPartition(topic: "x", partition: nil).description == "unknown topic: x")
}
