#include "cneuralkernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define T512 __attribute__((target("avx512f,avx512dq"))) static inline

// c[0]·x^(n-1) + c[1]·x^(n-2) + ... + c[n-1] by Horner's rule, one multiply-add a coefficient (inlined with
// a constant n, the loop unrolls to the same instructions as writing the chain out).
T512 __m512 horner512(__m512 x, const float *c, int n) {
    __m512 p = _mm512_set1_ps(c[0]);
    for (int k = 1; k < n; k++) p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(c[k]));
    return p;
}

static const float tanh_numerator[] = {SIDEMAN_TANH_P6, SIDEMAN_TANH_P5, SIDEMAN_TANH_P4, SIDEMAN_TANH_P3,
                                       SIDEMAN_TANH_P2, SIDEMAN_TANH_P1, SIDEMAN_TANH_P0};
static const float tanh_denominator[] = {SIDEMAN_TANH_Q3, SIDEMAN_TANH_Q2, SIDEMAN_TANH_Q1, 1.0f};
static const float exp_polynomial[] = {SIDEMAN_EXP_C6, SIDEMAN_EXP_C5, SIDEMAN_EXP_C4, SIDEMAN_EXP_C3,
                                       SIDEMAN_EXP_C2, SIDEMAN_EXP_C1};

// tanh through the rational fit in cneuralkernels.h.
T512 __m512 tanh512(__m512 x) {
    const __m512 clamp = _mm512_set1_ps(SIDEMAN_TANH_CLAMP);
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_sub_ps(_mm512_setzero_ps(), clamp)), clamp);
    __m512 s = _mm512_mul_ps(x, x);
    __m512 p = horner512(s, tanh_numerator, 7), q = horner512(s, tanh_denominator, 4);
    return _mm512_div_ps(_mm512_mul_ps(x, p), q);
}

// A gate's sigmoid as 1/2 + tanh(x/2)/2: within 1.4e-7 of the sigmoid, which is all a gate needs (a
// probability's far tail, where the absolute error is the whole value, never goes through here).
T512 __m512 gate_sigmoid512(__m512 x) {
    const __m512 half = _mm512_set1_ps(0.5f);
    return _mm512_fmadd_ps(half, tanh512(_mm512_mul_ps(half, x)), half);
}

// e^x as Activations.swift's exp16 computes it (the constants in cneuralkernels.h), with multiply-adds.
T512 __m512 exp512(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(SIDEMAN_EXP_LOW)), _mm512_set1_ps(SIDEMAN_EXP_HIGH));
    const __m512 shifter = _mm512_set1_ps(12582912.0f);
    __m512 shifted = _mm512_fmadd_ps(x, _mm512_set1_ps(SIDEMAN_EXP_LOG2E), shifter);
    __m512 n = _mm512_sub_ps(shifted, shifter);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(SIDEMAN_EXP_LN2_HIGH), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(SIDEMAN_EXP_LN2_LOW), r);
    __m512 p = horner512(r, exp_polynomial, 6);
    __m512 er = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    // 2^n in two normal halves, as exp16 does (n reaches -127 after clamping).
    __m512i bits = _mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_castps_si512(shifter));
    __m512i half = _mm512_srai_epi32(bits, 1);
    __m512i bias = _mm512_set1_epi32(127);
    __m512 a = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(half, bias), 23));
    __m512 b = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_sub_epi32(bits, half), bias), 23));
    return _mm512_mul_ps(_mm512_mul_ps(er, a), b);
}

// Σ_j v_j·tanh(K_ij + q_j) = Σ_j v_j − 2·Σ_j v_j / (e^{2K_ij}·e^{2q_j} + 1): from the kept powers, one
// multiply-add and one division an element instead of a tanh (0.86 µs a step for the reference shape's
// 32 × 256 against 2.25). The multiply-add rounds once, so a product past the float range gives the right
// limit (the quotient 0 or v_j) without ever forming a subnormal or an infinity of its own.
__attribute__((target("avx512f,avx512dq"))) static void
scores512(const float *key_powers, int window, int stride, const float *query_powers, const float *v, float *u) {
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 vs = _mm512_setzero_ps();
    for (int j = 0; j < stride; j += 16) vs = _mm512_add_ps(vs, _mm512_loadu_ps(v + j));
    float v_total = _mm512_reduce_add_ps(vs);
    for (int i = 0; i < window; i++) {
        const float *k = key_powers + (long)i * stride;
        __m512 acc = _mm512_setzero_ps();
        for (int j = 0; j < stride; j += 16) {
            __m512 d = _mm512_fmadd_ps(_mm512_loadu_ps(k + j), _mm512_loadu_ps(query_powers + j), one);
            acc = _mm512_add_ps(acc, _mm512_div_ps(_mm512_loadu_ps(v + j), d));
        }
        u[i] = v_total - 2 * _mm512_reduce_add_ps(acc);
    }
}

__attribute__((target("avx512f,avx512dq"))) static void tanh_exponent512(float *p, int n) {
    const __m512 bound = _mm512_set1_ps(86.0f);
    for (int i = 0; i < n; i += 16) {
        __m512 twice = _mm512_add_ps(_mm512_loadu_ps(p + i), _mm512_loadu_ps(p + i));
        twice = _mm512_min_ps(_mm512_max_ps(twice, _mm512_sub_ps(_mm512_setzero_ps(), bound)), bound);
        _mm512_storeu_ps(p + i, exp512(twice));
    }
}

__attribute__((target("avx512f,avx512dq"))) static void
gates512(const float *z, int stride, float *c, float *h) {
    for (int j = 0; j < stride; j += 16) {
        __m512 i = gate_sigmoid512(_mm512_loadu_ps(z + j));
        __m512 f = gate_sigmoid512(_mm512_loadu_ps(z + stride + j));
        __m512 g = tanh512(_mm512_loadu_ps(z + 2 * stride + j));
        __m512 o = gate_sigmoid512(_mm512_loadu_ps(z + 3 * stride + j));
        __m512 cn = _mm512_fmadd_ps(f, _mm512_loadu_ps(c + j), _mm512_mul_ps(i, g));
        _mm512_storeu_ps(c + j, cn);
        _mm512_storeu_ps(h + j, _mm512_mul_ps(o, tanh512(cn)));
    }
}

int sideman_attention_scores(const float *key_powers, int window, int stride, const float *query_powers,
                             const float *v, float *u) {
    if (!sideman_avx512_available()) return 0;
    scores512(key_powers, window, stride, query_powers, v, u);
    return 1;
}

int sideman_tanh_exponent(float *p, int n) {
    if (!sideman_avx512_available()) return 0;
    tanh_exponent512(p, n);
    return 1;
}

int sideman_lstm_gates(const float *z, int stride, float *c, float *h) {
    if (!sideman_avx512_available()) return 0;
    gates512(z, stride, c, h);
    return 1;
}

#else
int sideman_attention_scores(const float *key_powers, int window, int stride, const float *query_powers,
                             const float *v, float *u) { return 0; }
int sideman_tanh_exponent(float *p, int n) { return 0; }
int sideman_lstm_gates(const float *z, int stride, float *c, float *h) { return 0; }
#endif
