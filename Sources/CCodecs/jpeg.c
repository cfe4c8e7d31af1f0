// libjpeg shim. The error manager is extended with a jmp_buf and the caller's status; its
// error_exit longjmps back into the function that owns the decompressor. So every entry point
// repeats the same few lines (install the errors, clear the struct, setjmp, destroy on the
// way out) on purpose: setjmp must run in the frame the longjmp returns to, and no helper
// function can take it for them.
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include "internal.h"
#include "include/ccodecs_jpeg.h"

typedef struct jpeg_session {
    struct jpeg_error_mgr manager;  // first, so a j_common_ptr's err can be cast back
    jmp_buf escape;
    ccodecs_status *status;
    int truncated;
    uint8_t *scratch;               // CMYK row; freed on every exit path
    struct jpeg_progress_mgr progress;  // decompressors only: limits the scans (see limit_scans)
    // A message's text. Kept here, not in the handlers' frames: those frames are left by
    // longjmp, and AddressSanitizer's fake stack (use-after-return detection) then kept their
    // frames allocated, which took 70 % of the jpeg fuzz target's time.
    char message[JMSG_LENGTH_MAX];
} jpeg_session;

/// Progressive JPEGs have about ten scans. libjpeg accepts any number, and each scan over the
/// whole image costs a pass, so a 1 MB file of 6,000 tiny repeated scans kept a decoder busy
/// for minutes (a known denial of service; djpeg has -maxscans for it).
enum { CCODECS_JPEG_MAX_SCANS = 500 };

/// libjpeg's progress hook, called between the steps of absorbing the scans.
static void limit_scans(j_common_ptr cinfo) {
    j_decompress_ptr decompressor = (j_decompress_ptr)cinfo;
    if (decompressor->input_scan_number <= CCODECS_JPEG_MAX_SCANS) return;
    jpeg_session *session = (jpeg_session *)cinfo->err;
    ccodecs_status_fail(session->status, CCODECS_CORRUPT, "more than %d scans (a progressive JPEG has about 10)",
                        CCODECS_JPEG_MAX_SCANS);
    longjmp(session->escape, 1);
}

/// A destination manager appending to a ccodecs_buffer in chunks, so the output has one owner
/// (jpeg_mem_dest reallocates behind the caller's back, which makes clean-up after an error
/// unsafe).
typedef struct buffer_destination {
    struct jpeg_destination_mgr manager;
    ccodecs_buffer *output;
    JOCTET chunk[16384];
} buffer_destination;

static void destination_init(j_compress_ptr cinfo) {
    buffer_destination *destination = (buffer_destination *)cinfo->dest;
    destination->manager.next_output_byte = destination->chunk;
    destination->manager.free_in_buffer = sizeof destination->chunk;
}

static boolean destination_empty(j_compress_ptr cinfo) {
    buffer_destination *destination = (buffer_destination *)cinfo->dest;
    if (!ccodecs_buffer_append(destination->output, destination->chunk, sizeof destination->chunk)) {
        ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 0);
    }
    destination_init(cinfo);
    return TRUE;
}

static void destination_term(j_compress_ptr cinfo) {
    buffer_destination *destination = (buffer_destination *)cinfo->dest;
    size_t used = sizeof destination->chunk - destination->manager.free_in_buffer;
    if (!ccodecs_buffer_append(destination->output, destination->chunk, used)) {
        ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 0);
    }
}

static void session_error_exit(j_common_ptr cinfo) {
    jpeg_session *session = (jpeg_session *)cinfo->err;
    cinfo->err->format_message(cinfo, session->message);
    ccodecs_status_fail(session->status, CCODECS_CORRUPT, "%s", session->message);
    longjmp(session->escape, 1);
}

static void session_emit_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;  // trace messages
    jpeg_session *session = (jpeg_session *)cinfo->err;
    cinfo->err->num_warnings++;
    int code = cinfo->err->msg_code;
    if (code == JWRN_JPEG_EOF) session->truncated = 1;
    // Damaged entropy-coded data: libjpeg goes on and fills the rest of the damaged rows with
    // guesses (a review found 40 % of a stored sample's bytes off by more than 10), and the
    // image would pass as good. Stray bytes before a marker (JWRN_EXTRANEOUS_DATA), common in
    // camera files and harmless to the pixels, stay a warning.
    // After the end of a truncated file the decoder also hits the fake EOI marker: that is
    // reported as truncation, by the callers.
    int damaging = code == JWRN_HIT_MARKER || code == JWRN_HUFF_BAD_CODE || code == JWRN_ARITH_BAD_CODE || code == JWRN_MUST_RESYNC;
    int fails = damaging && !session->truncated;
    // The status keeps the first warning's text only, and a file can raise thousands (libjpeg
    // warns per coefficient of a bogus progression): format only a text that is used.
    if (session->status->warning_count == 0 || fails) cinfo->err->format_message(cinfo, session->message);
    ccodecs_status_warn(session->status, session->message);
    if (fails) {
        ccodecs_status_fail(session->status, CCODECS_CORRUPT, "damaged image data: %s", session->message);
        longjmp(session->escape, 1);
    }
}

static void session_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void install_errors(jpeg_session *session, ccodecs_status *status) {
    memset(session, 0, sizeof *session);
    jpeg_std_error(&session->manager);
    session->manager.error_exit = session_error_exit;
    session->manager.emit_message = session_emit_message;
    session->manager.output_message = session_output_message;
    session->status = status;
}

static void fill_info(struct jpeg_decompress_struct *cinfo, const jpeg_session *session, ccodecs_jpeg_info *info) {
    (void)session;
    memset(info, 0, sizeof *info);
    info->width = cinfo->image_width;
    info->height = cinfo->image_height;
    info->components = cinfo->num_components;
    info->color_space = cinfo->jpeg_color_space;
    info->progressive = cinfo->progressive_mode;
    info->adobe_marker = cinfo->saw_Adobe_marker;
}

int ccodecs_jpeg_probe(const uint8_t *data, size_t size, ccodecs_jpeg_info *info, ccodecs_status *status) {
    ccodecs_status_reset(status);
    jpeg_session session;
    struct jpeg_decompress_struct cinfo;
    install_errors(&session, status);
    memset(&cinfo, 0, sizeof cinfo);  // so clean-up after a failed create sees no allocator
    cinfo.err = &session.manager;
    if (setjmp(session.escape)) {
        jpeg_destroy_decompress(&cinfo);
        return status->code;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    fill_info(&cinfo, &session, info);
    jpeg_destroy_decompress(&cinfo);
    if (session.truncated) return ccodecs_status_fail(status, CCODECS_TRUNCATED, "file ends inside the header");
    return CCODECS_OK;
}

static inline uint8_t multiply_255(unsigned a, unsigned b) {
    unsigned t = a * b + 128;
    return (uint8_t)((t + (t >> 8)) >> 8);
}

/// CMYK (as stored, possibly Adobe-inverted) to RGB: R = (255 - C)(255 - K) / 255.
static void cmyk_row_to_rgb(const uint8_t *cmyk, uint8_t *rgb, uint32_t width, int inverted) {
    for (uint32_t x = 0; x < width; x++, cmyk += 4, rgb += 3) {
        unsigned c = cmyk[0], m = cmyk[1], y = cmyk[2], k = cmyk[3];
        if (!inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
        rgb[0] = multiply_255(c, k);
        rgb[1] = multiply_255(m, k);
        rgb[2] = multiply_255(y, k);
    }
}

/// A decompressor kept open between calls. Each call that runs libjpeg arms `session.escape`
/// with its own setjmp, so an error longjmps back into that call and never across a Swift frame.
/// Between calls the jump target is stale; nothing may run libjpeg without arming it again
/// (close only runs jpeg_destroy_decompress, which raises no error).
struct ccodecs_jpeg_reader;
static struct ccodecs_jpeg_reader *open_scaled(
    const uint8_t *data, size_t size, uint32_t width, uint32_t height, unsigned scale_denom, ccodecs_status *status);

struct ccodecs_jpeg_reader {
    jpeg_session session;
    struct jpeg_decompress_struct cinfo;
    int cmyk;
    int failed;  // after an error only close() is allowed
};

ccodecs_jpeg_reader *ccodecs_jpeg_reader_open(
    const uint8_t *data, size_t size, uint32_t width, uint32_t height, ccodecs_status *status) {
    return open_scaled(data, size, width, height, 1, status);
}

/// The reader, with libjpeg's DCT scaling: rows come out at 1/`scale_denom` of the size (1, 2,
/// 4 or 8), but every scan's entropy-coded data is still decoded whole.
static ccodecs_jpeg_reader *open_scaled(
    const uint8_t *data, size_t size, uint32_t width, uint32_t height, unsigned scale_denom, ccodecs_status *status) {
    ccodecs_status_reset(status);
    ccodecs_jpeg_reader *reader = calloc(1, sizeof *reader);
    if (!reader) {
        ccodecs_status_fail(status, CCODECS_NO_MEMORY, "cannot allocate a JPEG decoder");
        return NULL;
    }
    install_errors(&reader->session, status);
    reader->cinfo.err = &reader->session.manager;
    if (setjmp(reader->session.escape)) {
        ccodecs_jpeg_reader_close(reader);
        return NULL;
    }
    jpeg_create_decompress(&reader->cinfo);
    reader->session.progress.progress_monitor = limit_scans;
    reader->cinfo.progress = &reader->session.progress;
    jpeg_mem_src(&reader->cinfo, data, (unsigned long)size);
    jpeg_read_header(&reader->cinfo, TRUE);
    if (reader->cinfo.image_width != width || reader->cinfo.image_height != height) {
        ccodecs_status_fail(status, CCODECS_SIZE_MISMATCH, "header declares %ux%u, expected %ux%u",
            reader->cinfo.image_width, reader->cinfo.image_height, width, height);
        longjmp(reader->session.escape, 1);
    }
    reader->cmyk = reader->cinfo.jpeg_color_space == JCS_CMYK || reader->cinfo.jpeg_color_space == JCS_YCCK;
    reader->cinfo.out_color_space = reader->cmyk ? JCS_CMYK : JCS_RGB;
    reader->cinfo.scale_num = 1;
    reader->cinfo.scale_denom = scale_denom;
    jpeg_start_decompress(&reader->cinfo);
    if (reader->cmyk) {
        reader->session.scratch = malloc((size_t)width * 4);
        if (!reader->session.scratch) {
            ccodecs_status_fail(status, CCODECS_NO_MEMORY, "cannot allocate a %u-pixel CMYK row", width);
            longjmp(reader->session.escape, 1);
        }
    }
    return reader;
}

int ccodecs_jpeg_reader_read(ccodecs_jpeg_reader *reader, uint8_t *out, uint32_t max_rows, ccodecs_status *status) {
    reader->session.status = status;
    if (reader->failed) return -1;
    if (setjmp(reader->session.escape)) {
        reader->failed = 1;
        return -1;
    }
    struct jpeg_decompress_struct *cinfo = &reader->cinfo;
    size_t row_bytes = (size_t)cinfo->output_width * 3;
    uint32_t done = 0;
    while (done < max_rows && cinfo->output_scanline < cinfo->output_height) {
        uint8_t *row = out + (size_t)done * row_bytes;
        if (reader->cmyk) {  // one row at a time through the CMYK scratch row
            JSAMPROW target = reader->session.scratch;
            if (jpeg_read_scanlines(cinfo, &target, 1) != 1) break;
            cmyk_row_to_rgb(reader->session.scratch, row, cinfo->output_width, cinfo->saw_Adobe_marker);
            done++;
            continue;
        }
        // Several rows per call: libjpeg then converts colours over whole row groups.
        JSAMPROW targets[16];
        uint32_t wanted = max_rows - done < 16 ? max_rows - done : 16;
        for (uint32_t i = 0; i < wanted; i++) targets[i] = row + (size_t)i * row_bytes;
        JDIMENSION read = jpeg_read_scanlines(cinfo, targets, wanted);
        if (read == 0) break;
        done += read;
    }
    if (reader->session.truncated) {  // libjpeg pads the rest with grey: refuse it at once
        ccodecs_status_fail(status, CCODECS_TRUNCATED, "%s", "Premature end of JPEG file (truncated)");
        reader->failed = 1;
        return -1;
    }
    return (int)done;
}

int ccodecs_jpeg_reader_finish(ccodecs_jpeg_reader *reader, ccodecs_status *status) {
    reader->session.status = status;
    if (reader->failed) {
        return status->code ? status->code
            : ccodecs_status_fail(status, CCODECS_BAD_ARGUMENT, "%s", "finish called after a failed read");
    }
    if (reader->cinfo.output_scanline < reader->cinfo.output_height) {
        return ccodecs_status_fail(status, CCODECS_BAD_ARGUMENT, "finished after %u of %u rows",
            reader->cinfo.output_scanline, reader->cinfo.output_height);
    }
    if (setjmp(reader->session.escape)) {
        reader->failed = 1;
        return status->code;
    }
    jpeg_finish_decompress(&reader->cinfo);
    if (reader->session.truncated) {
        reader->failed = 1;
        return ccodecs_status_fail(status, CCODECS_TRUNCATED, "%s", "Premature end of JPEG file (truncated)");
    }
    return CCODECS_OK;
}

void ccodecs_jpeg_reader_close(ccodecs_jpeg_reader *reader) {
    if (!reader) return;
    jpeg_destroy_decompress(&reader->cinfo);
    free(reader->session.scratch);
    free(reader);
}

int ccodecs_jpeg_decode_rgb(
    const uint8_t *data, size_t size, uint32_t width, uint32_t height,
    uint8_t *out, size_t out_capacity, ccodecs_status *status) {
    if ((size_t)width * 3 > 0 && height > out_capacity / ((size_t)width * 3)) {
        ccodecs_status_reset(status);
        return ccodecs_status_fail(status, CCODECS_SIZE_MISMATCH, "buffer of %zu bytes cannot hold %ux%u RGB",
            out_capacity, width, height);
    }
    ccodecs_jpeg_reader *reader = ccodecs_jpeg_reader_open(data, size, width, height, status);
    if (!reader) return status->code;
    int code = ccodecs_jpeg_reader_read(reader, out, height, status) < 0 ? status->code
        : ccodecs_jpeg_reader_finish(reader, status);
    ccodecs_jpeg_reader_close(reader);
    return code;
}

int ccodecs_jpeg_check(const uint8_t *data, size_t size, uint32_t width, uint32_t height, ccodecs_status *status) {
    ccodecs_jpeg_reader *reader = open_scaled(data, size, width, height, 8, status);
    if (!reader) return status->code;
    uint8_t *rows = malloc((size_t)reader->cinfo.output_width * 3 * 16);
    int code;
    if (!rows) {
        code = ccodecs_status_fail(status, CCODECS_NO_MEMORY, "cannot allocate %u rows of %u pixels", 16, reader->cinfo.output_width);
    } else {
        int read;
        while ((read = ccodecs_jpeg_reader_read(reader, rows, 16, status)) > 0) {}
        code = read < 0 ? status->code : ccodecs_jpeg_reader_finish(reader, status);
    }
    free(rows);
    ccodecs_jpeg_reader_close(reader);
    return code;
}

int ccodecs_jpeg_encode(
    const uint8_t *pixels, uint32_t width, uint32_t height, int components, int quality,
    int progressive, int ycck, ccodecs_buffer *out, ccodecs_status *status) {
    ccodecs_status_reset(status);
    memset(out, 0, sizeof *out);
    if (components != 1 && components != 3 && components != 4) {
        return ccodecs_status_fail(status, CCODECS_BAD_ARGUMENT, "cannot encode %d components", components);
    }
    if (quality < 1 || quality > 100) {
        return ccodecs_status_fail(status, CCODECS_BAD_ARGUMENT, "quality %d is outside 1...100", quality);
    }
    buffer_destination *destination = calloc(1, sizeof *destination);
    if (!destination) return ccodecs_status_fail(status, CCODECS_NO_MEMORY, "cannot allocate the JPEG output chunk");
    destination->output = out;
    destination->manager.init_destination = destination_init;
    destination->manager.empty_output_buffer = destination_empty;
    destination->manager.term_destination = destination_term;
    jpeg_session session;
    struct jpeg_compress_struct cinfo;
    install_errors(&session, status);
    memset(&cinfo, 0, sizeof cinfo);  // so clean-up after a failed create sees no allocator
    cinfo.err = &session.manager;
    if (setjmp(session.escape)) {
        jpeg_destroy_compress(&cinfo);
        ccodecs_buffer_free(out);
        free(destination);
        return status->code;
    }
    jpeg_create_compress(&cinfo);
    cinfo.dest = &destination->manager;
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = components;
    cinfo.in_color_space = components == 4 ? JCS_CMYK : components == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&cinfo);
    if (components == 4) jpeg_set_colorspace(&cinfo, ycck ? JCS_YCCK : JCS_CMYK);
    jpeg_set_quality(&cinfo, quality, TRUE);
    if (progressive) jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    size_t row_bytes = (size_t)width * (size_t)components;
    while (cinfo.next_scanline < cinfo.image_height) {  // up to 16 rows a call, as when decoding
        JSAMPROW rows[16];
        JDIMENSION count = cinfo.image_height - cinfo.next_scanline < 16 ? cinfo.image_height - cinfo.next_scanline : 16;
        for (JDIMENSION i = 0; i < count; i++) rows[i] = (JSAMPROW)(pixels + (size_t)(cinfo.next_scanline + i) * row_bytes);
        if (jpeg_write_scanlines(&cinfo, rows, count) == 0) break;
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    free(destination);
    return CCODECS_OK;
}

int ccodecs_jpeg_library_version(void) { return JPEG_LIB_VERSION; }
