// Winograd F(2×2, 3×3) transforms for stride-1 3×3 convolutions over NHWC
// (the tensor core's WinogradConvolution). A 3×3 convolution over 2×2
// output tiles becomes 16 independent products V[ξ] · U[ξ] of [tiles, C] by
// [C, O] (run by the conv_nhwc kernel as 1×1 convolutions): 16 instead of
// 36 multiplications per tile and channel pair. F(2×2, 3×3) uses only the
// points 0, ±1 and ∞, so the transforms are additions and the result stays
// within float32 rounding of the direct convolution.
//
// Input transform V = Bᵀ d B of each 4×4 input patch d, output transform
// Y = Aᵀ M A, with Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1] and
// Aᵀ = [1 1 1 0; 0 1 −1 −1].
#include "quern_kernels.h"

#include <stddef.h>
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

void quern_winograd_input(const float *input, int height, int width, int channels, int pad_top, int pad_left, int tiles_h,
                          int tiles_w, const float *zeros, float *transformed, long tile_begin, long tile_end) {
    const long tiles = (long)tiles_h * tiles_w, plane = tiles * channels;
    const int use_wide = wide();
    const float *rows[16];
    for (long tile = tile_begin; tile < tile_end; tile++) {
        patch_rows(input, height, width, channels, pad_top, pad_left, tiles_w, tile, zeros, rows);
        float *out = transformed + tile * channels;
#ifdef QUERN_X86
        if (use_wide) {
            input_avx512(rows, channels, out, plane);
            continue;
        }
#endif
        input_scalar(rows, channels, 0, out, plane);
    }
    (void)use_wide;
}

#define OUTPUT_TRANSFORM(T, LOAD, ADD, SUB, FINISH)                                                  \
    {                                                                                                \
        T m[16], s[8];                                                                               \
        for (int q = 0; q < 16; q++) m[q] = LOAD(products + (size_t)q * plane + tile * out_channels + o); \
        for (int j = 0; j < 4; j++) {                                                                \
            s[0 * 4 + j] = ADD(ADD(m[0 * 4 + j], m[1 * 4 + j]), m[2 * 4 + j]);                       \
            s[1 * 4 + j] = SUB(SUB(m[1 * 4 + j], m[2 * 4 + j]), m[3 * 4 + j]);                       \
        }                                                                                            \
        for (int i = 0; i < 2; i++) {                                                                \
            const int y = 2 * ty + i;                                                                \
            if (y >= out_h) break;                                                                   \
            FINISH(y, 2 * tx, ADD(ADD(s[i * 4 + 0], s[i * 4 + 1]), s[i * 4 + 2]));                   \
            if (2 * tx + 1 < out_w) FINISH(y, 2 * tx + 1, SUB(SUB(s[i * 4 + 1], s[i * 4 + 2]), s[i * 4 + 3])); \
        }                                                                                            \
    }

static void output_scalar(const float *products, long plane, long tile, int ty, int tx, int out_h, int out_w, int out_channels,
                          int o, const float *bias, const float *residual, float *output, int relu) {
    for (; o < out_channels; o++) {
#define S_FINISH(y, x, v)                                                          \
    {                                                                              \
        const size_t at = ((size_t)(y) * out_w + (x)) * out_channels + o;          \
        float r = (v) + bias[o];                                                   \
        if (residual) r += residual[at];                                           \
        output[at] = relu && r < 0 ? 0 : r;                                        \
    }
        OUTPUT_TRANSFORM(float, S_LOAD, S_ADD, S_SUB, S_FINISH)
#undef S_FINISH
    }
}

#ifdef QUERN_X86
AVX512 static void output_avx512(const float *products, long plane, long tile, int ty, int tx, int out_h, int out_w, int out_channels,
                                 const float *bias, const float *residual, float *output, int relu) {
    int o = 0;
    const __m512 zero = _mm512_setzero_ps();
    for (; o + 16 <= out_channels; o += 16) {
        const __m512 b = _mm512_loadu_ps(bias + o);
#define V_FINISH(y, x, v)                                                          \
    {                                                                              \
        const size_t at = ((size_t)(y) * out_w + (x)) * out_channels + o;          \
        __m512 r = _mm512_add_ps((v), b);                                          \
        if (residual) r = _mm512_add_ps(r, _mm512_loadu_ps(residual + at));        \
        if (relu) r = _mm512_max_ps(r, zero);                                      \
        _mm512_storeu_ps(output + at, r);                                          \
    }
        OUTPUT_TRANSFORM(__m512, _mm512_loadu_ps, _mm512_add_ps, _mm512_sub_ps, V_FINISH)
#undef V_FINISH
    }
    output_scalar(products, plane, tile, ty, tx, out_h, out_w, out_channels, o, bias, residual, output, relu);
}
#endif

void quern_winograd_output(const float *products, int tiles_h, int tiles_w, int out_h, int out_w, int out_channels, const float *bias,
                           const float *residual, float *output, int relu, long tile_begin, long tile_end) {
    const long plane = (long)tiles_h * tiles_w * out_channels;
    const int use_wide = wide();
    for (long tile = tile_begin; tile < tile_end; tile++) {
        const int ty = (int)(tile / tiles_w), tx = (int)(tile % tiles_w);
#ifdef QUERN_X86
        if (use_wide) {
            output_avx512(products, plane, tile, ty, tx, out_h, out_w, out_channels, bias, residual, output, relu);
            continue;
        }
#endif
        output_scalar(products, plane, tile, ty, tx, out_h, out_w, out_channels, 0, bias, residual, output, relu);
    }
    (void)use_wide;
}
