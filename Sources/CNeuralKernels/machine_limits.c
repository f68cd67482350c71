#include "cneuralkernels.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// What this core can do at best, for `sideman bench` to set a step's time against: how fast it reads a buffer
// of the step's weight size that is already in cache, and how many multiply-adds a second its vector units
// retire for each precision's inner loop with no memory traffic at all. Not on any real-time path.

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static float read_pass(const float *b, long floats) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (long i = 0; i + 32 <= floats; i += 32) {
        a0 = _mm256_add_ps(a0, _mm256_load_ps(b + i));
        a1 = _mm256_add_ps(a1, _mm256_load_ps(b + i + 8));
        a2 = _mm256_add_ps(a2, _mm256_load_ps(b + i + 16));
        a3 = _mm256_add_ps(a3, _mm256_load_ps(b + i + 24));
    }
    float out[8];
    _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    return out[0];
}
#endif

double sideman_limit_read_seconds(long bytes, int passes) {
#if defined(__x86_64__)
    if (!sideman_int8_avx2_available() || bytes <= 0) return 0;
    long rounded = (bytes + 127) & ~127L;
    float *b = aligned_alloc(64, (size_t)rounded);
    if (!b) return 0;
    memset(b, 0, (size_t)rounded);
    volatile float sink = 0;
    double best = 1e9;
    for (int p = 0; p < passes + 2; p++) {
        double t = seconds_now();
        sink += read_pass(b, rounded / 4);
        t = seconds_now() - t;
        if (p >= 2 && t < best) best = t;  // the first passes bring the buffer into cache
    }
    (void)sink;
    free(b);
    return best;
#else
    (void)bytes; (void)passes;
    return 0;
#endif
}

#if defined(__x86_64__)
// Ten independent accumulators, named so that they stay in registers, cover FMA latency (4-5 cycles) on two
// ports. Each macro applies one operation to all ten.
#define TEN(op) op(0) op(1) op(2) op(3) op(4) op(5) op(6) op(7) op(8) op(9)
// The timed loop every rate shares, over the DECLARE / STEP / SINK of the function it is in: `before` and
// `after` run each round around the ten steps; the result is multiply-adds a second.
#define TIMED_RATE(sink_type, lanes, before, after)          \
    TEN(DECLARE)                                              \
    double t = seconds_now();                                 \
    for (long r = 0; r < rounds; r++) { before TEN(STEP) after } \
    t = seconds_now() - t;                                    \
    volatile sink_type sink = 0;                              \
    TEN(SINK)                                                 \
    (void)sink;                                               \
    return (double)rounds * 10 * (lanes) / t;

__attribute__((target("avx2,fma"))) static double fp32_rate(long rounds) {
    const __m256 x = _mm256_set1_ps(0.999f), y = _mm256_set1_ps(1e-3f);
#define DECLARE(i) __m256 a##i = _mm256_set1_ps((float)i);
#define STEP(i) a##i = _mm256_fmadd_ps(a##i, x, y);
#define SINK(i) sink += _mm256_cvtss_f32(a##i);
    TIMED_RATE(float, 8, , )
#undef STEP
}

// The fp16 loop's work per 8 weights: widen (vcvtph2ps, from L1) then multiply-add.
__attribute__((target("avx2,fma,f16c"))) static double fp16_rate(long rounds) {
    static uint16_t storage[80] __attribute__((aligned(32)));
    for (int i = 0; i < 80; i++) storage[i] = 0x3C00;  // 1.0
    const uint16_t *halves = storage;
    const __m256 x = _mm256_set1_ps(0.5f);
#define STEP(i) a##i = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_load_si128((const __m128i *)(halves + 8 * i))), x, a##i);
    // The compiler must not hoist the loads and widenings out of the loop: they are the work measured.
    TIMED_RATE(float, 8, , __asm__ volatile("" : "+r"(halves));)
#undef STEP
#undef DECLARE
#undef SINK
}

// The AVX2 int8 kernel's work per 32 weights of a row: vpsignb, vpmaddubsw, vpmaddwd, add, weights from L1.
__attribute__((target("avx2"))) static double int8_avx2_rate(long rounds) {
    static int8_t storage[10 * 32] __attribute__((aligned(32)));
    for (int i = 0; i < 10 * 32; i++) storage[i] = (int8_t)(i % 11 - 5);
    const int8_t *rows = storage;
    __m256i q = _mm256_set1_epi8(3);
    const __m256i ones = _mm256_set1_epi16(1);
#define DECLARE(i) __m256i a##i = _mm256_setzero_si256();
#define STEP(i) a##i = _mm256_add_epi32(a##i, _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, \
                     _mm256_sign_epi8(_mm256_load_si256((const __m256i *)(rows + 32 * i)), q)), ones));
#define SINK(i) sink += _mm256_extract_epi32(a##i, 0);
    TIMED_RATE(int, 32, __m256i magnitude = _mm256_abs_epi8(q);, __asm__ volatile("" : "+x"(q), "+r"(rows));)
#undef STEP
#undef DECLARE
#undef SINK
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static double int8_vnni_rate(long rounds) {
    static int8_t storage[10 * 64] __attribute__((aligned(64)));
    for (int i = 0; i < 10 * 64; i++) storage[i] = (int8_t)(i % 11 - 5);
    const int8_t *rows = storage;
    __m512i q = _mm512_set1_epi8(3);
#define DECLARE(i) __m512i a##i = _mm512_setzero_si512();
#define STEP(i) a##i = _mm512_dpbusd_epi32(a##i, q, _mm512_load_si512((const void *)(rows + 64 * i)));
#define SINK(i) sink += _mm512_reduce_add_epi32(a##i);
    TIMED_RATE(int, 64, , __asm__ volatile("" : "+v"(q), "+r"(rows));)
#undef STEP
#undef DECLARE
#undef SINK
}
#undef TIMED_RATE
#undef TEN
#endif

double sideman_limit_multiply_adds_per_second(int precision) {
#if defined(__x86_64__)
    if (!sideman_int8_avx2_available()) return 0;
    double best = 0;
    for (int k = 0; k < 3; k++) {
        double rate;
        switch (precision) {
        case 0: rate = fp32_rate(200000); break;
        case 1: rate = fp16_rate(200000); break;
        default: rate = sideman_int8_vnni_available() ? int8_vnni_rate(200000) : int8_avx2_rate(200000); break;
        }
        if (rate > best) best = rate;
    }
    return best;
#else
    (void)precision;
    return 0;
#endif
}

long sideman_interruptions(double seconds, long threshold_ns, double *gaps, long capacity) {
    double threshold = (double)threshold_ns * 1e-9;
    double start = seconds_now(), last = start;
    long count = 0;
    for (;;) {
        double now = seconds_now();
        if (now - last > threshold) {
            if (count < capacity) gaps[count] = (now - last) * 1e9;
            count++;
        }
        last = now;
        if (now - start > seconds) return count;
    }
}

uint64_t sideman_fixed_work(long iterations) {
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (long i = 0; i < iterations; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        __asm__ volatile("" : "+r"(x));
    }
    return x;
}
