// snappy's C interface (libsnappy-dev): raw snappy blocks. Kafka's xerial framing around them is
// parsed and written in Swift (Sources/KafkaWire/CompressionSnappy.swift).
#include <snappy-c.h>
