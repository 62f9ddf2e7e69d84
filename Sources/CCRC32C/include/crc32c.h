#ifndef RUNNEL_CRC32C_H
#define RUNNEL_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by Kafka RecordBatch v2.
/// `crc` is the running value: pass 0 to start, pass the previous result to continue.
/// Uses the SSE4.2 crc32 instruction when the CPU has it, else a slicing-by-8 table.
uint32_t runnel_crc32c(uint32_t crc, const void *data, size_t length);

/// The table implementation alone (tests compare it with the hardware path).
uint32_t runnel_crc32c_table(uint32_t crc, const void *data, size_t length);

/// 1 when the hardware path is in use.
int runnel_crc32c_hardware(void);
#endif
