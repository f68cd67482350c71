#include "cneuralkernels.h"

#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define HAVE_X86 1
#else
#define HAVE_X86 0
#endif

// Quantises x to unsigned bytes (zero point 128); returns the scale, 0 when x is all zero.
static float quantise_portable(const float *x, int columns, int stride, uint8_t *q) {
    float m = 0;
    for (int c = 0; c < columns; c++) m = fmaxf(m, fabsf(x[c]));
    for (int c = 0; c < stride; c++) q[c] = 128;
    if (m == 0) return 0;
    float inv = 127.0f / m;
    for (int c = 0; c < columns; c++) q[c] = (uint8_t)(128 + (int)lrintf(x[c] * inv));
    return m / 127.0f;
}

void sideman_matvec_int8_portable(const int8_t *w, int rows, int stride, int columns, const float *x,
                            const float *scale, const int32_t *rowsum, uint8_t *q, float *y,
                            int accumulate) {
    float sx = quantise_portable(x, columns, stride, q);
    for (int r = 0; r < rows; r++) {
        const int8_t *row = w + (long)r * stride;
        int32_t dot = 0;
        for (int c = 0; c < columns; c++) dot += (int32_t)row[c] * (int32_t)q[c];
        float v = sx == 0 ? 0 : scale[r] * sx * (float)(dot - 128 * rowsum[r]);
        y[r] = accumulate ? y[r] + v : v;
    }
}

#if HAVE_X86
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void
matvec_vnni(const int8_t *w, int rows, int stride, int columns, const float *x, const float *scale,
            const int32_t *rowsum, uint8_t *q, float *y, int accumulate) {
    // max |x| over whole 16-lane blocks; x is zero padded to 16 by the Swift side.
    int padded = (columns + 15) & ~15;
    __m512 m = _mm512_setzero_ps();
    for (int c = 0; c < padded; c += 16) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + c)));
    float mx = _mm512_reduce_max_ps(m);
    if (mx == 0) {
        if (!accumulate)
            for (int r = 0; r < rows; r++) y[r] = 0;
        return;
    }
    __m512 inv = _mm512_set1_ps(127.0f / mx);
    __m512i zero_point = _mm512_set1_epi32(128);
    int c = 0;
    for (; c < padded; c += 16) {
        __m512i v = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + c), inv)), zero_point);
        _mm_storeu_si128((__m128i *)(q + c), _mm512_cvtusepi32_epi8(v));
    }
    for (; c < stride; c++) q[c] = 128;
    float sx = mx / 127.0f;

    int r = 0;
    // Sixteen rows at a time share each load of x, and their sums come out of one transposing reduction
    // as a vector of 16 row totals: for short rows (the conv layers' 64-128 columns) the per-row horizontal
    // sums would otherwise cost more than the dot products.
    __m512 sxv = _mm512_set1_ps(sx);
    for (; r + 16 <= rows; r += 16) {
        const int8_t *p = w + (long)r * stride;
        __m512i a[16];
        for (int i = 0; i < 16; i++) a[i] = _mm512_setzero_si512();
        for (int k = 0; k < stride; k += 64) {
            __m512i xv = _mm512_loadu_si512(q + k);
            for (int i = 0; i < 16; i++)
                a[i] = _mm512_dpbusd_epi32(a[i], xv, _mm512_loadu_si512(p + (long)i * stride + k));
        }
        __m512i b[8], t[4], u[2];
        for (int i = 0; i < 8; i++)
            b[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(a[2 * i], a[2 * i + 1]),
                                    _mm512_unpackhi_epi32(a[2 * i], a[2 * i + 1]));
        for (int i = 0; i < 4; i++)
            t[i] = _mm512_add_epi32(_mm512_unpacklo_epi64(b[2 * i], b[2 * i + 1]),
                                    _mm512_unpackhi_epi64(b[2 * i], b[2 * i + 1]));
        for (int i = 0; i < 2; i++)
            u[i] = _mm512_add_epi32(_mm512_shuffle_i32x4(t[2 * i], t[2 * i + 1], 0x88),
                                    _mm512_shuffle_i32x4(t[2 * i], t[2 * i + 1], 0xDD));
        __m512i dots = _mm512_add_epi32(_mm512_shuffle_i32x4(u[0], u[1], 0x88), _mm512_shuffle_i32x4(u[0], u[1], 0xDD));
        dots = _mm512_sub_epi32(dots, _mm512_slli_epi32(_mm512_loadu_si512(rowsum + r), 7));
        __m512 v = _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(scale + r), sxv), _mm512_cvtepi32_ps(dots));
        if (accumulate) v = _mm512_add_ps(_mm512_loadu_ps(y + r), v);
        _mm512_storeu_ps(y + r, v);
    }
    for (; r + 4 <= rows; r += 4) {
        const int8_t *p0 = w + (long)r * stride, *p1 = p0 + stride, *p2 = p1 + stride, *p3 = p2 + stride;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        for (int k = 0; k < stride; k += 64) {
            __m512i xv = _mm512_loadu_si512(q + k);
            a0 = _mm512_dpbusd_epi32(a0, xv, _mm512_loadu_si512(p0 + k));
            a1 = _mm512_dpbusd_epi32(a1, xv, _mm512_loadu_si512(p1 + k));
            a2 = _mm512_dpbusd_epi32(a2, xv, _mm512_loadu_si512(p2 + k));
            a3 = _mm512_dpbusd_epi32(a3, xv, _mm512_loadu_si512(p3 + k));
        }
        int32_t d[4] = {_mm512_reduce_add_epi32(a0), _mm512_reduce_add_epi32(a1),
                        _mm512_reduce_add_epi32(a2), _mm512_reduce_add_epi32(a3)};
        for (int k = 0; k < 4; k++) {
            float v = scale[r + k] * sx * (float)(d[k] - 128 * rowsum[r + k]);
            y[r + k] = accumulate ? y[r + k] + v : v;
        }
    }
    for (; r < rows; r++) {
        const int8_t *p = w + (long)r * stride;
        __m512i a = _mm512_setzero_si512();
        for (int k = 0; k < stride; k += 64) a = _mm512_dpbusd_epi32(a, _mm512_loadu_si512(q + k), _mm512_loadu_si512(p + k));
        float v = scale[r] * sx * (float)(_mm512_reduce_add_epi32(a) - 128 * rowsum[r]);
        y[r] = accumulate ? y[r] + v : v;
    }
}
#endif

void sideman_matvec_int8(const int8_t *w, int rows, int stride, int columns, const float *x,
                         const float *scale, const int32_t *rowsum, uint8_t *scratch, float *y,
                         int accumulate) {
#if HAVE_X86
    if (sideman_int8_vnni_available()) {
        matvec_vnni(w, rows, stride, columns, x, scale, rowsum, scratch, y, accumulate);
        return;
    }
#endif
    sideman_matvec_int8_portable(w, rows, stride, columns, x, scale, rowsum, scratch, y, accumulate);
}
