// JPEG decoding from a memory buffer through libjpeg-turbo's libjpeg API,
// with libjpeg's error path (error_exit → longjmp) contained in this C file.
//
// Swift frames must never lie between setjmp and longjmp, so the whole
// decode — header, limits, scanlines, the end of the file — runs inside one
// C function, and the caller sees a status, a message, and either a whole
// image or nothing.
//
// Decoding matches Pillow's JPEG decoder (which is libjpeg-turbo with its
// defaults): the ISLOW integer IDCT, fancy (smooth) upsampling, libjpeg's
// own choice of the file's colour space from its JFIF/Adobe markers, and
// output in the layer count Pillow chooses: 1 → gray (L), 3 → RGB,
// 4 → CMYK as libjpeg delivers it (Pillow's "CMYK;I" inversion and its
// CMYK → RGB conversion are done by the Swift caller).
//
// Strictness: libjpeg's warnings about the data — premature end of file,
// bad Huffman codes, extraneous bytes, missing markers, bogus progression —
// are errors here, not a partly grey picture. Only warnings about harmless
// header trivia (an unknown JFIF revision, an unknown Adobe transform code,
// a malformed JFIF thumbnail or ICC chunk) are let through, reported in
// `warnings`.
#ifndef QUERN_JPEG_H
#define QUERN_JPEG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum quern_jpeg_status {
    QUERN_JPEG_OK = 0,
    /// Not a JPEG: the file does not start with SOI (FF D8).
    QUERN_JPEG_UNRECOGNIZED = 1,
    /// A JPEG start, but broken data (truncation, bad Huffman code, bad marker, zero size, …).
    QUERN_JPEG_CORRUPT = 2,
    /// width × height is over the caller's pixel limit (checked before any pixel memory is allocated).
    QUERN_JPEG_TOO_LARGE = 3,
    /// Zero bytes of input.
    QUERN_JPEG_EMPTY = 4,
    /// The pixel buffer could not be allocated.
    QUERN_JPEG_OUT_OF_MEMORY = 5,
    /// A valid JPEG Quern (like Pillow) does not decode: 12-bit samples, 2 or more than 4 components.
    QUERN_JPEG_UNSUPPORTED = 6,
} quern_jpeg_status;

/// libjpeg's colour-space codes for the file (J_COLOR_SPACE), as the header said.
typedef struct quern_jpeg_header {
    uint32_t width;
    uint32_t height;
    /// Components in the frame: 1, 3 or 4 (anything else is refused).
    int components;
    /// Sample precision in bits (8; 12-bit files are refused).
    int precision;
    /// 1 for a progressive (SOF2) file.
    int progressive;
    /// J_COLOR_SPACE libjpeg chose for the file: 1 gray, 2 RGB, 3 YCbCr, 4 CMYK, 5 YCCK.
    int jpeg_color_space;
    /// The Adobe APP14 marker's transform code (0, 1, 2), or -1 without the marker.
    int adobe_transform;
    /// Each component's sampling factors (the first `components` entries).
    int horizontal_sampling[4];
    int vertical_sampling[4];
} quern_jpeg_header;

enum { QUERN_JPEG_MESSAGE_CAPACITY = 256, QUERN_JPEG_WARNINGS_CAPACITY = 512 };

typedef struct quern_jpeg_image {
    quern_jpeg_header header;
    /// Channels of `pixels`: 1 gray, 3 RGB, 4 CMYK (libjpeg's values, not inverted).
    int channels;
    /// height rows of width × channels bytes, packed; NULL unless the status
    /// is QUERN_JPEG_OK. Free with quern_jpeg_release.
    uint8_t *pixels;
    size_t pixel_bytes;
    /// The error, when the status is not OK (NUL-terminated).
    char message[QUERN_JPEG_MESSAGE_CAPACITY];
    /// The harmless warnings that were let through, "; "-separated (NUL-terminated).
    char warnings[QUERN_JPEG_WARNINGS_CAPACITY];
} quern_jpeg_image;

/// Decodes the JPEG in data[0 ..< size] into *image. Refuses images with
/// width × height > max_pixels after reading the frame header, before
/// libjpeg allocates its image buffers. On any status but QUERN_JPEG_OK,
/// image->pixels is NULL and image->message says why. Never longjmps out,
/// never aborts on hostile input.
quern_jpeg_status quern_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                                    quern_jpeg_image *image);

/// Frees image->pixels (safe on a failed or already released image).
void quern_jpeg_release(quern_jpeg_image *image);

#ifdef __cplusplus
}
#endif

#endif
