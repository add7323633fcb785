// The bfloat16 register tile of the NHWC convolution (and so of every
// bfloat16 product in the tensor core: a linear layer is a 1×1 convolution
// over its rows, and Winograd's 16 products are 1×1 convolutions too).
//
// bfloat16 is the top half of a float32: 8 exponent bits, 7 stored mantissa
// bits. The arithmetic is defined by AVX512-BF16's VDPBF16PS, which this
// file runs natively where the CPU has it and reproduces bit for bit where
// it does not: for each output, pairs of inputs (k = 2p, 2p+1) are
// multiplied with the weight pair and added to the float32 accumulator,
// the odd element first, each step one fused multiply-add with bfloat16
// denormals read as zero and denormal results flushed to zero, rounding to
// nearest even. Activations are rounded to bfloat16 (to nearest even,
// denormals to zero, NaN kept quiet, as VCVTNEPS2BF16 does) before the
// product; weights once, at load.
//
// Tile: 12 output pixels × 32 channels = 24 zmm accumulators, as the
// float32 tile, but each VDPBF16PS does two multiply-adds per lane, so the
// tile does twice the work per instruction. Weights are packed per panel of
// 32 channels as [K/2][32][2]: the pair of rows 2p, 2p+1 of each column next
// to each other, which is the dword VDPBF16PS reads.
#include "quern_kernels.h"
#include "conv_tile.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QUERN_X86 1
#endif

enum { MR = QUERN_CONV_TILE_PIXELS, NR = QUERN_CONV_PANEL };

typedef uint32_t __attribute__((may_alias, aligned(2))) pair_t;

// ---- Rounding and the definition ---------------------------------------------

static inline uint16_t round_one(float value) {
    uint32_t bits;
    memcpy(&bits, &value, 4);
    if ((bits & 0x7F800000u) == 0) return (uint16_t)((bits >> 16) & 0x8000u);     // zero or denormal: signed zero
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((bits >> 16) | 0x40u); // NaN: stays NaN, quiet
    return (uint16_t)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

// A bfloat16 as float32, denormals read as zero.
static inline float widen(uint16_t value) {
    const uint32_t bits = (value & 0x7F80u) == 0 ? (uint32_t)(value & 0x8000u) << 16 : (uint32_t)value << 16;
    float out;
    memcpy(&out, &bits, 4);
    return out;
}

// One step of VDPBF16PS: acc + a·b in one rounding, a denormal result flushed to a signed zero.
#define DOT_STEP(acc, a, b)                                                  \
    do {                                                                     \
        float s_ = fmaf((a), (b), (acc));                                    \
        (acc) = fabsf(s_) < 1.17549435e-38f ? copysignf(0.0f, s_) : s_;      \
    } while (0)

#ifdef QUERN_X86
static int cpu_has_bf16(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") ? 1 : 0;
    }
    return cached;
}
#endif

int quern_bf16_native(void) {
#ifdef QUERN_X86
    return cpu_has_bf16() && quern_kernels_level() == 2;
#else
    return 0;
#endif
}

const char *quern_bf16_path(void) {
    if (quern_bf16_native()) return "avx512-bf16";
    return quern_kernels_level() == 0 ? "scalar (emulated)" : "avx2 (emulated)";
}

#ifdef QUERN_X86
#define BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,fma")))

BF16 static void round_native(const float *src, uint16_t *dst, long count) {
    long i = 0;
    for (; i + 32 <= count; i += 32) {
        const __m512bh packed = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + i + 16), _mm512_loadu_ps(src + i));
        _mm512_storeu_si512((void *)(dst + i), (__m512i)packed);
    }
    if (i < count) {
        const __mmask16 m = (__mmask16)((1u << (count - i < 16 ? count - i : 16)) - 1);
        const __m256bh low = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + i));
        _mm256_mask_storeu_epi16(dst + i, m, (__m256i)low);
        i += 16;
        if (i < count) {
            const __mmask16 m2 = (__mmask16)((1u << (count - i)) - 1);
            const __m256bh high = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m2, src + i));
            _mm256_mask_storeu_epi16(dst + i, m2, (__m256i)high);
        }
    }
}
#endif

void quern_bf16_round(const float *src, uint16_t *dst, long count) {
#ifdef QUERN_X86
    if (quern_bf16_native()) {
        round_native(src, dst, count);
        return;
    }
#endif
    for (long i = 0; i < count; i++) dst[i] = round_one(src[i]);
}

float quern_bf16_widen(uint16_t value) { return widen(value); }

void quern_bf16_pack_panels(const float *packed, long panels, long k, uint16_t *dst) {
    for (long panel = 0; panel < panels; panel++) {
        const float *src = packed + panel * k * NR;
        uint16_t *out = dst + panel * k * NR;
        for (long p = 0; p < k / 2; p++)
            for (int j = 0; j < NR; j++)
                for (int h = 0; h < 2; h++) out[(p * NR + j) * 2 + h] = round_one(src[(2 * p + h) * NR + j]);
    }
}

// ---- Emulation (any CPU) ---------------------------------------------------------

// The tile of the definition; the loop over the 32 columns vectorises, and
// fmaf is one instruction wherever the function is compiled for FMA.
#define EMULATED_TILE_BODY                                                                      \
    for (int r = 0; r < MR; r++)                                                                \
        for (int j = 0; j < NR; j++) acc[r][j] = 0;                                             \
    for (int t = 0; t < taps; t++) {                                                            \
        for (int p = 0; p < pairs; p++) {                                                       \
            const uint16_t *wk = w + ((size_t)t * pairs + p) * NR * 2;                          \
            float w_even[NR], w_odd[NR];                                                        \
            for (int j = 0; j < NR; j++) {                                                      \
                w_even[j] = widen(wk[2 * j]);                                                   \
                w_odd[j] = widen(wk[2 * j + 1]);                                                \
            }                                                                                   \
            for (int r = 0; r < mr; r++) {                                                      \
                const uint16_t *a = rows[r * taps + t] + 2 * p;                                 \
                const float even = widen(a[0]), odd = widen(a[1]);                              \
                for (int j = 0; j < NR; j++) {                                                  \
                    float v = acc[r][j];                                                        \
                    DOT_STEP(v, odd, w_odd[j]);                                                 \
                    DOT_STEP(v, even, w_even[j]);                                               \
                    acc[r][j] = v;                                                              \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }

static void tile_emulated(const uint16_t *const *rows, int taps, int pairs, const uint16_t *w, int mr, float acc[MR][NR]) {
    EMULATED_TILE_BODY
}

#ifdef QUERN_X86
__attribute__((target("avx2,fma"))) static void tile_emulated_avx2(const uint16_t *const *rows, int taps, int pairs, const uint16_t *w,
                                                                   int mr, float acc[MR][NR]) {
    EMULATED_TILE_BODY
}
#endif

// ---- AVX512-BF16 -----------------------------------------------------------------

#ifdef QUERN_X86

#define DP(acc, b, w) acc = _mm512_dpbf16_ps(acc, (__m512bh)(b), (__m512bh)(w))

BF16 static void tile_native(const uint16_t *const *rows, int taps, int pairs, const uint16_t *w, const float *bias,
                             const float *residual, long residual_stride, float *out, long out_stride, int mr, int nr, int relu) {
    __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
    __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps(), c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
    __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
    __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps(), c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
    __m512 c80 = _mm512_setzero_ps(), c81 = _mm512_setzero_ps(), c90 = _mm512_setzero_ps(), c91 = _mm512_setzero_ps();
    __m512 ca0 = _mm512_setzero_ps(), ca1 = _mm512_setzero_ps(), cb0 = _mm512_setzero_ps(), cb1 = _mm512_setzero_ps();
    for (int t = 0; t < taps; t++) {
        const pair_t *a0 = (const pair_t *)rows[0 * taps + t], *a1 = (const pair_t *)rows[1 * taps + t];
        const pair_t *a2 = (const pair_t *)rows[2 * taps + t], *a3 = (const pair_t *)rows[3 * taps + t];
        const pair_t *a4 = (const pair_t *)rows[4 * taps + t], *a5 = (const pair_t *)rows[5 * taps + t];
        const pair_t *a6 = (const pair_t *)rows[6 * taps + t], *a7 = (const pair_t *)rows[7 * taps + t];
        const pair_t *a8 = (const pair_t *)rows[8 * taps + t], *a9 = (const pair_t *)rows[9 * taps + t];
        const pair_t *aa = (const pair_t *)rows[10 * taps + t], *ab = (const pair_t *)rows[11 * taps + t];
        for (int p = 0; p < pairs; p++) {
            const __m512i w0 = _mm512_loadu_si512((const void *)w), w1 = _mm512_loadu_si512((const void *)(w + 32));
            _mm_prefetch((const char *)(w + 8 * 2 * NR), _MM_HINT_T0);
            w += 2 * NR;
            __m512i b;
#define STEP(a, x0, x1)              \
    b = _mm512_set1_epi32((int)a[p]); \
    DP(x0, b, w0);                    \
    DP(x1, b, w1);
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

// Short tiles (the last pixels of a small map, a linear layer's few rows)
// compute only the rows they have, rounded up to 1, 4 or 8.
BF16 static inline __attribute__((always_inline)) void tile_native_short(
    const int R, const uint16_t *const *rows, int taps, int pairs, const uint16_t *w, const float *bias, const float *residual,
    long residual_stride, float *out, long out_stride, int mr, int nr, int relu) {
    __m512 acc[8][2];
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int t = 0; t < taps; t++) {
        const pair_t *a[8];
        for (int r = 0; r < R; r++) a[r] = (const pair_t *)rows[r * taps + t];
        for (int p = 0; p < pairs; p++) {
            const __m512i w0 = _mm512_loadu_si512((const void *)w), w1 = _mm512_loadu_si512((const void *)(w + 32));
            w += 2 * NR;
            for (int r = 0; r < R; r++) {
                const __m512i b = _mm512_set1_epi32((int)a[r][p]);
                DP(acc[r][0], b, w0);
                DP(acc[r][1], b, w1);
            }
        }
    }
    quern_tile_epilogue_avx512(acc, mr, nr, bias, residual, residual_stride, out, out_stride, relu);
}

#define SHORT_TILE(R)                                                                                                           \
    BF16 static void tile_native_##R(const uint16_t *const *rows, int taps, int pairs, const uint16_t *w, const float *bias,   \
                                     const float *residual, long residual_stride, float *out, long out_stride, int mr, int nr,  \
                                     int relu) {                                                                                \
        tile_native_short(R, rows, taps, pairs, w, bias, residual, residual_stride, out, out_stride, mr, nr, relu);             \
    }
SHORT_TILE(1)
SHORT_TILE(4)
SHORT_TILE(8)
#undef SHORT_TILE
#undef DP

#endif

// ---- Dispatch --------------------------------------------------------------------

void quern_conv_bf16_tile(const uint16_t *const *rows, int taps, int pairs, const uint16_t *w, const float *bias, const float *residual,
                          long residual_stride, float *out, long out_stride, int mr, int nr, int relu) {
#ifdef QUERN_X86
    if (quern_bf16_native()) {
        if (mr <= 1)
            tile_native_1(rows, taps, pairs, w, bias, residual, residual_stride, out, out_stride, mr, nr, relu);
        else if (mr <= 4)
            tile_native_4(rows, taps, pairs, w, bias, residual, residual_stride, out, out_stride, mr, nr, relu);
        else if (mr <= 8)
            tile_native_8(rows, taps, pairs, w, bias, residual, residual_stride, out, out_stride, mr, nr, relu);
        else
            tile_native(rows, taps, pairs, w, bias, residual, residual_stride, out, out_stride, mr, nr, relu);
        return;
    }
#endif
    float acc[MR][NR];
#ifdef QUERN_X86
    if (quern_kernels_level() != 0)
        tile_emulated_avx2(rows, taps, pairs, w, mr, acc);
    else
#endif
        tile_emulated(rows, taps, pairs, w, mr, acc);
    quern_tile_epilogue_scalar(acc, mr, nr, bias, residual, residual_stride, out, out_stride, relu);
}
