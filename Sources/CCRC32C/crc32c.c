// CRC-32C for RecordBatch v2. The hardware path processes 8 bytes per crc32 instruction, three
// independent streams at a time for buffers of 768 bytes and more; the table path is
// slicing-by-8 (8 lookups per 8 bytes). Both start from ~crc and end with ~, so
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

/* Multiplication of two polynomials modulo POLY, both in the reflected representation the
 * CRC register uses (bit 31 is x^0). Used to move a stream's CRC register past the bytes of the
 * streams after it: feeding n zero bytes into register r yields r * x^(8n) mod POLY. */
static uint32_t multiply_mod_poly(uint32_t a, uint32_t b) {
    uint32_t product = 0;
    for (int bit = 31; bit >= 0; bit--) {
        if (a & (1u << bit)) product ^= b;
        b = (b & 1u) ? (b >> 1) ^ POLY : b >> 1;
    }
    return product;
}

/* x^(8n) mod POLY: the register after n zero bytes fed into x^0 (0x80000000). */
static uint32_t zero_bytes_operator(size_t n) {
    if (!__atomic_load_n(&slices_built, __ATOMIC_ACQUIRE)) build_slices();
    uint32_t r = 0x80000000u;
    for (size_t i = 0; i < n; i++) r = (r >> 8) ^ slices[0][r & 0xFFu];
    return r;
}


/* Three independent crc32q chains over three adjacent blocks hide the instruction's 3-cycle
 * latency (one chain is latency-bound); the three registers are then combined with the
 * zero-bytes operators of one and two blocks. Two block sizes: long blocks for large buffers,
 * short ones so that a few KiB also profit. */
enum { LONG_BLOCK = 8192, SHORT_BLOCK = 256 };

/* Multiplying by a constant is linear in the other factor, so each shift is four 256-entry
 * tables, one per byte of the register: four lookups instead of a 32-step multiply. */
typedef struct { uint32_t byte[4][256]; } shift_table;
static shift_table long_shift1, long_shift2, short_shift1, short_shift2;
static int shifts_built = 0;

static void build_shift(shift_table *t, size_t zero_bytes) {
    uint32_t k = zero_bytes_operator(zero_bytes);
    for (int j = 0; j < 4; j++)
        for (uint32_t n = 0; n < 256; n++) t->byte[j][n] = multiply_mod_poly(k, n << (8 * j));
}

static void build_shifts(void) {
    build_shift(&long_shift1, LONG_BLOCK);
    build_shift(&long_shift2, 2 * LONG_BLOCK);
    build_shift(&short_shift1, SHORT_BLOCK);
    build_shift(&short_shift2, 2 * SHORT_BLOCK);
    __atomic_store_n(&shifts_built, 1, __ATOMIC_RELEASE);
}

static inline uint32_t shift(const shift_table *t, uint32_t r) {
    return t->byte[0][r & 0xFFu] ^ t->byte[1][(r >> 8) & 0xFFu] ^ t->byte[2][(r >> 16) & 0xFFu] ^
           t->byte[3][r >> 24];
}

__attribute__((target("sse4.2")))
static inline uint64_t three_blocks(uint64_t v, const uint8_t *p, size_t block, const shift_table *shift1,
                                    const shift_table *shift2) {
    uint64_t a = v, b = 0, c = 0;
    const uint8_t *pb = p + block, *pc = p + 2 * block;
    for (size_t i = 0; i < block; i += 8) {
        uint64_t wa, wb, wc;
        memcpy(&wa, p + i, 8);
        memcpy(&wb, pb + i, 8);
        memcpy(&wc, pc + i, 8);
        a = _mm_crc32_u64(a, wa);
        b = _mm_crc32_u64(b, wb);
        c = _mm_crc32_u64(c, wc);
    }
    return shift(shift2, (uint32_t)a) ^ shift(shift1, (uint32_t)b) ^ (uint32_t)c;
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const void *data, size_t length) {
    const uint8_t *p = (const uint8_t *)data;
    uint64_t v = (uint32_t)~crc;
    if (length >= 3 * SHORT_BLOCK) {
        if (!__atomic_load_n(&shifts_built, __ATOMIC_ACQUIRE)) build_shifts();
        for (; length >= 3 * LONG_BLOCK; length -= 3 * LONG_BLOCK, p += 3 * LONG_BLOCK)
            v = three_blocks(v, p, LONG_BLOCK, &long_shift1, &long_shift2);
        for (; length >= 3 * SHORT_BLOCK; length -= 3 * SHORT_BLOCK, p += 3 * SHORT_BLOCK)
            v = three_blocks(v, p, SHORT_BLOCK, &short_shift1, &short_shift2);
    }
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
