/* Compiled with -march=<QUERN_TARGET_CPU>, the CPU the Swift code is
 * compiled for (Package.swift), so the compiler's own predefined macros say
 * which extensions that code may contain. Data only, no code: this file must
 * not hold an instruction the CPU may lack (the check that reads it runs
 * before anything else). */
#include "quern_build_baseline.h"

#define QUERN_BIT(feature) (UINT64_C(1) << (feature))

#define QUERN_STRINGIFY_(x) #x
#define QUERN_STRINGIFY(x) QUERN_STRINGIFY_(x)

#ifdef QUERN_TARGET_CPU_NAME
const char quern_build_target_cpu[] = QUERN_STRINGIFY(QUERN_TARGET_CPU_NAME);
#else
const char quern_build_target_cpu[] = "unknown";
#endif

const uint64_t quern_build_required_features = 0
#if defined(__x86_64__)
#ifdef __SSE3__
    | QUERN_BIT(QUERN_ISA_SSE3)
#endif
#ifdef __SSSE3__
    | QUERN_BIT(QUERN_ISA_SSSE3)
#endif
#ifdef __SSE4_1__
    | QUERN_BIT(QUERN_ISA_SSE4_1)
#endif
#ifdef __SSE4_2__
    | QUERN_BIT(QUERN_ISA_SSE4_2)
#endif
#ifdef __POPCNT__
    | QUERN_BIT(QUERN_ISA_POPCNT)
#endif
#ifdef __GCC_HAVE_SYNC_COMPARE_AND_SWAP_16
    | QUERN_BIT(QUERN_ISA_CX16)
#endif
#ifdef __LAHF_SAHF__
    | QUERN_BIT(QUERN_ISA_SAHF)
#endif
#ifdef __MOVBE__
    | QUERN_BIT(QUERN_ISA_MOVBE)
#endif
#ifdef __XSAVE__
    | QUERN_BIT(QUERN_ISA_XSAVE)
#endif
#ifdef __AVX__
    | QUERN_BIT(QUERN_ISA_AVX)
#endif
#ifdef __F16C__
    | QUERN_BIT(QUERN_ISA_F16C)
#endif
#ifdef __FMA__
    | QUERN_BIT(QUERN_ISA_FMA)
#endif
#ifdef __AVX2__
    | QUERN_BIT(QUERN_ISA_AVX2)
#endif
#ifdef __BMI__
    | QUERN_BIT(QUERN_ISA_BMI)
#endif
#ifdef __BMI2__
    | QUERN_BIT(QUERN_ISA_BMI2)
#endif
#ifdef __LZCNT__
    | QUERN_BIT(QUERN_ISA_LZCNT)
#endif
#ifdef __PCLMUL__
    | QUERN_BIT(QUERN_ISA_PCLMUL)
#endif
#ifdef __AES__
    | QUERN_BIT(QUERN_ISA_AES)
#endif
#ifdef __RDRND__
    | QUERN_BIT(QUERN_ISA_RDRND)
#endif
#ifdef __RDSEED__
    | QUERN_BIT(QUERN_ISA_RDSEED)
#endif
#ifdef __ADX__
    | QUERN_BIT(QUERN_ISA_ADX)
#endif
#ifdef __SHA__
    | QUERN_BIT(QUERN_ISA_SHA)
#endif
#ifdef __AVX512F__
    | QUERN_BIT(QUERN_ISA_AVX512F)
#endif
#ifdef __AVX512DQ__
    | QUERN_BIT(QUERN_ISA_AVX512DQ)
#endif
#ifdef __AVX512CD__
    | QUERN_BIT(QUERN_ISA_AVX512CD)
#endif
#ifdef __AVX512BW__
    | QUERN_BIT(QUERN_ISA_AVX512BW)
#endif
#ifdef __AVX512VL__
    | QUERN_BIT(QUERN_ISA_AVX512VL)
#endif
#ifdef __AVX512IFMA__
    | QUERN_BIT(QUERN_ISA_AVX512IFMA)
#endif
#ifdef __AVX512VBMI__
    | QUERN_BIT(QUERN_ISA_AVX512VBMI)
#endif
#ifdef __AVX512VBMI2__
    | QUERN_BIT(QUERN_ISA_AVX512VBMI2)
#endif
#ifdef __GFNI__
    | QUERN_BIT(QUERN_ISA_GFNI)
#endif
#ifdef __VAES__
    | QUERN_BIT(QUERN_ISA_VAES)
#endif
#ifdef __VPCLMULQDQ__
    | QUERN_BIT(QUERN_ISA_VPCLMULQDQ)
#endif
#ifdef __AVX512VNNI__
    | QUERN_BIT(QUERN_ISA_AVX512VNNI)
#endif
#ifdef __AVX512BITALG__
    | QUERN_BIT(QUERN_ISA_AVX512BITALG)
#endif
#ifdef __AVX512VPOPCNTDQ__
    | QUERN_BIT(QUERN_ISA_AVX512VPOPCNTDQ)
#endif
#ifdef __AVX512BF16__
    | QUERN_BIT(QUERN_ISA_AVX512BF16)
#endif
#ifdef __AVX512FP16__
    | QUERN_BIT(QUERN_ISA_AVX512FP16)
#endif
#ifdef __AVXVNNI__
    | QUERN_BIT(QUERN_ISA_AVXVNNI)
#endif
#ifdef __SSE4A__
    | QUERN_BIT(QUERN_ISA_SSE4A)
#endif
#ifdef __PRFCHW__
    | QUERN_BIT(QUERN_ISA_PRFCHW)
#endif
#ifdef __XSAVEOPT__
    | QUERN_BIT(QUERN_ISA_XSAVEOPT)
#endif
#ifdef __XSAVEC__
    | QUERN_BIT(QUERN_ISA_XSAVEC)
#endif
#ifdef __XSAVES__
    | QUERN_BIT(QUERN_ISA_XSAVES)
#endif
#ifdef __FSGSBASE__
    | QUERN_BIT(QUERN_ISA_FSGSBASE)
#endif
#ifdef __CLFLUSHOPT__
    | QUERN_BIT(QUERN_ISA_CLFLUSHOPT)
#endif
#ifdef __CLWB__
    | QUERN_BIT(QUERN_ISA_CLWB)
#endif
#ifdef __RDPID__
    | QUERN_BIT(QUERN_ISA_RDPID)
#endif
#endif
    ;
