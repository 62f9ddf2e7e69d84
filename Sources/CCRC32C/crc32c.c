// CRC-32C for RecordBatch v2. The hardware path processes 8 bytes per crc32 instruction; the
// table path is slicing-by-8 (8 lookups per 8 bytes). Both start from ~crc and end with ~, so
// results chain: crc(a ++ b) == update(update(0, a), b).
#include "crc32c.h"
#include <string.h>

#define POLY 0x82F63B78u

static uint32_t slices[8][256];
static int slices_built = 0;

static void build_slices(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t v = n;
        for (int bit = 0; bit < 8; bit++) v = (v >> 1) ^ ((v & 1u) ? POLY : 0u);
        slices[0][n] = v;
    }
    for (int s = 1; s < 8; s++)
        for (uint32_t n = 0; n < 256; n++)
            slices[s][n] = (slices[s - 1][n] >> 8) ^ slices[0][slices[s - 1][n] & 0xFFu];
    __atomic_store_n(&slices_built, 1, __ATOMIC_RELEASE);
}

uint32_t runnel_crc32c_table(uint32_t crc, const void *data, size_t length) {
    if (!__atomic_load_n(&slices_built, __ATOMIC_ACQUIRE)) build_slices();
    const uint8_t *p = (const uint8_t *)data;
    uint32_t v = ~crc;
    for (; length >= 8; length -= 8, p += 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        word ^= v;
        v = slices[7][word & 0xFF] ^ slices[6][(word >> 8) & 0xFF] ^
            slices[5][(word >> 16) & 0xFF] ^ slices[4][(word >> 24) & 0xFF] ^
            slices[3][(word >> 32) & 0xFF] ^ slices[2][(word >> 40) & 0xFF] ^
            slices[1][(word >> 48) & 0xFF] ^ slices[0][(word >> 56) & 0xFF];
    }
    for (; length > 0; length--, p++) v = (v >> 8) ^ slices[0][(v ^ *p) & 0xFFu];
    return ~v;
}

#if defined(__x86_64__)
#include <nmmintrin.h>
__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const void *data, size_t length) {
    const uint8_t *p = (const uint8_t *)data;
    uint64_t v = (uint32_t)~crc;
    for (; length >= 8; length -= 8, p += 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        v = _mm_crc32_u64(v, word);
    }
    uint32_t v32 = (uint32_t)v;
    for (; length > 0; length--, p++) v32 = _mm_crc32_u8(v32, *p);
    return ~v32;
}
int runnel_crc32c_hardware(void) { return __builtin_cpu_supports("sse4.2") ? 1 : 0; }
uint32_t runnel_crc32c(uint32_t crc, const void *data, size_t length) {
    static int hw = -1;
    if (hw < 0) hw = runnel_crc32c_hardware();
    return hw ? crc32c_sse42(crc, data, length) : runnel_crc32c_table(crc, data, length);
}
#else
int runnel_crc32c_hardware(void) { return 0; }
uint32_t runnel_crc32c(uint32_t crc, const void *data, size_t length) {
    return runnel_crc32c_table(crc, data, length);
}
#endif
