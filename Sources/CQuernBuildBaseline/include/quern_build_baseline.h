#ifndef QUERN_BUILD_BASELINE_H
#define QUERN_BUILD_BASELINE_H

#include <stdint.h>

/* The x86-64 instruction-set extensions a compiler may use on its own once
 * -march/-target-cpu allows them, one bit each. quern_build_required_features
 * says which ones this build was compiled for; the start-up check compares
 * them with what CPUID (and the OS, for AVX state) says the CPU has. */
enum quern_isa_feature {
    QUERN_ISA_SSE3, QUERN_ISA_SSSE3, QUERN_ISA_SSE4_1, QUERN_ISA_SSE4_2, QUERN_ISA_POPCNT, QUERN_ISA_CX16,
    QUERN_ISA_SAHF, QUERN_ISA_MOVBE, QUERN_ISA_XSAVE, QUERN_ISA_AVX, QUERN_ISA_F16C, QUERN_ISA_FMA,
    QUERN_ISA_AVX2, QUERN_ISA_BMI, QUERN_ISA_BMI2, QUERN_ISA_LZCNT, QUERN_ISA_PCLMUL, QUERN_ISA_AES,
    QUERN_ISA_RDRND, QUERN_ISA_RDSEED, QUERN_ISA_ADX, QUERN_ISA_SHA, QUERN_ISA_AVX512F, QUERN_ISA_AVX512DQ,
    QUERN_ISA_AVX512CD, QUERN_ISA_AVX512BW, QUERN_ISA_AVX512VL, QUERN_ISA_AVX512IFMA, QUERN_ISA_AVX512VBMI,
    QUERN_ISA_AVX512VBMI2, QUERN_ISA_GFNI, QUERN_ISA_VAES, QUERN_ISA_VPCLMULQDQ, QUERN_ISA_AVX512VNNI,
    QUERN_ISA_AVX512BITALG, QUERN_ISA_AVX512VPOPCNTDQ, QUERN_ISA_AVX512BF16, QUERN_ISA_AVX512FP16,
    QUERN_ISA_AVXVNNI, QUERN_ISA_SSE4A, QUERN_ISA_PRFCHW, QUERN_ISA_XSAVEOPT, QUERN_ISA_XSAVEC,
    QUERN_ISA_XSAVES, QUERN_ISA_FSGSBASE, QUERN_ISA_CLFLUSHOPT, QUERN_ISA_CLWB, QUERN_ISA_RDPID,
    QUERN_ISA_COUNT
};

/* Bit (1 << feature) for every feature the Swift code of this build may use. */
extern const uint64_t quern_build_required_features;

/* The CPU the build was compiled for, as QUERN_TARGET_CPU named it
 * ("native", "x86-64-v3", "haswell", …). */
extern const char quern_build_target_cpu[];

#endif
