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

/// The bfloat16 tile (conv_bf16.c): out = Σ over `taps` rows of `pairs`
/// bfloat16 pairs · w, plus bias (and residual), ReLU'd if asked, for rows
/// r < mr and channels j < nr (rows r ≥ mr must still be readable).
void quern_conv_bf16_tile(const uint16_t *const *rows, int taps, int pairs, const uint16_t *w, const float *bias, const float *residual,
                          long residual_stride, float *out, long out_stride, int mr, int nr, int relu);

#endif
