#include "quern_kernels.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QUERN_X86 1
#endif

enum { ROWS = 16 };

// ---- Portable reference (and fallback) -------------------------------------

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF, bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {
            // Subnormal: normalise.
            exponent = 113;
            while (!(mantissa & 0x400)) {
                mantissa <<= 1;
                exponent--;
            }
            bits = sign | (exponent << 23) | ((mantissa & 0x3FF) << 13);
        }
    } else if (exponent == 31) {
        bits = sign | 0x7F800000 | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static uint16_t load_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

static void q4_group_scalar(const uint8_t *group, const float *x, const float *sums, int blocks, float *out, int has_min) {
    const int block_bytes = has_min ? 320 : 288, qs = has_min ? 64 : 32;
    for (int r = 0; r < ROWS; r++) out[r] = 0;
    for (int b = 0; b < blocks; b++) {
        const uint8_t *block = group + (size_t)b * block_bytes;
        const float *xb = x + 32 * b;
        for (int r = 0; r < ROWS; r++) {
            float dot = 0;
            for (int j = 0; j < 16; j++) {
                uint8_t q = block[qs + j * ROWS + r];
                dot += xb[j] * (float)(q & 0x0F) + xb[j + 16] * (float)(q >> 4);
            }
            float d = half_to_float(load_u16(block + 2 * r));
            if (has_min)
                out[r] += d * dot + half_to_float(load_u16(block + 32 + 2 * r)) * sums[b];
            else
                out[r] += d * (dot - 8 * sums[b]);
        }
    }
}

static void q8_group_scalar(const uint8_t *group, const float *x, int blocks, float *out) {
    for (int r = 0; r < ROWS; r++) out[r] = 0;
    for (int b = 0; b < blocks; b++) {
        const uint8_t *block = group + (size_t)b * 544;
        const float *xb = x + 32 * b;
        for (int r = 0; r < ROWS; r++) {
            float dot = 0;
            for (int j = 0; j < 32; j++) dot += xb[j] * (float)(int8_t)block[32 + j * ROWS + r];
            out[r] += half_to_float(load_u16(block + 2 * r)) * dot;
        }
    }
}

#ifdef QUERN_X86
// ---- AVX-512: one row per lane of a 16-float register ----------------------

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,f16c,fma")))

AVX512 static inline __m512 nibble_dot_avx512(const uint8_t *qs, const float *xb) {
    const __m512i low_mask = _mm512_set1_epi32(0x0F);
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    for (int j = 0; j < 16; j += 2) {
        __m512i q0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(qs + j * ROWS)));
        __m512i q1 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(qs + (j + 1) * ROWS)));
        a0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_and_si512(q0, low_mask)), _mm512_set1_ps(xb[j]), a0);
        a1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(q0, 4)), _mm512_set1_ps(xb[j + 16]), a1);
        a2 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_and_si512(q1, low_mask)), _mm512_set1_ps(xb[j + 1]), a2);
        a3 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(q1, 4)), _mm512_set1_ps(xb[j + 17]), a3);
    }
    return _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3));
}

AVX512 static void q4_1_avx512(const uint8_t *group, const float *x, const float *sums, int blocks, float *out) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (int b = 0; b < blocks; b++) {
        const uint8_t *block = group + (size_t)b * 320;
        __m512 dot = nibble_dot_avx512(block + 64, x + 32 * b);
        __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)block));
        __m512 m = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(block + 32)));
        acc0 = _mm512_fmadd_ps(d, dot, acc0);
        acc1 = _mm512_fmadd_ps(m, _mm512_set1_ps(sums[b]), acc1);
    }
    _mm512_storeu_ps(out, _mm512_add_ps(acc0, acc1));
}

AVX512 static void q4_0_avx512(const uint8_t *group, const float *x, const float *sums, int blocks, float *out) {
    __m512 acc = _mm512_setzero_ps();
    for (int b = 0; b < blocks; b++) {
        const uint8_t *block = group + (size_t)b * 288;
        __m512 dot = nibble_dot_avx512(block + 32, x + 32 * b);
        __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)block));
        acc = _mm512_fmadd_ps(d, _mm512_sub_ps(dot, _mm512_set1_ps(8 * sums[b])), acc);
    }
    _mm512_storeu_ps(out, acc);
}

AVX512 static void q8_0_avx512(const uint8_t *group, const float *x, int blocks, float *out) {
    __m512 acc = _mm512_setzero_ps();
    for (int b = 0; b < blocks; b++) {
        const uint8_t *block = group + (size_t)b * 544;
        const float *xb = x + 32 * b;
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
        for (int j = 0; j < 32; j += 4) {
            const uint8_t *q = block + 32 + j * ROWS;
            a0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)q))), _mm512_set1_ps(xb[j]), a0);
            a1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + 16)))), _mm512_set1_ps(xb[j + 1]), a1);
            a2 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + 32)))), _mm512_set1_ps(xb[j + 2]), a2);
            a3 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + 48)))), _mm512_set1_ps(xb[j + 3]), a3);
        }
        __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)block));
        acc = _mm512_fmadd_ps(d, _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)), acc);
    }
    _mm512_storeu_ps(out, acc);
}

// ---- AVX-512, four vectors per pass over a group ----------------------------
// Each vector gets exactly the operations of the one-vector kernels above, in
// the same order, so its results are identical to theirs; the weights are
// loaded and converted once for all four.

enum { LANES = 4 };

AVX512 static void q4_avx512_x4(const uint8_t *group, const float *x, long xs, const float *sums, long ss, int blocks,
                                float *out, long os, int has_min) {
    const int block_bytes = has_min ? 320 : 288, qs_offset = has_min ? 64 : 32;
    const __m512i low_mask = _mm512_set1_epi32(0x0F);
    __m512 acc0[LANES], acc1[LANES];
    for (int v = 0; v < LANES; v++) acc0[v] = acc1[v] = _mm512_setzero_ps();
    for (int b = 0; b < blocks; b++) {
        const uint8_t *block = group + (size_t)b * block_bytes, *qs = block + qs_offset;
        __m512 a[LANES][4];
        for (int v = 0; v < LANES; v++) a[v][0] = a[v][1] = a[v][2] = a[v][3] = _mm512_setzero_ps();
        for (int j = 0; j < 16; j += 2) {
            __m512i q0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(qs + j * ROWS)));
            __m512i q1 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(qs + (j + 1) * ROWS)));
            __m512 w0 = _mm512_cvtepi32_ps(_mm512_and_si512(q0, low_mask)), w1 = _mm512_cvtepi32_ps(_mm512_srli_epi32(q0, 4));
            __m512 w2 = _mm512_cvtepi32_ps(_mm512_and_si512(q1, low_mask)), w3 = _mm512_cvtepi32_ps(_mm512_srli_epi32(q1, 4));
            for (int v = 0; v < LANES; v++) {
                const float *xb = x + v * xs + 32 * b;
                a[v][0] = _mm512_fmadd_ps(w0, _mm512_set1_ps(xb[j]), a[v][0]);
                a[v][1] = _mm512_fmadd_ps(w1, _mm512_set1_ps(xb[j + 16]), a[v][1]);
                a[v][2] = _mm512_fmadd_ps(w2, _mm512_set1_ps(xb[j + 1]), a[v][2]);
                a[v][3] = _mm512_fmadd_ps(w3, _mm512_set1_ps(xb[j + 17]), a[v][3]);
            }
        }
        __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)block));
        if (has_min) {
            __m512 m = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(block + 32)));
            for (int v = 0; v < LANES; v++) {
                __m512 dot = _mm512_add_ps(_mm512_add_ps(a[v][0], a[v][1]), _mm512_add_ps(a[v][2], a[v][3]));
                acc0[v] = _mm512_fmadd_ps(d, dot, acc0[v]);
                acc1[v] = _mm512_fmadd_ps(m, _mm512_set1_ps(sums[v * ss + b]), acc1[v]);
            }
        } else {
            for (int v = 0; v < LANES; v++) {
                __m512 dot = _mm512_add_ps(_mm512_add_ps(a[v][0], a[v][1]), _mm512_add_ps(a[v][2], a[v][3]));
                acc0[v] = _mm512_fmadd_ps(d, _mm512_sub_ps(dot, _mm512_set1_ps(8 * sums[v * ss + b])), acc0[v]);
            }
        }
    }
    for (int v = 0; v < LANES; v++)
        _mm512_storeu_ps(out + v * os, has_min ? _mm512_add_ps(acc0[v], acc1[v]) : acc0[v]);
}

AVX512 static void q8_0_avx512_x4(const uint8_t *group, const float *x, long xs, int blocks, float *out, long os) {
    __m512 acc[LANES];
    for (int v = 0; v < LANES; v++) acc[v] = _mm512_setzero_ps();
    for (int b = 0; b < blocks; b++) {
        const uint8_t *block = group + (size_t)b * 544;
        __m512 a[LANES][4];
        for (int v = 0; v < LANES; v++) a[v][0] = a[v][1] = a[v][2] = a[v][3] = _mm512_setzero_ps();
        for (int j = 0; j < 32; j += 4) {
            const uint8_t *q = block + 32 + j * ROWS;
            __m512 w0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)q)));
            __m512 w1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + 16))));
            __m512 w2 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + 32))));
            __m512 w3 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + 48))));
            for (int v = 0; v < LANES; v++) {
                const float *xb = x + v * xs + 32 * b;
                a[v][0] = _mm512_fmadd_ps(w0, _mm512_set1_ps(xb[j]), a[v][0]);
                a[v][1] = _mm512_fmadd_ps(w1, _mm512_set1_ps(xb[j + 1]), a[v][1]);
                a[v][2] = _mm512_fmadd_ps(w2, _mm512_set1_ps(xb[j + 2]), a[v][2]);
                a[v][3] = _mm512_fmadd_ps(w3, _mm512_set1_ps(xb[j + 3]), a[v][3]);
            }
        }
        __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)block));
        for (int v = 0; v < LANES; v++)
            acc[v] = _mm512_fmadd_ps(d, _mm512_add_ps(_mm512_add_ps(a[v][0], a[v][1]), _mm512_add_ps(a[v][2], a[v][3])), acc[v]);
    }
    for (int v = 0; v < LANES; v++) _mm512_storeu_ps(out + v * os, acc[v]);
}

// ---- AVX2: rows 0-7 and 8-15 in two 8-float registers -----------------------

#define AVX2 __attribute__((target("avx2,f16c,fma")))

AVX2 static inline void nibble_dot_avx2(const uint8_t *qs, const float *xb, __m256 *lo_rows, __m256 *hi_rows) {
    const __m256i low_mask = _mm256_set1_epi32(0x0F);
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
    for (int j = 0; j < 16; j++) {
        __m256i r0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(qs + j * ROWS)));
        __m256i r1 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(qs + j * ROWS + 8)));
        __m256 xl = _mm256_set1_ps(xb[j]), xh = _mm256_set1_ps(xb[j + 16]);
        a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(r0, low_mask)), xl, a0);
        a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(r0, 4)), xh, a1);
        b0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(r1, low_mask)), xl, b0);
        b1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(r1, 4)), xh, b1);
    }
    *lo_rows = _mm256_add_ps(a0, a1);
    *hi_rows = _mm256_add_ps(b0, b1);
}

AVX2 static void q4_avx2(const uint8_t *group, const float *x, const float *sums, int blocks, float *out, int has_min) {
    const int block_bytes = has_min ? 320 : 288, qs = has_min ? 64 : 32;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (int b = 0; b < blocks; b++) {
        const uint8_t *block = group + (size_t)b * block_bytes;
        __m256 dot0, dot1;
        nibble_dot_avx2(block + qs, x + 32 * b, &dot0, &dot1);
        __m256 d0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)block));
        __m256 d1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(block + 16)));
        __m256 s = _mm256_set1_ps(sums[b]);
        if (has_min) {
            __m256 m0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(block + 32)));
            __m256 m1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(block + 48)));
            acc0 = _mm256_fmadd_ps(m0, s, _mm256_fmadd_ps(d0, dot0, acc0));
            acc1 = _mm256_fmadd_ps(m1, s, _mm256_fmadd_ps(d1, dot1, acc1));
        } else {
            __m256 eight_s = _mm256_mul_ps(_mm256_set1_ps(8), s);
            acc0 = _mm256_fmadd_ps(d0, _mm256_sub_ps(dot0, eight_s), acc0);
            acc1 = _mm256_fmadd_ps(d1, _mm256_sub_ps(dot1, eight_s), acc1);
        }
    }
    _mm256_storeu_ps(out, acc0);
    _mm256_storeu_ps(out + 8, acc1);
}

AVX2 static void q8_0_avx2(const uint8_t *group, const float *x, int blocks, float *out) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (int b = 0; b < blocks; b++) {
        const uint8_t *block = group + (size_t)b * 544;
        const float *xb = x + 32 * b;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        for (int j = 0; j < 32; j++) {
            const uint8_t *q = block + 32 + j * ROWS;
            __m256 xj = _mm256_set1_ps(xb[j]);
            a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)q))), xj, a0);
            a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(q + 8)))), xj, a1);
        }
        acc0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)block)), a0, acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(block + 16))), a1, acc1);
    }
    _mm256_storeu_ps(out, acc0);
    _mm256_storeu_ps(out + 8, acc1);
}

static int variant = -1; // 0 scalar, 1 avx2, 2 avx512

static int choose_variant(void) {
    if (variant >= 0) return variant;
    __builtin_cpu_init();
    int chosen = 0;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        chosen = 2;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        chosen = 1;
    // QUERN_KERNELS=avx2|scalar forces a narrower path (for tests and comparisons).
    const char *forced = getenv("QUERN_KERNELS");
    if (forced && strcmp(forced, "scalar") == 0) chosen = 0;
    if (forced && strcmp(forced, "avx2") == 0 && chosen >= 1) chosen = 1;
    variant = chosen;
    return chosen;
}
#else
static int choose_variant(void) { return 0; }
#endif

int quern_kernels_force_variant(const char *name) {
#ifdef QUERN_X86
    variant = -1;
    int best = choose_variant();
    if (strcmp(name, "auto") == 0) return 0;
    if (strcmp(name, "scalar") == 0) { variant = 0; return 0; }
    if (strcmp(name, "avx2") == 0 && best >= 1) { variant = 1; return 0; }
    if (strcmp(name, "avx512") == 0 && best >= 2) { variant = 2; return 0; }
    return 1;
#else
    return strcmp(name, "scalar") == 0 || strcmp(name, "auto") == 0 ? 0 : 1;
#endif
}

int quern_kernels_level(void) { return choose_variant(); }

const char *quern_kernels_variant(void) {
    static const char *names[] = {"scalar", "avx2", "avx512"};
    return names[choose_variant()];
}

void quern_group_dot_q4_1(const uint8_t *group, const float *x, const float *sums, int blocks, float *out) {
#ifdef QUERN_X86
    switch (choose_variant()) {
    case 2: q4_1_avx512(group, x, sums, blocks, out); return;
    case 1: q4_avx2(group, x, sums, blocks, out, 1); return;
    }
#endif
    q4_group_scalar(group, x, sums, blocks, out, 1);
}

void quern_group_dot_q4_0(const uint8_t *group, const float *x, const float *sums, int blocks, float *out) {
#ifdef QUERN_X86
    switch (choose_variant()) {
    case 2: q4_0_avx512(group, x, sums, blocks, out); return;
    case 1: q4_avx2(group, x, sums, blocks, out, 0); return;
    }
#endif
    q4_group_scalar(group, x, sums, blocks, out, 0);
}

void quern_group_dot_q8_0(const uint8_t *group, const float *x, int blocks, float *out) {
#ifdef QUERN_X86
    switch (choose_variant()) {
    case 2: q8_0_avx512(group, x, blocks, out); return;
    case 1: q8_0_avx2(group, x, blocks, out); return;
    }
#endif
    q8_group_scalar(group, x, blocks, out);
}

void quern_group_dot_multi(int type, const uint8_t *group, const float *x, long x_stride, const float *block_sums,
                           long sums_stride, int count, int blocks, float *out, long out_stride) {
    int v = 0;
#ifdef QUERN_X86
    if (choose_variant() == 2) {
        for (; v + LANES <= count; v += LANES) {
            const float *xv = x + v * x_stride;
            float *ov = out + v * out_stride;
            if (type == 2)
                q8_0_avx512_x4(group, xv, x_stride, blocks, ov, out_stride);
            else
                q4_avx512_x4(group, xv, x_stride, block_sums + v * sums_stride, sums_stride, blocks, ov, out_stride, type == 1);
        }
    }
#endif
    // The remainder (and the narrower paths) one vector at a time.
    for (; v < count; v++) {
        const float *xv = x + v * x_stride, *sv = block_sums ? block_sums + v * sums_stride : NULL;
        float *ov = out + v * out_stride;
        switch (type) {
        case 0: quern_group_dot_q4_0(group, xv, sv, blocks, ov); break;
        case 1: quern_group_dot_q4_1(group, xv, sv, blocks, ov); break;
        default: quern_group_dot_q8_0(group, xv, blocks, ov); break;
        }
    }
}

// ---- Group dequantisation (for batched products through sgemm) -------------

void quern_group_dequantize(int type, const uint8_t *group, int blocks, float *out, long row_stride) {
    // type: 0 = q4_0, 1 = q4_1, 2 = q8_0 (see quern_kernels.h).
    const int block_bytes = type == 1 ? 320 : type == 0 ? 288 : 544;
    const int header = type == 1 ? 64 : 32;
    for (int b = 0; b < blocks; b++) {
        const uint8_t *block = group + (size_t)b * block_bytes;
        float d[ROWS], m[ROWS];
        for (int r = 0; r < ROWS; r++) {
            d[r] = half_to_float(load_u16(block + 2 * r));
            m[r] = type == 1 ? half_to_float(load_u16(block + 32 + 2 * r)) : (type == 0 ? -8 * d[r] : 0);
        }
        if (type == 2) {
            for (int j = 0; j < 32; j++) {
                const int8_t *q = (const int8_t *)(block + header + j * ROWS);
                for (int r = 0; r < ROWS; r++) out[r * row_stride + 32 * b + j] = d[r] * (float)q[r];
            }
        } else {
            for (int j = 0; j < 16; j++) {
                const uint8_t *q = block + header + j * ROWS;
                for (int r = 0; r < ROWS; r++) {
                    out[r * row_stride + 32 * b + j] = d[r] * (float)(q[r] & 0x0F) + m[r];
                    out[r * row_stride + 32 * b + j + 16] = d[r] * (float)(q[r] >> 4) + m[r];
                }
            }
        }
    }
}
