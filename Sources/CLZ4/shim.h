// liblz4-dev: the LZ4 frame format (lz4frame.h), which Kafka uses for magic v2 batches.
#include <lz4frame.h>
