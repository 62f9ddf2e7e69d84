import KafkaWire
import NIOCore
import RunnelCore

/// One consumed record. Key, value and header values are slices of the fetch response.
public struct ConsumerRecord: Sendable, Equatable {
    public var topic: String
    public var partition: PartitionID
    public var offset: Offset
    public var timestamp: TimestampMs
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [RecordHeader]

    public init(topic: String, partition: PartitionID, offset: Offset, timestamp: TimestampMs, key: ByteBuffer?,
                value: ByteBuffer?, headers: [RecordHeader] = []) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers
    }
}
