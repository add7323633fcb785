// The register tile of conv_nhwc.c, shared with winograd.c's fused
// products. Private to CQuernKernels.
#ifndef QUERN_CONV_TILE_H
#define QUERN_CONV_TILE_H

/// The variant the dispatcher chose (or was forced to): 0 scalar, 1 AVX2, 2 AVX-512.
int quern_kernels_level(void);

/// The kernel variant quern_conv_tile should run (the CPU's, or the forced one).
int quern_conv_tile_variant(void);

/// out[r][0..32) = Σ_c rows[r][c] · panel[c][0..32) for r < mr (rows[r] for
/// r ≥ mr must still be readable: the tile always computes 12 rows).
void quern_conv_tile(int variant, const float *const *rows, int channels, const float *panel, float *out, long out_stride, int mr);

#include <stdint.h>

#include "quern_kernels.h"

/// The portable epilogue: acc + bias (+ residual), ReLU'd if asked, for rows
/// r < mr and channels j < nr.
void quern_tile_epilogue_scalar(float acc[QUERN_CONV_TILE_PIXELS][QUERN_CONV_PANEL], int mr, int nr, const float *bias,
                                const float *residual, long residual_stride, float *out, long out_stride, int relu);

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

// Rows 0..<mr of a tile's accumulators (two zmm of 16 channels per row) plus
// the bias (plus the residual), ReLU'd if asked, stored to the first nr
// channels: the epilogue of the float32 and the bfloat16 tiles.
static inline __attribute__((always_inline, target("avx512f,avx512vl,fma"))) void quern_tile_epilogue_avx512(
    __m512 acc[][2], int mr, int nr, const float *bias, const float *residual, long residual_stride, float *out, long out_stride,
    int relu) {
    const __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
    const __mmask16 m1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
    const __m512 bias0 = _mm512_loadu_ps(bias), bias1 = _mm512_loadu_ps(bias + 16), zero = _mm512_setzero_ps();
    for (int r = 0; r < mr; r++) {
        __m512 v0 = _mm512_add_ps(acc[r][0], bias0), v1 = _mm512_add_ps(acc[r][1], bias1);
        if (residual) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, residual + r * residual_stride));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, residual + r * residual_stride + 16));
        }
        if (relu) {
            v0 = _mm512_max_ps(v0, zero);
            v1 = _mm512_max_ps(v1, zero);
        }
        _mm512_mask_storeu_ps(out + r * out_stride, m0, v0);
        _mm512_mask_storeu_ps(out + r * out_stride + 16, m1, v1);
    }
}
#endif

/// The bfloat16 tile (conv_bf16.c): out = Σ over `taps` rows of `pairs`
/// bfloat16 pairs · w, plus bias (and residual), ReLU'd if asked, for rows
/// r < mr and channels j < nr (rows r ≥ mr must still be readable).
void quern_conv_bf16_tile(const uint16_t *const *rows, int taps, int pairs, const uint16_t *w, const float *bias, const float *residual,
                          long residual_stride, float *out, long out_stride, int mr, int nr, int relu);

#endif
