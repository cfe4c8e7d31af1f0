#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

void ccodecs_status_reset(ccodecs_status *status) {
    memset(status, 0, sizeof *status);
}

int ccodecs_status_fail(ccodecs_status *status, int code, const char *format, ...) {
    // The first error is the cause; later ones (from clean-up) would only hide it.
    if (status->code == CCODECS_OK || status->message[0] == 0) {
        va_list args;
        va_start(args, format);
        vsnprintf(status->message, sizeof status->message, format, args);
        va_end(args);
    }
    if (status->code == CCODECS_OK) status->code = code;
    return status->code;
}

void ccodecs_status_warn(ccodecs_status *status, const char *message) {
    if (status->warning_count == 0) {
        snprintf(status->first_warning, sizeof status->first_warning, "%s", message);
    }
    status->warning_count += 1;
}

int ccodecs_check_palette(const uint8_t *palette, int palette_count, ccodecs_status *status) {
    if (palette && palette_count >= 1 && palette_count <= 256) return CCODECS_OK;
    return ccodecs_status_fail(status, CCODECS_BAD_ARGUMENT, "a palette needs 1 to 256 colours, got %d", palette_count);
}

int ccodecs_buffer_append(ccodecs_buffer *buffer, const void *bytes, size_t count) {
    if (count > SIZE_MAX - buffer->size) return 0;
    size_t needed = buffer->size + count;
    if (needed > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity : 4096;
        while (capacity < needed) capacity = capacity > SIZE_MAX / 2 ? needed : capacity * 2;
        uint8_t *grown = realloc(buffer->data, capacity);
        if (!grown) return 0;
        buffer->data = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->data + buffer->size, bytes, count);
    buffer->size = needed;
    return 1;
}

void ccodecs_buffer_free(ccodecs_buffer *buffer) {
    if (!buffer) return;
    free(buffer->data);
    buffer->data = NULL;
    buffer->size = 0;
    buffer->capacity = 0;
}
