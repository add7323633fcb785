// The register tile of conv_nhwc.c, shared with winograd.c's fused
// products. Private to CQuernKernels.
#ifndef QUERN_CONV_TILE_H
#define QUERN_CONV_TILE_H

/// The kernel variant quern_conv_tile should run (the CPU's, or the forced one).
int quern_conv_tile_variant(void);

/// out[r][0..32) = Σ_c rows[r][c] · panel[c][0..32) for r < mr (rows[r] for
/// r ≥ mr must still be readable: the tile always computes 12 rows).
void quern_conv_tile(int variant, const float *const *rows, int channels, const float *panel, float *out, long out_stride, int mr);

#endif
