// The client speaks the project's one table of Kafka error codes (RunnelCore); users of the
// client see it without importing RunnelCore.
@_exported import struct RunnelCore.KafkaErrorCode
