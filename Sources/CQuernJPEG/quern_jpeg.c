// See include/quern_jpeg.h for the contract. Every libjpeg call that can
// raise an error happens inside quern_jpeg_decode, below its setjmp.
#include "quern_jpeg.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

/// libjpeg's error manager extended with where to jump and what to fill in.
/// Lives in quern_jpeg_decode's frame.
typedef struct error_context {
    struct jpeg_error_mgr manager;
    jmp_buf escape;
    quern_jpeg_image *image;
} error_context;

static void copy_message(char *destination, size_t capacity, const char *text) {
    snprintf(destination, capacity, "%s", text != NULL ? text : "unknown libjpeg error");
}

static void append_warning(quern_jpeg_image *image, const char *text) {
    char *warnings = image->warnings;
    size_t used = strlen(warnings);
    size_t capacity = sizeof image->warnings;
    if (used + 3 >= capacity) return;
    snprintf(warnings + used, capacity - used, "%s%s", used > 0 ? "; " : "", text);
}

static void on_error(j_common_ptr cinfo) {
    error_context *context = (error_context *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    copy_message(context->image->message, sizeof context->image->message, text);
    longjmp(context->escape, 1);
}

/// Warnings about header trivia that leave the picture intact.
static int is_harmless_warning(int code) {
    return code == JWRN_JFIF_MAJOR || code == JWRN_ADOBE_XFORM || code == JWRN_BOGUS_ICC;
}

/// libjpeg calls this for warnings (level -1) and trace messages (level ≥ 0).
/// A warning about the data is an error: libjpeg would go on and hand back
/// grey or garbled blocks.
static void on_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;
    error_context *context = (error_context *)cinfo->err;
    int code = cinfo->err->msg_code;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    if (is_harmless_warning(code)) {
        append_warning(context->image, text);
        return;
    }
    copy_message(context->image->message, sizeof context->image->message, text);
    longjmp(context->escape, 1);
}

static quern_jpeg_status fail(quern_jpeg_image *image, quern_jpeg_status status, const char *text) {
    copy_message(image->message, sizeof image->message, text);
    return status;
}

void quern_jpeg_release(quern_jpeg_image *image) {
    if (image == NULL) return;
    free(image->pixels);
    image->pixels = NULL;
    image->pixel_bytes = 0;
}

quern_jpeg_status quern_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels, quern_jpeg_image *image) {
    memset(image, 0, sizeof *image);
    image->header.adobe_transform = -1;
    if (size == 0) return fail(image, QUERN_JPEG_EMPTY, "the file is empty");
    if (size < 3 || data[0] != 0xFF || data[1] != 0xD8) {
        return fail(image, QUERN_JPEG_UNRECOGNIZED, "not a JPEG file (no SOI marker)");
    }
    // jpeg_mem_src takes an unsigned long length.
    if ((unsigned long long)size > (unsigned long long)(unsigned long)-1) {
        return fail(image, QUERN_JPEG_TOO_LARGE, "the file is too large to decode");
    }

    struct jpeg_decompress_struct cinfo;
    error_context context;
    memset(&context, 0, sizeof context);
    context.image = image;
    cinfo.err = jpeg_std_error(&context.manager);
    context.manager.error_exit = on_error;
    context.manager.emit_message = on_message;
    // Written after setjmp and read after a longjmp: volatile, so the values
    // are not cached in registers that longjmp restores.
    volatile quern_jpeg_status status = QUERN_JPEG_CORRUPT;
    volatile int created = 0;

    if (setjmp(context.escape)) {
        quern_jpeg_release(image);
        if (created) jpeg_destroy_decompress(&cinfo);
        return status;
    }

    jpeg_create_decompress(&cinfo);
    created = 1;
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    // Only the Adobe marker is needed (libjpeg reads it itself, into
    // saw_Adobe_marker / Adobe_transform); APPn payloads are skipped, never saved.
    if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
        ERREXIT(&cinfo, JERR_NO_IMAGE);
    }

    quern_jpeg_header *header = &image->header;
    header->width = cinfo.image_width;
    header->height = cinfo.image_height;
    header->components = cinfo.num_components;
    header->precision = cinfo.data_precision;
    header->progressive = cinfo.progressive_mode ? 1 : 0;
    header->jpeg_color_space = (int)cinfo.jpeg_color_space;
    header->adobe_transform = cinfo.saw_Adobe_marker ? (int)cinfo.Adobe_transform : -1;
    for (int component = 0; component < cinfo.num_components && component < 4; component++) {
        header->horizontal_sampling[component] = cinfo.comp_info[component].h_samp_factor;
        header->vertical_sampling[component] = cinfo.comp_info[component].v_samp_factor;
    }

    if ((uint64_t)cinfo.image_width * (uint64_t)cinfo.image_height > max_pixels) {
        char text[160];
        snprintf(text, sizeof text, "%u x %u pixels is over the limit of %llu pixels",
                 cinfo.image_width, cinfo.image_height, (unsigned long long)max_pixels);
        copy_message(image->message, sizeof image->message, text);
        status = QUERN_JPEG_TOO_LARGE;
        longjmp(context.escape, 1);
    }
    if (cinfo.data_precision != 8) {
        char text[120];
        snprintf(text, sizeof text, "%d-bit samples are not supported (only 8-bit JPEG)", cinfo.data_precision);
        copy_message(image->message, sizeof image->message, text);
        status = QUERN_JPEG_UNSUPPORTED;
        longjmp(context.escape, 1);
    }
    // Pillow's layer rule: 1 → L, 3 → RGB, 4 → CMYK; nothing else.
    int channels = cinfo.num_components;
    switch (channels) {
    case 1: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case 3: cinfo.out_color_space = JCS_RGB; break;
    case 4: cinfo.out_color_space = JCS_CMYK; break;
    default: {
        char text[120];
        snprintf(text, sizeof text, "%d-component JPEG images are not supported (only 1, 3 or 4)", channels);
        copy_message(image->message, sizeof image->message, text);
        status = QUERN_JPEG_UNSUPPORTED;
        longjmp(context.escape, 1);
    }
    }
    // libjpeg's defaults, set explicitly because they decide the pixels:
    // Pillow decodes with exactly these.
    cinfo.dct_method = JDCT_ISLOW;
    cinfo.do_fancy_upsampling = TRUE;
    cinfo.do_block_smoothing = TRUE;
    cinfo.scale_num = 1;
    cinfo.scale_denom = 1;
    cinfo.quantize_colors = FALSE;

    jpeg_start_decompress(&cinfo);
    if (cinfo.output_components != channels || cinfo.output_width != cinfo.image_width ||
        cinfo.output_height != cinfo.image_height) {
        ERREXIT(&cinfo, JERR_NOTIMPL);
    }
    size_t row_bytes = (size_t)cinfo.output_width * (size_t)channels;
    if (cinfo.output_height != 0 && row_bytes > SIZE_MAX / cinfo.output_height) {
        copy_message(image->message, sizeof image->message, "image size overflows memory");
        status = QUERN_JPEG_TOO_LARGE;
        longjmp(context.escape, 1);
    }
    image->pixels = (uint8_t *)malloc(row_bytes * cinfo.output_height);
    if (image->pixels == NULL) {
        copy_message(image->message, sizeof image->message, "out of memory for the pixels");
        status = QUERN_JPEG_OUT_OF_MEMORY;
        longjmp(context.escape, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = image->pixels + (size_t)cinfo.output_scanline * row_bytes;
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
            // Only a suspending source returns 0 lines; the memory source never suspends.
            ERREXIT(&cinfo, JERR_INPUT_EMPTY);
        }
    }
    // Reads through EOI: a file cut after its last scanline is refused too,
    // as Pillow refuses it ("image file is truncated").
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    created = 0;

    image->channels = channels;
    image->pixel_bytes = row_bytes * header->height;
    image->message[0] = 0;
    return QUERN_JPEG_OK;
}
