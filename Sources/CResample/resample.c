#include "CResample.h"
#include <stdlib.h>
#include <string.h>

#define PRECISION_BITS 22
// A weight k is split into k = high · 2^11 + low with low in 0 ..< 2^11, so both halves fit
// 16 bits and vpmaddwd (16 × 16 → 32-bit products, adjacent pairs summed) stays exact:
// Σ byte · k = (Σ byte · high) · 2^11 + Σ byte · low, every term well inside 32 bits.
#define SPLIT_BITS 11

#if defined(__x86_64__)
#include <immintrin.h>

int resample_avx2_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? 1 : 0;
}

// Taps go in groups of four pixels p0…p3. One 256-bit register holds, as 16-bit lanes,
// [R0 R1 G0 G1 B0 B1 0 0 | R2 R3 G2 G3 B2 B3 0 0]; vpmaddwd against
// [k0 k1 k0 k1 k0 k1 0 0 | k2 k3 k2 k3 k2 k3 0 0] gives 32-bit [R G B 0 | R G B 0] partial sums.
// The shuffle builds that layout from 16 bytes loaded at p0 into both halves (12 are used).
#define Z -128
static inline __m256i group_shuffle(void) __attribute__((target("avx2")));
static inline __m256i group_shuffle(void) {
    return _mm256_setr_epi8(0, Z, 3, Z, 1, Z, 4, Z, 2, Z, 5, Z, Z, Z, Z, Z,
                            6, Z, 9, Z, 7, Z, 10, Z, 8, Z, 11, Z, Z, Z, Z, Z);
}
#undef Z

/// Per output pixel, groups of 32 int16: the high halves of the group's weights in the layout
/// above, then the low halves. Taps past counts[x] weigh 0, so the pixels they read do not matter.
static void pack_groups(const int32_t *counts, const int32_t *weights, size_t kernel_size,
                        size_t output_width, size_t groups, int16_t *packed) {
    memset(packed, 0, output_width * groups * 32 * sizeof(int16_t));
    for (size_t x = 0; x < output_width; x++) {
        for (int32_t j = 0; j < counts[x]; j++) {
            int32_t k = weights[x * kernel_size + (size_t)j];
            int16_t high = (int16_t)(k >> SPLIT_BITS), low = (int16_t)(k & ((1 << SPLIT_BITS) - 1));
            int16_t *group = packed + (x * groups + (size_t)j / 4) * 32;
            size_t half = (size_t)(j % 4) / 2, pair = (size_t)j % 2;
            for (size_t channel = 0; channel < 3; channel++) {
                group[half * 8 + channel * 2 + pair] = high;
                group[16 + half * 8 + channel * 2 + pair] = low;
            }
        }
    }
}

__attribute__((target("avx2")))
static void horizontal_row(const uint8_t *row, uint8_t *out, size_t output_width, const int32_t *starts,
                           const int16_t *packed, size_t groups) {
    const __m256i shuffle = group_shuffle();
    const __m128i rounding = _mm_set1_epi32(1 << (PRECISION_BITS - 1));
    for (size_t x = 0; x < output_width; x++) {
        const uint8_t *source = row + 3 * (size_t)starts[x];
        const int16_t *group = packed + x * groups * 32;
        __m256i high = _mm256_setzero_si256(), low = _mm256_setzero_si256();
        // Every pixel runs all groups (zero weights past its taps): a trip count that changes
        // from pixel to pixel (12 taps, then 13) costs a mispredicted branch each time.
        for (size_t g = 0; g < groups; g++, source += 12, group += 32) {
            __m256i pixels = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)source));
            pixels = _mm256_shuffle_epi8(pixels, shuffle);
            high = _mm256_add_epi32(high, _mm256_madd_epi16(pixels, _mm256_loadu_si256((const __m256i *)group)));
            low = _mm256_add_epi32(low, _mm256_madd_epi16(pixels, _mm256_loadu_si256((const __m256i *)(group + 16))));
        }
        __m256i sums = _mm256_add_epi32(_mm256_slli_epi32(high, SPLIT_BITS), low);
        __m128i rgb = _mm_add_epi32(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1));
        rgb = _mm_srai_epi32(_mm_add_epi32(rgb, rounding), PRECISION_BITS);
        rgb = _mm_packus_epi16(_mm_packs_epi32(rgb, rgb), rgb);  // saturation is PIL's clip8
        uint32_t bytes = (uint32_t)_mm_cvtsi128_si32(rgb);
        if (x + 1 < output_width) {
            memcpy(out + 3 * x, &bytes, 4);  // the fourth byte is overwritten by pixel x + 1
        } else {
            memcpy(out + 3 * x, &bytes, 3);
        }
    }
}

// Two rows at once: each group's weights are loaded once for both, and the two pixels share
// one rounding, shift and pack.
__attribute__((target("avx2")))
static void horizontal_row_pair(const uint8_t *row0, const uint8_t *row1, uint8_t *out0, uint8_t *out1,
                                size_t output_width, const int32_t *starts, const int16_t *packed, size_t groups) {
    const __m256i shuffle = group_shuffle();
    const __m256i rounding = _mm256_set1_epi32(1 << (PRECISION_BITS - 1));
    for (size_t x = 0; x < output_width; x++) {
        size_t offset = 3 * (size_t)starts[x];
        const uint8_t *source0 = row0 + offset, *source1 = row1 + offset;
        const int16_t *group = packed + x * groups * 32;
        __m256i high0 = _mm256_setzero_si256(), low0 = _mm256_setzero_si256();
        __m256i high1 = _mm256_setzero_si256(), low1 = _mm256_setzero_si256();
        for (size_t g = 0; g < groups; g++, source0 += 12, source1 += 12, group += 32) {
            __m256i weightsHigh = _mm256_loadu_si256((const __m256i *)group);
            __m256i weightsLow = _mm256_loadu_si256((const __m256i *)(group + 16));
            __m256i pixels0 = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)source0)), shuffle);
            __m256i pixels1 = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)source1)), shuffle);
            high0 = _mm256_add_epi32(high0, _mm256_madd_epi16(pixels0, weightsHigh));
            low0 = _mm256_add_epi32(low0, _mm256_madd_epi16(pixels0, weightsLow));
            high1 = _mm256_add_epi32(high1, _mm256_madd_epi16(pixels1, weightsHigh));
            low1 = _mm256_add_epi32(low1, _mm256_madd_epi16(pixels1, weightsLow));
        }
        __m256i sums0 = _mm256_add_epi32(_mm256_slli_epi32(high0, SPLIT_BITS), low0);
        __m256i sums1 = _mm256_add_epi32(_mm256_slli_epi32(high1, SPLIT_BITS), low1);
        // [row 0's RGB0 | row 1's RGB0]: the two halves of each pixel's partial sums added.
        __m256i rgb = _mm256_add_epi32(_mm256_permute2x128_si256(sums0, sums1, 0x20),
                                       _mm256_permute2x128_si256(sums0, sums1, 0x31));
        rgb = _mm256_srai_epi32(_mm256_add_epi32(rgb, rounding), PRECISION_BITS);
        rgb = _mm256_packus_epi16(_mm256_packs_epi32(rgb, rgb), rgb);  // per 128-bit half, as in horizontal_row
        uint32_t bytes0 = (uint32_t)_mm256_cvtsi256_si32(rgb);
        uint32_t bytes1 = (uint32_t)_mm_cvtsi128_si32(_mm256_extracti128_si256(rgb, 1));
        if (x + 1 < output_width) {  // the fourth byte is overwritten by pixel x + 1
            memcpy(out0 + 3 * x, &bytes0, 4);
            memcpy(out1 + 3 * x, &bytes1, 4);
        } else {
            memcpy(out0 + 3 * x, &bytes0, 3);
            memcpy(out1 + 3 * x, &bytes1, 3);
        }
    }
}

// Pixels outer, rows inner: one output pixel's weights (two registers per group) are loaded
// once per block of rows and applied to all of them, two rows at a time. Loading them again
// for every row bounded the row-pair loop: 256 pixels' packed weights are 48–64 KB, more than
// L1's 32 KB.
__attribute__((target("avx2"), always_inline))
static inline void horizontal_block(const uint8_t *input, size_t row_bytes, size_t rows, uint8_t *output,
                                    size_t output_row, size_t output_width, const int32_t *starts,
                                    const int16_t *packed, const size_t groups) {
    const __m256i shuffle = group_shuffle();
    const __m256i rounding = _mm256_set1_epi32(1 << (PRECISION_BITS - 1));
    for (size_t x = 0; x < output_width; x++) {
        __m256i high_weights[4], low_weights[4];
        const int16_t *group = packed + x * groups * 32;
        for (size_t g = 0; g < groups; g++) {
            high_weights[g] = _mm256_loadu_si256((const __m256i *)(group + 32 * g));
            low_weights[g] = _mm256_loadu_si256((const __m256i *)(group + 32 * g + 16));
        }
        const uint8_t *source = input + 3 * (size_t)starts[x];
        uint8_t *target = output + 3 * x;
        const int last = x + 1 == output_width;
        for (size_t r = 0; r < rows; r += 2) {
            const uint8_t *source0 = source + r * row_bytes;
            const uint8_t *source1 = r + 1 < rows ? source0 + row_bytes : source0;  // an odd last row: computed twice
            __m256i high0 = _mm256_setzero_si256(), low0 = _mm256_setzero_si256();
            __m256i high1 = _mm256_setzero_si256(), low1 = _mm256_setzero_si256();
            for (size_t g = 0; g < groups; g++) {
                __m256i pixels0 = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(source0 + 12 * g))), shuffle);
                __m256i pixels1 = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(source1 + 12 * g))), shuffle);
                high0 = _mm256_add_epi32(high0, _mm256_madd_epi16(pixels0, high_weights[g]));
                low0 = _mm256_add_epi32(low0, _mm256_madd_epi16(pixels0, low_weights[g]));
                high1 = _mm256_add_epi32(high1, _mm256_madd_epi16(pixels1, high_weights[g]));
                low1 = _mm256_add_epi32(low1, _mm256_madd_epi16(pixels1, low_weights[g]));
            }
            __m256i sums0 = _mm256_add_epi32(_mm256_slli_epi32(high0, SPLIT_BITS), low0);
            __m256i sums1 = _mm256_add_epi32(_mm256_slli_epi32(high1, SPLIT_BITS), low1);
            __m256i rgb = _mm256_add_epi32(_mm256_permute2x128_si256(sums0, sums1, 0x20),
                                           _mm256_permute2x128_si256(sums0, sums1, 0x31));
            rgb = _mm256_srai_epi32(_mm256_add_epi32(rgb, rounding), PRECISION_BITS);
            rgb = _mm256_packus_epi16(_mm256_packs_epi32(rgb, rgb), rgb);
            uint32_t bytes0 = (uint32_t)_mm256_cvtsi256_si32(rgb);
            uint32_t bytes1 = (uint32_t)_mm_cvtsi128_si32(_mm256_extracti128_si256(rgb, 1));
            uint8_t *target0 = target + r * output_row;
            if (!last) {  // the fourth byte is overwritten by pixel x + 1, which comes later
                memcpy(target0, &bytes0, 4);
                if (r + 1 < rows) memcpy(target0 + output_row, &bytes1, 4);
            } else {
                memcpy(target0, &bytes0, 3);
                if (r + 1 < rows) memcpy(target0 + output_row, &bytes1, 3);
            }
        }
    }
}

#define BLOCK_KERNEL(G) \
    __attribute__((target("avx2"))) \
    static void horizontal_block_##G(const uint8_t *input, size_t row_bytes, size_t rows, uint8_t *output, \
                                     size_t output_row, size_t output_width, const int32_t *starts, const int16_t *packed) { \
        horizontal_block(input, row_bytes, rows, output, output_row, output_width, starts, packed, G); \
    }
BLOCK_KERNEL(1)
BLOCK_KERNEL(2)
BLOCK_KERNEL(3)
BLOCK_KERNEL(4)
#undef BLOCK_KERNEL

// Two output pixels per register, for the cached loop. The block loop above spends a third of
// its time after the taps: folding the two 128-bit halves of every sum, then finishing one pixel
// of two rows at a time. Here the low half holds pixel x and the high half pixel x + 1, each as
// [R R G G B B 0 0] for one pair of taps (2s, 2s + 1), with the same high/low weight split, so
// each half ends up holding its pixel's sums and four rows are finished together. Pixel x + 1
// starts 0 to 3 pixels after pixel x whenever the scale is below about 3 (750 → 256: 2 or 3), so
// one 16-byte load at pixel x's taps holds both pixels' six bytes, and one of four shuffles
// picks them. Measured on 16 cached rows, 750 → 256: 8.2 µs a call against 9.6 µs for the block
// loop (interleaved runs, minimum of 600). A plan whose pixels start further apart keeps the
// block loop.
#define Z -128
#define PAIR_MASK(o) {0, Z, 3, Z, 1, Z, 4, Z, 2, Z, 5, Z, Z, Z, Z, Z, \
                      o, Z, o + 3, Z, o + 1, Z, o + 4, Z, o + 2, Z, o + 5, Z, Z, Z, Z, Z}
static const int8_t pair_masks[4][32] __attribute__((aligned(32))) = {PAIR_MASK(0), PAIR_MASK(3), PAIR_MASK(6), PAIR_MASK(9)};
#undef PAIR_MASK
#define PAIR_MAX_STEPS 6

/// Per pair of output pixels, `steps` blocks of 32 int16: the high halves of the pair's weights
/// for taps 2s, 2s + 1 in the layout above, then the low halves. Taps past a pixel's count (and
/// the missing second pixel of a lone last one) weigh 0.
static void pack_pairs(const int32_t *counts, const int32_t *weights, size_t kernel_size, size_t output_width,
                       size_t steps, int16_t *packed) {
    size_t pairs = (output_width + 1) / 2;
    memset(packed, 0, pairs * steps * 32 * sizeof(int16_t));
    for (size_t x = 0; x < output_width; x++) {
        size_t half = x % 2;
        for (int32_t j = 0; j < counts[x]; j++) {
            int32_t k = weights[x * kernel_size + (size_t)j];
            int16_t high = (int16_t)(k >> SPLIT_BITS), low = (int16_t)(k & ((1 << SPLIT_BITS) - 1));
            int16_t *step = packed + ((x / 2) * steps + (size_t)j / 2) * 32;
            for (size_t channel = 0; channel < 3; channel++) {
                step[half * 8 + channel * 2 + (size_t)j % 2] = high;
                step[16 + half * 8 + channel * 2 + (size_t)j % 2] = low;
            }
        }
    }
}

// Pixel x's taps 2s, 2s + 1 in the low half and pixel x + 1's in the high half, as int16.
__attribute__((target("avx2"), always_inline))
static inline __m256i load_pair(const uint8_t *source, size_t step, __m256i mask) {
    return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(source + 6 * step))), mask);
}

// Two rows' sums (high and low halves; the low ones started at the rounding constant) to
// [x RGB, x+1 RGB, two spare bytes] per row, in the two 64-bit halves of the result.
__attribute__((target("avx2"), always_inline))
static inline __m128i finish_two_rows(__m256i high0, __m256i low0, __m256i high1, __m256i low1) {
    __m256i v0 = _mm256_srai_epi32(_mm256_add_epi32(_mm256_slli_epi32(high0, SPLIT_BITS), low0), PRECISION_BITS);
    __m256i v1 = _mm256_srai_epi32(_mm256_add_epi32(_mm256_slli_epi32(high1, SPLIT_BITS), low1), PRECISION_BITS);
    __m256i bytes = _mm256_packus_epi16(_mm256_packs_epi32(v0, v1), _mm256_setzero_si256());  // saturation is PIL's clip8
    // dwords [x r0, x r1, 0, 0 | x+1 r0, x+1 r1, 0, 0] → [x r0, x+1 r0, x r1, x+1 r1, …]
    bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    return _mm_shuffle_epi8(_mm256_castsi256_si128(bytes), _mm_setr_epi8(0, 1, 2, 4, 5, 6, Z, Z, 8, 9, 10, 12, 13, 14, Z, Z));
}

// Writes one row's six bytes (three for a lone last pixel); `last` when nothing follows them
// in the row, else eight bytes, whose last two pixel x + 2 overwrites later.
__attribute__((always_inline))
static inline void store_pair(uint8_t *target, uint64_t bytes, int last, int lone) {
    if (!last) {
        memcpy(target, &bytes, 8);
    } else {
        memcpy(target, &bytes, lone ? 3 : 6);
    }
}

/// Every row of one pair of output pixels, four rows per weight load.
__attribute__((target("avx2"), always_inline))
static inline void pair_rows(const uint8_t *source, size_t row_bytes, size_t rows, uint8_t *target, size_t output_row,
                             const int16_t *weights, __m256i mask, const size_t steps, int last, int lone) {
    const __m256i rounding = _mm256_set1_epi32(1 << (PRECISION_BITS - 1));
    const __m256i *w = (const __m256i *)weights;
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const uint8_t *a = source + r * row_bytes;
        __m256i high0 = _mm256_setzero_si256(), high1 = high0, high2 = high0, high3 = high0;
        __m256i low0 = rounding, low1 = rounding, low2 = rounding, low3 = rounding;
        for (size_t s = 0; s < steps; s++) {
            __m256i wh = _mm256_load_si256(w + 2 * s), wl = _mm256_load_si256(w + 2 * s + 1);
            __m256i p0 = load_pair(a, s, mask), p1 = load_pair(a + row_bytes, s, mask);
            __m256i p2 = load_pair(a + 2 * row_bytes, s, mask), p3 = load_pair(a + 3 * row_bytes, s, mask);
            high0 = _mm256_add_epi32(high0, _mm256_madd_epi16(p0, wh));
            low0 = _mm256_add_epi32(low0, _mm256_madd_epi16(p0, wl));
            high1 = _mm256_add_epi32(high1, _mm256_madd_epi16(p1, wh));
            low1 = _mm256_add_epi32(low1, _mm256_madd_epi16(p1, wl));
            high2 = _mm256_add_epi32(high2, _mm256_madd_epi16(p2, wh));
            low2 = _mm256_add_epi32(low2, _mm256_madd_epi16(p2, wl));
            high3 = _mm256_add_epi32(high3, _mm256_madd_epi16(p3, wh));
            low3 = _mm256_add_epi32(low3, _mm256_madd_epi16(p3, wl));
        }
        __m128i rows01 = finish_two_rows(high0, low0, high1, low1), rows23 = finish_two_rows(high2, low2, high3, low3);
        uint8_t *t = target + r * output_row;
        store_pair(t, (uint64_t)_mm_cvtsi128_si64(rows01), last, lone);
        store_pair(t + output_row, (uint64_t)_mm_extract_epi64(rows01, 1), last, lone);
        store_pair(t + 2 * output_row, (uint64_t)_mm_cvtsi128_si64(rows23), last, lone);
        store_pair(t + 3 * output_row, (uint64_t)_mm_extract_epi64(rows23, 1), last, lone);
    }
    for (; r < rows; r += 2) {  // one or two rows left
        const int second = r + 1 < rows;
        const uint8_t *a0 = source + r * row_bytes, *a1 = second ? a0 + row_bytes : a0;
        __m256i high0 = _mm256_setzero_si256(), high1 = high0, low0 = rounding, low1 = rounding;
        for (size_t s = 0; s < steps; s++) {
            __m256i wh = _mm256_load_si256(w + 2 * s), wl = _mm256_load_si256(w + 2 * s + 1);
            __m256i p0 = load_pair(a0, s, mask), p1 = load_pair(a1, s, mask);
            high0 = _mm256_add_epi32(high0, _mm256_madd_epi16(p0, wh));
            low0 = _mm256_add_epi32(low0, _mm256_madd_epi16(p0, wl));
            high1 = _mm256_add_epi32(high1, _mm256_madd_epi16(p1, wh));
            low1 = _mm256_add_epi32(low1, _mm256_madd_epi16(p1, wl));
        }
        __m128i both = finish_two_rows(high0, low0, high1, low1);
        uint8_t *t = target + r * output_row;
        store_pair(t, (uint64_t)_mm_cvtsi128_si64(both), last, lone);
        if (second) store_pair(t + output_row, (uint64_t)_mm_extract_epi64(both, 1), last, lone);
    }
}

/// The pair loop over `rows` rows, pixel pairs outer; the last pair writes only its own bytes.
__attribute__((target("avx2"), always_inline))
static inline void pair_block(const uint8_t *input, size_t row_bytes, size_t rows, uint8_t *output, size_t output_width,
                              const int32_t *starts, const uint8_t *deltas, const int16_t *packed, const size_t steps) {
    size_t pairs = (output_width + 1) / 2, output_row = 3 * output_width;
    for (size_t q = 0; q < pairs; q++) {
        const __m256i mask = _mm256_load_si256((const __m256i *)pair_masks[deltas[q]]);
        int last = q + 1 == pairs, lone = 2 * q + 1 == output_width;
        pair_rows(input + 3 * (size_t)starts[2 * q], row_bytes, rows, output + 6 * q, output_row, packed + q * steps * 32,
                  mask, steps, last, lone);
    }
}

#define PAIR_KERNEL(S) \
    __attribute__((target("avx2"))) \
    static void pair_block_##S(const uint8_t *input, size_t row_bytes, size_t rows, uint8_t *output, size_t output_width, \
                               const int32_t *starts, const uint8_t *deltas, const int16_t *packed) { \
        pair_block(input, row_bytes, rows, output, output_width, starts, deltas, packed, S); \
    }
PAIR_KERNEL(1)
PAIR_KERNEL(2)
PAIR_KERNEL(3)
PAIR_KERNEL(4)
PAIR_KERNEL(5)
PAIR_KERNEL(6)
#undef PAIR_KERNEL
#undef Z

typedef void (*pair_kernel)(const uint8_t *, size_t, size_t, uint8_t *, size_t, const int32_t *, const uint8_t *, const int16_t *);
static const pair_kernel pair_kernels[PAIR_MAX_STEPS + 1] = {
    NULL, pair_block_1, pair_block_2, pair_block_3, pair_block_4, pair_block_5, pair_block_6};

struct resample_horizontal_plan {
    int16_t *packed;       // see pack_groups
    int32_t *starts;
    size_t groups;         // per output pixel, enough for the widest
    size_t reach;          // the furthest byte any pixel's loads reach from its row's start (either loop)
    size_t output_width;
    int16_t *pair_packed;  // see pack_pairs; NULL when the pair loop does not apply
    uint8_t *pair_deltas;  // per pair: how many pixels after pixel x pixel x + 1 starts (0…3)
    size_t pair_steps;
};

static int plan_pairs(resample_horizontal_plan *plan, const int32_t *starts, const int32_t *counts,
                      const int32_t *weights, size_t kernel_size);

static resample_horizontal_plan *plan_create(
    const int32_t *starts, const int32_t *counts, const int32_t *weights, size_t kernel_size, size_t output_width,
    int with_pairs);

resample_horizontal_plan *resample_horizontal_plan_create(
    const int32_t *starts, const int32_t *counts, const int32_t *weights, size_t kernel_size, size_t output_width) {
    return plan_create(starts, counts, weights, kernel_size, output_width, 1);
}

/// The plan; `with_pairs` 0 leaves out the pair loop's weights (the one-shot entry point, whose
/// row-pair loop does not use them).
static resample_horizontal_plan *plan_create(
    const int32_t *starts, const int32_t *counts, const int32_t *weights, size_t kernel_size, size_t output_width,
    int with_pairs) {
    if (!resample_avx2_available()) return NULL;  // its loops would be illegal instructions here
    resample_horizontal_plan *plan = calloc(1, sizeof *plan);
    if (!plan) return NULL;
    for (size_t x = 0; x < output_width; x++) {
        size_t needed = ((size_t)counts[x] + 3) / 4;
        if (needed > plan->groups) plan->groups = needed;
    }
    plan->output_width = output_width;
    plan->packed = aligned_alloc(32, output_width * plan->groups * 64 + 32);
    plan->starts = malloc(output_width * sizeof(int32_t) + 1);
    if (!plan->packed || !plan->starts) {
        resample_horizontal_plan_destroy(plan);
        return NULL;
    }
    memcpy(plan->starts, starts, output_width * sizeof(int32_t));
    pack_groups(counts, weights, kernel_size, output_width, plan->groups, plan->packed);
    for (size_t x = 0; x < output_width; x++) {
        size_t end = 3 * (size_t)starts[x] + (plan->groups ? 12 * (plan->groups - 1) + 16 : 0);
        if (end > plan->reach) plan->reach = end;
    }
    if (with_pairs && !plan_pairs(plan, starts, counts, weights, kernel_size)) {
        resample_horizontal_plan_destroy(plan);
        return NULL;
    }
    return plan;
}

/// Adds the pair loop's weights to `plan` when every pixel starts 0 to 3 pixels after the one
/// before it and no pixel has more taps than the loop is built for; else leaves it out. False
/// only when out of memory.
static int plan_pairs(resample_horizontal_plan *plan, const int32_t *starts, const int32_t *counts,
                      const int32_t *weights, size_t kernel_size) {
    size_t output_width = plan->output_width, pairs = (output_width + 1) / 2, widest = 0;
    for (size_t x = 0; x < output_width; x++) {
        if ((size_t)counts[x] > widest) widest = (size_t)counts[x];
        if (x % 2 == 1 && (starts[x] < starts[x - 1] || starts[x] - starts[x - 1] > 3)) return 1;
    }
    size_t steps = (widest + 1) / 2;
    if (steps == 0 || steps > PAIR_MAX_STEPS) return 1;
    plan->pair_packed = aligned_alloc(32, pairs * steps * 64);
    plan->pair_deltas = malloc(pairs);
    if (!plan->pair_packed || !plan->pair_deltas) return 0;
    plan->pair_steps = steps;
    pack_pairs(counts, weights, kernel_size, output_width, steps, plan->pair_packed);
    for (size_t q = 0; q < pairs; q++) {
        size_t x = 2 * q;
        plan->pair_deltas[q] = (uint8_t)(x + 1 < output_width ? starts[x + 1] - starts[x] : 0);
        size_t end = 3 * (size_t)starts[x] + 6 * (steps - 1) + 16;
        if (end > plan->reach) plan->reach = end;
    }
    return 1;
}

void resample_horizontal_plan_destroy(resample_horizontal_plan *plan) {
    if (!plan) return;
    free(plan->packed);
    free(plan->starts);
    free(plan->pair_packed);
    free(plan->pair_deltas);
    free(plan);
}

int resample_horizontal_plan_pairs_pixels(const resample_horizontal_plan *plan) {
    return plan && plan->pair_packed ? 1 : 0;
}

// Rows per block: 32 rows of a pixel's window (two cache lines each) stay in L1 while the
// pixel's weights stay in registers.
#define BLOCK_ROWS 32

typedef void (*block_kernel)(const uint8_t *, size_t, size_t, uint8_t *, size_t, size_t, const int32_t *, const int16_t *);

/// Rows whose loads stay inside the buffer go through the block loop (`blocks`) or the row-pair
/// loop; the last few, whose loads would run past its end, through a zero-padded copy.
static int horizontal_rows(const resample_horizontal_plan *plan, const uint8_t *input, size_t input_width,
                           size_t input_readable, size_t rows, uint8_t *output, int blocks) {
    size_t row_bytes = 3 * input_width, output_row = 3 * plan->output_width, reach = plan->reach;
    size_t groups = plan->groups;
    if (rows == 0 || row_bytes == 0) return 0;
    size_t safe_rows = input_readable < reach ? 0 : (input_readable - reach) / row_bytes + 1;
    if (safe_rows > rows) safe_rows = rows;
    size_t r = 0;
    block_kernel block = groups == 1 ? horizontal_block_1 : groups == 2 ? horizontal_block_2
        : groups == 3 ? horizontal_block_3 : groups == 4 ? horizontal_block_4 : NULL;
    pair_kernel pairs = plan->pair_packed ? pair_kernels[plan->pair_steps] : NULL;
    if (blocks && pairs) {
        for (; r < safe_rows; r += BLOCK_ROWS) {
            size_t count = safe_rows - r < BLOCK_ROWS ? safe_rows - r : BLOCK_ROWS;
            pairs(input + r * row_bytes, row_bytes, count, output + r * output_row, plan->output_width, plan->starts,
                  plan->pair_deltas, plan->pair_packed);
        }
        r = safe_rows;
    } else if (blocks && block) {
        for (; r < safe_rows; r += BLOCK_ROWS) {
            size_t count = safe_rows - r < BLOCK_ROWS ? safe_rows - r : BLOCK_ROWS;
            block(input + r * row_bytes, row_bytes, count, output + r * output_row, output_row, plan->output_width,
                  plan->starts, plan->packed);
        }
        r = safe_rows;
    }
    for (; r + 1 < safe_rows; r += 2) {
        horizontal_row_pair(input + r * row_bytes, input + (r + 1) * row_bytes, output + r * output_row,
                            output + (r + 1) * output_row, plan->output_width, plan->starts, plan->packed, groups);
    }
    uint8_t *padded = NULL;
    for (; r < rows; r++) {
        const uint8_t *row = input + r * row_bytes;
        if (r >= safe_rows) {  // near the buffer's end: read a zero-padded copy
            if (!padded) {
                padded = calloc(1, reach > row_bytes ? reach : row_bytes);
                if (!padded) return -1;
            }
            memcpy(padded, row, row_bytes);
            row = padded;
        }
        horizontal_row(row, output + r * output_row, plan->output_width, plan->starts, plan->packed, groups);
    }
    free(padded);
    return 0;
}

int resample_horizontal_rgb8_avx2(
    const uint8_t *input, size_t input_width, size_t input_readable, size_t rows,
    uint8_t *output, size_t output_width,
    const int32_t *starts, const int32_t *counts, const int32_t *weights, size_t kernel_size) {
    resample_horizontal_plan *plan = plan_create(starts, counts, weights, kernel_size, output_width, 0);
    if (!plan) return -1;
    int status = horizontal_rows(plan, input, input_width, input_readable, rows, output, 0);
    resample_horizontal_plan_destroy(plan);
    return status;
}

int resample_horizontal_rgb8_avx2_cached(
    const resample_horizontal_plan *plan, const uint8_t *input, size_t input_width, size_t input_readable,
    size_t rows, uint8_t *output) {
    return horizontal_rows(plan, input, input_width, input_readable, rows, output, 1);
}

// Eight bytes of a row, widened to 32 bits.
__attribute__((target("avx2")))
static inline __m256i widen8(const uint8_t *bytes) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)bytes));
}

__attribute__((target("avx2")))
void resample_vertical_u8_avx2(
    const uint8_t *input, size_t row_length, uint8_t *output, size_t output_height,
    const int32_t *starts, const int32_t *counts, const int32_t *weights, size_t kernel_size) {
    const __m256i rounding = _mm256_set1_epi32(1 << (PRECISION_BITS - 1));
    for (size_t y = 0; y < output_height; y++) {
        const uint8_t *first = input + (size_t)starts[y] * row_length;
        const int32_t *k = weights + y * kernel_size;
        size_t taps = (size_t)counts[y];
        uint8_t *out = output + y * row_length;
        size_t i = 0;
        // Sixteen bytes a step, two accumulators, each weight broadcast once per step.
        for (; i + 16 <= row_length; i += 16) {
            __m256i a = rounding, b = rounding;
            const uint8_t *source = first + i;
            for (size_t j = 0; j < taps; j++, source += row_length) {
                __m256i w = _mm256_set1_epi32(k[j]);
                a = _mm256_add_epi32(a, _mm256_mullo_epi32(widen8(source), w));
                b = _mm256_add_epi32(b, _mm256_mullo_epi32(widen8(source + 8), w));
            }
            a = _mm256_srai_epi32(a, PRECISION_BITS);
            b = _mm256_srai_epi32(b, PRECISION_BITS);
            // packs/packus work within 128-bit lanes: [a0 b0 | a1 b1] → reorder to a0 a1 b0 b1.
            __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8);
            __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
            _mm_storeu_si128((__m128i *)(out + i), bytes);
        }
        for (; i < row_length; i++) {
            int32_t sum = 1 << (PRECISION_BITS - 1);
            for (size_t j = 0; j < taps; j++) sum += (int32_t)first[j * row_length + i] * k[j];
            sum >>= PRECISION_BITS;
            out[i] = (uint8_t)(sum < 0 ? 0 : sum > 255 ? 255 : sum);
        }
    }
}

#else  // not x86-64: ImageIO uses its portable loops

int resample_avx2_available(void) { return 0; }

int resample_horizontal_rgb8_avx2(
    const uint8_t *input, size_t input_width, size_t input_readable, size_t rows,
    uint8_t *output, size_t output_width,
    const int32_t *starts, const int32_t *counts, const int32_t *weights, size_t kernel_size) {
    (void)input; (void)input_width; (void)input_readable; (void)rows; (void)output; (void)output_width;
    (void)starts; (void)counts; (void)weights; (void)kernel_size;
    return -1;
}

resample_horizontal_plan *resample_horizontal_plan_create(
    const int32_t *starts, const int32_t *counts, const int32_t *weights, size_t kernel_size, size_t output_width) {
    (void)starts; (void)counts; (void)weights; (void)kernel_size; (void)output_width;
    return NULL;
}

void resample_horizontal_plan_destroy(resample_horizontal_plan *plan) { (void)plan; }

int resample_horizontal_plan_pairs_pixels(const resample_horizontal_plan *plan) { (void)plan; return 0; }

int resample_horizontal_rgb8_avx2_cached(
    const resample_horizontal_plan *plan, const uint8_t *input, size_t input_width, size_t input_readable,
    size_t rows, uint8_t *output) {
    (void)plan; (void)input; (void)input_width; (void)input_readable; (void)rows; (void)output;
    return -1;
}

void resample_vertical_u8_avx2(
    const uint8_t *input, size_t row_length, uint8_t *output, size_t output_height,
    const int32_t *starts, const int32_t *counts, const int32_t *weights, size_t kernel_size) {
    (void)input; (void)row_length; (void)output; (void)output_height;
    (void)starts; (void)counts; (void)weights; (void)kernel_size;
}

#endif
