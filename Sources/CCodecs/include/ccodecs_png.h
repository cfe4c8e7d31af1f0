// libpng behind a status-returning interface. libpng reports errors by longjmp; every function
// here owns the setjmp that catches it, so a bad file returns CCODECS_CORRUPT with libpng's
// message and never aborts the process.
#pragma once
#include "ccodecs_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/// PNG colour types, with PNG's own numbers.
enum {
    CCODECS_PNG_GRAY = 0,
    CCODECS_PNG_RGB = 2,
    CCODECS_PNG_PALETTE = 3,
    CCODECS_PNG_GRAY_ALPHA = 4,
    CCODECS_PNG_RGBA = 6,
};

/// How decoded pixels are laid out in the caller's buffer.
typedef enum ccodecs_png_layout {
    /// 3 bytes per pixel: palette and gray expanded to RGB, alpha dropped, 16-bit cut to the
    /// high byte. For photos.
    CCODECS_PNG_LAYOUT_RGB8 = 0,
    /// 1 byte per pixel, the raw sample: palette index or gray value, never rescaled (a 2-bit
    /// gray value 3 stays 3). Alpha dropped. Only for palette and gray files of depth <= 8.
    CCODECS_PNG_LAYOUT_SAMPLE8 = 1,
    /// 2 bytes per pixel in host order, the raw 16-bit gray value. Only for 16-bit gray files.
    CCODECS_PNG_LAYOUT_SAMPLE16 = 2,
} ccodecs_png_layout;

/// What the header (IHDR, PLTE, tRNS) declares, read without decoding any pixel.
typedef struct ccodecs_png_info {
    uint32_t width;
    uint32_t height;
    int bit_depth;
    int color_type;
    int interlaced;
    int palette_count;
    /// `palette_count` RGB triples.
    uint8_t palette[256 * 3];
    int has_transparency;
} ccodecs_png_info;

/// Reads the header of the PNG in `data` into `info`.
int ccodecs_png_probe(const uint8_t *data, size_t size, ccodecs_png_info *info, ccodecs_status *status);

/// Decodes the PNG in `data` into `out` in the given layout. The header must declare exactly
/// `width × height` (the caller checked that size against its limits before allocating `out`),
/// and `out_capacity` must hold the whole image in that layout. Reads up to IEND, so a missing
/// or damaged end is an error too.
///
/// With `value_counts` (256 entries, layout SAMPLE8 only), it also counts the pixels of each
/// sample value, row by row as rows are decoded (while they are in cache), instead of the
/// caller scanning the image again; NULL skips that. The counts are valid only on success.
int ccodecs_png_decode(
    const uint8_t *data, size_t size, ccodecs_png_layout layout, uint32_t width, uint32_t height,
    uint8_t *out, size_t out_capacity, uint64_t *value_counts, ccodecs_status *status);

/// Encodes 8-bit `pixels` (rows of `width` pixels, no padding) as a PNG. `color_type` is
/// CCODECS_PNG_GRAY (1 byte/pixel), CCODECS_PNG_RGB (3) or CCODECS_PNG_PALETTE (1 byte index,
/// with `palette_count` RGB triples in `palette`). `compression_level` is zlib's 0...9.
/// `row_filters` is a mask of libpng's PNG_FILTER_NONE/SUB/UP/AVG/PAETH bits that libpng
/// chooses among for each row, or 0 for libpng's default choice.
/// On success `out` holds the file; free it with `ccodecs_buffer_free`.
int ccodecs_png_encode(
    const uint8_t *pixels, uint32_t width, uint32_t height, int color_type,
    const uint8_t *palette, int palette_count, int compression_level, int row_filters,
    ccodecs_buffer *out, ccodecs_status *status);

/// Encodes 16-bit gray `samples` (rows of `width` values in host order, no padding) as a
/// 16-bit grayscale PNG, as Cityscapes stores its instance ids. `compression_level` is zlib's
/// 0...9; rows are left unfiltered (instance maps are long runs of one value).
/// On success `out` holds the file; free it with `ccodecs_buffer_free`.
int ccodecs_png_encode_gray16(
    const uint16_t *samples, uint32_t width, uint32_t height, int compression_level,
    ccodecs_buffer *out, ccodecs_status *status);

/// The version of the libpng linked at run time, e.g. "1.6.39".
const char *ccodecs_png_library_version(void);

#ifdef __cplusplus
}
#endif
