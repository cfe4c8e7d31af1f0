// libpng shim. Each entry point creates its own png_struct, sets a setjmp through
// png_jmpbuf, and routes libpng's error and warning callbacks into a ccodecs_status.
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "include/ccodecs_png.h"

/// State shared with libpng's callbacks. Lives in the caller's frame; everything that must
/// survive a longjmp (the row table, the value counts) is reached through it, never through a
/// local.
typedef struct png_session {
    const uint8_t *data;
    size_t size;
    size_t offset;
    ccodecs_status *status;
    png_bytep *rows;
    uint64_t (*scratch_counts)[256];
    ccodecs_buffer *output;
} png_session;

static void session_error(png_structp png, png_const_charp message) {
    png_session *session = png_get_error_ptr(png);
    ccodecs_status_fail(session->status, CCODECS_CORRUPT, "%s", message);
    png_longjmp(png, 1);
}

static void session_warning(png_structp png, png_const_charp message) {
    png_session *session = png_get_error_ptr(png);
    ccodecs_status_warn(session->status, message);
}

static void session_read(png_structp png, png_bytep into, size_t count) {
    png_session *session = png_get_io_ptr(png);
    if (count > session->size - session->offset) {
        png_error(png, "file ends before the image does (truncated)");
    }
    memcpy(into, session->data + session->offset, count);
    session->offset += count;
}

static void session_write(png_structp png, png_bytep bytes, size_t count) {
    png_session *session = png_get_io_ptr(png);
    if (!ccodecs_buffer_append(session->output, bytes, count)) png_error(png, "out of memory");
}

static void session_flush(png_structp png) { (void)png; }

/// Checks the signature and creates libpng's read and info structures for `session`. On
/// failure fills the status and returns its code, with nothing left to free. The setjmp stays
/// with the caller: it must be taken in the frame whose locals the longjmp returns to.
static int open_reader(png_session *session, png_structp *png, png_infop *info) {
    *png = NULL;
    *info = NULL;
    if (session->size < 8 || png_sig_cmp(session->data, 0, 8) != 0) {
        return ccodecs_status_fail(session->status, CCODECS_CORRUPT, "not a PNG signature");
    }
    *png = png_create_read_struct(PNG_LIBPNG_VER_STRING, session, session_error, session_warning);
    *info = *png ? png_create_info_struct(*png) : NULL;
    if (!*info) {
        png_destroy_read_struct(png, NULL, NULL);
        return ccodecs_status_fail(session->status, CCODECS_NO_MEMORY, "cannot create libpng reader");
    }
    png_set_read_fn(*png, session, session_read);
    // libpng refuses widths above 1,000,000 by itself; lift that so DecodeLimits alone decides
    // and an oversized claim is reported as one (.tooLarge), not as corruption.
    png_set_user_limits(*png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    // Ancillary chunks whose data libpng would copy into a buffer of the length the chunk
    // claims, which nothing here reads: skipped unread. A tEXt claiming 2 GB otherwise made
    // libpng allocate and fill 2 GB (its "chunk data is too large" is only a benign warning
    // when reading), seconds per file (found by scripts/fuzz png).
    static const png_byte ignored[] = "tEXt\0zTXt\0iTXt\0iCCP\0sPLT\0eXIf\0pCAL\0sCAL\0hIST\0tIME";
    png_set_keep_unknown_chunks(*png, PNG_HANDLE_CHUNK_NEVER, ignored, (int)(sizeof ignored / 5));
    return CCODECS_OK;
}

static void fill_info(png_structp png, png_infop info, ccodecs_png_info *out) {
    memset(out, 0, sizeof *out);
    out->width = png_get_image_width(png, info);
    out->height = png_get_image_height(png, info);
    out->bit_depth = png_get_bit_depth(png, info);
    out->color_type = png_get_color_type(png, info);
    out->interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
    png_colorp palette = NULL;
    int count = 0;
    if (png_get_PLTE(png, info, &palette, &count) && palette) {
        if (count > 256) count = 256;
        for (int i = 0; i < count; i++) {
            out->palette[3 * i] = palette[i].red;
            out->palette[3 * i + 1] = palette[i].green;
            out->palette[3 * i + 2] = palette[i].blue;
        }
        out->palette_count = count;
    }
    out->has_transparency = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
}

int ccodecs_png_probe(const uint8_t *data, size_t size, ccodecs_png_info *info, ccodecs_status *status) {
    ccodecs_status_reset(status);
    png_session session = {.data = data, .size = size, .status = status};
    png_structp png;
    png_infop png_info;
    if (open_reader(&session, &png, &png_info) != CCODECS_OK) return status->code;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &png_info, NULL);
        return status->code;
    }
    png_read_info(png, png_info);
    fill_info(png, png_info, info);
    png_destroy_read_struct(&png, &png_info, NULL);
    return CCODECS_OK;
}

/// Sets libpng's transformations for `layout`; returns the bytes per output pixel, or 0 when
/// the layout does not fit the file (the status then says why).
static int configure_layout(png_structp png, png_infop info, ccodecs_png_layout layout, ccodecs_status *status) {
    int color_type = png_get_color_type(png, info);
    int bit_depth = png_get_bit_depth(png, info);
    switch (layout) {
    case CCODECS_PNG_LAYOUT_RGB8:
        // tRNS is deliberately not expanded to alpha: alpha is dropped for photos anyway.
        if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
        if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
        if (bit_depth == 16) png_set_strip_16(png);
        // Expanding a palette also turns tRNS into an alpha channel: strip that too.
        if ((color_type & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS)) png_set_strip_alpha(png);
        if (!(color_type & PNG_COLOR_MASK_COLOR) && color_type != PNG_COLOR_TYPE_PALETTE) png_set_gray_to_rgb(png);
        return 3;
    case CCODECS_PNG_LAYOUT_SAMPLE8:
        if ((color_type & PNG_COLOR_MASK_COLOR) && color_type != PNG_COLOR_TYPE_PALETTE) break;
        if (bit_depth > 8) break;
        if (bit_depth < 8) png_set_packing(png);
        if (color_type & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
        return 1;
    case CCODECS_PNG_LAYOUT_SAMPLE16:
        if (color_type != PNG_COLOR_TYPE_GRAY && color_type != PNG_COLOR_TYPE_GRAY_ALPHA) break;
        if (bit_depth != 16) break;
        if (color_type & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
#if BYTE_ORDER == LITTLE_ENDIAN
        png_set_swap(png);
#endif
        return 2;
    }
    ccodecs_status_fail(status, CCODECS_UNSUPPORTED,
        "colour type %d at %d bits cannot be read as %s", color_type, bit_depth,
        layout == CCODECS_PNG_LAYOUT_SAMPLE16 ? "16-bit samples" : "8-bit samples");
    return 0;
}

/// Adds the values of `n` bytes to `counts`. Label maps are runs of equal values: eight bytes
/// equal to the current run's are one comparison; other words count byte by byte into four
/// partial tables (so that repeated values do not wait on each other's stores).
static void count_values(const uint8_t *bytes, size_t n, uint64_t counts[4][256]) {
    uint64_t run_word = 0, run_count = 0;
    unsigned run_value = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t word;
        memcpy(&word, bytes + i, 8);
        if (word == run_word) {
            run_count += 8;
            continue;
        }
        unsigned first = (unsigned)(word & 0xFF);
        if (word == first * 0x0101010101010101ULL) {  // a new run
            counts[0][run_value] += run_count;
            run_value = first;
            run_word = word;
            run_count = 8;
            continue;
        }
        for (int b = 0; b < 8; b++) counts[b & 3][(word >> (8 * b)) & 0xFF]++;
    }
    counts[0][run_value] += run_count;
    for (; i < n; i++) counts[0][bytes[i]]++;
}

/// The largest of `n` bytes (0 for none).
static uint8_t largest_value(const uint8_t *bytes, size_t n) {
    uint8_t largest = 0;
    for (size_t i = 0; i < n; i++) largest = bytes[i] > largest ? bytes[i] : largest;
    return largest;
}

int ccodecs_png_decode(
    const uint8_t *data, size_t size, ccodecs_png_layout layout, uint32_t width, uint32_t height,
    uint8_t *out, size_t out_capacity, uint64_t *value_counts, ccodecs_status *status) {
    ccodecs_status_reset(status);
    if (value_counts && layout != CCODECS_PNG_LAYOUT_SAMPLE8) {
        return ccodecs_status_fail(status, CCODECS_BAD_ARGUMENT, "values are counted for 8-bit samples only");
    }
    png_session session = {.data = data, .size = size, .status = status};
    png_structp png;
    png_infop info;
    if (open_reader(&session, &png, &info) != CCODECS_OK) return status->code;
    if (setjmp(png_jmpbuf(png))) {
        free(session.rows);
        free(session.scratch_counts);
        png_destroy_read_struct(&png, &info, NULL);
        return status->code;
    }
    png_read_info(png, info);
    if (png_get_image_width(png, info) != width || png_get_image_height(png, info) != height) {
        ccodecs_status_fail(status, CCODECS_SIZE_MISMATCH, "header declares %ux%u, expected %ux%u",
            png_get_image_width(png, info), png_get_image_height(png, info), width, height);
        png_longjmp(png, 1);
    }
    // Palette files are read as raw indices even for RGB output, so that indices past the end
    // of PLTE can be refused (libpng 1.6 would silently draw them black); the indices go into
    // the last third of the caller's buffer and are expanded forward in place.
    int is_palette = png_get_color_type(png, info) == PNG_COLOR_TYPE_PALETTE;
    int expand_here = is_palette && layout == CCODECS_PNG_LAYOUT_RGB8;
    int pixel_bytes = configure_layout(png, info, expand_here ? CCODECS_PNG_LAYOUT_SAMPLE8 : layout, status);
    if (pixel_bytes == 0) png_longjmp(png, 1);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t pixels = (size_t)width * height;
    size_t row_bytes = png_get_rowbytes(png, info);
    size_t needed = expand_here ? pixels * 3 : row_bytes * height;
    if (row_bytes != (size_t)width * (size_t)pixel_bytes || needed > out_capacity) {
        ccodecs_status_fail(status, CCODECS_SIZE_MISMATCH, "output needs %zu bytes per row for %u rows, buffer holds %zu bytes",
            row_bytes, height, out_capacity);
        png_longjmp(png, 1);
    }
    uint8_t *base = expand_here ? out + 2 * pixels : out;
    session.rows = malloc(sizeof(png_bytep) * (height ? height : 1));
    if (!session.rows) {
        ccodecs_status_fail(status, CCODECS_NO_MEMORY, "cannot allocate %u row pointers", height);
        png_longjmp(png, 1);
    }
    for (uint32_t y = 0; y < height; y++) session.rows[y] = base + (size_t)y * row_bytes;
    // Rows are counted (or scanned for the largest palette index) as they come, while in cache;
    // an interlaced image is complete only after its last pass, so it is scanned at the end.
    uint64_t (*counts)[256] = NULL;
    if (value_counts) {
        counts = calloc(4, sizeof *counts);
        if (!counts) {
            ccodecs_status_fail(status, CCODECS_NO_MEMORY, "cannot allocate value counts");
            png_longjmp(png, 1);
        }
        session.scratch_counts = counts;
    }
    int largest = 0;
    if (png_get_interlace_type(png, info) == PNG_INTERLACE_NONE) {
        for (uint32_t y = 0; y < height; y++) {
            png_read_row(png, session.rows[y], NULL);
            if (counts) count_values(session.rows[y], row_bytes, counts);
            else if (is_palette) {
                uint8_t row_largest = largest_value(session.rows[y], row_bytes);
                if (row_largest > largest) largest = row_largest;
            }
        }
    } else {
        png_read_image(png, session.rows);
        if (counts) count_values(base, pixels, counts);
        else if (is_palette) largest = largest_value(base, pixels);
    }
    png_read_end(png, NULL);
    if (counts) {
        for (int value = 0; value < 256; value++) {
            value_counts[value] = counts[0][value] + counts[1][value] + counts[2][value] + counts[3][value];
            if (value_counts[value]) largest = value;
        }
        free(counts);
        session.scratch_counts = NULL;
    }
    if (is_palette) {
        png_colorp palette = NULL;
        int count = 0;
        png_get_PLTE(png, info, &palette, &count);
        if (largest >= count) {
            ccodecs_status_fail(status, CCODECS_CORRUPT, "palette index %d is past the end of the %d-colour palette", largest, count);
            png_longjmp(png, 1);
        }
        if (expand_here) {
            for (size_t i = 0; i < pixels; i++) {
                png_color colour = palette[base[i]];  // read before the writes below reach it
                out[3 * i] = colour.red;
                out[3 * i + 1] = colour.green;
                out[3 * i + 2] = colour.blue;
            }
        }
    }
    free(session.rows);
    session.rows = NULL;
    png_destroy_read_struct(&png, &info, NULL);
    return CCODECS_OK;
}

int ccodecs_png_encode(
    const uint8_t *pixels, uint32_t width, uint32_t height, int color_type,
    const uint8_t *palette, int palette_count, int compression_level, int row_filters,
    ccodecs_buffer *out, ccodecs_status *status) {
    ccodecs_status_reset(status);
    memset(out, 0, sizeof *out);
    int channels = color_type == CCODECS_PNG_RGB ? 3 : 1;
    if (color_type != CCODECS_PNG_GRAY && color_type != CCODECS_PNG_RGB && color_type != CCODECS_PNG_PALETTE) {
        return ccodecs_status_fail(status, CCODECS_BAD_ARGUMENT, "cannot encode colour type %d", color_type);
    }
    if (color_type == CCODECS_PNG_PALETTE && ccodecs_check_palette(palette, palette_count, status) != CCODECS_OK) return status->code;
    if (compression_level < 0 || compression_level > 9) {
        return ccodecs_status_fail(status, CCODECS_BAD_ARGUMENT, "compression level %d is outside 0...9", compression_level);
    }
    png_session session = {.status = status, .output = out};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &session, session_error, session_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return ccodecs_status_fail(status, CCODECS_NO_MEMORY, "cannot create libpng writer");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        ccodecs_buffer_free(out);
        return status->code;
    }
    png_set_write_fn(png, &session, session_write, session_flush);
    png_set_compression_level(png, compression_level);
    if (row_filters) png_set_filter(png, PNG_FILTER_TYPE_BASE, row_filters & PNG_ALL_FILTERS);
    png_set_IHDR(png, info, width, height, 8, color_type, PNG_INTERLACE_NONE,
        PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (color_type == CCODECS_PNG_PALETTE) {
        png_color colours[256];
        for (int i = 0; i < palette_count; i++) {
            colours[i].red = palette[3 * i];
            colours[i].green = palette[3 * i + 1];
            colours[i].blue = palette[3 * i + 2];
        }
        png_set_PLTE(png, info, colours, palette_count);
    }
    png_write_info(png, info);
    size_t row_bytes = (size_t)width * (size_t)channels;
    for (uint32_t y = 0; y < height; y++) {
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * row_bytes));
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return CCODECS_OK;
}

int ccodecs_png_encode_gray16(
    const uint16_t *samples, uint32_t width, uint32_t height, int compression_level,
    ccodecs_buffer *out, ccodecs_status *status) {
    ccodecs_status_reset(status);
    memset(out, 0, sizeof *out);
    if (compression_level < 0 || compression_level > 9) {
        return ccodecs_status_fail(status, CCODECS_BAD_ARGUMENT, "compression level %d is outside 0...9", compression_level);
    }
    png_session session = {.status = status, .output = out};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &session, session_error, session_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return ccodecs_status_fail(status, CCODECS_NO_MEMORY, "cannot create libpng writer");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        ccodecs_buffer_free(out);
        return status->code;
    }
    png_set_write_fn(png, &session, session_write, session_flush);
    png_set_compression_level(png, compression_level);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
    png_set_IHDR(png, info, width, height, 16, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
        PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    // PNG stores 16-bit samples big-endian; libpng swaps host-order rows as it writes them.
#if BYTE_ORDER == LITTLE_ENDIAN
    png_set_swap(png);
#endif
    for (uint32_t y = 0; y < height; y++) {
        png_write_row(png, (png_const_bytep)(samples + (size_t)y * width));
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return CCODECS_OK;
}

const char *ccodecs_png_library_version(void) { return png_get_libpng_ver(NULL); }
