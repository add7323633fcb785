// Quantised matrix-vector inner loops of the tensor core, in C.
//
// Everything else in the tensor core is Swift SIMD. These loops are not:
// Swift's generic SIMD widening conversions (bytes → 32-bit lanes) reach
// LLVM as element-wise code, and in a loop this size LLVM re-vectorises them
// unpredictably (measured 2.7 GB/s instead of >10). Intrinsics give the
// instruction sequence we designed, and per-function target attributes with
// run-time dispatch keep one binary correct on any x86-64 CPU.
//
// The weights are in the 16-row interleaved layout documented in
// InterleavedKernels.swift; each call computes 16 dot products.
#ifndef QUERN_KERNELS_H
#define QUERN_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// out[r] = Σ_c W[r, c] · x[c] for the 16 rows of one interleaved group of
/// `blocks` 32-value blocks. `block_sums[b]` = Σ x[32b ..< 32b+32].
void quern_group_dot_q4_1(const uint8_t *group, const float *x, const float *block_sums, int blocks, float *out);
void quern_group_dot_q4_0(const uint8_t *group, const float *x, const float *block_sums, int blocks, float *out);
void quern_group_dot_q8_0(const uint8_t *group, const float *x, int blocks, float *out);

/// The same products for `count` vectors at once: vector v is x + v * x_stride
/// (its block sums at block_sums + v * sums_stride; ignored for q8_0) and its
/// 16 results go to out + v * out_stride. Each vector's results are bit for
/// bit those of the one-vector function: the arithmetic per vector is the
/// same, only the unpacking of the weights is shared (four vectors per pass
/// on AVX-512), so one pass over the weights serves several sequences.
/// type: 0 = q4_0, 1 = q4_1, 2 = q8_0.
void quern_group_dot_multi(int type, const uint8_t *group, const float *x, long x_stride, const float *block_sums,
                           long sums_stride, int count, int blocks, float *out, long out_stride);

/// Writes the 16 rows of one interleaved group as floats: row r at
/// out + r * row_stride. type: 0 = q4_0, 1 = q4_1, 2 = q8_0.
void quern_group_dequantize(int type, const uint8_t *group, int blocks, float *out, long row_stride);

/// Which implementation the dispatcher chose: "avx512", "avx2" or "scalar".
const char *quern_kernels_variant(void);

/// Forces a narrower implementation ("avx2" or "scalar"; "auto" restores
/// the dispatcher's choice) so tests can check every path on one machine.
/// Returns 0 when the CPU can run it.
int quern_kernels_force_variant(const char *name);

/// Output pixels and channels of one register tile of quern_conv_nhwc_run.
#define QUERN_CONV_TILE_PIXELS 12
#define QUERN_CONV_PANEL 32

/// One NHWC convolution (see conv_nhwc.c). `indirection` holds, for each
/// output pixel (all images in a row), `taps` pointers to `channels` input
/// values each — or is NULL for a 1×1 stride-1 unpadded convolution (`taps`
/// 1), whose pixel p reads `input` + p·channels. `packed` holds
/// ceil(out_channels/32) panels of [taps·channels][32] weights; `bias` is
/// padded to whole panels; `residual` (or NULL) and `output` are
/// [pixels][out_channels].
typedef struct {
    const float *const *indirection;
    const float *input;
    int taps;
    int channels;
    const float *packed;
    const float *bias;
    const float *residual;
    float *output;
    int out_channels;
    int relu;
    /// When not NULL, the products are bfloat16 (conv_bf16.c): the weights
    /// are these, packed by quern_bf16_pack_panels, `channels` is even, and
    /// the rows are read from `indirection_bf16` (or, for the 1×1 case,
    /// `input_bf16`): a bfloat16 copy of the input made by quern_bf16_round.
    /// `indirection`, `input` and `packed` are then unused.
    const uint16_t *packed_bf16;
    const uint16_t *const *indirection_bf16;
    const uint16_t *input_bf16;
} quern_conv_job;

/// Output pixels [pixel_begin, pixel_end) × panels [panel_begin, panel_end).
/// Returns 0, or -1 when a kernel of more than 64 taps could not get its
/// row table (out of memory).
int quern_conv_nhwc_run(const quern_conv_job *job, long pixel_begin, long pixel_end, int panel_begin, int panel_end);

/// The same table over a bfloat16 copy of the input (`zeros`: ≥ channels zeros).
void quern_conv_build_indirection_bf16(const uint16_t *input, int batch, int height, int width, int channels, int kernel_h, int kernel_w,
                                       int stride_h, int stride_w, int pad_top, int pad_left, int dilation_h, int dilation_w,
                                       int out_h, int out_w, const uint16_t *zeros, const uint16_t **table);

/// Fills `table` ([batch·out_h·out_w][kernel_h·kernel_w]) with the input row
/// each output pixel reads at each tap, `zeros` (≥ channels zeros) in the padding.
void quern_conv_build_indirection(const float *input, int batch, int height, int width, int channels, int kernel_h, int kernel_w,
                                  int stride_h, int stride_w, int pad_top, int pad_left, int dilation_h, int dilation_w,
                                  int out_h, int out_w, const float *zeros, const float **table);

/// A stride-1 3×3 convolution of an NHWC batch by Winograd F(2×2, 3×3)
/// (see winograd.c). The output is cut into 2×2 tiles, numbered image by
/// image, row by row: tiles_h × tiles_w per image.
typedef struct {
    const float *input; ///< [batch][height][width][channels]
    int height, width, channels;
    int pad_top, pad_left;
    const float *zeros; ///< at least `channels` zeros (the padding's rows)
    int tiles_h, tiles_w;
    /// The 16 transformed weight matrices U[ξ], each packed like a 1×1
    /// quern_conv_job's weights: ceil(out_channels/32) panels of [channels][32].
    const float *const *packed;
    const float *bias;     ///< out_channels values, padded to whole panels
    const float *residual; ///< NULL or like `output`
    float *output;         ///< [batch][out_h][out_w][out_channels]
    int out_h, out_w, out_channels;
    int relu;
    /// When not NULL, the 16 products are bfloat16 (conv_bf16.c): these
    /// weights (each packed by quern_bf16_pack_panels, `channels` even) are
    /// used instead of `packed`, and the transformed input is rounded to
    /// bfloat16 before its products.
    const uint16_t *const *packed_bf16;
} quern_winograd_job;

/// Tiles [tile_begin, tile_end) × output panels [panel_begin, panel_end):
/// each block of tiles is transformed, multiplied and transformed back while
/// it is in cache. Returns 0, or -1 when its scratch could not be allocated.
int quern_winograd_run(const quern_winograd_job *job, long tile_begin, long tile_end, int panel_begin, int panel_end);

// ---- bfloat16 (conv_bf16.c) ------------------------------------------------

/// 1 when the bfloat16 products run on the CPU's AVX512-BF16 instructions
/// (and the AVX-512 kernels are not forced off); 0 when they are emulated,
/// with the same results, on AVX2 or portable code.
int quern_bf16_native(void);

/// "avx512-bf16", "avx2 (emulated)" or "scalar (emulated)".
const char *quern_bf16_path(void);

/// dst[i] = src[i] rounded to bfloat16: to nearest even, denormals to a
/// signed zero, NaN kept (quiet), as VCVTNEPS2BF16 does.
void quern_bf16_round(const float *src, uint16_t *dst, long count);

/// A bfloat16 as float32 (denormals read as zero, as the products read them).
float quern_bf16_widen(uint16_t value);

/// Rounds float weights packed for quern_conv_nhwc_run ([panels][k][32],
/// k even) into the bfloat16 layout ([panels][k/2][32][2]: each column's
/// rows 2p and 2p+1 side by side).
void quern_bf16_pack_panels(const float *packed, long panels, long k, uint16_t *dst);

#ifdef __cplusplus
}
#endif

#endif
