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
// parallel and are joined with the shift-by-zeros table below (Intel's "fast CRC" scheme).
#define LANE_BYTES 8192

// shift_table[k][b]: the CRC register effect of byte b at position k of a 32-bit value that is
// followed by LANE_BYTES zero bytes; built once on first use.
static uint32_t shift_table[4][256];
static int shift_table_ready = 0;

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

static void build_shift_table(void) {
    // Shifting a register value v over n zero bytes is multiplication by x^(8n) mod P.
    uint32_t factor = x_power_mod((uint64_t)LANE_BYTES * 8);
    for (int k = 0; k < 4; k++)
        for (uint32_t b = 0; b < 256; b++)
            shift_table[k][b] = gf2_multiply_mod(b << (8 * k), factor);
    __atomic_store_n(&shift_table_ready, 1, __ATOMIC_RELEASE);
}

static inline uint32_t shift_over_lane(uint32_t v) {
    return shift_table[0][v & 0xFF] ^ shift_table[1][(v >> 8) & 0xFF]
         ^ shift_table[2][(v >> 16) & 0xFF] ^ shift_table[3][v >> 24];
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

__attribute__((target("sse4.2")))
uint32_t crc32c_shim_update(uint32_t crc, const void *data, size_t length) {
    const unsigned char *p = (const unsigned char *)data;
    if (length >= 3 * LANE_BYTES) {
        if (!__atomic_load_n(&shift_table_ready, __ATOMIC_ACQUIRE)) build_shift_table();
        while (length >= 3 * LANE_BYTES) {
            uint64_t a = crc, b = 0, c = 0;
            const unsigned char *pa = p, *pb = p + LANE_BYTES, *pc = p + 2 * LANE_BYTES;
            for (size_t i = 0; i < LANE_BYTES; i += 8) {
                uint64_t wa, wb, wc;
                memcpy(&wa, pa + i, 8); memcpy(&wb, pb + i, 8); memcpy(&wc, pc + i, 8);
                a = _mm_crc32_u64(a, wa);
                b = _mm_crc32_u64(b, wb);
                c = _mm_crc32_u64(c, wc);
            }
            // crc(A‖B‖C) = shift(shift(a) ^ b) ^ c, with lanes b and c started from zero.
            uint32_t joined = shift_over_lane((uint32_t)a) ^ (uint32_t)b;
            crc = shift_over_lane(joined) ^ (uint32_t)c;
            p += 3 * LANE_BYTES; length -= 3 * LANE_BYTES;
        }
    }
    return update_serial(crc, p, length);
}

#else
int crc32c_shim_hardware_available(void) { return 0; }
uint32_t crc32c_shim_update(uint32_t crc, const void *data, size_t length) {
    (void)data; (void)length; return crc;
}
#endif
