#include "cneuralkernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define T512 __attribute__((target("avx512f,avx512dq"))) static inline

// tanh through the rational fit in cneuralkernels.h.
T512 __m512 tanh512(__m512 x) {
    const __m512 clamp = _mm512_set1_ps(SIDEMAN_TANH_CLAMP);
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_sub_ps(_mm512_setzero_ps(), clamp)), clamp);
    __m512 s = _mm512_mul_ps(x, x);
    __m512 p = _mm512_set1_ps(SIDEMAN_TANH_P6);
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(SIDEMAN_TANH_P5));
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(SIDEMAN_TANH_P4));
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(SIDEMAN_TANH_P3));
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(SIDEMAN_TANH_P2));
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(SIDEMAN_TANH_P1));
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(SIDEMAN_TANH_P0));
    __m512 q = _mm512_set1_ps(SIDEMAN_TANH_Q3);
    q = _mm512_fmadd_ps(q, s, _mm512_set1_ps(SIDEMAN_TANH_Q2));
    q = _mm512_fmadd_ps(q, s, _mm512_set1_ps(SIDEMAN_TANH_Q1));
    q = _mm512_fmadd_ps(q, s, _mm512_set1_ps(1.0f));
    return _mm512_div_ps(_mm512_mul_ps(x, p), q);
}

// A gate's sigmoid as 1/2 + tanh(x/2)/2: within 1.4e-7 of the sigmoid, which is all a gate needs (a
// probability's far tail, where the absolute error is the whole value, never goes through here).
T512 __m512 gate_sigmoid512(__m512 x) {
    const __m512 half = _mm512_set1_ps(0.5f);
    return _mm512_fmadd_ps(half, tanh512(_mm512_mul_ps(half, x)), half);
}

__attribute__((target("avx512f,avx512dq"))) static void
scores512(const float *keys, int window, int stride, const float *q, const float *v, float *u) {
    for (int i = 0; i < window; i++) {
        const float *k = keys + (long)i * stride;
        __m512 acc = _mm512_setzero_ps();
        for (int j = 0; j < stride; j += 16)
            acc = _mm512_fmadd_ps(tanh512(_mm512_add_ps(_mm512_loadu_ps(k + j), _mm512_loadu_ps(q + j))),
                                  _mm512_loadu_ps(v + j), acc);
        u[i] = _mm512_reduce_add_ps(acc);
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

int sideman_attention_scores(const float *keys, int window, int stride, const float *q, const float *v,
                             float *u) {
    if (!sideman_avx512_available()) return 0;
    scores512(keys, window, stride, q, v, u);
    return 1;
}

int sideman_lstm_gates(const float *z, int stride, float *c, float *h) {
    if (!sideman_avx512_available()) return 0;
    gates512(z, stride, c, h);
    return 1;
}

#else
int sideman_attention_scores(const float *keys, int window, int stride, const float *q, const float *v,
                             float *u) { return 0; }
int sideman_lstm_gates(const float *z, int stride, float *c, float *h) { return 0; }
#endif
