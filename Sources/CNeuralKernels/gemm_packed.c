#include "cneuralkernels.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Training's recurrent products multiply a few dozen rows by the same weights at every step of a chunk. A BLAS
// packs the weights again on every call (1 MB for an LSTM of 256), which cost more than its kernel gained at
// that size; here they are packed once per chunk into panels of 16 columns, and each step only streams them.

enum { PANEL = 16, K_BLOCK = 256, M_BLOCK = 128 };

void sideman_pack_panels(const float *b, int ldb, int trans_b, int k, int n, float *packed) {
    int panels = (n + PANEL - 1) / PANEL;
    for (int p = 0; p < panels; p++) {
        float *out = packed + (size_t)p * k * PANEL;
        int cols = n - p * PANEL < PANEL ? n - p * PANEL : PANEL;
        if (trans_b) {
            // op(B) = Bᵀ: column j of the panel is row p·16 + j of B, read along its length.
            for (int j = 0; j < PANEL; j++) {
                if (j < cols) {
                    const float *row = b + (size_t)(p * PANEL + j) * ldb;
                    for (int kk = 0; kk < k; kk++) out[kk * PANEL + j] = row[kk];
                } else {
                    for (int kk = 0; kk < k; kk++) out[kk * PANEL + j] = 0;
                }
            }
        } else {
            for (int kk = 0; kk < k; kk++) {
                const float *row = b + (size_t)kk * ldb + p * PANEL;
                memcpy(out + kk * PANEL, row, sizeof(float) * cols);
                for (int j = cols; j < PANEL; j++) out[kk * PANEL + j] = 0;
            }
        }
    }
}

// Rows past m read row 0 again (valid memory) and are never stored; columns past n are the panel's zeros and
// are never stored.
static void tile_portable(const void *const rows_of_a[], int rows, int count, const void *panel_bytes, float *c,
                          int ldc, int cols, int accumulate) {
    const float *const *a = (const float *const *)rows_of_a;
    const float *panel = panel_bytes;
    for (int r = 0; r < rows; r++) {
        float acc[PANEL];
        for (int j = 0; j < PANEL; j++) acc[j] = 0;
        for (int kk = 0; kk < count; kk++) {
            float x = a[r][kk];
            for (int j = 0; j < PANEL; j++) acc[j] += x * panel[kk * PANEL + j];
        }
        float *out = c + (size_t)r * ldc;
        for (int j = 0; j < cols; j++) out[j] = accumulate ? out[j] + acc[j] : acc[j];
    }
}

#if defined(__x86_64__)
// Four rows by 16 columns: 8 accumulators, as many as two FMA pipes of latency 4 keep busy.
__attribute__((target("avx2,fma"))) static void tile_avx2(const void *const rows_of_a[], int rows, int count,
                                                           const void *panel_bytes, float *c, int ldc, int cols,
                                                           int accumulate) {
    const float *const *a = (const float *const *)rows_of_a;
    const float *panel = panel_bytes;
    __m256 acc[4][2];
    for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    const float *a0 = a[0], *a1 = a[rows > 1 ? 1 : 0], *a2 = a[rows > 2 ? 2 : 0], *a3 = a[rows > 3 ? 3 : 0];
    for (int kk = 0; kk < count; kk++) {
        __m256 b0 = _mm256_loadu_ps(panel + kk * PANEL), b1 = _mm256_loadu_ps(panel + kk * PANEL + 8);
        __m256 x = _mm256_broadcast_ss(a0 + kk);
        acc[0][0] = _mm256_fmadd_ps(x, b0, acc[0][0]);
        acc[0][1] = _mm256_fmadd_ps(x, b1, acc[0][1]);
        x = _mm256_broadcast_ss(a1 + kk);
        acc[1][0] = _mm256_fmadd_ps(x, b0, acc[1][0]);
        acc[1][1] = _mm256_fmadd_ps(x, b1, acc[1][1]);
        x = _mm256_broadcast_ss(a2 + kk);
        acc[2][0] = _mm256_fmadd_ps(x, b0, acc[2][0]);
        acc[2][1] = _mm256_fmadd_ps(x, b1, acc[2][1]);
        x = _mm256_broadcast_ss(a3 + kk);
        acc[3][0] = _mm256_fmadd_ps(x, b0, acc[3][0]);
        acc[3][1] = _mm256_fmadd_ps(x, b1, acc[3][1]);
    }
    for (int r = 0; r < rows; r++) {
        float *out = c + (size_t)r * ldc;
        if (cols == PANEL) {
            __m256 lo = acc[r][0], hi = acc[r][1];
            if (accumulate) {
                lo = _mm256_add_ps(lo, _mm256_loadu_ps(out));
                hi = _mm256_add_ps(hi, _mm256_loadu_ps(out + 8));
            }
            _mm256_storeu_ps(out, lo);
            _mm256_storeu_ps(out + 8, hi);
        } else {
            float lanes[PANEL];
            _mm256_storeu_ps(lanes, acc[r][0]);
            _mm256_storeu_ps(lanes + 8, acc[r][1]);
            for (int j = 0; j < cols; j++) out[j] = accumulate ? out[j] + lanes[j] : lanes[j];
        }
    }
}

// C's rows of an eight-row AVX-512 tile: a masked store for a short last panel, rows past m left alone.
__attribute__((target("avx512f"))) static inline void store_tile_avx512(const __m512 acc[8], int rows, float *c,
                                                                         int ldc, int cols, int accumulate) {
    __mmask16 mask = (__mmask16)((1u << cols) - 1);
    for (int r = 0; r < rows; r++) {
        float *out = c + (size_t)r * ldc;
        __m512 v = acc[r];
        if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, out));
        _mm512_mask_storeu_ps(out, mask, v);
    }
}

// Eight rows by 16 columns in 512-bit registers: 8 accumulators, as many as two FMA pipes of latency 4 keep busy.
__attribute__((target("avx512f"))) static void tile_avx512(const void *const rows_of_a[], int rows, int count,
                                                            const void *panel_bytes, float *c, int ldc, int cols,
                                                            int accumulate) {
    __m512 acc[8];
    const float *row[8];
    const float *panel = panel_bytes;
    for (int r = 0; r < 8; r++) {
        acc[r] = _mm512_setzero_ps();
        row[r] = rows_of_a[r < rows ? r : 0];
    }
    for (int kk = 0; kk < count; kk++) {
        __m512 b = _mm512_loadu_ps(panel + kk * PANEL);
        acc[0] = _mm512_fmadd_ps(_mm512_set1_ps(row[0][kk]), b, acc[0]);
        acc[1] = _mm512_fmadd_ps(_mm512_set1_ps(row[1][kk]), b, acc[1]);
        acc[2] = _mm512_fmadd_ps(_mm512_set1_ps(row[2][kk]), b, acc[2]);
        acc[3] = _mm512_fmadd_ps(_mm512_set1_ps(row[3][kk]), b, acc[3]);
        acc[4] = _mm512_fmadd_ps(_mm512_set1_ps(row[4][kk]), b, acc[4]);
        acc[5] = _mm512_fmadd_ps(_mm512_set1_ps(row[5][kk]), b, acc[5]);
        acc[6] = _mm512_fmadd_ps(_mm512_set1_ps(row[6][kk]), b, acc[6]);
        acc[7] = _mm512_fmadd_ps(_mm512_set1_ps(row[7][kk]), b, acc[7]);
    }
    store_tile_avx512(acc, rows, c, ldc, cols, accumulate);
}
#endif

// A tile: C[rows × cols] (+)= the rows of A (one pointer each, from the block's first unit) times `count`
// units of a panel. A unit is one k of fp32 or one pair of k in bf16: 4 bytes of A and 64 of the panel either way.
typedef void (*tile_fn)(const void *const rows_of_a[], int rows, int count, const void *panel, float *c, int ldc,
                        int cols, int accumulate);

enum { UNIT_BYTES_A = 4, UNIT_BYTES_PANEL = 4 * PANEL };

// Rows are taken M_BLOCK at a time and the units cut into blocks, so that the block of A every panel passes over
// stays in L2 and a tile's rows of it (with the panel's block) in L1; C holds the running sum between blocks.
static void gemm_packed_with(tile_fn tile, int tile_rows, int block_units, int m, int n, int units, const char *a,
                             size_t a_row_bytes, const char *packed, float *c, int ldc, int accumulate) {
    int panels = (n + PANEL - 1) / PANEL;
    const void *rows[8];
    for (int m0 = 0; m0 < m; m0 += M_BLOCK) {
        int m1 = m - m0 < M_BLOCK ? m : m0 + M_BLOCK;
        for (int u0 = 0; u0 < units || (units == 0 && u0 == 0); u0 += block_units) {
            int count = units - u0 < block_units ? units - u0 : block_units;
            int add = accumulate || u0 > 0;
            for (int p = 0; p < panels; p++) {
                const char *panel = packed + ((size_t)p * units + u0) * UNIT_BYTES_PANEL;
                int cols = n - p * PANEL < PANEL ? n - p * PANEL : PANEL;
                for (int r0 = m0; r0 < m1; r0 += tile_rows) {
                    int count_rows = m1 - r0 < tile_rows ? m1 - r0 : tile_rows;
                    for (int r = 0; r < count_rows; r++) rows[r] = a + (size_t)(r0 + r) * a_row_bytes + (size_t)u0 * UNIT_BYTES_A;
                    tile(rows, count_rows, count, panel, c + (size_t)r0 * ldc + p * PANEL, ldc, cols, add);
                }
            }
            if (units == 0) break;
        }
    }
}

int sideman_gemm_packed_kernel(void) {
#if defined(__x86_64__)
    int f = sideman_cpu_features();
    if (f & SIDEMAN_CPU_AVX512F) return 2;
    if ((f & (SIDEMAN_CPU_AVX2 | SIDEMAN_CPU_FMA)) == (SIDEMAN_CPU_AVX2 | SIDEMAN_CPU_FMA)) return 1;
#endif
    return 0;
}

void sideman_gemm_packed_using(int kernel, int m, int n, int k, const float *a, int lda, const float *packed, float *c,
                               int ldc, int accumulate) {
#if defined(__x86_64__)
    if (kernel == 2) return gemm_packed_with(tile_avx512, 8, K_BLOCK, m, n, k, (const char *)a, sizeof(float) * lda,
                                             (const char *)packed, c, ldc, accumulate);
    if (kernel == 1) return gemm_packed_with(tile_avx2, 4, K_BLOCK, m, n, k, (const char *)a, sizeof(float) * lda,
                                             (const char *)packed, c, ldc, accumulate);
#endif
    (void)kernel;
    gemm_packed_with(tile_portable, 4, K_BLOCK, m, n, k, (const char *)a, sizeof(float) * lda, (const char *)packed, c,
                     ldc, accumulate);
}

void sideman_gemm_packed(int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
                         int accumulate) {
    sideman_gemm_packed_using(sideman_gemm_packed_kernel(), m, n, k, a, lda, packed, c, ldc, accumulate);
}

// bfloat16: the top half of an fp32, rounded to nearest with ties to even (as vcvtne2ps2bf16 rounds); a NaN
// stays a NaN.
static inline uint16_t to_bf16(float x) {
    uint32_t bits;
    memcpy(&bits, &x, 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x40);
    return (uint16_t)((bits + 0x7fffu + ((bits >> 16) & 1)) >> 16);
}

static inline float from_bf16(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float x;
    memcpy(&x, &bits, 4);
    return x;
}

void sideman_pack_panels_bf16_portable(const float *b, int ldb, int trans_b, int k, int n, uint16_t *packed) {
    int panels = (n + PANEL - 1) / PANEL, pairs = (k + 1) / 2;
    for (int p = 0; p < panels; p++) {
        uint16_t *out = packed + (size_t)p * pairs * 2 * PANEL;
        for (int q = 0; q < pairs; q++) {
            for (int j = 0; j < PANEL; j++) {
                int col = p * PANEL + j;
                for (int half = 0; half < 2; half++) {
                    int kk = 2 * q + half;
                    float x = 0;
                    if (col < n && kk < k) x = trans_b ? b[(size_t)col * ldb + kk] : b[(size_t)kk * ldb + col];
                    out[(q * PANEL + j) * 2 + half] = to_bf16(x);
                }
            }
        }
    }
}

// A's rows as bf16 pairs, one 32-bit word per pair (the low half the even k), as vdpbf16ps reads them.
static void pairs_portable(int m, int k, const float *a, int lda, uint32_t *scratch) {
    int pairs = (k + 1) / 2;
    for (int r = 0; r < m; r++) {
        const float *row = a + (size_t)r * lda;
        for (int q = 0; q < pairs; q++) {
            uint16_t lo = to_bf16(row[2 * q]), hi = 2 * q + 1 < k ? to_bf16(row[2 * q + 1]) : 0;
            scratch[(size_t)r * pairs + q] = (uint32_t)lo | ((uint32_t)hi << 16);
        }
    }
}

void sideman_gemm_packed_bf16_portable(int m, int n, int k, const float *a, int lda, const uint16_t *packed,
                                       uint32_t *scratch, float *c, int ldc, int accumulate) {
    int panels = (n + PANEL - 1) / PANEL, pairs = (k + 1) / 2;
    pairs_portable(m, k, a, lda, scratch);
    for (int r = 0; r < m; r++) {
        const uint32_t *row = scratch + (size_t)r * pairs;
        for (int p = 0; p < panels; p++) {
            const uint16_t *panel = packed + (size_t)p * pairs * 2 * PANEL;
            float acc[PANEL] = {0};
            for (int q = 0; q < pairs; q++) {
                float x0 = from_bf16((uint16_t)row[q]), x1 = from_bf16((uint16_t)(row[q] >> 16));
                for (int j = 0; j < PANEL; j++) {
                    acc[j] += x0 * from_bf16(panel[(q * PANEL + j) * 2]) + x1 * from_bf16(panel[(q * PANEL + j) * 2 + 1]);
                }
            }
            int cols = n - p * PANEL < PANEL ? n - p * PANEL : PANEL;
            float *out = c + (size_t)r * ldc + p * PANEL;
            for (int j = 0; j < cols; j++) out[j] = accumulate ? out[j] + acc[j] : acc[j];
        }
    }
}

#if defined(__x86_64__)
// The packing in 16-column panels, vectorised: the weights are packed once per chunk, twice over (the forward's
// Wᵀ and the backward's W), and rounding them one value at a time cost as much as a tenth of the products.
__attribute__((target("avx512f,avx512bw,avx512bf16"))) static void pack_panels_bf16_avx512(
    const float *b, int ldb, int trans_b, int k, int n, uint16_t *packed) {
    int panels = (n + PANEL - 1) / PANEL, pairs = (k + 1) / 2;
    if (trans_b) {
        // Column j of a panel is row p·16 + j of B: its pairs along k are one word each, laid at word q·16 + j.
        uint32_t row[PANEL][512];
        for (int p = 0; p < panels; p++) {
            uint32_t *out = (uint32_t *)packed + (size_t)p * pairs * PANEL;
            for (int q0 = 0; q0 < pairs; q0 += 512) {
                int count = pairs - q0 < 512 ? pairs - q0 : 512;
                for (int j = 0; j < PANEL; j++) {
                    int col = p * PANEL + j;
                    if (col >= n) {
                        memset(row[j], 0, sizeof(uint32_t) * count);
                        continue;
                    }
                    const float *source = b + (size_t)col * ldb + 2 * q0;
                    int q = 0, left = k - 2 * q0;
                    for (; 2 * q + 32 <= left && q + 16 <= count; q += 16) {
                        __m512 lo = _mm512_loadu_ps(source + 2 * q), hi = _mm512_loadu_ps(source + 2 * q + 16);
                        _mm512_storeu_si512(row[j] + q, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
                    }
                    for (; q < count; q++) {
                        uint16_t lo = to_bf16(source[2 * q]), hi = 2 * q + 1 < left ? to_bf16(source[2 * q + 1]) : 0;
                        row[j][q] = (uint32_t)lo | ((uint32_t)hi << 16);
                    }
                }
                for (int q = 0; q < count; q++) {
                    for (int j = 0; j < PANEL; j++) out[(size_t)(q0 + q) * PANEL + j] = row[j][q];
                }
            }
        }
    } else {
        // Rows 2q and 2q + 1 of B, 16 columns each, interleaved column by column.
        __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6,
                                              21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
        for (int p = 0; p < panels; p++) {
            uint16_t *out = packed + (size_t)p * pairs * 2 * PANEL;
            int cols = n - p * PANEL < PANEL ? n - p * PANEL : PANEL;
            __mmask16 mask = (__mmask16)((1u << cols) - 1);
            for (int q = 0; q < pairs; q++) {
                __m512 lo = _mm512_maskz_loadu_ps(mask, b + (size_t)(2 * q) * ldb + p * PANEL);
                __m512 hi = 2 * q + 1 < k ? _mm512_maskz_loadu_ps(mask, b + (size_t)(2 * q + 1) * ldb + p * PANEL)
                                          : _mm512_setzero_ps();
                __m512i words = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
                _mm512_storeu_si512(out + (size_t)q * 2 * PANEL, _mm512_permutexvar_epi16(interleave, words));
            }
        }
    }
}

__attribute__((target("avx512f,avx512bf16"))) static void pairs_avx512(int m, int k, const float *a, int lda,
                                                                       uint32_t *scratch) {
    int pairs = (k + 1) / 2;
    for (int r = 0; r < m; r++) {
        const float *row = a + (size_t)r * lda;
        uint32_t *out = scratch + (size_t)r * pairs;
        int q = 0;
        // 32 floats → 16 pairs: vcvtne2ps2bf16 puts its second operand in the low half, lanes in order.
        for (; 2 * q + 32 <= k; q += 16) {
            __m512 lo = _mm512_loadu_ps(row + 2 * q), hi = _mm512_loadu_ps(row + 2 * q + 16);
            _mm512_storeu_si512(out + q, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
        }
        for (; q < pairs; q++) {
            uint16_t lo = to_bf16(row[2 * q]), hi = 2 * q + 1 < k ? to_bf16(row[2 * q + 1]) : 0;
            out[q] = (uint32_t)lo | ((uint32_t)hi << 16);
        }
    }
}

// Eight rows by 16 columns: each vdpbf16ps adds two products per lane, twice the work of an fp32 FMA.
__attribute__((target("avx512f,avx512bf16"))) static void tile_bf16(const void *const rows_of_a[], int rows, int count,
                                                                    const void *panel_bytes, float *c, int ldc, int cols,
                                                                    int accumulate) {
    __m512 acc[8];
    const uint32_t *row[8];
    const uint16_t *panel = panel_bytes;
    for (int r = 0; r < 8; r++) {
        acc[r] = _mm512_setzero_ps();
        row[r] = rows_of_a[r < rows ? r : 0];
    }
    for (int q = 0; q < count; q++) {
        __m512bh b = (__m512bh)_mm512_loadu_si512(panel + q * 2 * PANEL);
        acc[0] = _mm512_dpbf16_ps(acc[0], (__m512bh)_mm512_set1_epi32((int)row[0][q]), b);
        acc[1] = _mm512_dpbf16_ps(acc[1], (__m512bh)_mm512_set1_epi32((int)row[1][q]), b);
        acc[2] = _mm512_dpbf16_ps(acc[2], (__m512bh)_mm512_set1_epi32((int)row[2][q]), b);
        acc[3] = _mm512_dpbf16_ps(acc[3], (__m512bh)_mm512_set1_epi32((int)row[3][q]), b);
        acc[4] = _mm512_dpbf16_ps(acc[4], (__m512bh)_mm512_set1_epi32((int)row[4][q]), b);
        acc[5] = _mm512_dpbf16_ps(acc[5], (__m512bh)_mm512_set1_epi32((int)row[5][q]), b);
        acc[6] = _mm512_dpbf16_ps(acc[6], (__m512bh)_mm512_set1_epi32((int)row[6][q]), b);
        acc[7] = _mm512_dpbf16_ps(acc[7], (__m512bh)_mm512_set1_epi32((int)row[7][q]), b);
    }
    store_tile_avx512(acc, rows, c, ldc, cols, accumulate);
}

static void gemm_packed_bf16_avx512(int m, int n, int k, const float *a, int lda, const uint16_t *packed,
                                    uint32_t *scratch, float *c, int ldc, int accumulate) {
    int pairs = (k + 1) / 2;
    pairs_avx512(m, k, a, lda, scratch);
    gemm_packed_with(tile_bf16, 8, K_BLOCK / 2, m, n, pairs, (const char *)scratch, sizeof(uint32_t) * pairs,
                     (const char *)packed, c, ldc, accumulate);
}
#endif

void sideman_pack_panels_bf16(const float *b, int ldb, int trans_b, int k, int n, uint16_t *packed) {
#if defined(__x86_64__)
    if (sideman_bf16_available() && (sideman_cpu_features() & SIDEMAN_CPU_AVX512BW)) {
        return pack_panels_bf16_avx512(b, ldb, trans_b, k, n, packed);
    }
#endif
    sideman_pack_panels_bf16_portable(b, ldb, trans_b, k, n, packed);
}

void sideman_gemm_packed_bf16(int m, int n, int k, const float *a, int lda, const uint16_t *packed, uint32_t *scratch,
                              float *c, int ldc, int accumulate) {
#if defined(__x86_64__)
    if (sideman_bf16_available()) return gemm_packed_bf16_avx512(m, n, k, a, lda, packed, scratch, c, ldc, accumulate);
#endif
    sideman_gemm_packed_bf16_portable(m, n, k, a, lda, packed, scratch, c, ldc, accumulate);
}
