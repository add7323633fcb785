// Direct NHWC convolution through an indirection table (the tensor core's
// conv2dNHWC): out[p, o] = Σ_t Σ_c in_t(p)[c] · W[t, c, o] + bias[o]
// (+ residual[p, o]) (ReLU), where in_t(p) points at the C input values that
// output pixel p sees at kernel tap t (or at a zero row in the padding).
//
// Why not im2col + sgemm: in NHWC the rows a tap reads are already
// contiguous, so the table replaces the im2col copy, 1×1 convolutions need
// no copy at all, and bias, residual and ReLU happen while the tile is still
// in registers. The weights are packed once at load into panels of 32
// output channels, [K][32], zero-padded.
//
// Register tile: 12 output pixels × 32 channels = 24 zmm accumulators; each
// step broadcasts 12 inputs against two weight vectors. The AVX2 variant
// runs the same tile 3 pixels at a time (12 ymm accumulators).
#include "quern_kernels.h"
#include "conv_tile.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QUERN_X86 1
#endif

enum { MR = QUERN_CONV_TILE_PIXELS, NR = QUERN_CONV_PANEL };

// ---- Portable reference ----------------------------------------------------

static void tile_scalar(const float *const *rows, int taps, int channels, const float *w, float acc[MR][NR]) {
    for (int r = 0; r < MR; r++)
        for (int j = 0; j < NR; j++) acc[r][j] = 0;
    for (int t = 0; t < taps; t++) {
        for (int c = 0; c < channels; c++) {
            const float *wk = w + ((size_t)t * channels + c) * NR;
            for (int r = 0; r < MR; r++) {
                float a = rows[r * taps + t][c];
                for (int j = 0; j < NR; j++) acc[r][j] += a * wk[j];
            }
        }
    }
}

void quern_tile_epilogue_scalar(float acc[MR][NR], int mr, int nr, const float *bias, const float *residual, long residual_stride,
                            float *out, long out_stride, int relu) {
    for (int r = 0; r < mr; r++) {
        for (int j = 0; j < nr; j++) {
            float v = acc[r][j] + bias[j];
            if (residual) v += residual[r * residual_stride + j];
            if (relu && v < 0) v = 0;
            out[r * out_stride + j] = v;
        }
    }
}

#ifdef QUERN_X86

// ---- AVX-512 ---------------------------------------------------------------

#define AVX512 __attribute__((target("avx512f,avx512vl,fma")))

AVX512 static void tile_avx512(const float *const *rows, int taps, int channels, const float *w, const float *bias,
                               const float *residual, long residual_stride, float *out, long out_stride, int mr, int nr, int relu) {
    __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
    __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps(), c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
    __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
    __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps(), c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
    __m512 c80 = _mm512_setzero_ps(), c81 = _mm512_setzero_ps(), c90 = _mm512_setzero_ps(), c91 = _mm512_setzero_ps();
    __m512 ca0 = _mm512_setzero_ps(), ca1 = _mm512_setzero_ps(), cb0 = _mm512_setzero_ps(), cb1 = _mm512_setzero_ps();
    for (int t = 0; t < taps; t++) {
        const float *a0 = rows[0 * taps + t], *a1 = rows[1 * taps + t], *a2 = rows[2 * taps + t], *a3 = rows[3 * taps + t];
        const float *a4 = rows[4 * taps + t], *a5 = rows[5 * taps + t], *a6 = rows[6 * taps + t], *a7 = rows[7 * taps + t];
        const float *a8 = rows[8 * taps + t], *a9 = rows[9 * taps + t], *aa = rows[10 * taps + t], *ab = rows[11 * taps + t];
        for (int c = 0; c < channels; c++) {
            const __m512 w0 = _mm512_loadu_ps(w), w1 = _mm512_loadu_ps(w + 16);
            _mm_prefetch((const char *)(w + 8 * NR), _MM_HINT_T0);
            w += NR;
            __m512 b;
#define STEP(p, x0, x1)              \
    b = _mm512_set1_ps(p[c]);        \
    x0 = _mm512_fmadd_ps(b, w0, x0); \
    x1 = _mm512_fmadd_ps(b, w1, x1);
            STEP(a0, c00, c01) STEP(a1, c10, c11) STEP(a2, c20, c21) STEP(a3, c30, c31)
            STEP(a4, c40, c41) STEP(a5, c50, c51) STEP(a6, c60, c61) STEP(a7, c70, c71)
            STEP(a8, c80, c81) STEP(a9, c90, c91) STEP(aa, ca0, ca1) STEP(ab, cb0, cb1)
#undef STEP
        }
    }
    __m512 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51},
                         {c60, c61}, {c70, c71}, {c80, c81}, {c90, c91}, {ca0, ca1}, {cb0, cb1}};
    quern_tile_epilogue_avx512(acc, mr, nr, bias, residual, residual_stride, out, out_stride, relu);
}

// A short tile (the last pixels of a small map: 49 = 4·12 + 1) computes
// only the rows it has, rounded up to 4 or 8, with the same per-row sums as
// the full tile: a 7×7 map's last tile would otherwise spend 11/12 of its
// work on copies of its one pixel.
AVX512 static inline __attribute__((always_inline)) void tile_avx512_short(
    const int R, const float *const *rows, int taps, int channels, const float *w, const float *bias, const float *residual,
    long residual_stride, float *out, long out_stride, int mr, int nr, int relu) {
    __m512 acc[8][2];
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int t = 0; t < taps; t++) {
        const float *a[8];
        for (int r = 0; r < R; r++) a[r] = rows[r * taps + t];
        for (int c = 0; c < channels; c++) {
            const __m512 w0 = _mm512_loadu_ps(w), w1 = _mm512_loadu_ps(w + 16);
            w += NR;
            for (int r = 0; r < R; r++) {
                const __m512 b = _mm512_set1_ps(a[r][c]);
                acc[r][0] = _mm512_fmadd_ps(b, w0, acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(b, w1, acc[r][1]);
            }
        }
    }
    quern_tile_epilogue_avx512(acc, mr, nr, bias, residual, residual_stride, out, out_stride, relu);
}

AVX512 static void tile_avx512_4(const float *const *rows, int taps, int channels, const float *w, const float *bias, const float *residual,
                                 long residual_stride, float *out, long out_stride, int mr, int nr, int relu) {
    tile_avx512_short(4, rows, taps, channels, w, bias, residual, residual_stride, out, out_stride, mr, nr, relu);
}

AVX512 static void tile_avx512_8(const float *const *rows, int taps, int channels, const float *w, const float *bias, const float *residual,
                                 long residual_stride, float *out, long out_stride, int mr, int nr, int relu) {
    tile_avx512_short(8, rows, taps, channels, w, bias, residual, residual_stride, out, out_stride, mr, nr, relu);
}

// ---- AVX2: the same tile, three pixels at a time ------------------------------

#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static void tile_avx2(const float *const *rows, int taps, int channels, const float *w, float acc[MR][NR]) {
    for (int r0 = 0; r0 < MR; r0 += 3) {
        __m256 x[3][4];
        for (int r = 0; r < 3; r++)
            for (int j = 0; j < 4; j++) x[r][j] = _mm256_setzero_ps();
        const float *wk = w;
        for (int t = 0; t < taps; t++) {
            const float *a0 = rows[(r0 + 0) * taps + t], *a1 = rows[(r0 + 1) * taps + t], *a2 = rows[(r0 + 2) * taps + t];
            for (int c = 0; c < channels; c++) {
                const __m256 w0 = _mm256_loadu_ps(wk), w1 = _mm256_loadu_ps(wk + 8), w2 = _mm256_loadu_ps(wk + 16), w3 = _mm256_loadu_ps(wk + 24);
                wk += NR;
                __m256 b = _mm256_broadcast_ss(a0 + c);
                x[0][0] = _mm256_fmadd_ps(b, w0, x[0][0]); x[0][1] = _mm256_fmadd_ps(b, w1, x[0][1]);
                x[0][2] = _mm256_fmadd_ps(b, w2, x[0][2]); x[0][3] = _mm256_fmadd_ps(b, w3, x[0][3]);
                b = _mm256_broadcast_ss(a1 + c);
                x[1][0] = _mm256_fmadd_ps(b, w0, x[1][0]); x[1][1] = _mm256_fmadd_ps(b, w1, x[1][1]);
                x[1][2] = _mm256_fmadd_ps(b, w2, x[1][2]); x[1][3] = _mm256_fmadd_ps(b, w3, x[1][3]);
                b = _mm256_broadcast_ss(a2 + c);
                x[2][0] = _mm256_fmadd_ps(b, w0, x[2][0]); x[2][1] = _mm256_fmadd_ps(b, w1, x[2][1]);
                x[2][2] = _mm256_fmadd_ps(b, w2, x[2][2]); x[2][3] = _mm256_fmadd_ps(b, w3, x[2][3]);
            }
        }
        for (int r = 0; r < 3; r++)
            for (int j = 0; j < 4; j++) _mm256_storeu_ps(acc[r0 + r] + 8 * j, x[r][j]);
    }
}

#endif

// ---- Dispatch ----------------------------------------------------------------

static int level(void) { return quern_kernels_level(); }

static void run_tile(int variant, const float *const *tile_rows, int taps, int channels, const float *w, const float *bias,
                     const float *residual, long residual_stride, float *out, long out_stride, int mr, int nr, int relu) {
#ifdef QUERN_X86
    if (variant == 2) {
        if (mr <= 4)
            tile_avx512_4(tile_rows, taps, channels, w, bias, residual, residual_stride, out, out_stride, mr, nr, relu);
        else if (mr <= 8)
            tile_avx512_8(tile_rows, taps, channels, w, bias, residual, residual_stride, out, out_stride, mr, nr, relu);
        else
            tile_avx512(tile_rows, taps, channels, w, bias, residual, residual_stride, out, out_stride, mr, nr, relu);
        return;
    }
#endif
    float acc[MR][NR];
#ifdef QUERN_X86
    if (variant == 1)
        tile_avx2(tile_rows, taps, channels, w, acc);
    else
#endif
        tile_scalar(tile_rows, taps, channels, w, acc);
    quern_tile_epilogue_scalar(acc, mr, nr, bias, residual, residual_stride, out, out_stride, relu);
    (void)variant;
}

int quern_conv_tile_variant(void) { return level(); }

void quern_conv_tile(int variant, const float *const *rows, int channels, const float *panel, float *out, long out_stride, int mr) {
    static const float no_bias[NR];
    run_tile(variant, rows, 1, channels, panel, no_bias, NULL, 0, out, out_stride, mr, NR, 0);
}

// quern_conv_nhwc_run for bfloat16 weights and rows.
static int run_bf16(const quern_conv_job *job, long pixel_begin, long pixel_end, int panel_begin, int panel_end) {
    const int taps = job->taps, pairs = job->channels / 2;
    const long k = (long)taps * job->channels;
    const long stride = job->out_channels;
    const uint16_t *stack_rows[MR * 64];
    const uint16_t **rows = taps <= 64 ? stack_rows : (const uint16_t **)malloc(sizeof(const uint16_t *) * MR * (size_t)taps);
    if (!rows) return -1;
    for (int panel = panel_begin; panel < panel_end; panel++) {
        const uint16_t *w = job->packed_bf16 + (size_t)panel * k * NR;
        const float *bias = job->bias + (size_t)panel * NR;
        const int nr = job->out_channels - panel * NR < NR ? job->out_channels - panel * NR : NR;
        for (long p = pixel_begin; p < pixel_end; p += MR) {
            const int mr = pixel_end - p < MR ? (int)(pixel_end - p) : MR;
            const uint16_t *const *tile_rows = job->indirection_bf16 + p * taps;
            const uint16_t *dense[MR];
            if (!job->indirection_bf16) {
                for (int r = 0; r < MR; r++) dense[r] = job->input_bf16 + (p + (r < mr ? r : mr - 1)) * (long)job->channels;
                tile_rows = dense;
            } else if (mr < MR) {
                for (int r = 0; r < MR; r++)
                    for (int t = 0; t < taps; t++) rows[r * taps + t] = job->indirection_bf16[(p + (r < mr ? r : mr - 1)) * taps + t];
                tile_rows = rows;
            }
            quern_conv_bf16_tile(tile_rows, taps, pairs, w, bias, job->residual ? job->residual + p * stride + panel * NR : NULL, stride,
                                 job->output + p * stride + panel * NR, stride, mr, nr, job->relu);
        }
    }
    if (rows != stack_rows) free(rows);
    return 0;
}

int quern_conv_nhwc_run(const quern_conv_job *job, long pixel_begin, long pixel_end, int panel_begin, int panel_end) {
    if (job->packed_bf16) return run_bf16(job, pixel_begin, pixel_end, panel_begin, panel_end);
    const int taps = job->taps, channels = job->channels;
    const long k = (long)taps * channels;
    const long stride = job->out_channels;
    const int variant = level();
    // Short tiles need their own rows table (the last pixel's rows repeated).
    const float *stack_rows[MR * 64];
    const float **rows = taps <= 64 ? stack_rows : (const float **)malloc(sizeof(const float *) * MR * (size_t)taps);
    if (!rows) return -1;
    for (int panel = panel_begin; panel < panel_end; panel++) {
        const float *w = job->packed + (size_t)panel * k * NR;
        const float *bias = job->bias + (size_t)panel * NR;
        const int nr = job->out_channels - panel * NR < NR ? job->out_channels - panel * NR : NR;
        for (long p = pixel_begin; p < pixel_end; p += MR) {
            const int mr = pixel_end - p < MR ? (int)(pixel_end - p) : MR;
            const float *const *tile_rows = job->indirection + p * taps;
            const float *dense[MR];
            if (!job->indirection) {
                // A 1×1 stride-1 convolution: pixel p's only row is input + p·channels.
                for (int r = 0; r < MR; r++) dense[r] = job->input + (p + (r < mr ? r : mr - 1)) * (long)channels;
                tile_rows = dense;
            } else if (mr < MR) {
                for (int r = 0; r < MR; r++)
                    for (int t = 0; t < taps; t++) rows[r * taps + t] = job->indirection[(p + (r < mr ? r : mr - 1)) * taps + t];
                tile_rows = rows;
            }
            run_tile(variant, tile_rows, taps, channels, w, bias, job->residual ? job->residual + p * stride + panel * NR : NULL,
                     stride, job->output + p * stride + panel * NR, stride, mr, nr, job->relu);
        }
    }
    if (rows != stack_rows) free(rows);
    return 0;
}

// The indirection table over an input of `element`-byte values.
static void build_indirection(const char *input, size_t element, int batch, int height, int width, int channels, int kernel_h,
                              int kernel_w, int stride_h, int stride_w, int pad_top, int pad_left, int dilation_h, int dilation_w,
                              int out_h, int out_w, const char *zeros, const char **table) {
    const int taps = kernel_h * kernel_w;
    const size_t pixel = element * (size_t)channels;
    for (int n = 0; n < batch; n++) {
        const char *image = input + (size_t)n * height * width * pixel;
        for (int y = 0; y < out_h; y++) {
            for (int x = 0; x < out_w; x++) {
                const char **entry = table + (((size_t)n * out_h + y) * out_w + x) * taps;
                for (int i = 0; i < kernel_h; i++) {
                    const int sy = y * stride_h - pad_top + i * dilation_h;
                    for (int j = 0; j < kernel_w; j++) {
                        const int sx = x * stride_w - pad_left + j * dilation_w;
                        entry[i * kernel_w + j] = (sy >= 0 && sy < height && sx >= 0 && sx < width)
                                                      ? image + ((size_t)sy * width + sx) * pixel
                                                      : zeros;
                    }
                }
            }
        }
    }
}

void quern_conv_build_indirection(const float *input, int batch, int height, int width, int channels, int kernel_h, int kernel_w,
                                  int stride_h, int stride_w, int pad_top, int pad_left, int dilation_h, int dilation_w,
                                  int out_h, int out_w, const float *zeros, const float **table) {
    build_indirection((const char *)input, sizeof(float), batch, height, width, channels, kernel_h, kernel_w, stride_h, stride_w,
                      pad_top, pad_left, dilation_h, dilation_w, out_h, out_w, (const char *)zeros, (const char **)table);
}

void quern_conv_build_indirection_bf16(const uint16_t *input, int batch, int height, int width, int channels, int kernel_h, int kernel_w,
                                       int stride_h, int stride_w, int pad_top, int pad_left, int dilation_h, int dilation_w,
                                       int out_h, int out_w, const uint16_t *zeros, const uint16_t **table) {
    build_indirection((const char *)input, sizeof(uint16_t), batch, height, width, channels, kernel_h, kernel_w, stride_h, stride_w,
                      pad_top, pad_left, dilation_h, dilation_w, out_h, out_w, (const char *)zeros, (const char **)table);
}
