// Winograd F(2×2, 3×3) for stride-1 3×3 convolutions over NHWC (the tensor
// core's WinogradConvolution). A 3×3 convolution over 2×2 output tiles
// becomes 16 independent products V[ξ] · U[ξ] of [tiles, C] by [C, O] (on
// conv_nhwc.c's register tile): 16 instead of
// 36 multiplications per tile and channel pair. F(2×2, 3×3) uses only the
// points 0, ±1 and ∞, so the transforms are additions and the result stays
// within float32 rounding of the direct convolution.
//
// Input transform V = Bᵀ d B of each 4×4 input patch d, output transform
// Y = Aᵀ M A, with Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1] and
// Aᵀ = [1 1 1 0; 0 1 −1 −1].
//
// Fused by blocks of tiles: a block's V stays in L2 while its products are
// made one 32-channel panel at a time and transformed straight into the
// output, so the 4×-larger V and M never travel through memory and a layer
// is one parallel job instead of three.
#include "quern_kernels.h"
#include "conv_tile.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QUERN_X86 1
#define AVX512 __attribute__((target("avx512f,avx512vl,fma")))
#endif

static int wide(void) { return strcmp(quern_kernels_variant(), "avx512") == 0; }

// The 16 input rows (each `channels` values, or the zero row) of tile `tile`.
static void patch_rows(const float *input, int height, int width, int channels, int pad_top, int pad_left, int tiles_w,
                       long tile, const float *zeros, const float *rows[16]) {
    const int ty = (int)(tile / tiles_w), tx = (int)(tile % tiles_w);
    for (int i = 0; i < 4; i++) {
        const int y = 2 * ty - pad_top + i;
        for (int j = 0; j < 4; j++) {
            const int x = 2 * tx - pad_left + j;
            rows[i * 4 + j] = (y >= 0 && y < height && x >= 0 && x < width) ? input + ((size_t)y * width + x) * channels : zeros;
        }
    }
}

#define INPUT_TRANSFORM(T, LOAD, STORE, ADD, SUB)                                                    \
    {                                                                                                \
        T d[16], t[16];                                                                              \
        for (int q = 0; q < 16; q++) d[q] = LOAD(rows[q] + c);                                       \
        for (int j = 0; j < 4; j++) {                                                                \
            t[0 * 4 + j] = SUB(d[0 * 4 + j], d[2 * 4 + j]);                                          \
            t[1 * 4 + j] = ADD(d[1 * 4 + j], d[2 * 4 + j]);                                          \
            t[2 * 4 + j] = SUB(d[2 * 4 + j], d[1 * 4 + j]);                                          \
            t[3 * 4 + j] = SUB(d[1 * 4 + j], d[3 * 4 + j]);                                          \
        }                                                                                            \
        for (int i = 0; i < 4; i++) {                                                                \
            STORE(out + (size_t)(i * 4 + 0) * plane + c, SUB(t[i * 4 + 0], t[i * 4 + 2]));           \
            STORE(out + (size_t)(i * 4 + 1) * plane + c, ADD(t[i * 4 + 1], t[i * 4 + 2]));           \
            STORE(out + (size_t)(i * 4 + 2) * plane + c, SUB(t[i * 4 + 2], t[i * 4 + 1]));           \
            STORE(out + (size_t)(i * 4 + 3) * plane + c, SUB(t[i * 4 + 1], t[i * 4 + 3]));           \
        }                                                                                            \
    }

#define S_LOAD(p) (*(p))
#define S_STORE(p, v) (*(p) = (v))
#define S_ADD(a, b) ((a) + (b))
#define S_SUB(a, b) ((a) - (b))

static void input_scalar(const float *rows[16], int channels, int c, float *out, long plane) {
    for (; c < channels; c++) INPUT_TRANSFORM(float, S_LOAD, S_STORE, S_ADD, S_SUB)
}

#ifdef QUERN_X86
AVX512 static void input_avx512(const float *rows[16], int channels, float *out, long plane) {
    int c = 0;
    for (; c + 16 <= channels; c += 16) INPUT_TRANSFORM(__m512, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_add_ps, _mm512_sub_ps)
    input_scalar(rows, channels, c, out, plane);
}
#endif

// Output transform of one tile at channel j: product q of the tile is at
// products[q·q_stride + j].
#define OUTPUT_TRANSFORM(T, LOAD, ADD, SUB, FINISH)                                                  \
    {                                                                                                \
        T m[16], s[8];                                                                               \
        for (int q = 0; q < 16; q++) m[q] = LOAD(products + (size_t)q * q_stride + j);               \
        for (int k = 0; k < 4; k++) {                                                                \
            s[0 * 4 + k] = ADD(ADD(m[0 * 4 + k], m[1 * 4 + k]), m[2 * 4 + k]);                       \
            s[1 * 4 + k] = SUB(SUB(m[1 * 4 + k], m[2 * 4 + k]), m[3 * 4 + k]);                       \
        }                                                                                            \
        for (int i = 0; i < rows; i++) {                                                             \
            FINISH(i, 0, ADD(ADD(s[i * 4 + 0], s[i * 4 + 1]), s[i * 4 + 2]));                        \
            if (columns > 1) FINISH(i, 1, SUB(SUB(s[i * 4 + 1], s[i * 4 + 2]), s[i * 4 + 3]));       \
        }                                                                                            \
    }

// `rows` × `columns` (1 or 2 each) of the tile lie inside the output;
// `row_stride` is one output row; channels [0, count) from `products`, `bias`,
// `residual` and `output`, which all point at the first channel.
static void output_scalar(const float *products, long q_stride, int j, int count, int rows, int columns, const float *bias,
                          const float *residual, float *output, long row_stride, long pixel_stride, int relu) {
    for (; j < count; j++) {
#define S_FINISH(i, x, v)                                                          \
    {                                                                              \
        const long at = (i) * row_stride + (x) * pixel_stride + j;                 \
        float r = (v) + bias[j];                                                   \
        if (residual) r += residual[at];                                           \
        output[at] = relu && r < 0 ? 0 : r;                                        \
    }
        OUTPUT_TRANSFORM(float, S_LOAD, S_ADD, S_SUB, S_FINISH)
#undef S_FINISH
    }
}

#ifdef QUERN_X86
AVX512 static void output_avx512(const float *products, long q_stride, int count, int rows, int columns, const float *bias,
                                 const float *residual, float *output, long row_stride, long pixel_stride, int relu) {
    int j = 0;
    const __m512 zero = _mm512_setzero_ps();
    for (; j + 16 <= count; j += 16) {
        const __m512 b = _mm512_loadu_ps(bias + j);
#define V_FINISH(i, x, v)                                                          \
    {                                                                              \
        const long at = (i) * row_stride + (x) * pixel_stride + j;                 \
        __m512 r = _mm512_add_ps((v), b);                                          \
        if (residual) r = _mm512_add_ps(r, _mm512_loadu_ps(residual + at));        \
        if (relu) r = _mm512_max_ps(r, zero);                                      \
        _mm512_storeu_ps(output + at, r);                                          \
    }
        OUTPUT_TRANSFORM(__m512, _mm512_loadu_ps, _mm512_add_ps, _mm512_sub_ps, V_FINISH)
#undef V_FINISH
    }
    output_scalar(products, q_stride, j, count, rows, columns, bias, residual, output, row_stride, pixel_stride, relu);
}
#endif

enum { MR = QUERN_CONV_TILE_PIXELS, NR = QUERN_CONV_PANEL };

// Tiles per block: the block's 16 transformed inputs ([16][block][C]) stay
// within about half of a 1 MiB L2 while its products are made panel by panel.
static long block_tiles(int channels) {
    long tiles = 8192 / (channels > 0 ? channels : 1) / MR * MR;
    return tiles < MR ? MR : tiles > 10 * MR ? 10 * MR : tiles;
}

// Scratch of the calling thread, kept between calls (the compute threads live
// as long as the process).
static _Thread_local float *scratch;
static _Thread_local size_t scratch_count;

static float *thread_scratch(size_t count) {
    if (count > scratch_count) {
        free(scratch);
        scratch = NULL;
        scratch_count = 0;
        if (posix_memalign((void **)&scratch, 64, count * sizeof(float)) != 0) return NULL;
        scratch_count = count;
    }
    return scratch;
}

int quern_winograd_run(const quern_winograd_job *job, long tile_begin, long tile_end, int panel_begin, int panel_end) {
    const int channels = job->channels, out_channels = job->out_channels;
    const long per_image = (long)job->tiles_h * job->tiles_w;
    const long block = block_tiles(channels);
    const long in_plane = (long)job->height * job->width * channels, out_plane = (long)job->out_h * job->out_w * out_channels;
    const int variant = quern_conv_tile_variant();
    const int use_wide = wide();
    const int bf16 = job->packed_bf16 != NULL;
    // bfloat16: the transformed input's rounded copy (half a float per value) after the products.
    float *const buffer = thread_scratch((size_t)16 * block * (channels + NR) + (bf16 ? (size_t)8 * block * channels : 0));
    if (!buffer) return -1;
    float *const transformed = buffer, *const products = buffer + (size_t)16 * block * channels;
    uint16_t *const rounded = (uint16_t *)(products + (size_t)16 * block * NR);
    static const float no_bias[NR];
    for (long first = tile_begin; first < tile_end; first += block) {
        const long count = tile_end - first < block ? tile_end - first : block;
        const long plane = count * channels;
        // V[ξ][t] = Bᵀ d B of each tile's 4×4 input patch.
        for (long t = 0; t < count; t++) {
            const long tile = first + t, image = tile / per_image;
            const float *rows[16];
            patch_rows(job->input + image * in_plane, job->height, job->width, channels, job->pad_top, job->pad_left, job->tiles_w,
                       tile % per_image, job->zeros, rows);
#ifdef QUERN_X86
            if (use_wide) {
                input_avx512(rows, channels, transformed + t * channels, plane);
                continue;
            }
#endif
            input_scalar(rows, channels, 0, transformed + t * channels, plane);
        }
        if (bf16) quern_bf16_round(transformed, rounded, 16 * plane);
        for (int panel = panel_begin; panel < panel_end; panel++) {
            // M[ξ] = V[ξ] · U[ξ] for this panel's 32 channels, then Y = Aᵀ M A.
            for (int q = 0; bf16 && q < 16; q++) {
                const uint16_t *weights = job->packed_bf16[q] + (size_t)panel * channels * NR;
                const uint16_t *v = rounded + (size_t)q * plane;
                for (long r0 = 0; r0 < count; r0 += MR) {
                    const int mr = count - r0 < MR ? (int)(count - r0) : MR;
                    const uint16_t *rows[MR];
                    for (int r = 0; r < MR; r++) rows[r] = v + (r0 + (r < mr ? r : mr - 1)) * channels;
                    quern_conv_bf16_tile(rows, 1, channels / 2, weights, no_bias, NULL, 0, products + ((size_t)q * count + r0) * NR, NR, mr,
                                         NR, 0);
                }
            }
            for (int q = 0; !bf16 && q < 16; q++) {
                const float *weights = job->packed[q] + (size_t)panel * channels * NR;
                const float *v = transformed + (size_t)q * plane;
                for (long r0 = 0; r0 < count; r0 += MR) {
                    const int mr = count - r0 < MR ? (int)(count - r0) : MR;
                    const float *rows[MR];
                    for (int r = 0; r < MR; r++) rows[r] = v + (r0 + (r < mr ? r : mr - 1)) * channels;
                    quern_conv_tile(variant, rows, channels, weights, products + ((size_t)q * count + r0) * NR, NR, mr);
                }
            }
            const int c0 = panel * NR, width = out_channels - c0 < NR ? out_channels - c0 : NR;
            for (long t = 0; t < count; t++) {
                const long tile = first + t, image = tile / per_image, within = tile % per_image;
                const int ty = (int)(within / job->tiles_w), tx = (int)(within % job->tiles_w);
                const int rows = job->out_h - 2 * ty < 2 ? 1 : 2, columns = job->out_w - 2 * tx < 2 ? 1 : 2;
                const long at = image * out_plane + ((long)2 * ty * job->out_w + 2 * tx) * out_channels + c0;
                const float *residual = job->residual ? job->residual + at : NULL;
                const float *m = products + t * NR;
                const long q_stride = count * NR, row_stride = (long)job->out_w * out_channels;
#ifdef QUERN_X86
                if (use_wide) {
                    output_avx512(m, q_stride, width, rows, columns, job->bias + c0, residual, job->output + at, row_stride,
                                  out_channels, job->relu);
                    continue;
                }
#endif
                output_scalar(m, q_stride, 0, width, rows, columns, job->bias + c0, residual, job->output + at, row_stride,
                              out_channels, job->relu);
            }
        }
    }
    (void)use_wide;
    return 0;
}
