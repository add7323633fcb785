// Loads OpenBLAS at run time, after choosing its kernels for this CPU.
//
// OpenBLAS built with DYNAMIC_ARCH reads OPENBLAS_CORETYPE exactly once, in
// its library constructor. Old releases (Debian 12 ships 0.3.21) do not know
// recent CPUs and fall back to SSE3 "Prescott" kernels, 3-5x slower. Linking
// the library normally would run that constructor before any Quern code, so
// this shim sets the variable from the CPU's own feature bits (unless the
// user set it) and only then dlopen()s the library.
#ifndef QUERN_BLAS_H
#define QUERN_BLAS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    QUERN_CPU_AVX = 1 << 0,
    QUERN_CPU_AVX2 = 1 << 1,
    QUERN_CPU_FMA = 1 << 2,
    QUERN_CPU_F16C = 1 << 3,
    QUERN_CPU_AVX512F = 1 << 4,
    QUERN_CPU_AVX512BW = 1 << 5,
    QUERN_CPU_AVX512DQ = 1 << 6,
    QUERN_CPU_AVX512VL = 1 << 7,
    QUERN_CPU_AVX512CD = 1 << 8,
    QUERN_CPU_AVX512BF16 = 1 << 9,
    QUERN_CPU_AVX512VNNI = 1 << 10,
};

/// Feature bits of this CPU that the OS also enabled (XCR0), QUERN_CPU_*.
unsigned quern_cpu_features(void);

/// The OPENBLAS_CORETYPE value Quern would choose for this CPU, or NULL when
/// OpenBLAS's own detection should be trusted (non-x86, or no AVX at all).
const char *quern_blas_preferred_coretype(void);

/// Loads OpenBLAS once (thread-safe, idempotent). Returns 0 on success;
/// otherwise non-zero, and quern_blas_error() says why.
int quern_blas_load(void);
const char *quern_blas_error(void);

/// After a successful load: the kernel family OpenBLAS runs
/// (openblas_get_corename), its build configuration, the library path that
/// was loaded, and the OPENBLAS_CORETYPE in force with who chose it.
const char *quern_blas_corename(void);
const char *quern_blas_config(void);
const char *quern_blas_library_path(void);
const char *quern_blas_coretype(void);
int quern_blas_coretype_from_user(void);

void quern_blas_set_threads(int threads);
int quern_blas_threads(void);

/// Row-major only; transposes are 0 (no) or 1 (yes).
void quern_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                 const float *a, int lda, const float *b, int ldb, float beta,
                 float *c, int ldc);
void quern_sgemv(int trans, int m, int n, float alpha, const float *a, int lda,
                 const float *x, int incx, float beta, float *y, int incy);

/// CPUs this process may run on (sched_getaffinity), at least 1.
int quern_available_cpus(void);

/// Tells the core it is in a spin-wait loop (x86 `pause`).
static inline void quern_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

#ifdef __cplusplus
}
#endif

#endif
