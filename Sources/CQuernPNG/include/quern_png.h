// PNG decoding from a memory buffer through libpng, with libpng's error path
// (setjmp/longjmp) contained entirely inside this C file.
//
// libpng reports fatal errors by longjmp-ing out of its own frames. Swift
// frames must never lie between setjmp and longjmp, so the whole decode —
// header, transforms, rows, trailing chunks — runs inside one C function and
// the caller only ever sees a status code, a message and either a complete
// image or nothing.
//
// Strictness (documented in Sources/QuernMedia/Image/PNGDecoder.swift):
//  * CRC errors in any chunk, critical or ancillary, are errors.
//  * libpng's "benign" errors (too much or too little image data, …) are
//    errors, and so is a palette index beyond the palette (checked here for
//    every bit depth; libpng checks only sub-byte indices).
//  * Ancillary chunks other than tRNS are skipped unread (their CRC is still
//    checked): Quern applies no colour management, as Pillow's convert does
//    not, so a malformed gAMA/iCCP/text chunk cannot fail an otherwise whole
//    image, and their contents cost nothing.
//  * The file must be complete through IEND.
#ifndef QUERN_PNG_H
#define QUERN_PNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum quern_png_status {
    QUERN_PNG_OK = 0,
    /// Not a PNG: the 8-byte signature is missing or wrong.
    QUERN_PNG_UNRECOGNIZED = 1,
    /// A PNG signature, but broken data (CRC, zlib, truncation, bad IHDR, …).
    QUERN_PNG_CORRUPT = 2,
    /// width × height is over the caller's pixel limit (checked before allocating).
    QUERN_PNG_TOO_LARGE = 3,
    /// Zero bytes of input.
    QUERN_PNG_EMPTY = 4,
    /// The pixel buffer could not be allocated.
    QUERN_PNG_OUT_OF_MEMORY = 5,
} quern_png_status;

/// What the file's IHDR (and tRNS/PLTE) said, before any transformation.
typedef struct quern_png_header {
    uint32_t width;
    uint32_t height;
    /// 1, 2, 4, 8 or 16.
    int bit_depth;
    /// PNG colour type: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA.
    int color_type;
    /// 1 for Adam7, 0 for none.
    int interlaced;
    /// 1 when a tRNS chunk was present.
    int has_transparency_chunk;
    /// PLTE entries (palette images only).
    int palette_entries;
} quern_png_header;

enum { QUERN_PNG_MESSAGE_CAPACITY = 256, QUERN_PNG_WARNINGS_CAPACITY = 512 };

typedef struct quern_png_image {
    quern_png_header header;
    /// Channels of `pixels`: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. Palettes
    /// are expanded to RGB (RGBA when tRNS is present); gray below 8 bits is
    /// scaled to 8 bits (value × 255 / (2^depth − 1)).
    int channels;
    /// 1, or 2 for 16-bit images (samples stay 16-bit, big-endian as in the
    /// file: how 16 bits become 8 depends on the colour type in Pillow).
    int bytes_per_sample;
    /// height rows of width × channels × bytes_per_sample bytes, packed;
    /// NULL unless the status is QUERN_PNG_OK. Free with quern_png_release.
    uint8_t *pixels;
    size_t pixel_bytes;
    /// The error, when the status is not OK (NUL-terminated).
    char message[QUERN_PNG_MESSAGE_CAPACITY];
    /// libpng's warnings, "; "-separated, truncated to fit (NUL-terminated).
    char warnings[QUERN_PNG_WARNINGS_CAPACITY];
} quern_png_image;

/// Decodes the PNG in data[0 ..< size] into *image. Refuses images with
/// width × height > max_pixels after reading IHDR, before allocating pixels.
/// On any status but QUERN_PNG_OK, image->pixels is NULL and image->message
/// says why. Never longjmps out, never aborts on hostile input.
quern_png_status quern_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                                  quern_png_image *image);

/// Frees image->pixels (safe on a failed or already released image).
void quern_png_release(quern_png_image *image);

#ifdef __cplusplus
}
#endif

#endif
