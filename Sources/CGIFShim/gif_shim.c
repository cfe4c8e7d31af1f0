#include "CGIFShim.h"

#include <gif_lib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

// giflib's OutputFunc: appends to the cgif_buffer in UserData, growing it by doubling.
static int append(GifFileType *gif, const GifByteType *bytes, int count) {
    cgif_buffer *buffer = gif->UserData;
    if (buffer->size + (size_t)count > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity : 4096;
        while (capacity < buffer->size + (size_t)count) capacity *= 2;
        uint8_t *grown = realloc(buffer->data, capacity);
        if (!grown) return 0;  // giflib reports E_GIF_ERR_WRITE_FAILED
        buffer->data = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->data + buffer->size, bytes, (size_t)count);
    buffer->size += (size_t)count;
    return count;
}

// The NETSCAPE2.0 application extension: how many times a viewer repeats the animation.
static int put_loop_count(GifFileType *gif, int loop_count) {
    GifByteType loop[3] = {1, (GifByteType)(loop_count & 0xff), (GifByteType)((loop_count >> 8) & 0xff)};
    if (EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE) == GIF_ERROR) return GIF_ERROR;
    if (EGifPutExtensionBlock(gif, 11, "NETSCAPE2.0") == GIF_ERROR) return GIF_ERROR;
    if (EGifPutExtensionBlock(gif, 3, loop) == GIF_ERROR) return GIF_ERROR;
    return EGifPutExtensionTrailer(gif);
}

// One frame: its graphics control block (the delay), its descriptor, its rows. EGifPutLine
// masks the line in place, so rows go through `row`, a scratch copy.
static int put_frame(GifFileType *gif, const uint8_t *indices, int width, int height, int delay, GifByteType *row) {
    GraphicsControlBlock control = {
        .DisposalMode = DISPOSE_DO_NOT, .UserInputFlag = false, .DelayTime = delay,
        .TransparentColor = NO_TRANSPARENT_COLOR};
    GifByteType extension[4];
    size_t length = EGifGCBToExtension(&control, extension);
    if (EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, (int)length, extension) == GIF_ERROR) return GIF_ERROR;
    if (EGifPutImageDesc(gif, 0, 0, width, height, false, NULL) == GIF_ERROR) return GIF_ERROR;
    for (int y = 0; y < height; y++) {
        memcpy(row, indices + (size_t)y * (size_t)width, (size_t)width);
        if (EGifPutLine(gif, row, width) == GIF_ERROR) return GIF_ERROR;
    }
    return GIF_OK;
}

// The global colour map, padded to a power of two (GifMakeMapObject refuses other sizes).
static ColorMapObject *make_palette(const uint8_t *palette_rgb, int palette_size) {
    int padded = 2;
    while (padded < palette_size) padded *= 2;
    ColorMapObject *map = GifMakeMapObject(padded, NULL);
    if (!map) return NULL;
    for (int index = 0; index < padded; index++) {
        bool real = index < palette_size;
        map->Colors[index].Red = real ? palette_rgb[3 * index] : 0;
        map->Colors[index].Green = real ? palette_rgb[3 * index + 1] : 0;
        map->Colors[index].Blue = real ? palette_rgb[3 * index + 2] : 0;
    }
    return map;
}

int cgif_encode_animation(
    const uint8_t *indices, int frame_count, int width, int height, const uint8_t *palette_rgb, int palette_size,
    int delay_centiseconds, int loop_count, cgif_buffer *out) {
    *out = (cgif_buffer){0};
    if (frame_count < 1 || width < 1 || height < 1 || width > 65535 || height > 65535 || palette_size < 1 ||
        palette_size > 256 || delay_centiseconds < 0 || delay_centiseconds > 65535 || loop_count < 0 ||
        loop_count > 65535)
        return E_GIF_ERR_DATA_TOO_BIG;
    int error = 0;
    GifFileType *gif = EGifOpen(out, append, &error);
    if (!gif) return error;
    ColorMapObject *palette = make_palette(palette_rgb, palette_size);
    GifByteType *row = malloc((size_t)width);
    int status = (palette && row) ? GIF_OK : GIF_ERROR;
    if (!palette || !row) error = E_GIF_ERR_NOT_ENOUGH_MEM;
    EGifSetGifVersion(gif, true);
    if (status == GIF_OK) status = EGifPutScreenDesc(gif, width, height, 8, 0, palette);
    if (status == GIF_OK) status = put_loop_count(gif, loop_count);
    for (int frame = 0; frame < frame_count && status == GIF_OK; frame++) {
        const uint8_t *pixels = indices + (size_t)frame * (size_t)width * (size_t)height;
        status = put_frame(gif, pixels, width, height, delay_centiseconds, row);
    }
    if (status == GIF_ERROR && error == 0) error = gif->Error;
    free(row);
    GifFreeMapObject(palette);
    int close_error = 0;
    if (EGifCloseFile(gif, &close_error) == GIF_ERROR && error == 0) error = close_error;
    if (error != 0) cgif_buffer_free(out);
    return error;
}

const char *cgif_error_message(int code) {
    const char *message = GifErrorString(code);
    return message ? message : "unknown giflib error";
}

void cgif_buffer_free(cgif_buffer *buffer) {
    free(buffer->data);
    *buffer = (cgif_buffer){0};
}
