/* Refuses to start on a CPU that lacks an instruction-set extension the
 * build's Swift code was compiled for, with a message instead of SIGILL.
 *
 * It runs as an ELF constructor, before main and before any Swift code, and
 * this file is compiled for the plain x86-64 baseline (no -march), so the
 * check itself runs on any x86-64 CPU. */
#include "quern_cpu_check.h"
#include "quern_build_baseline.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

static const char *const feature_names[QUERN_ISA_COUNT] = {
    [QUERN_ISA_SSE3] = "sse3", [QUERN_ISA_SSSE3] = "ssse3", [QUERN_ISA_SSE4_1] = "sse4_1", [QUERN_ISA_SSE4_2] = "sse4_2",
    [QUERN_ISA_POPCNT] = "popcnt", [QUERN_ISA_CX16] = "cx16", [QUERN_ISA_SAHF] = "lahf_lm", [QUERN_ISA_MOVBE] = "movbe",
    [QUERN_ISA_XSAVE] = "xsave", [QUERN_ISA_AVX] = "avx", [QUERN_ISA_F16C] = "f16c", [QUERN_ISA_FMA] = "fma",
    [QUERN_ISA_AVX2] = "avx2", [QUERN_ISA_BMI] = "bmi1", [QUERN_ISA_BMI2] = "bmi2", [QUERN_ISA_LZCNT] = "abm",
    [QUERN_ISA_PCLMUL] = "pclmulqdq", [QUERN_ISA_AES] = "aes", [QUERN_ISA_RDRND] = "rdrand", [QUERN_ISA_RDSEED] = "rdseed",
    [QUERN_ISA_ADX] = "adx", [QUERN_ISA_SHA] = "sha_ni", [QUERN_ISA_AVX512F] = "avx512f", [QUERN_ISA_AVX512DQ] = "avx512dq",
    [QUERN_ISA_AVX512CD] = "avx512cd", [QUERN_ISA_AVX512BW] = "avx512bw", [QUERN_ISA_AVX512VL] = "avx512vl",
    [QUERN_ISA_AVX512IFMA] = "avx512ifma", [QUERN_ISA_AVX512VBMI] = "avx512vbmi", [QUERN_ISA_AVX512VBMI2] = "avx512_vbmi2",
    [QUERN_ISA_GFNI] = "gfni", [QUERN_ISA_VAES] = "vaes", [QUERN_ISA_VPCLMULQDQ] = "vpclmulqdq",
    [QUERN_ISA_AVX512VNNI] = "avx512_vnni", [QUERN_ISA_AVX512BITALG] = "avx512_bitalg",
    [QUERN_ISA_AVX512VPOPCNTDQ] = "avx512_vpopcntdq", [QUERN_ISA_AVX512BF16] = "avx512_bf16",
    [QUERN_ISA_AVX512FP16] = "avx512_fp16", [QUERN_ISA_AVXVNNI] = "avx_vnni", [QUERN_ISA_SSE4A] = "sse4a",
    [QUERN_ISA_PRFCHW] = "3dnowprefetch", [QUERN_ISA_XSAVEOPT] = "xsaveopt", [QUERN_ISA_XSAVEC] = "xsavec",
    [QUERN_ISA_XSAVES] = "xsaves", [QUERN_ISA_FSGSBASE] = "fsgsbase", [QUERN_ISA_CLFLUSHOPT] = "clflushopt",
    [QUERN_ISA_CLWB] = "clwb", [QUERN_ISA_RDPID] = "rdpid",
};

const char *quern_cpu_feature_name(int feature) {
    if (feature < 0 || feature >= QUERN_ISA_COUNT) return NULL;
    return feature_names[feature];
}

int quern_cpu_feature_count(void) { return QUERN_ISA_COUNT; }

uint64_t quern_cpu_required_features(void) { return quern_build_required_features; }

const char *quern_cpu_build_target(void) { return quern_build_target_cpu; }

#define BIT(feature) (UINT64_C(1) << (feature))
#define HAS(reg, bit) (((reg) >> (bit)) & 1u)

uint64_t quern_cpu_available_features(void) {
    uint64_t features = 0;
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    unsigned leaf1_ecx = c;
    if (HAS(c, 0)) features |= BIT(QUERN_ISA_SSE3);
    if (HAS(c, 1)) features |= BIT(QUERN_ISA_PCLMUL);
    if (HAS(c, 9)) features |= BIT(QUERN_ISA_SSSE3);
    if (HAS(c, 13)) features |= BIT(QUERN_ISA_CX16);
    if (HAS(c, 19)) features |= BIT(QUERN_ISA_SSE4_1);
    if (HAS(c, 20)) features |= BIT(QUERN_ISA_SSE4_2);
    if (HAS(c, 22)) features |= BIT(QUERN_ISA_MOVBE);
    if (HAS(c, 23)) features |= BIT(QUERN_ISA_POPCNT);
    if (HAS(c, 25)) features |= BIT(QUERN_ISA_AES);
    if (HAS(c, 26)) features |= BIT(QUERN_ISA_XSAVE);
    if (HAS(c, 30)) features |= BIT(QUERN_ISA_RDRND);

    /* AVX and AVX-512 registers are usable only when the OS saves them
     * (OSXSAVE, then XCR0's SSE|AVX, and opmask|ZMM bits). */
    int avx_state = 0, avx512_state = 0;
    if (HAS(leaf1_ecx, 27)) {
        unsigned xcr0_lo, xcr0_hi;
        __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
        avx_state = (xcr0_lo & 0x6u) == 0x6u;
        avx512_state = avx_state && (xcr0_lo & 0xE0u) == 0xE0u;
    }
    if (avx_state) {
        if (HAS(leaf1_ecx, 28)) features |= BIT(QUERN_ISA_AVX);
        if (HAS(leaf1_ecx, 29)) features |= BIT(QUERN_ISA_F16C);
        if (HAS(leaf1_ecx, 12)) features |= BIT(QUERN_ISA_FMA);
    }

    unsigned max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        unsigned leaf7_max_sub = a;
        if (HAS(b, 0)) features |= BIT(QUERN_ISA_FSGSBASE);
        if (HAS(b, 3)) features |= BIT(QUERN_ISA_BMI);
        if (HAS(b, 8)) features |= BIT(QUERN_ISA_BMI2);
        if (HAS(b, 18)) features |= BIT(QUERN_ISA_RDSEED);
        if (HAS(b, 19)) features |= BIT(QUERN_ISA_ADX);
        if (HAS(b, 23)) features |= BIT(QUERN_ISA_CLFLUSHOPT);
        if (HAS(b, 24)) features |= BIT(QUERN_ISA_CLWB);
        if (HAS(b, 29)) features |= BIT(QUERN_ISA_SHA);
        if (HAS(c, 8)) features |= BIT(QUERN_ISA_GFNI);
        if (HAS(c, 22)) features |= BIT(QUERN_ISA_RDPID);
        if (avx_state) {
            if (HAS(b, 5)) features |= BIT(QUERN_ISA_AVX2);
            if (HAS(c, 9)) features |= BIT(QUERN_ISA_VAES);
            if (HAS(c, 10)) features |= BIT(QUERN_ISA_VPCLMULQDQ);
        }
        if (avx512_state) {
            if (HAS(b, 16)) features |= BIT(QUERN_ISA_AVX512F);
            if (HAS(b, 17)) features |= BIT(QUERN_ISA_AVX512DQ);
            if (HAS(b, 21)) features |= BIT(QUERN_ISA_AVX512IFMA);
            if (HAS(b, 28)) features |= BIT(QUERN_ISA_AVX512CD);
            if (HAS(b, 30)) features |= BIT(QUERN_ISA_AVX512BW);
            if (HAS(b, 31)) features |= BIT(QUERN_ISA_AVX512VL);
            if (HAS(c, 1)) features |= BIT(QUERN_ISA_AVX512VBMI);
            if (HAS(c, 6)) features |= BIT(QUERN_ISA_AVX512VBMI2);
            if (HAS(c, 11)) features |= BIT(QUERN_ISA_AVX512VNNI);
            if (HAS(c, 12)) features |= BIT(QUERN_ISA_AVX512BITALG);
            if (HAS(c, 14)) features |= BIT(QUERN_ISA_AVX512VPOPCNTDQ);
            if (HAS(d, 23)) features |= BIT(QUERN_ISA_AVX512FP16);
        }
        if (leaf7_max_sub >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            if (avx_state && HAS(a, 4)) features |= BIT(QUERN_ISA_AVXVNNI);
            if (avx512_state && HAS(a, 5)) features |= BIT(QUERN_ISA_AVX512BF16);
        }
    }
    if (max_leaf >= 0xD) {
        __cpuid_count(0xD, 1, a, b, c, d);
        if (HAS(a, 0)) features |= BIT(QUERN_ISA_XSAVEOPT);
        if (HAS(a, 1)) features |= BIT(QUERN_ISA_XSAVEC);
        if (HAS(a, 3)) features |= BIT(QUERN_ISA_XSAVES);
    }
    if (__get_cpuid_max(0x80000000u, NULL) >= 0x80000001u) {
        __cpuid(0x80000001u, a, b, c, d);
        if (HAS(c, 0)) features |= BIT(QUERN_ISA_SAHF);
        if (HAS(c, 5)) features |= BIT(QUERN_ISA_LZCNT);
        if (HAS(c, 6)) features |= BIT(QUERN_ISA_SSE4A);
        if (HAS(c, 8)) features |= BIT(QUERN_ISA_PRFCHW);
    }
#endif
    return features;
}

static void say(const char *text) {
    size_t left = strlen(text);
    while (left > 0) {
        ssize_t written = write(2, text, left);
        if (written <= 0) return;
        text += written;
        left -= (size_t)written;
    }
}

/* QUERN_CPU_CHECK_PRETEND_MISSING=avx2,fma takes features away from what
 * CPUID reported, so the refusal can be tested on a machine that has them. */
static uint64_t pretended_missing(void) {
    const char *list = getenv("QUERN_CPU_CHECK_PRETEND_MISSING");
    if (list == NULL) return 0;
    uint64_t missing = 0;
    while (*list) {
        size_t length = strcspn(list, ",");
        for (int feature = 0; feature < QUERN_ISA_COUNT; feature++) {
            const char *name = feature_names[feature];
            if (name && strlen(name) == length && strncmp(name, list, length) == 0) missing |= BIT(feature);
        }
        list += length;
        if (*list == ',') list++;
    }
    return missing;
}

__attribute__((constructor(101))) static void quern_refuse_unsupported_cpu(void) {
    uint64_t missing = quern_build_required_features & ~(quern_cpu_available_features() & ~pretended_missing());
    if (missing == 0) return;
    say("quern: this binary was built for the CPU '");
    say(quern_build_target_cpu);
    say("' and cannot run here: this CPU lacks");
    for (int feature = 0; feature < QUERN_ISA_COUNT; feature++) {
        if (missing & BIT(feature)) {
            say(" ");
            say(feature_names[feature] ? feature_names[feature] : "?");
        }
    }
    say(".\nquern: use a portable build (scripts/build-portable.sh builds one for x86-64-v3, or "
        "QUERN_TARGET_CPU=x86-64 scripts/build-portable.sh for any x86-64 CPU), "
        "or build Quern on this machine (swift build -c release).\n");
    _exit(QUERN_CPU_CHECK_EXIT_CODE);
}
