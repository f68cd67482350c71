#include "cneuralkernels.h"

// One probe for the whole program: the kernels' dispatch and `sideman doctor` read the same bits, from the
// CPU's own CPUID (with the OS's consent to the wide registers, which __builtin_cpu_supports checks).
static int features = -1;

int sideman_cpu_features(void) {
#if defined(__x86_64__)
    if (features < 0) {
        __builtin_cpu_init();
        int f = 0;
        if (__builtin_cpu_supports("avx2")) f |= SIDEMAN_CPU_AVX2;
        if (__builtin_cpu_supports("fma")) f |= SIDEMAN_CPU_FMA;
        if (__builtin_cpu_supports("avx512f")) f |= SIDEMAN_CPU_AVX512F;
        if (__builtin_cpu_supports("avx512bw")) f |= SIDEMAN_CPU_AVX512BW;
        if (__builtin_cpu_supports("avx512dq")) f |= SIDEMAN_CPU_AVX512DQ;
        if (__builtin_cpu_supports("avx512vnni")) f |= SIDEMAN_CPU_AVX512VNNI;
        if (__builtin_cpu_supports("avx512bf16")) f |= SIDEMAN_CPU_AVX512BF16;
        // Written once with the same value by whichever thread comes first: a benign race.
        features = f;
    }
    return features;
#else
    return 0;
#endif
}

int sideman_int8_vnni_available(void) {
    int need = SIDEMAN_CPU_AVX512F | SIDEMAN_CPU_AVX512BW | SIDEMAN_CPU_AVX512VNNI;
    return (sideman_cpu_features() & need) == need;
}

int sideman_int8_avx2_available(void) {
    return (sideman_cpu_features() & SIDEMAN_CPU_AVX2) == SIDEMAN_CPU_AVX2;
}

int sideman_avx512_available(void) {
    int need = SIDEMAN_CPU_AVX512F | SIDEMAN_CPU_AVX512DQ;
    return (sideman_cpu_features() & need) == need;
}

int sideman_bf16_available(void) {
    int need = SIDEMAN_CPU_AVX512F | SIDEMAN_CPU_AVX512BF16;
    return (sideman_cpu_features() & need) == need;
}
