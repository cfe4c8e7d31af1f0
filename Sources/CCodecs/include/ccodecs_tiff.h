// libtiff behind a status-returning interface. libtiff reports errors through handlers rather
// than longjmp; each call opens its own TIFF handle with per-handle handlers (libtiff >= 4.5)
// that write into the caller's status, so concurrent decodes never share a message buffer.
#pragma once
#include "ccodecs_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/// TIFF compression schemes, with TIFF's tag values.
enum {
    CCODECS_TIFF_NONE = 1,
    CCODECS_TIFF_LZW = 5,
    CCODECS_TIFF_JPEG = 7,
    CCODECS_TIFF_DEFLATE = 8,
    CCODECS_TIFF_PACKBITS = 32773,
};

/// TIFF photometric interpretations, with TIFF's tag values.
enum {
    CCODECS_TIFF_MINISWHITE = 0,
    CCODECS_TIFF_MINISBLACK = 1,
    CCODECS_TIFF_RGB = 2,
    CCODECS_TIFF_PALETTE = 3,
};

/// What the first image directory declares.
typedef struct ccodecs_tiff_info {
    uint32_t width;
    uint32_t height;
    int samples_per_pixel;
    int bits_per_sample;
    int photometric;
    int compression;
    int planar_config;
    int tiled;
} ccodecs_tiff_info;

/// Reads the first directory of the TIFF in `data` into `info` without decoding pixels.
int ccodecs_tiff_probe(const uint8_t *data, size_t size, ccodecs_tiff_info *info, ccodecs_status *status);

/// Decodes the first image to 8-bit RGB (3 bytes per pixel, top row first whatever the file's
/// orientation) through libtiff's RGBA reader, which covers strips and tiles, every
/// compression libtiff was built with, gray, palette, RGB, YCbCr, CMYK and 16-bit samples.
/// Alpha is dropped. The directory must declare exactly `width × height`.
int ccodecs_tiff_decode_rgb(
    const uint8_t *data, size_t size, uint32_t width, uint32_t height,
    uint8_t *out, size_t out_capacity, ccodecs_status *status);

/// Decodes a one-sample-per-pixel image (gray or palette) as raw samples: the palette index or
/// gray value, never mapped through the colour map. `sample_bytes` is 1 for 8-bit files and 2
/// for 16-bit ones (host order). Strips and tiles both work.
int ccodecs_tiff_decode_samples(
    const uint8_t *data, size_t size, uint32_t width, uint32_t height, int sample_bytes,
    uint8_t *out, size_t out_capacity, ccodecs_status *status);

/// Encodes 8-bit pixels as a one-directory TIFF. `photometric` is MINISBLACK (1 byte/pixel),
/// RGB (3) or PALETTE (1 byte index, with `palette_count` RGB triples in `palette`).
/// `tile_size` 0 writes strips of `rows_per_strip` rows; otherwise square tiles of that size
/// (a multiple of 16). JPEG compression needs RGB or gray. Free `out` with ccodecs_buffer_free.
int ccodecs_tiff_encode(
    const uint8_t *pixels, uint32_t width, uint32_t height, int photometric,
    const uint8_t *palette, int palette_count, int compression, uint32_t rows_per_strip,
    uint32_t tile_size, ccodecs_buffer *out, ccodecs_status *status);

/// libtiff's version banner.
const char *ccodecs_tiff_library_version(void);

#ifdef __cplusplus
}
#endif
