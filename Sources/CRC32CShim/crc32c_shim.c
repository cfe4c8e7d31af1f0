#include "CRC32CShim.h"
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>

int crc32c_shim_hardware_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}

// One crc32q has a latency of 3 cycles and a throughput of 1 per cycle, so a single chain
// runs at a third of the unit's speed. Long buffers are cut into three lanes that run in
// parallel and are joined with shift-by-zeros tables (Intel's "fast CRC" scheme): blocks of
// 3 × 8 KiB first, then 3 × 256 bytes for the rest, so at most 767 bytes go through one chain.
#define LONG_LANE 8192
#define SHORT_LANE 256

// shift_long[k][b] (shift_short[k][b]): the register effect of byte b at position k of a
// 32-bit value followed by LONG_LANE (SHORT_LANE) zero bytes; built once on first use.
static uint32_t shift_long[4][256];
static uint32_t shift_short[4][256];
static int shift_tables_ready = 0;

static uint32_t gf2_multiply_mod(uint32_t a, uint32_t b) {
    // Product of two polynomials in the reflected CRC32C representation, reduced modulo P.
    uint32_t product = 0;
    for (int i = 0; i < 32; i++) {
        if (a & 0x80000000u) product ^= b;
        a <<= 1;
        b = (b >> 1) ^ ((b & 1u) ? 0x82F63B78u : 0u);
    }
    return product;
}

static uint32_t x_power_mod(uint64_t bits) {
    // x^bits mod P, in the reflected representation (x^0 is 0x80000000).
    uint32_t result = 0x80000000u;
    uint32_t square = 0x40000000u;  // x^1
    while (bits) {
        if (bits & 1u) result = gf2_multiply_mod(result, square);
        square = gf2_multiply_mod(square, square);
        bits >>= 1;
    }
    return result;
}

static void build_shift_table(uint32_t table[4][256], uint64_t lane_bytes) {
    // Shifting a register value v over n zero bytes is multiplication by x^(8n) mod P.
    uint32_t factor = x_power_mod(lane_bytes * 8);
    for (int k = 0; k < 4; k++)
        for (uint32_t b = 0; b < 256; b++)
            table[k][b] = gf2_multiply_mod(b << (8 * k), factor);
}

static void build_shift_tables(void) {
    // Two threads may both build; they write identical values, so the race is harmless.
    build_shift_table(shift_long, LONG_LANE);
    build_shift_table(shift_short, SHORT_LANE);
    __atomic_store_n(&shift_tables_ready, 1, __ATOMIC_RELEASE);
}

static inline uint32_t shift_by_table(uint32_t table[4][256], uint32_t v) {
    return table[0][v & 0xFF] ^ table[1][(v >> 8) & 0xFF] ^ table[2][(v >> 16) & 0xFF] ^ table[3][v >> 24];
}

__attribute__((target("sse4.2")))
static uint32_t update_serial(uint32_t crc, const unsigned char *p, size_t length) {
    uint64_t c = crc;
    while (length && ((uintptr_t)p & 7)) { c = _mm_crc32_u8((uint32_t)c, *p++); length--; }
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = _mm_crc32_u64(c, word);
        p += 8; length -= 8;
    }
    while (length--) c = _mm_crc32_u8((uint32_t)c, *p++);
    return (uint32_t)c;
}

// Consumes as many blocks of three lanes of `lane` bytes as fit; returns the new register.
__attribute__((target("sse4.2")))
static inline uint32_t update_three_lanes(uint32_t crc, const unsigned char **data, size_t *length,
                                          size_t lane, uint32_t table[4][256]) {
    const unsigned char *p = *data;
    size_t remaining = *length;
    while (remaining >= 3 * lane) {
        uint64_t a = crc, b = 0, c = 0;
        const unsigned char *pa = p, *pb = p + lane, *pc = p + 2 * lane;
        for (size_t i = 0; i < lane; i += 8) {
            uint64_t wa, wb, wc;
            memcpy(&wa, pa + i, 8); memcpy(&wb, pb + i, 8); memcpy(&wc, pc + i, 8);
            a = _mm_crc32_u64(a, wa);
            b = _mm_crc32_u64(b, wb);
            c = _mm_crc32_u64(c, wc);
        }
        // crc(A‖B‖C) = shift(shift(a) ^ b) ^ c, with lanes b and c started from zero.
        uint32_t joined = shift_by_table(table, (uint32_t)a) ^ (uint32_t)b;
        crc = shift_by_table(table, joined) ^ (uint32_t)c;
        p += 3 * lane; remaining -= 3 * lane;
    }
    *data = p;
    *length = remaining;
    return crc;
}

__attribute__((target("sse4.2")))
uint32_t crc32c_shim_update(uint32_t crc, const void *data, size_t length) {
    const unsigned char *p = (const unsigned char *)data;
    if (length >= 3 * SHORT_LANE) {
        if (!__atomic_load_n(&shift_tables_ready, __ATOMIC_ACQUIRE)) build_shift_tables();
        crc = update_three_lanes(crc, &p, &length, LONG_LANE, shift_long);
        crc = update_three_lanes(crc, &p, &length, SHORT_LANE, shift_short);
    }
    return update_serial(crc, p, length);
}

#else
int crc32c_shim_hardware_available(void) { return 0; }
uint32_t crc32c_shim_update(uint32_t crc, const void *data, size_t length) {
    (void)data; (void)length; return crc;
}
#endif
