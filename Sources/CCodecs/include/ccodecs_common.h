// Shared result types of the codec shims. See Sources/CCodecs/README.md for why this target
// exists. No codec library header is included here, so the Swift side sees only these types.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Outcome of a shim call. Every shim function returns one of these and also stores it in
/// `ccodecs_status.code`.
typedef enum ccodecs_code {
    CCODECS_OK = 0,
    /// The library rejected the data; `message` holds its words.
    CCODECS_CORRUPT = 1,
    /// The data ended before the image did (libjpeg would otherwise pad it with grey).
    CCODECS_TRUNCATED = 2,
    /// A valid file using a layout the shim does not decode.
    CCODECS_UNSUPPORTED = 3,
    /// The caller's buffer or expected size does not match the data.
    CCODECS_SIZE_MISMATCH = 4,
    /// malloc failed.
    CCODECS_NO_MEMORY = 5,
    /// Bad arguments from the caller (a bug on the Swift side, not in the data).
    CCODECS_BAD_ARGUMENT = 6,
} ccodecs_code;

enum { CCODECS_MESSAGE_CAPACITY = 240 };

/// What happened in one call: the code, the library's first error message, and the warnings the
/// library raised while still producing output (libjpeg recovers from many corruptions).
typedef struct ccodecs_status {
    int code;
    int warning_count;
    char message[CCODECS_MESSAGE_CAPACITY];
    char first_warning[CCODECS_MESSAGE_CAPACITY];
} ccodecs_status;

/// A malloc'ed byte buffer filled by an encoder. Release with `ccodecs_buffer_free`.
typedef struct ccodecs_buffer {
    uint8_t *data;
    size_t size;
    size_t capacity;
} ccodecs_buffer;

/// Frees the buffer's storage and zeroes it; safe on an already-freed or zeroed buffer.
void ccodecs_buffer_free(ccodecs_buffer *buffer);

#ifdef __cplusplus
}
#endif
