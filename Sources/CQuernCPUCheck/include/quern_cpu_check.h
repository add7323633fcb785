#ifndef QUERN_CPU_CHECK_H
#define QUERN_CPU_CHECK_H

#include <stdint.h>

/* The exit status when the CPU lacks a feature the build needs (EX_UNAVAILABLE):
 * a supervisor should not restart on it. */
#define QUERN_CPU_CHECK_EXIT_CODE 69

/* Bit (1 << quern_isa_feature) for every feature this CPU has and the OS enabled. */
uint64_t quern_cpu_available_features(void);

/* Bits the build needs (quern_build_required_features). */
uint64_t quern_cpu_required_features(void);

/* The CPU the build was compiled for ("native", "x86-64-v3", …). */
const char *quern_cpu_build_target(void);

/* A feature's name as /proc/cpuinfo spells it ("avx2"), or NULL. */
const char *quern_cpu_feature_name(int feature);

/* Number of feature bits (QUERN_ISA_COUNT). */
int quern_cpu_feature_count(void);

#endif
