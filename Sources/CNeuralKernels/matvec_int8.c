#include "cneuralkernels.h"

#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define HAVE_X86 1
#else
#define HAVE_X86 0
#endif

// y = 0 for a product with an all-zero input, unless it accumulates (then y stays as it is).
static inline void zero_unless_accumulating(float *y, int rows, int accumulate) {
    if (!accumulate)
        for (int r = 0; r < rows; r++) y[r] = 0;
}

// max |x[c]| over c < columns.
static float max_abs_portable(const float *x, int columns) {
    float m = 0;
    for (int c = 0; c < columns; c++) m = fmaxf(m, fabsf(x[c]));
    return m;
}

// Quantises x to unsigned bytes (zero point 128); returns the scale, 0 when x is all zero.
static float quantise_portable(const float *x, int columns, int stride, uint8_t *q) {
    float m = max_abs_portable(x, columns);
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
// The totals of sixteen rows' 32-bit lane sums, as one vector (row i in lane i): a transposing reduction,
// for short rows cheaper than sixteen horizontal sums.
__attribute__((target("avx512f"))) static inline __m512i sixteen_row_sums(const __m512i a[16]) {
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
    return _mm512_add_epi32(_mm512_shuffle_i32x4(u[0], u[1], 0x88), _mm512_shuffle_i32x4(u[0], u[1], 0xDD));
}

// a[i] += the unsigned bytes x times row i's signed bytes, four products a lane, over the whole row (sixteen
// rows from p, sharing each load of x). With `next`, the sixteen rows from there are asked for on the way,
// a line a row for each line read: a step after an idle wait reads its weights from memory, where the
// hardware's prefetch does not follow sixteen streams.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static inline void
dot_sixteen_rows(__m512i a[16], const int8_t *p, int stride, const uint8_t *x, const int8_t *next) {
    for (int k = 0; k < stride; k += 64) {
        if (next)
            for (int i = 0; i < 16; i++) _mm_prefetch((const char *)(next + (long)i * stride + k), _MM_HINT_T0);
        __m512i xv = _mm512_loadu_si512(x + k);
        for (int i = 0; i < 16; i++) a[i] = _mm512_dpbusd_epi32(a[i], xv, _mm512_loadu_si512(p + (long)i * stride + k));
    }
}

// The sixteen rows' totals against the bytes xl, or, when xh is given, against 256·xh + xl: the high bytes
// over the row, times 256, then the low bytes on top, in one set of sixteen accumulators (two sets spilled
// registers and ran slower than AVX2; the second pass reads the block's 4 KB from L1).
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static inline __m512i
sixteen_row_dots(const int8_t *p, int stride, const uint8_t *xh, const uint8_t *xl, const int8_t *next) {
    __m512i a[16];
    for (int i = 0; i < 16; i++) a[i] = _mm512_setzero_si512();
    if (xh) {
        dot_sixteen_rows(a, p, stride, xh, next);
        for (int i = 0; i < 16; i++) a[i] = _mm512_slli_epi32(a[i], 8);
    }
    dot_sixteen_rows(a, p, stride, xl, xh ? NULL : next);
    return sixteen_row_sums(a);
}

// y[0..<16] (+)= scale · sx · dots.
__attribute__((target("avx512f"))) static inline void
store_sixteen_rows(__m512i dots, const float *scale, __m512 sxv, float *y, int accumulate) {
    __m512 v = _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(scale), sxv), _mm512_cvtepi32_ps(dots));
    if (accumulate) v = _mm512_add_ps(_mm512_loadu_ps(y), v);
    _mm512_storeu_ps(y, v);
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void
matvec_vnni(const int8_t *w, int rows, int stride, int columns, const float *x, const float *scale,
            const int32_t *rowsum, uint8_t *q, float *y, int accumulate) {
    // max |x| over whole 16-lane blocks; x is zero padded to 16 by the Swift side.
    int padded = (columns + 15) & ~15;
    __m512 m = _mm512_setzero_ps();
    for (int c = 0; c < padded; c += 16) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + c)));
    float mx = _mm512_reduce_max_ps(m);
    if (mx == 0) {
        zero_unless_accumulating(y, rows, accumulate);
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
        __m512i dots = sixteen_row_dots(p, stride, NULL, q, r + 32 <= rows ? p + 16L * stride : NULL);
        dots = _mm512_sub_epi32(dots, _mm512_slli_epi32(_mm512_loadu_si512(rowsum + r), 7));
        store_sixteen_rows(dots, scale + r, sxv, y + r, accumulate);
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
// The four lines eight rows take over 32 columns of 8-bit weights (the row-major block starting at p).
__attribute__((target("avx2"))) static inline void prefetch_eight_rows(const char *p) {
    _mm_prefetch(p, _MM_HINT_T0);
    _mm_prefetch(p + 64, _MM_HINT_T0);
    _mm_prefetch(p + 128, _MM_HINT_T0);
    _mm_prefetch(p + 192, _MM_HINT_T0);
}

// max |x[c]| over c < padded (a multiple of 16).
__attribute__((target("avx2"))) static inline float max_abs_avx2(const float *x, int padded) {
    __m256 m = _mm256_setzero_ps();
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    for (int c = 0; c < padded; c += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign_bit, _mm256_loadu_ps(x + c)));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
    return _mm_cvtss_f32(m4);
}

// The eight rows' lane sums, as one vector of eight totals by a transposing reduction, scaled into y.
__attribute__((target("avx2"))) static inline void store_rows_avx2(const __m256i a[8], const float *scale, __m256 sxv,
                                                                   float *y, int accumulate) {
    __m256i h01 = _mm256_hadd_epi32(a[0], a[1]), h23 = _mm256_hadd_epi32(a[2], a[3]);
    __m256i h45 = _mm256_hadd_epi32(a[4], a[5]), h67 = _mm256_hadd_epi32(a[6], a[7]);
    __m256i v0 = _mm256_hadd_epi32(h01, h23), v1 = _mm256_hadd_epi32(h45, h67);
    __m256i dots = _mm256_add_epi32(_mm256_permute2x128_si256(v0, v1, 0x20), _mm256_permute2x128_si256(v0, v1, 0x31));
    __m256 v = _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(scale), sxv), _mm256_cvtepi32_ps(dots));
    if (accumulate) v = _mm256_add_ps(_mm256_loadu_ps(y), v);
    _mm256_storeu_ps(y, v);
}

// round(x[i] * inv) for 16 floats, as 16 words in order (packs works within 128-bit lanes, so the lanes are
// put back in order afterwards); the 8-bit kernel packs them once more to bytes.
__attribute__((target("avx2"))) static inline __m256i quantise_sixteen_avx2(const float *x, __m256 inv) {
    __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), inv));
    __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), inv));
    return _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8);
}

__attribute__((target("avx2"))) static inline int32_t sum_lanes_avx2(__m256i a) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

// AVX2 without VNNI: the x quantised as signed bytes, and vpmaddubsw (unsigned x signed bytes -> pairs summed
// to 16 bits) fed |q| and the weights carrying q's sign (vpsignb). Both factors stay within 127, so a pair is
// at most 2 * 127 * 127 = 32,258 and never saturates; vpmaddwd against ones widens the pairs to 32 bits.
// sum_c w * q equals the VNNI form's sum_c w * (q + 128) - 128 * rowsum exactly, so results are identical.
__attribute__((target("avx2,fma"))) static void
matvec_avx2(const int8_t *w, int rows, int stride, int columns, const float *x, const float *scale,
            uint8_t *q, float *y, int accumulate) {
    int padded = (columns + 15) & ~15;
    float mx = max_abs_avx2(x, padded);
    if (mx == 0) {
        zero_unless_accumulating(y, rows, accumulate);
        return;
    }
    __m256 inv = _mm256_set1_ps(127.0f / mx);
    int c = 0;
    for (; c < padded; c += 16) {
        __m256i words = quantise_sixteen_avx2(x + c, inv);
        __m128i bytes = _mm_packs_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
        _mm_storeu_si128((__m128i *)(q + c), bytes);
    }
    for (; c < stride; c++) q[c] = 0;
    float sx = mx / 127.0f;
    const __m256i ones = _mm256_set1_epi16(1);

    int r = 0;
    // Eight rows share each load of q; their eight sums come out of one transposing reduction.
    __m256 sxv = _mm256_set1_ps(sx);
    for (; r + 8 <= rows; r += 8) {
        const int8_t *p = w + (long)r * stride;
        __m256i a[8];
        for (int i = 0; i < 8; i++) a[i] = _mm256_setzero_si256();
        // Each 32 columns of these eight rows, four lines of the next eight rows are asked for: a model whose
        // weights outgrow L2 reads them from an L3 shared with the rest of the machine, and the hardware
        // prefetcher alone left this loop waiting on them (docs/PRECISION.md, "Reading the next rows ahead").
        const char *next = (const char *)(p + 8L * stride);
        for (int k = 0; k < stride; k += 32) {
            if (r + 16 <= rows) prefetch_eight_rows(next + k * 8);
            __m256i qv = _mm256_loadu_si256((const __m256i *)(q + k));
            __m256i magnitude = _mm256_abs_epi8(qv);
            for (int i = 0; i < 8; i++) {
                __m256i wv = _mm256_loadu_si256((const __m256i *)(p + (long)i * stride + k));
                __m256i pairs = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(wv, qv));
                a[i] = _mm256_add_epi32(a[i], _mm256_madd_epi16(pairs, ones));
            }
        }
        store_rows_avx2(a, scale + r, sxv, y + r, accumulate);
    }
    for (; r < rows; r++) {
        const int8_t *p = w + (long)r * stride;
        __m256i a = _mm256_setzero_si256();
        for (int k = 0; k < stride; k += 32) {
            __m256i qv = _mm256_loadu_si256((const __m256i *)(q + k));
            __m256i wv = _mm256_loadu_si256((const __m256i *)(p + k));
            a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(qv), _mm256_sign_epi8(wv, qv)), ones));
        }
        float v = scale[r] * sx * (float)sum_lanes_avx2(a);
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
    if (sideman_int8_avx2_available()) {
        matvec_avx2(w, rows, stride, columns, x, scale, scratch, y, accumulate);
        return;
    }
#endif
    sideman_matvec_int8_portable(w, rows, stride, columns, x, scale, rowsum, scratch, y, accumulate);
}

int sideman_matvec_int8_avx2(const int8_t *w, int rows, int stride, int columns, const float *x,
                             const float *scale, uint8_t *scratch, float *y, int accumulate) {
#if HAVE_X86
    if (sideman_int8_avx2_available()) {
        matvec_avx2(w, rows, stride, columns, x, scale, scratch, y, accumulate);
        return 1;
    }
#endif
    return 0;
}

// ---- 8-bit weights, 16-bit input (w8a16) ----

int sideman_w8a16_limit(int columns) {
    long bound = 2147483647L / (127L * (columns > 0 ? columns : 1));
    return bound < 32767 ? (int)bound : 32767;
}

// Quantises x to 16-bit words; returns the scale (0 when x is all zero), the words zero beyond `columns`.
static float quantise_words_portable(const float *x, int columns, int stride, int16_t *q) {
    float m = max_abs_portable(x, columns);
    for (int c = 0; c < stride; c++) q[c] = 0;
    if (m == 0) return 0;
    int limit = sideman_w8a16_limit(columns);
    float inv = (float)limit / m;
    for (int c = 0; c < columns; c++) q[c] = (int16_t)lrintf(x[c] * inv);
    return m / (float)limit;
}

void sideman_matvec_w8a16_portable(const int8_t *w, int rows, int stride, int columns, const float *x,
                                   const float *scale, int16_t *q, float *y, int accumulate) {
    float sx = quantise_words_portable(x, columns, stride, q);
    for (int r = 0; r < rows; r++) {
        const int8_t *row = w + (long)r * stride;
        int32_t dot = 0;
        for (int c = 0; c < columns; c++) dot += (int32_t)row[c] * (int32_t)q[c];
        float v = sx == 0 ? 0 : scale[r] * sx * (float)dot;
        y[r] = accumulate ? y[r] + v : v;
    }
}

#if HAVE_X86
// The words' step sx = max|x| / L (0 when x is all zero) and, in *reciprocal, L / max|x|.
__attribute__((target("avx2"))) static inline float word_step(const float *x, int columns, float *reciprocal) {
    float mx = max_abs_avx2(x, (columns + 15) & ~15);
    if (mx == 0) return 0;
    int limit = sideman_w8a16_limit(columns);
    *reciprocal = (float)limit / mx;
    return mx / (float)limit;
}

// vpmovsxbw widens 16 weights to words, vpmaddwd multiplies them by 16 input words and sums pairs to 32 bits:
// one multiplier instruction per 16 products, as the 8-bit kernel's two per 32, so the 16-bit input costs
// little more than the 8-bit one (about 0.85x its rate here) and far less than widening fp16 weights.
__attribute__((target("avx2,fma"))) static void
matvec_w8a16_avx2(const int8_t *w, int rows, int stride, int columns, const float *x, const float *scale,
                  int16_t *q, float *y, int accumulate) {
    int padded = (columns + 15) & ~15;
    float reciprocal, sx = word_step(x, columns, &reciprocal);
    if (sx == 0) {
        zero_unless_accumulating(y, rows, accumulate);
        return;
    }
    __m256 inv = _mm256_set1_ps(reciprocal);
    int c = 0;
    for (; c < padded; c += 16) {
        _mm256_storeu_si256((__m256i *)(q + c), quantise_sixteen_avx2(x + c, inv));
    }
    for (; c < stride; c++) q[c] = 0;

    int r = 0;
    __m256 sxv = _mm256_set1_ps(sx);
    for (; r + 8 <= rows; r += 8) {
        const int8_t *p = w + (long)r * stride;
        __m256i a[8];
        for (int i = 0; i < 8; i++) a[i] = _mm256_setzero_si256();
        const char *next = (const char *)(p + 8L * stride);
        for (int k = 0; k < stride; k += 32) {
            if (r + 16 <= rows) prefetch_eight_rows(next + k * 8);
            __m256i x0 = _mm256_loadu_si256((const __m256i *)(q + k));
            __m256i x1 = _mm256_loadu_si256((const __m256i *)(q + k + 16));
            for (int i = 0; i < 8; i++) {
                const int8_t *row = p + (long)i * stride + k;
                __m256i lo = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)row));
                __m256i hi = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(row + 16)));
                a[i] = _mm256_add_epi32(a[i], _mm256_add_epi32(_mm256_madd_epi16(lo, x0), _mm256_madd_epi16(hi, x1)));
            }
        }
        store_rows_avx2(a, scale + r, sxv, y + r, accumulate);
    }
    for (; r < rows; r++) {
        const int8_t *p = w + (long)r * stride;
        __m256i a = _mm256_setzero_si256();
        for (int k = 0; k < stride; k += 16)
            a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(p + k))),
                                                      _mm256_loadu_si256((const __m256i *)(q + k))));
        float v = scale[r] * sx * (float)sum_lanes_avx2(a);
        y[r] = accumulate ? y[r] + v : v;
    }
}
#endif

#if HAVE_X86
// The 16-bit input split into bytes, q = 256·hi + lo with lo in [0, 255] and hi in [-128, 127], so that
// vpdpbusd (unsigned bytes by signed bytes, 64 products an instruction, the 8-bit kernel's) does the work
// twice: w·q = 256·(w·(hi + 128) − 128·Σw) + w·lo. Two instructions per 64 products, where widening the
// weights to words for vpdpwssd took four per 32 and ran no faster than AVX2. The sums wrap modulo 2^32 on
// the way, and the total fits in 32 bits (sideman_w8a16_limit), so it comes out exact: the same integer as
// the AVX2 kernel's and the portable loop's. The scratch's 2·stride bytes hold lo, then hi + 128.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void
matvec_w8a16_vnni(const int8_t *w, int rows, int stride, int columns, const float *x, const float *scale,
                  const int32_t *rowsum, int16_t *scratch, float *y, int accumulate) {
    int padded = (columns + 15) & ~15;
    float reciprocal, sx = word_step(x, columns, &reciprocal);
    if (sx == 0) {
        zero_unless_accumulating(y, rows, accumulate);
        return;
    }
    __m512 inv = _mm512_set1_ps(reciprocal);
    uint8_t *lo = (uint8_t *)scratch, *hi = lo + stride;
    int c = 0;
    for (; c < padded; c += 16) {
        __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + c), inv));
        _mm_storeu_si128((__m128i *)(lo + c), _mm512_cvtepi32_epi8(_mm512_and_si512(q, _mm512_set1_epi32(255))));
        _mm_storeu_si128((__m128i *)(hi + c),
                         _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_srai_epi32(q, 8), _mm512_set1_epi32(128))));
    }
    for (; c < stride; c++) {
        lo[c] = 0;
        hi[c] = 128;
    }

    int r = 0;
    __m512 sxv = _mm512_set1_ps(sx);
    for (; r + 16 <= rows; r += 16) {
        const int8_t *p = w + (long)r * stride;
        __m512i dots = sixteen_row_dots(p, stride, hi, lo, r + 32 <= rows ? p + 16L * stride : NULL);
        dots = _mm512_sub_epi32(dots, _mm512_slli_epi32(_mm512_loadu_si512(rowsum + r), 15));
        store_sixteen_rows(dots, scale + r, sxv, y + r, accumulate);
    }
    for (; r < rows; r++) {
        const int8_t *p = w + (long)r * stride;
        __m512i a = _mm512_setzero_si512(), b = a;
        for (int k = 0; k < stride; k += 64) {
            __m512i wv = _mm512_loadu_si512(p + k);
            a = _mm512_dpbusd_epi32(a, _mm512_loadu_si512(lo + k), wv);
            b = _mm512_dpbusd_epi32(b, _mm512_loadu_si512(hi + k), wv);
        }
        uint32_t high = (uint32_t)_mm512_reduce_add_epi32(b) - ((uint32_t)rowsum[r] << 7);
        int32_t dot = (int32_t)((high << 8) + (uint32_t)_mm512_reduce_add_epi32(a));
        float v = scale[r] * sx * (float)dot;
        y[r] = accumulate ? y[r] + v : v;
    }
}
#endif

void sideman_matvec_w8a16(const int8_t *w, int rows, int stride, int columns, const float *x, const float *scale,
                          const int32_t *rowsum, int16_t *scratch, float *y, int accumulate) {
#if HAVE_X86
    if (sideman_int8_vnni_available()) {
        matvec_w8a16_vnni(w, rows, stride, columns, x, scale, rowsum, scratch, y, accumulate);
        return;
    }
    if (sideman_int8_avx2_available()) {
        matvec_w8a16_avx2(w, rows, stride, columns, x, scale, scratch, y, accumulate);
        return;
    }
#endif
    sideman_matvec_w8a16_portable(w, rows, stride, columns, x, scale, scratch, y, accumulate);
}

int sideman_matvec_w8a16_avx2(const int8_t *w, int rows, int stride, int columns, const float *x, const float *scale,
                              int16_t *scratch, float *y, int accumulate) {
#if HAVE_X86
    if (sideman_int8_avx2_available()) {
        matvec_w8a16_avx2(w, rows, stride, columns, x, scale, scratch, y, accumulate);
        return 1;
    }
#endif
    return 0;
}
