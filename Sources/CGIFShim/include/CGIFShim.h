#ifndef CGIF_SHIM_H
#define CGIF_SHIM_H
// giflib's animated-GIF encoder behind one call over plain buffers. Swift would need a C
// callback with a user pointer, palette structs and extension blocks to drive giflib itself;
// here that lives in C, and the Swift side (Applications' AnimatedGIF) passes palette indices.
#include <stddef.h>
#include <stdint.h>

/// Bytes that the encoder owns; free them with cgif_buffer_free.
typedef struct cgif_buffer {
    uint8_t *data;
    size_t size;
    size_t capacity;
} cgif_buffer;

/// Encodes `frame_count` frames of `width`×`height` palette indices (row-major, frame after
/// frame) as a looping GIF89a with one global palette of `palette_size` RGB triples (1…256;
/// padded with black to the power of two GIF needs). Each frame shows for `delay_centiseconds`;
/// `loop_count` 0 loops for ever. Every index must be below `palette_size`. Returns 0 and fills
/// `out`, or giflib's error code (cgif_error_message names it) with `out` empty.
int cgif_encode_animation(
    const uint8_t *indices, int frame_count, int width, int height, const uint8_t *palette_rgb, int palette_size,
    int delay_centiseconds, int loop_count, cgif_buffer *out);

/// giflib's sentence for an error code of cgif_encode_animation.
const char *cgif_error_message(int code);

void cgif_buffer_free(cgif_buffer *buffer);

#endif
