#define _GNU_SOURCE
#include "quern_blas.h"

#include <cblas.h>
#include <dlfcn.h>
#include <sched.h>
#include <unistd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define QUERN_X86 1
#endif

typedef __typeof__(cblas_sgemm) sgemm_fn;
typedef __typeof__(cblas_sgemv) sgemv_fn;
typedef char *(*corename_fn)(void);
typedef char *(*config_fn)(void);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_status = -1;
static char load_error[512];
static char library_path[512];
static char coretype[64];
static int coretype_from_user;
static sgemm_fn *p_sgemm;
static sgemv_fn *p_sgemv;
static corename_fn p_corename;
static config_fn p_config;
static set_threads_fn p_set_threads;
static get_threads_fn p_get_threads;

unsigned quern_cpu_features(void) {
    unsigned features = 0;
#ifdef QUERN_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1;
    int avx = (c >> 28) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx) return 0;
    unsigned xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    int ymm_enabled = (xcr0_lo & 0x6) == 0x6;
    int zmm_enabled = (xcr0_lo & 0xe6) == 0xe6;
    if (!ymm_enabled) return 0;
    features |= QUERN_CPU_AVX;
    if (fma) features |= QUERN_CPU_FMA;
    if (f16c) features |= QUERN_CPU_F16C;
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        if ((b >> 5) & 1) features |= QUERN_CPU_AVX2;
        if (zmm_enabled) {
            if ((b >> 16) & 1) features |= QUERN_CPU_AVX512F;
            if ((b >> 17) & 1) features |= QUERN_CPU_AVX512DQ;
            if ((b >> 28) & 1) features |= QUERN_CPU_AVX512CD;
            if ((b >> 30) & 1) features |= QUERN_CPU_AVX512BW;
            if ((b >> 31) & 1) features |= QUERN_CPU_AVX512VL;
            if ((c >> 11) & 1) features |= QUERN_CPU_AVX512VNNI;
            __cpuid_count(7, 1, a, b, c, d);
            if ((a >> 5) & 1) features |= QUERN_CPU_AVX512BF16;
        }
    }
#endif
    return features;
}

const char *quern_blas_preferred_coretype(void) {
    unsigned f = quern_cpu_features();
    const unsigned skylakex = QUERN_CPU_AVX512F | QUERN_CPU_AVX512CD | QUERN_CPU_AVX512BW |
                              QUERN_CPU_AVX512DQ | QUERN_CPU_AVX512VL;
    if ((f & skylakex) == skylakex)
        return (f & QUERN_CPU_AVX512BF16) ? "Cooperlake" : "SkylakeX";
    if ((f & (QUERN_CPU_AVX2 | QUERN_CPU_FMA)) == (QUERN_CPU_AVX2 | QUERN_CPU_FMA)) return "Haswell";
    if (f & QUERN_CPU_AVX) return "Sandybridge";
    return NULL;
}

static void *bind(void *handle, const char *name) {
    void *symbol = dlsym(handle, name);
    if (!symbol && load_error[0] == 0)
        snprintf(load_error, sizeof load_error, "OpenBLAS library %s has no symbol %s", library_path, name);
    return symbol;
}

static void load_library(void) {
    const char *user = getenv("OPENBLAS_CORETYPE");
    if (user && *user) {
        coretype_from_user = 1;
        snprintf(coretype, sizeof coretype, "%s", user);
    } else {
        const char *preferred = quern_blas_preferred_coretype();
        if (preferred) {
            setenv("OPENBLAS_CORETYPE", preferred, 1);
            snprintf(coretype, sizeof coretype, "%s", preferred);
        }
    }
    // OpenBLAS's idle workers spin for 2^28 cycles (~0.1 s) after each call,
    // stealing a core from Quern's own parallel loops that follow. 2^18
    // cycles (~0.1 ms) keeps its multi-threaded GEMM as fast (measured: 2^4
    // costs it a third, 2^18 nothing) while freeing the core quickly.
    // A user's own value is respected.
    setenv("OPENBLAS_THREAD_TIMEOUT", "18", 0);

    const char *candidates[] = {getenv("QUERN_OPENBLAS_LIBRARY"), "libopenblas.so.0", "libopenblas.so",
                                "libopenblasp.so.0", "libopenblas.dylib"};
    void *handle = NULL;
    char tried[256] = "";
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0] && !handle; i++) {
        if (!candidates[i] || !*candidates[i]) continue;
        handle = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
        if (handle) {
            snprintf(library_path, sizeof library_path, "%s", candidates[i]);
        } else {
            size_t used = strlen(tried);
            snprintf(tried + used, sizeof tried - used, "%s%s", used ? ", " : "", candidates[i]);
        }
    }
    if (!handle) {
        snprintf(load_error, sizeof load_error,
                 "cannot load OpenBLAS (tried %s); install it with `apt-get install libopenblas0` "
                 "or name the library in QUERN_OPENBLAS_LIBRARY",
                 tried);
        load_status = 1;
        return;
    }
    p_sgemm = (sgemm_fn *)bind(handle, "cblas_sgemm");
    p_sgemv = (sgemv_fn *)bind(handle, "cblas_sgemv");
    p_corename = (corename_fn)bind(handle, "openblas_get_corename");
    p_config = (config_fn)bind(handle, "openblas_get_config");
    p_set_threads = (set_threads_fn)bind(handle, "openblas_set_num_threads");
    p_get_threads = (get_threads_fn)bind(handle, "openblas_get_num_threads");
    load_status = load_error[0] ? 2 : 0;
}

int quern_blas_load(void) {
    pthread_once(&load_once, load_library);
    return load_status;
}

const char *quern_blas_error(void) { return load_error; }
const char *quern_blas_corename(void) { return quern_blas_load() == 0 ? p_corename() : "unavailable"; }
const char *quern_blas_config(void) { return quern_blas_load() == 0 ? p_config() : "unavailable"; }
const char *quern_blas_library_path(void) { return library_path; }
const char *quern_blas_coretype(void) { return coretype; }
int quern_blas_coretype_from_user(void) { return coretype_from_user; }

void quern_blas_set_threads(int threads) {
    if (quern_blas_load() == 0) p_set_threads(threads < 1 ? 1 : threads);
}

int quern_blas_threads(void) { return quern_blas_load() == 0 ? p_get_threads() : 0; }

// The Swift layer loads the library (and reports failure as an error) before
// any kernel runs; these entry points only guard against a missing library.
static void require_library(void) {
    if (quern_blas_load() != 0) {
        fprintf(stderr, "quern: %s\n", load_error);
        abort();
    }
}

void quern_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc) {
    require_library();
    p_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k,
            alpha, a, lda, b, ldb, beta, c, ldc);
}

void quern_sgemv(int trans, int m, int n, float alpha, const float *a, int lda, const float *x, int incx,
                 float beta, float *y, int incy) {
    require_library();
    p_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, m, n, alpha, a, lda, x, incx, beta, y, incy);
}

int quern_available_cpus(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int count = CPU_COUNT(&set);
        if (count > 0) return count;
    }
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}
