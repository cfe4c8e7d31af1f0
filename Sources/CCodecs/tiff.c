// libtiff shim: TIFFClientOpenExt over a memory buffer, with error and warning handlers bound
// to the handle (no global state), and an allocation cap so a lying header cannot make libtiff
// allocate gigabytes.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>
#include "internal.h"
#include "include/ccodecs_tiff.h"

/// Largest single allocation libtiff may make for us (strip buffers, colour maps...).
static const tmsize_t max_single_allocation = (tmsize_t)1 << 30;

typedef struct tiff_memory {
    const uint8_t *data;      // reading
    ccodecs_buffer *output;   // writing
    size_t size;
    size_t offset;
    ccodecs_status *status;
} tiff_memory;

static int on_error(TIFF *tif, void *user, const char *module, const char *format, va_list args) {
    (void)tif;
    tiff_memory *memory = user;
    char text[CCODECS_MESSAGE_CAPACITY];
    vsnprintf(text, sizeof text, format, args);
    ccodecs_status_fail(memory->status, CCODECS_CORRUPT, "%s: %s", module ? module : "libtiff", text);
    return 1;
}

static int on_warning(TIFF *tif, void *user, const char *module, const char *format, va_list args) {
    (void)tif;
    (void)module;
    tiff_memory *memory = user;
    char text[CCODECS_MESSAGE_CAPACITY];
    vsnprintf(text, sizeof text, format, args);
    ccodecs_status_warn(memory->status, text);
    return 1;
}

static tmsize_t memory_read(thandle_t handle, void *into, tmsize_t count) {
    tiff_memory *memory = handle;
    if (count < 0 || !memory->data) return -1;
    size_t available = memory->size - memory->offset;
    size_t n = (size_t)count < available ? (size_t)count : available;
    memcpy(into, memory->data + memory->offset, n);
    memory->offset += n;
    return (tmsize_t)n;
}

static tmsize_t memory_write(thandle_t handle, void *bytes, tmsize_t count) {
    tiff_memory *memory = handle;
    if (count < 0 || !memory->output) return -1;
    ccodecs_buffer *buffer = memory->output;
    size_t end = memory->offset + (size_t)count;
    if (end > buffer->size) {
        // Grow with zeroes up to the write's end, then overwrite in place.
        static const uint8_t zeroes[4096];
        while (buffer->size < end) {
            size_t step = end - buffer->size < sizeof zeroes ? end - buffer->size : sizeof zeroes;
            if (!ccodecs_buffer_append(buffer, zeroes, step)) return -1;
        }
    }
    memcpy(buffer->data + memory->offset, bytes, (size_t)count);
    memory->offset = end;
    return count;
}

static toff_t memory_size(thandle_t handle) {
    tiff_memory *memory = handle;
    return memory->output ? memory->output->size : memory->size;
}

static toff_t memory_seek(thandle_t handle, toff_t offset, int whence) {
    tiff_memory *memory = handle;
    uint64_t base = whence == SEEK_CUR ? memory->offset : whence == SEEK_END ? memory_size(handle) : 0;
    uint64_t target = base + offset;
    // Reading may not go past the end; writing may (the gap is filled on the next write).
    if (!memory->output && target > memory->size) return (toff_t)-1;
    memory->offset = (size_t)target;
    return target;
}

static int memory_close(thandle_t handle) { (void)handle; return 0; }

static int memory_map(thandle_t handle, void **base, toff_t *size) {
    tiff_memory *memory = handle;
    if (!memory->data) return 0;
    *base = (void *)memory->data;
    *size = memory->size;
    return 1;
}

static void memory_unmap(thandle_t handle, void *base, toff_t size) { (void)handle; (void)base; (void)size; }

static TIFF *open_memory(tiff_memory *memory, const char *mode) {
    TIFFOpenOptions *options = TIFFOpenOptionsAlloc();
    if (!options) {
        ccodecs_status_fail(memory->status, CCODECS_NO_MEMORY, "cannot allocate libtiff options");
        return NULL;
    }
    TIFFOpenOptionsSetErrorHandlerExtR(options, on_error, memory);
    TIFFOpenOptionsSetWarningHandlerExtR(options, on_warning, memory);
    TIFFOpenOptionsSetMaxSingleMemAlloc(options, max_single_allocation);
    TIFF *tif = TIFFClientOpenExt("memory", mode, memory, memory_read, memory_write, memory_seek,
        memory_close, memory_size, memory_map, memory_unmap, options);
    TIFFOpenOptionsFree(options);
    if (!tif) ccodecs_status_fail(memory->status, CCODECS_CORRUPT, "libtiff cannot open the data");
    return tif;
}

static void fill_info(TIFF *tif, ccodecs_tiff_info *info) {
    memset(info, 0, sizeof *info);
    uint16_t samples = 1, bits = 1, photometric = 0, compression = 1, planar = 1;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &info->width);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &info->height);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &samples);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    info->samples_per_pixel = samples;
    info->bits_per_sample = bits;
    info->photometric = photometric;
    info->compression = compression;
    info->planar_config = planar;
    info->tiled = TIFFIsTiled(tif);
}

int ccodecs_tiff_probe(const uint8_t *data, size_t size, ccodecs_tiff_info *info, ccodecs_status *status) {
    ccodecs_status_reset(status);
    tiff_memory memory = {.data = data, .size = size, .status = status};
    TIFF *tif = open_memory(&memory, "r");
    if (!tif) return status->code;
    fill_info(tif, info);
    TIFFClose(tif);
    return status->code;
}

static int check_size(TIFF *tif, uint32_t width, uint32_t height, ccodecs_status *status) {
    uint32_t w = 0, h = 0;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
    if (w != width || h != height) {
        return ccodecs_status_fail(status, CCODECS_SIZE_MISMATCH, "directory declares %ux%u, expected %ux%u", w, h, width, height);
    }
    return CCODECS_OK;
}

int ccodecs_tiff_decode_rgb(
    const uint8_t *data, size_t size, uint32_t width, uint32_t height,
    uint8_t *out, size_t out_capacity, ccodecs_status *status) {
    ccodecs_status_reset(status);
    if ((size_t)width * 3 > 0 && height > out_capacity / ((size_t)width * 3)) {
        return ccodecs_status_fail(status, CCODECS_SIZE_MISMATCH, "buffer of %zu bytes cannot hold %ux%u RGB", out_capacity, width, height);
    }
    tiff_memory memory = {.data = data, .size = size, .status = status};
    TIFF *tif = open_memory(&memory, "r");
    if (!tif) return status->code;
    if (check_size(tif, width, height, status) != CCODECS_OK) { TIFFClose(tif); return status->code; }
    char reason[1024] = {0};
    if (!TIFFRGBAImageOK(tif, reason)) {
        TIFFClose(tif);
        return ccodecs_status_fail(status, CCODECS_UNSUPPORTED, "%s", reason);
    }
    uint32_t *raster = malloc((size_t)width * height * sizeof(uint32_t) + 4);
    if (!raster) {
        TIFFClose(tif);
        return ccodecs_status_fail(status, CCODECS_NO_MEMORY, "cannot allocate a %ux%u raster", width, height);
    }
    // Pixels in stored order, whatever the Orientation tag says: label maps are read as raw
    // samples (ignoring it), parsers and PIL do not apply it either, and a photo flipped by it
    // would no longer line up with its label map. Asking for the file's own orientation makes
    // libtiff flip nothing.
    uint16_t orientation = ORIENTATION_TOPLEFT;
    TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &orientation);
    if (orientation < ORIENTATION_TOPLEFT || orientation > ORIENTATION_BOTLEFT) orientation = ORIENTATION_TOPLEFT;
    int ok = TIFFReadRGBAImageOriented(tif, width, height, raster, orientation, 1);
    TIFFClose(tif);
    if (!ok || status->code != CCODECS_OK) {
        free(raster);
        return ccodecs_status_fail(status, CCODECS_CORRUPT, "libtiff could not read the pixels");
    }
    size_t count = (size_t)width * height;
    for (size_t i = 0; i < count; i++) {
        uint32_t abgr = raster[i];
        out[3 * i] = (uint8_t)TIFFGetR(abgr);
        out[3 * i + 1] = (uint8_t)TIFFGetG(abgr);
        out[3 * i + 2] = (uint8_t)TIFFGetB(abgr);
    }
    free(raster);
    return CCODECS_OK;
}

/// Copies a decoded block (strip or tile) of `block_width` samples per row into the image.
static void copy_block(const uint8_t *block, uint32_t block_width, uint32_t x0, uint32_t y0,
    uint32_t columns, uint32_t rows, uint32_t width, int sample_bytes, uint8_t *out) {
    for (uint32_t r = 0; r < rows; r++) {
        memcpy(out + ((size_t)(y0 + r) * width + x0) * sample_bytes,
            block + (size_t)r * block_width * sample_bytes, (size_t)columns * sample_bytes);
    }
}

static int read_samples(TIFF *tif, uint32_t width, uint32_t height, int sample_bytes, uint8_t *out, ccodecs_status *status) {
    if (TIFFIsTiled(tif)) {
        // A tile far larger than the image only costs memory (a 1 MB file declaring 32752×32752
        // tiles took 1 GB): at most twice the image, or a megapixel for small images.
        uint32_t tile_width = 0, tile_height = 0;
        TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tile_width);
        TIFFGetField(tif, TIFFTAG_TILELENGTH, &tile_height);
        uint64_t tile_limit = (uint64_t)width * height * 2 > (1u << 20) ? (uint64_t)width * height * 2 : (1u << 20);
        if ((uint64_t)tile_width * tile_height > tile_limit) {
            return ccodecs_status_fail(status, CCODECS_CORRUPT, "tiles of %ux%u for a %ux%u image", tile_width, tile_height, width, height);
        }
    }
    tmsize_t block_size = TIFFIsTiled(tif) ? TIFFTileSize(tif) : TIFFStripSize(tif);
    if (block_size <= 0) return ccodecs_status_fail(status, CCODECS_CORRUPT, "invalid strip or tile size");
    uint8_t *block = malloc((size_t)block_size);
    if (!block) return ccodecs_status_fail(status, CCODECS_NO_MEMORY, "cannot allocate a %lld-byte block", (long long)block_size);
    if (TIFFIsTiled(tif)) {
        uint32_t tile_width = 0, tile_height = 0;
        TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tile_width);
        TIFFGetField(tif, TIFFTAG_TILELENGTH, &tile_height);
        if (tile_width == 0 || tile_height == 0 || (tmsize_t)tile_width * tile_height * sample_bytes > block_size) {
            free(block);
            return ccodecs_status_fail(status, CCODECS_CORRUPT, "invalid tile size %ux%u", tile_width, tile_height);
        }
        for (uint32_t y = 0; y < height; y += tile_height) {
            for (uint32_t x = 0; x < width; x += tile_width) {
                memset(block, 0, (size_t)block_size);  // see the strips below
                if (TIFFReadEncodedTile(tif, TIFFComputeTile(tif, x, y, 0, 0), block, block_size) < 0) {
                    free(block);
                    return ccodecs_status_fail(status, CCODECS_CORRUPT, "cannot read the tile at %u,%u", x, y);
                }
                uint32_t columns = width - x < tile_width ? width - x : tile_width;
                uint32_t rows = height - y < tile_height ? height - y : tile_height;
                copy_block(block, tile_width, x, y, columns, rows, width, sample_bytes, out);
            }
        }
    } else {
        uint32_t rows_per_strip = 0;
        TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
        if (rows_per_strip == 0 || rows_per_strip > height) rows_per_strip = height;
        for (uint32_t y = 0; y < height; y += rows_per_strip) {
            uint32_t rows = height - y < rows_per_strip ? height - y : rows_per_strip;
            tmsize_t needed = (tmsize_t)rows * width * sample_bytes;
            // libtiff built with libdeflate accepts a deflate strip whose data inflate to more
            // than the strip holds, and reports the full size although libdeflate may stop a
            // few bytes short of the end (found by the label fuzz target: the last two bytes of
            // a strip were whatever the heap held). Zeroed first, such bytes are 0, the same on
            // every decode.
            memset(block, 0, (size_t)needed);
            tmsize_t got = TIFFReadEncodedStrip(tif, TIFFComputeStrip(tif, y, 0), block, needed);
            if (got < needed) {
                free(block);
                return ccodecs_status_fail(status, CCODECS_CORRUPT, "strip at row %u holds %lld of %lld bytes",
                    y, (long long)got, (long long)needed);
            }
            copy_block(block, width, 0, y, width, rows, width, sample_bytes, out);
        }
    }
    free(block);
    return CCODECS_OK;
}

int ccodecs_tiff_decode_samples(
    const uint8_t *data, size_t size, uint32_t width, uint32_t height, int sample_bytes,
    uint8_t *out, size_t out_capacity, ccodecs_status *status) {
    ccodecs_status_reset(status);
    if (sample_bytes != 1 && sample_bytes != 2) {
        return ccodecs_status_fail(status, CCODECS_BAD_ARGUMENT, "sample size %d is not 1 or 2 bytes", sample_bytes);
    }
    if ((size_t)width * sample_bytes > 0 && height > out_capacity / ((size_t)width * sample_bytes)) {
        return ccodecs_status_fail(status, CCODECS_SIZE_MISMATCH, "buffer of %zu bytes cannot hold %ux%u samples", out_capacity, width, height);
    }
    tiff_memory memory = {.data = data, .size = size, .status = status};
    TIFF *tif = open_memory(&memory, "r");
    if (!tif) return status->code;
    ccodecs_tiff_info info;
    fill_info(tif, &info);
    if (check_size(tif, width, height, status) != CCODECS_OK) { TIFFClose(tif); return status->code; }
    if (info.samples_per_pixel != 1 || info.bits_per_sample != 8 * sample_bytes) {
        TIFFClose(tif);
        return ccodecs_status_fail(status, CCODECS_UNSUPPORTED, "%d samples of %d bits per pixel cannot be read as %d-bit samples",
            info.samples_per_pixel, info.bits_per_sample, 8 * sample_bytes);
    }
    read_samples(tif, width, height, sample_bytes, out, status);
    TIFFClose(tif);
    return status->code;
}

static int write_pixels(TIFF *tif, const uint8_t *pixels, uint32_t width, uint32_t height, int channels,
    uint32_t tile_size, ccodecs_status *status) {
    size_t row_bytes = (size_t)width * channels;
    if (tile_size == 0) {
        for (uint32_t y = 0; y < height; y++) {
            if (TIFFWriteScanline(tif, (void *)(pixels + y * row_bytes), y, 0) < 0) {
                return ccodecs_status_fail(status, CCODECS_CORRUPT, "cannot write row %u", y);
            }
        }
        return CCODECS_OK;
    }
    size_t tile_bytes = (size_t)tile_size * tile_size * channels;
    uint8_t *tile = malloc(tile_bytes);
    if (!tile) return ccodecs_status_fail(status, CCODECS_NO_MEMORY, "cannot allocate a tile");
    for (uint32_t y = 0; y < height; y += tile_size) {
        for (uint32_t x = 0; x < width; x += tile_size) {
            memset(tile, 0, tile_bytes);
            uint32_t columns = width - x < tile_size ? width - x : tile_size;
            uint32_t rows = height - y < tile_size ? height - y : tile_size;
            for (uint32_t r = 0; r < rows; r++) {
                memcpy(tile + (size_t)r * tile_size * channels, pixels + (y + r) * row_bytes + (size_t)x * channels,
                    (size_t)columns * channels);
            }
            if (TIFFWriteTile(tif, tile, x, y, 0, 0) < 0) {
                free(tile);
                return ccodecs_status_fail(status, CCODECS_CORRUPT, "cannot write the tile at %u,%u", x, y);
            }
        }
    }
    free(tile);
    return CCODECS_OK;
}

int ccodecs_tiff_encode(
    const uint8_t *pixels, uint32_t width, uint32_t height, int photometric,
    const uint8_t *palette, int palette_count, int compression, uint32_t rows_per_strip,
    uint32_t tile_size, ccodecs_buffer *out, ccodecs_status *status) {
    ccodecs_status_reset(status);
    memset(out, 0, sizeof *out);
    int channels = photometric == CCODECS_TIFF_RGB ? 3 : 1;
    if (photometric != CCODECS_TIFF_MINISBLACK && photometric != CCODECS_TIFF_RGB && photometric != CCODECS_TIFF_PALETTE) {
        return ccodecs_status_fail(status, CCODECS_BAD_ARGUMENT, "cannot encode photometric %d", photometric);
    }
    if (photometric == CCODECS_TIFF_PALETTE && ccodecs_check_palette(palette, palette_count, status) != CCODECS_OK) return status->code;
    if (tile_size % 16 != 0) {
        return ccodecs_status_fail(status, CCODECS_BAD_ARGUMENT, "tile size %u is not a multiple of 16", tile_size);
    }
    tiff_memory memory = {.output = out, .status = status};
    TIFF *tif = open_memory(&memory, "w");
    if (!tif) { ccodecs_buffer_free(out); return status->code; }
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, width);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, height);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, channels);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, photometric);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, compression);
    if (compression == CCODECS_TIFF_JPEG) TIFFSetField(tif, TIFFTAG_JPEGQUALITY, 90);
    if (photometric == CCODECS_TIFF_PALETTE) {
        uint16_t map[3][256] = {{0}};
        for (int i = 0; i < palette_count; i++) {
            for (int c = 0; c < 3; c++) map[c][i] = (uint16_t)(palette[3 * i + c] * 257);
        }
        TIFFSetField(tif, TIFFTAG_COLORMAP, map[0], map[1], map[2]);
    }
    if (tile_size) {
        TIFFSetField(tif, TIFFTAG_TILEWIDTH, tile_size);
        TIFFSetField(tif, TIFFTAG_TILELENGTH, tile_size);
    } else {
        TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, rows_per_strip ? rows_per_strip : height);
    }
    if (status->code == CCODECS_OK) write_pixels(tif, pixels, width, height, channels, tile_size, status);
    if (status->code == CCODECS_OK && !TIFFWriteDirectory(tif)) {
        ccodecs_status_fail(status, CCODECS_CORRUPT, "cannot write the directory");
    }
    TIFFClose(tif);
    if (status->code != CCODECS_OK) ccodecs_buffer_free(out);
    return status->code;
}

const char *ccodecs_tiff_library_version(void) { return TIFFGetVersion(); }
