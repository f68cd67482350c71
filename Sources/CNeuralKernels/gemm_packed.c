#include "cneuralkernels.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Training's recurrent products multiply a few dozen rows by the same weights at every step of a chunk. A BLAS
// packs the weights again on every call (1 MB for an LSTM of 256), which cost more than its kernel gained at
// that size; here they are packed once per chunk into panels of 16 columns, and each step only streams them.

enum { PANEL = 16, K_BLOCK = 256 };

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
static void tile_portable(const float *const a[], int rows, int count, const float *panel, float *c, int ldc,
                          int cols, int accumulate) {
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
__attribute__((target("avx2,fma"))) static void tile_avx2(const float *const a[], int rows, int count, const float *panel,
                                                           float *c, int ldc, int cols, int accumulate) {
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

// Eight rows by 16 columns in 512-bit registers: 8 accumulators, a masked store for a short last panel.
__attribute__((target("avx512f"))) static void tile_avx512(const float *const a[], int rows, int count,
                                                            const float *panel, float *c, int ldc, int cols,
                                                            int accumulate) {
    __m512 acc[8];
    const float *row[8];
    for (int r = 0; r < 8; r++) {
        acc[r] = _mm512_setzero_ps();
        row[r] = a[r < rows ? r : 0];
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
    __mmask16 mask = (__mmask16)((1u << cols) - 1);
    for (int r = 0; r < rows; r++) {
        float *out = c + (size_t)r * ldc;
        __m512 v = acc[r];
        if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, out));
        _mm512_mask_storeu_ps(out, mask, v);
    }
}
#endif

typedef void (*tile_fn)(const float *const a[], int rows, int count, const float *panel, float *c, int ldc, int cols,
                        int accumulate);

static void gemm_packed_with(tile_fn tile, int tile_rows, int m, int n, int k, const float *a, int lda,
                             const float *packed, float *c, int ldc, int accumulate) {
    int panels = (n + PANEL - 1) / PANEL;
    const float *rows[8];
    // K is cut into blocks so that a tile's rows of A (and the panel's block) stay in L1 while every panel
    // passes over them; C holds the running sum between blocks.
    for (int k0 = 0; k0 < k || (k == 0 && k0 == 0); k0 += K_BLOCK) {
        int count = k - k0 < K_BLOCK ? k - k0 : K_BLOCK;
        int add = accumulate || k0 > 0;
        for (int p = 0; p < panels; p++) {
            const float *panel = packed + (size_t)p * k * PANEL + (size_t)k0 * PANEL;
            int cols = n - p * PANEL < PANEL ? n - p * PANEL : PANEL;
            for (int r0 = 0; r0 < m; r0 += tile_rows) {
                int count_rows = m - r0 < tile_rows ? m - r0 : tile_rows;
                for (int r = 0; r < count_rows; r++) rows[r] = a + (size_t)(r0 + r) * lda + k0;
                tile(rows, count_rows, count, panel, c + (size_t)r0 * ldc + p * PANEL, ldc, cols, add);
            }
        }
        if (k == 0) break;
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
    if (kernel == 2) return gemm_packed_with(tile_avx512, 8, m, n, k, a, lda, packed, c, ldc, accumulate);
    if (kernel == 1) return gemm_packed_with(tile_avx2, 4, m, n, k, a, lda, packed, c, ldc, accumulate);
#endif
    (void)kernel;
    gemm_packed_with(tile_portable, 4, m, n, k, a, lda, packed, c, ldc, accumulate);
}

void sideman_gemm_packed(int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
                         int accumulate) {
    sideman_gemm_packed_using(sideman_gemm_packed_kernel(), m, n, k, a, lda, packed, c, ldc, accumulate);
}
