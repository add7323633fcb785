// See include/quern_png.h for the contract. Every libpng call that can raise
// an error happens inside quern_png_decode, below its setjmp.
#include "quern_png.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/// What libpng's callbacks (read, error, warning) reach through their
/// user pointers. Lives in quern_png_decode's frame.
typedef struct decode_context {
    const uint8_t *data;
    size_t size;
    size_t offset;
    quern_png_image *image;
} decode_context;

static void copy_message(char *destination, size_t capacity, const char *text) {
    snprintf(destination, capacity, "%s", text != NULL ? text : "unknown libpng error");
}

static void on_error(png_structp png, png_const_charp text) {
    decode_context *context = (decode_context *)png_get_error_ptr(png);
    copy_message(context->image->message, sizeof context->image->message, text);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp text) {
    decode_context *context = (decode_context *)png_get_error_ptr(png);
    char *warnings = context->image->warnings;
    size_t used = strlen(warnings);
    size_t capacity = sizeof context->image->warnings;
    if (used + 3 >= capacity) return;
    snprintf(warnings + used, capacity - used, "%s%s", used > 0 ? "; " : "", text != NULL ? text : "");
}

static void read_from_memory(png_structp png, png_bytep destination, png_size_t length) {
    decode_context *context = (decode_context *)png_get_io_ptr(png);
    if (length > context->size - context->offset) {
        png_error(png, "file is truncated");
    }
    memcpy(destination, context->data + context->offset, length);
    context->offset += length;
}

static uint32_t big_endian_u32(const uint8_t *bytes) {
    return ((uint32_t)bytes[0] << 24) | ((uint32_t)bytes[1] << 16) | ((uint32_t)bytes[2] << 8) | (uint32_t)bytes[3];
}

static quern_png_status fail(quern_png_image *image, quern_png_status status, const char *text) {
    copy_message(image->message, sizeof image->message, text);
    return status;
}

void quern_png_release(quern_png_image *image) {
    if (image == NULL) return;
    free(image->pixels);
    image->pixels = NULL;
    image->pixel_bytes = 0;
}

quern_png_status quern_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels, quern_png_image *image) {
    memset(image, 0, sizeof *image);
    if (size == 0) return fail(image, QUERN_PNG_EMPTY, "the file is empty");
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        return fail(image, QUERN_PNG_UNRECOGNIZED, "not a PNG file (no PNG signature)");
    }
    // The size check happens on IHDR's bytes before libpng allocates
    // anything for the image. IHDR must be the first chunk; when it is not,
    // libpng itself reports the file as broken below.
    if (size >= 8 + 8 + 8 && memcmp(data + 12, "IHDR", 4) == 0) {
        uint64_t width = big_endian_u32(data + 16);
        uint64_t height = big_endian_u32(data + 20);
        if (width * height > max_pixels) {
            char text[160];
            snprintf(text, sizeof text, "%llu x %llu pixels is over the limit of %llu pixels",
                     (unsigned long long)width, (unsigned long long)height, (unsigned long long)max_pixels);
            return fail(image, QUERN_PNG_TOO_LARGE, text);
        }
    }

    decode_context context = {data, size, 0, image};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &context, on_error, on_warning);
    if (png == NULL) return fail(image, QUERN_PNG_OUT_OF_MEMORY, "libpng could not allocate its reader");
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        return fail(image, QUERN_PNG_OUT_OF_MEMORY, "libpng could not allocate its reader");
    }
    // Written after setjmp and read after a longjmp: volatile, so the values
    // are not cached in registers that longjmp restores.
    uint8_t *volatile indices = NULL;
    volatile quern_png_status status = QUERN_PNG_CORRUPT;
    // Copies of PLTE and tRNS, for expanding palette indices after libpng is done.
    uint8_t palette_rgb[256 * 3];
    uint8_t palette_alpha[256];

    if (setjmp(png_jmpbuf(png))) {
        free(indices);
        quern_png_release(image);
        png_destroy_read_struct(&png, &info, NULL);
        return status;
    }

    png_set_read_fn(png, &context, read_from_memory);
    png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
#ifdef PNG_BENIGN_ERRORS_SUPPORTED
    png_set_benign_errors(png, 0);
#endif
#ifdef PNG_HANDLE_AS_UNKNOWN_SUPPORTED
    // Every ancillary chunk but tRNS is discarded unparsed (CRC still checked).
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
#endif
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);

    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    image->header.width = width;
    image->header.height = height;
    image->header.bit_depth = bit_depth;
    image->header.color_type = color_type;
    image->header.interlaced = interlace == PNG_INTERLACE_ADAM7 ? 1 : 0;
    image->header.has_transparency_chunk = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_colorp palette = NULL;
        int entries = 0;
        if (png_get_PLTE(png, info, &palette, &entries) == 0 || entries < 1 || entries > 256) {
            png_error(png, "palette image without a valid PLTE chunk");
        }
        image->header.palette_entries = entries;
        memset(palette_alpha, 255, sizeof palette_alpha);
        for (int entry = 0; entry < entries; entry++) {
            palette_rgb[entry * 3 + 0] = palette[entry].red;
            palette_rgb[entry * 3 + 1] = palette[entry].green;
            palette_rgb[entry * 3 + 2] = palette[entry].blue;
        }
        png_bytep alpha = NULL;
        int alpha_entries = 0;
        if (png_get_tRNS(png, info, &alpha, &alpha_entries, NULL) != 0 && alpha != NULL) {
            for (int entry = 0; entry < alpha_entries && entry < 256; entry++) palette_alpha[entry] = alpha[entry];
        }
    }
    if ((uint64_t)width * (uint64_t)height > max_pixels) {
        status = QUERN_PNG_TOO_LARGE;
        png_error(png, "the image is over the pixel limit");
    }

    // Palette images are read as one index per byte and expanded below,
    // where every index is checked against the palette: libpng itself checks
    // only sub-byte indices, and maps others past the palette to black.
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_packing(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (bit_depth < 8 && color_type != PNG_COLOR_TYPE_PALETTE && color_type != PNG_COLOR_TYPE_GRAY) {
        png_error(png, "invalid bit depth for the colour type");
    }
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int channels = png_get_channels(png, info);
    int output_depth = png_get_bit_depth(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    size_t bytes_per_sample = output_depth == 16 ? 2 : 1;
    if (channels < 1 || channels > 4 || (output_depth != 8 && output_depth != 16) ||
        row_bytes != (size_t)width * (size_t)channels * bytes_per_sample) {
        png_error(png, "unexpected pixel layout after expansion");
    }
    if (height != 0 && row_bytes > SIZE_MAX / height) png_error(png, "image size overflows memory");

    int is_palette = color_type == PNG_COLOR_TYPE_PALETTE;
    int output_channels = is_palette ? (image->header.has_transparency_chunk ? 4 : 3) : channels;
    if (is_palette && channels != 1) png_error(png, "unexpected palette layout");
    size_t pixel_count = (size_t)width * (size_t)height;
    if (pixel_count > SIZE_MAX / 8) png_error(png, "image size overflows memory");
    uint8_t *target = (uint8_t *)malloc(row_bytes * height);
    if (is_palette) indices = target; else image->pixels = target;
    if (is_palette) image->pixels = (uint8_t *)malloc(pixel_count * (size_t)output_channels);
    if (target == NULL || image->pixels == NULL) {
        status = QUERN_PNG_OUT_OF_MEMORY;
        png_error(png, "out of memory for the pixels");
    }
    // Row by row, as png_read_image does, but without its table of row
    // pointers (8 bytes per row: 320 MB for a 1 x 40,000,000 strip). With
    // Adam7 each pass revisits every row and libpng combines in place.
    for (int pass = 0; pass < passes; pass++) {
        for (png_uint_32 y = 0; y < height; y++) png_read_row(png, target + (size_t)y * row_bytes, NULL);
    }
    // Reads through IEND: checks the CRCs of trailing chunks and reports
    // extra or missing compressed data.
    png_read_end(png, NULL);

    if (is_palette) {
        int entries = image->header.palette_entries;
        uint8_t *out = image->pixels;
        for (size_t pixel = 0; pixel < pixel_count; pixel++) {
            int index = indices[pixel];
            if (index >= entries) {
                char text[120];
                snprintf(text, sizeof text, "palette index %d is beyond the %d-entry palette", index, entries);
                png_error(png, text);
            }
            out[0] = palette_rgb[index * 3 + 0];
            out[1] = palette_rgb[index * 3 + 1];
            out[2] = palette_rgb[index * 3 + 2];
            if (output_channels == 4) out[3] = palette_alpha[index];
            out += output_channels;
        }
        free(indices);
        indices = NULL;
    }
    image->pixel_bytes = pixel_count * (size_t)output_channels * bytes_per_sample;
    image->channels = output_channels;
    image->bytes_per_sample = (int)bytes_per_sample;

    png_destroy_read_struct(&png, &info, NULL);
    image->message[0] = 0;
    return QUERN_PNG_OK;
}
