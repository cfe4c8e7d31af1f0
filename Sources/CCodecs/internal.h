// Helpers shared by the shim sources; not part of the public headers.
#pragma once
#include <stdarg.h>
#include "include/ccodecs_common.h"

/// Resets a status to success with no warnings.
void ccodecs_status_reset(ccodecs_status *status);
/// Records a failure (keeping the first message when one is already stored) and returns `code`.
int ccodecs_status_fail(ccodecs_status *status, int code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
/// Counts a warning, keeping the text of the first.
void ccodecs_status_warn(ccodecs_status *status, const char *message);

/// Checks the palette an indexed encode was given: present, with 1 to 256 colours. Returns
/// CCODECS_OK, or fails `status` with CCODECS_BAD_ARGUMENT and returns that.
int ccodecs_check_palette(const uint8_t *palette, int palette_count, ccodecs_status *status);
/// Appends bytes to a growable buffer; returns 0 when memory runs out.
int ccodecs_buffer_append(ccodecs_buffer *buffer, const void *bytes, size_t count);
