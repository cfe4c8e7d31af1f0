// libjpeg (libjpeg-turbo's libjpeg62 API) behind a status-returning interface. libjpeg's default
// error handler calls exit(); each function here installs one that longjmps back to its own
// setjmp instead, so a bad file returns CCODECS_CORRUPT with libjpeg's message.
#pragma once
#include "ccodecs_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/// JPEG colour spaces, with libjpeg's J_COLOR_SPACE numbers.
enum {
    CCODECS_JPEG_UNKNOWN = 0,
    CCODECS_JPEG_GRAY = 1,
    CCODECS_JPEG_RGB = 2,
    CCODECS_JPEG_YCBCR = 3,
    CCODECS_JPEG_CMYK = 4,
    CCODECS_JPEG_YCCK = 5,
};

/// What the markers before the first scan declare.
typedef struct ccodecs_jpeg_info {
    uint32_t width;
    uint32_t height;
    int components;
    int color_space;
    int progressive;
    /// An Adobe APP14 marker was seen: CMYK samples are stored inverted.
    int adobe_marker;
} ccodecs_jpeg_info;

/// Reads the JPEG header in `data` into `info` without decoding any scan.
int ccodecs_jpeg_probe(const uint8_t *data, size_t size, ccodecs_jpeg_info *info, ccodecs_status *status);

/// Decodes the JPEG in `data` to 8-bit RGB in `out` (3 bytes per pixel, rows without padding).
/// Gray is replicated, CMYK and YCCK are converted (inverted Adobe samples are handled). The
/// header must declare exactly `width × height`. libjpeg's recoverable corruptions are counted
/// in `status->warning_count`; data that ends before the last scan does returns
/// CCODECS_TRUNCATED (libjpeg would have padded the rest with grey).
int ccodecs_jpeg_decode_rgb(
    const uint8_t *data, size_t size, uint32_t width, uint32_t height,
    uint8_t *out, size_t out_capacity, ccodecs_status *status);

/// Decodes the JPEG in `data` as `ccodecs_jpeg_decode_rgb` does and keeps nothing: every
/// scan's entropy-coded data is decoded whole, so the same files fail with the same errors and
/// raise the same warnings, but pixels come out at 1/8 scale (about half the time). For a
/// caller that must know whether a photo decodes but does not need it.
int ccodecs_jpeg_check(const uint8_t *data, size_t size, uint32_t width, uint32_t height, ccodecs_status *status);

/// A JPEG being decoded to RGB rows a few at a time, so a caller can consume each band of rows
/// while it is still in cache (ImageIO's streaming resize) instead of holding the whole image.
typedef struct ccodecs_jpeg_reader ccodecs_jpeg_reader;

/// Reads the header of the JPEG in `data` (which must outlive the reader) and starts decoding,
/// with the checks and conversions of `ccodecs_jpeg_decode_rgb`. NULL on failure (`status` says
/// why). Resets `status`; the calls below add their warnings to it.
ccodecs_jpeg_reader *ccodecs_jpeg_reader_open(
    const uint8_t *data, size_t size, uint32_t width, uint32_t height, ccodecs_status *status);

/// Decodes up to `max_rows` next rows into `out` (rows of width × 3 bytes, no padding). Returns
/// how many (0 after the last), or -1 on failure, after which only close is allowed. Data that
/// ends early fails with CCODECS_TRUNCATED as soon as libjpeg notices.
int ccodecs_jpeg_reader_read(ccodecs_jpeg_reader *reader, uint8_t *out, uint32_t max_rows, ccodecs_status *status);

/// Ends a decode whose every row was read; CCODECS_OK, or the failure.
int ccodecs_jpeg_reader_finish(ccodecs_jpeg_reader *reader, ccodecs_status *status);

/// Frees the reader (NULL is allowed), finished or not.
void ccodecs_jpeg_reader_close(ccodecs_jpeg_reader *reader);

/// Encodes 8-bit `pixels` with `components` 1 (gray), 3 (RGB) or 4 (CMYK, stored as given, with
/// libjpeg's Adobe marker) bytes per pixel as a JPEG at `quality` 1...100 (4:2:0 chroma
/// subsampling for RGB, libjpeg's default). For CMYK, `ycck` 1 stores it as YCCK. On success
/// `out` holds the file; free it with `ccodecs_buffer_free`.
int ccodecs_jpeg_encode(
    const uint8_t *pixels, uint32_t width, uint32_t height, int components, int quality,
    int progressive, int ycck, ccodecs_buffer *out, ccodecs_status *status);

/// The libjpeg API version compiled against, e.g. 62.
int ccodecs_jpeg_library_version(void);

#ifdef __cplusplus
}
#endif
