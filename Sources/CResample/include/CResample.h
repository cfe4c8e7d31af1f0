#ifndef C_RESAMPLE_H
#define C_RESAMPLE_H
// AVX2 kernels for ImageIO's PIL-exact resampling. Swift cannot emit AVX2 for one function
// (there are no intrinsics and no per-function target attribute), so the two inner loops live
// here behind a run-time check; ImageIO keeps the portable Swift loops as the reference and
// the fallback. See README.md. Every function computes exactly what Pillow's 8-bit
// resampling computes: 32-bit sums of byte × 22-bit fixed-point weight, started at 2^21,
// shifted right by 22 and clamped to 0...255.
#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU runs AVX2 (so the functions below may be called), else 0.
int resample_avx2_available(void);

/// One horizontal pass over `rows` rows of RGB8 pixels, `input_width` wide, into rows of
/// `output_width` pixels. Output pixel x of a row is the weighted sum of input pixels
/// starts[x] ..< starts[x] + counts[x] with weights[x * kernel_size + j].
/// `input_readable` is the number of bytes readable from `input`: the kernel reads up to a
/// few bytes past a row's used pixels, and copies a row that ends near the buffer's end.
/// Returns 0, or -1 when a scratch allocation failed (nothing then is written).
int resample_horizontal_rgb8_avx2(
    const uint8_t *input, size_t input_width, size_t input_readable, size_t rows,
    uint8_t *output, size_t output_width,
    const int32_t *starts, const int32_t *counts, const int32_t *weights, size_t kernel_size);

/// The packed weights of one horizontal resampling, made once and reused for every call of
/// `resample_horizontal_rgb8_avx2_cached` (packing costs about as much as a few dozen rows).
typedef struct resample_horizontal_plan resample_horizontal_plan;

/// A plan for the taps `starts`, `counts`, `weights` (as above); NULL when out of memory or when
/// this CPU has no AVX2 (`resample_avx2_available()` is 0).
resample_horizontal_plan *resample_horizontal_plan_create(
    const int32_t *starts, const int32_t *counts, const int32_t *weights, size_t kernel_size, size_t output_width);
void resample_horizontal_plan_destroy(resample_horizontal_plan *plan);

/// 1 when the cached loop computes two output pixels per register for this plan (pixels 2q + 1
/// start 0 to 3 pixels after pixels 2q, as at scales below about 3, and no pixel has more than
/// 12 taps), 0 when it keeps one pixel per register. The bytes are the same either way.
int resample_horizontal_plan_pairs_pixels(const resample_horizontal_plan *plan);

/// The horizontal pass for a few rows that are already in cache (a streaming decoder's latest
/// band): pixels outer and rows inner, so each pixel's weights are loaded once per call (per 32
/// rows when given more).
/// That order reads rows in many short strides, which suits cache and not memory: whole images
/// go through `resample_horizontal_rgb8_avx2`, whose row pairs read memory front to back.
int resample_horizontal_rgb8_avx2_cached(
    const resample_horizontal_plan *plan, const uint8_t *input, size_t input_width, size_t input_readable,
    size_t rows, uint8_t *output);

/// One vertical pass: output row y (of `row_length` bytes) is the weighted sum of input rows
/// starts[y] ..< starts[y] + counts[y] with weights[y * kernel_size + j]. Row r of the input
/// begins at input + r * row_length.
void resample_vertical_u8_avx2(
    const uint8_t *input, size_t row_length, uint8_t *output, size_t output_height,
    const int32_t *starts, const int32_t *counts, const int32_t *weights, size_t kernel_size);

#endif
