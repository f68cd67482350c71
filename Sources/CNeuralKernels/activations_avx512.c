#include "cneuralkernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define T512 __attribute__((target("avx512f,avx512dq"))) static inline

// e^x: the same Cody-Waite reduction and polynomial as exp16 in Activations.swift; vscalefps applies 2^n
// without overflow handling of its own.
T512 __m512 exp512(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.33f)), _mm512_set1_ps(88.37f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3333519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    __m512 e = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(e, n);
}

// 1/d for d in [1, 2]: the 14-bit estimate refined by one Newton step (about 1e-8 relative), cheaper than a
// division.
T512 __m512 reciprocal512(__m512 d) {
    __m512 r = _mm512_rcp14_ps(d);
    return _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.0f)));
}

T512 __m512 sigmoid512(__m512 x) {
    // 1 / (1 + e^-x) = e^{-|x|}-based form keeps the denominator in [1, 2].
    __m512 t = exp512(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(x)));
    __m512 s = reciprocal512(_mm512_add_ps(_mm512_set1_ps(1.0f), t));  // 1/(1+t)
    __m512 neg = _mm512_mul_ps(t, s);                                   // t/(1+t)
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), s, neg);
}

T512 __m512 tanh512(__m512 x) {
    __m512 t = exp512(_mm512_mul_ps(_mm512_set1_ps(-2.0f), _mm512_abs_ps(x)));
    __m512 m = _mm512_mul_ps(_mm512_sub_ps(_mm512_set1_ps(1.0f), t),
                             reciprocal512(_mm512_add_ps(_mm512_set1_ps(1.0f), t)));
    __m512i sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u));
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(m), sign));
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
        __m512 i = sigmoid512(_mm512_loadu_ps(z + j));
        __m512 f = sigmoid512(_mm512_loadu_ps(z + stride + j));
        __m512 g = tanh512(_mm512_loadu_ps(z + 2 * stride + j));
        __m512 o = sigmoid512(_mm512_loadu_ps(z + 3 * stride + j));
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
