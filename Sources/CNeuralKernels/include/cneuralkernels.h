#ifndef CNEURALKERNELS_H
#define CNEURALKERNELS_H

#include <stdint.h>

// Int8 matrix-vector product for the streaming step (Sources/Neural/Storage/Matrix.swift explains the
// quantisation). In C because its 8-bit dot products (AVX-512 VNNI's vpdpbusd, or AVX2's vpmaddubsw) are
// chosen at run time and need intrinsics Swift cannot express: Swift has no per-function target attributes.

// The CPU's instruction-set extensions, probed once (cpu_features.c): a mask of the bits below.
enum {
    SIDEMAN_CPU_AVX2 = 1,
    SIDEMAN_CPU_FMA = 2,
    SIDEMAN_CPU_AVX512F = 4,
    SIDEMAN_CPU_AVX512BW = 8,
    SIDEMAN_CPU_AVX512DQ = 16,
    SIDEMAN_CPU_AVX512VNNI = 32,
    SIDEMAN_CPU_AVX512BF16 = 64,
};
int sideman_cpu_features(void);

// 1 when this CPU runs the AVX-512 VNNI kernel; otherwise the AVX2 kernel where the CPU has AVX2, else the
// portable loop. All three give the same integer dot products, so the same results.
int sideman_int8_vnni_available(void);
int sideman_int8_avx2_available(void);

// y[r] (+)= scale[r] * sx * (sum_c w[r][c] * (q(x[c]) + 128) - 128 * rowsum[r]), with q(x) = round(x / sx),
// sx = max|x| / 127 over x[0..columns). w is rows x stride int8, stride a multiple of 64, zero padded;
// scratch holds stride bytes. rowsum[r] = sum_c w[r][c].
void sideman_matvec_int8(const int8_t *w, int rows, int stride, int columns, const float *x,
                         const float *scale, const int32_t *rowsum, uint8_t *scratch, float *y,
                         int accumulate);

// The portable loop alone, whatever the CPU (tests check it gives the dispatched kernel's exact results).
void sideman_matvec_int8_portable(const int8_t *w, int rows, int stride, int columns, const float *x,
                                  const float *scale, const int32_t *rowsum, uint8_t *scratch, float *y,
                                  int accumulate);

// The AVX2 kernel alone (tests run it on VNNI machines too); returns 0 without touching y when the CPU lacks
// AVX2. Same arguments as above less rowsum, which the signed form does not need.
int sideman_matvec_int8_avx2(const int8_t *w, int rows, int stride, int columns, const float *x,
                             const float *scale, uint8_t *scratch, float *y, int accumulate);

// The same 8-bit weights against a 16-bit input: y[r] (+)= scale[r] * sx * sum_c w[r][c] * q(x[c]), with
// q(x) = round(x / sx), sx = max|x| / L and L = sideman_w8a16_limit(columns) = min(32767, (2^31 - 1) /
// (127 * columns)), so no sum can overflow. For a product whose input error the model magnifies (a
// transformer's q/k/v projection, whose scores go through a softmax): the input keeps 15 bits instead of 7.
// scratch holds stride words; rowsum the rows' weight sums (as for the 8-bit kernel). The AVX-512 VNNI
// kernel runs where the CPU has it, else the AVX2 kernel, else the portable loop; all three give the same
// integer sums, so the same results.
int sideman_w8a16_limit(int columns);
void sideman_matvec_w8a16(const int8_t *w, int rows, int stride, int columns, const float *x, const float *scale,
                          const int32_t *rowsum, int16_t *scratch, float *y, int accumulate);

// The AVX2 kernel alone, where the CPU has AVX2 (returns 0 and does nothing otherwise), so that an AVX-512
// machine's tests still check it.
int sideman_matvec_w8a16_avx2(const int8_t *w, int rows, int stride, int columns, const float *x, const float *scale,
                              int16_t *scratch, float *y, int accumulate);

// The portable loop alone (tests check the dispatched kernel against it).
void sideman_matvec_w8a16_portable(const int8_t *w, int rows, int stride, int columns, const float *x,
                                   const float *scale, int16_t *scratch, float *y, int accumulate);

// Asks for the cache line at p ahead of its use (a hint: no fault, no effect on results). The Swift product
// loops call it for the rows after the ones they multiply; Swift has no prefetch of its own.
static inline void sideman_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

// AVX-512 forms of the step's transcendental loops (16 lanes per instruction, tanh by the rational fit
// below). Each returns 0 without touching its outputs when the CPU lacks AVX-512; the caller then runs
// its Swift loop. All lengths are multiples of 16 (padded buffers).
int sideman_avx512_available(void);

// tanh(x) = x * P(x^2) / Q(x^2) with x clamped to +-SIDEMAN_TANH_CLAMP (where tanh is 1 - 2.7e-7): a
// rational minimax fit made for Sideman (numpy, Lawson-weighted least squares on [0, clamp]), within 2.8e-7
// of tanh in float arithmetic. Twelve multiply-adds and one division, against the exp-based form's range
// reduction, polynomial, scaling and reciprocal, for the LSTM and WaveNet gates and the GELU. The AVX-512
// kernels below and Activations.swift's tanh16 use the same coefficients, so both paths give the same values.
#define SIDEMAN_TANH_CLAMP 7.90531110763549805f
#define SIDEMAN_TANH_P6 (-1.1664411981e-13f)
#define SIDEMAN_TANH_P5 6.3894619296e-11f
#define SIDEMAN_TANH_P4 (-2.2341833861e-08f)
#define SIDEMAN_TANH_P3 1.1645508314e-05f
#define SIDEMAN_TANH_P2 3.1494760448e-03f
#define SIDEMAN_TANH_P1 1.3124398643e-01f
#define SIDEMAN_TANH_P0 9.9999999253e-01f
#define SIDEMAN_TANH_Q3 2.6132409970e-04f
#define SIDEMAN_TANH_Q2 2.4675283945e-02f
#define SIDEMAN_TANH_Q1 4.6457728535e-01f

// e^x by Cody-Waite range reduction x = n ln2 + r and a degree-6 polynomial for e^r (about 2 ulp), on x
// clamped to where the result is a normal float: Activations.swift's exp16 and the AVX-512 form below share
// these constants, so both give the same values.
#define SIDEMAN_EXP_LOW (-87.33f)
#define SIDEMAN_EXP_HIGH 88.37f
#define SIDEMAN_EXP_LOG2E 1.44269504f
#define SIDEMAN_EXP_LN2_HIGH 0.693359375f
#define SIDEMAN_EXP_LN2_LOW (-2.12194440e-4f)
#define SIDEMAN_EXP_C6 1.98756915e-4f
#define SIDEMAN_EXP_C5 1.39819995e-3f
#define SIDEMAN_EXP_C4 8.33345190e-3f
#define SIDEMAN_EXP_C3 4.16657959e-2f
#define SIDEMAN_EXP_C2 1.66666655e-1f
#define SIDEMAN_EXP_C1 5.00000012e-1f

// p[i] = e^(2 p[i]) for i < n (a multiple of 16), 2 p[i] clamped to +-86 so the power is a normal float: the
// form attention keeps keys and query in for the scores below.
int sideman_tanh_exponent(float *p, int n);

// u[i] = sum_j v[j] * tanh(K[i][j] + q[j]) for i < window, given key_powers[i][j] = e^(2 K[i][j]) (rows `stride`
// floats apart) and query_powers[j] = e^(2 q[j]), each exponent clamped to +-86 (applyTanhExponent in Swift):
// tanh(a + b) = 1 - 2 / (e^(2a) e^(2b) + 1), exact to rounding while |K| and |q| are at most 43.
int sideman_attention_scores(const float *key_powers, int window, int stride, const float *query_powers,
                             const float *v, float *u);

// LSTM cell update on gate pre-activations z = [i; f; g; o], each block `stride` long (PyTorch order).
int sideman_lstm_gates(const float *z, int stride, float *c, float *h);

// The core's best figures, for `sideman bench`'s limits (machine_limits.c; 0 where there is no AVX2):
// the fastest of `passes` reads of a cached buffer of `bytes`, in seconds, and the multiply-adds a second the
// inner loop of precision 0 (fp32), 1 (fp16) or 2 (int8, on the kernel dispatch picks) retires from registers.
double sideman_limit_read_seconds(long bytes, int passes);
double sideman_limit_multiply_adds_per_second(int precision);

// A fixed amount of work that touches no memory: `iterations` links of a dependent integer chain (about a
// nanosecond each). Timed between a bench's steps, at the step's length, it shows what this machine does to
// any piece of work that long right now (timer ticks, the hypervisor, a neighbour on the core).
uint64_t sideman_fixed_work(long iterations);

// The times this core was taken away for `seconds`: a loop that only reads the monotonic clock, where a read
// more than `threshold_ns` after the last is an interruption (a timer tick, the hypervisor, another task).
// Writes up to `capacity` gap lengths in ns to `gaps` and returns how many there were (possibly more than
// `capacity`). A step of d µs meets one with a chance of about rate · d, whatever the step does.
long sideman_interruptions(double seconds, long threshold_ns, double *gaps, long capacity);

// Training's step-by-step products on weights packed once per chunk (gemm_packed.c). op(B) (k × n, B read
// transposed when trans_b) goes into panels of 16 columns, each k rows of 16 floats, zero past n:
// ceil(n / 16) · 16 · k floats.
void sideman_pack_panels(const float *b, int ldb, int trans_b, int k, int n, float *packed);
// C[m × n] = (accumulate ? C : 0) + A[m × k] · op(B), B packed by sideman_pack_panels.
void sideman_gemm_packed(int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
                         int accumulate);
// The kernel sideman_gemm_packed runs on this CPU: 0 portable, 1 AVX2 + FMA, 2 AVX-512; and the product on a
// chosen one (at most this CPU's), for tests and benchmarks.
int sideman_gemm_packed_kernel(void);
void sideman_gemm_packed_using(int kernel, int m, int n, int k, const float *a, int lda, const float *packed, float *c,
                               int ldc, int accumulate);

// The same product with op(B) and A rounded to bfloat16 (nearest, ties to even) and fp32 sums, on AVX-512 BF16
// (vdpbf16ps: two products per fp32 lane). op(B) is packed in pairs along k: for each pair of rows of op(B)
// and each 16-column panel, 16 × 2 bf16 (k rounded up to even, zero past k and n):
// ceil(n / 16) · 16 · ceil(k / 2) · 2 values. `scratch` holds A's pairs: m · ceil(k / 2) words.
int sideman_bf16_available(void);
void sideman_pack_panels_bf16(const float *b, int ldb, int trans_b, int k, int n, uint16_t *packed);
void sideman_gemm_packed_bf16(int m, int n, int k, const float *a, int lda, const uint16_t *packed, uint32_t *scratch,
                              float *c, int ldc, int accumulate);
// The same with the portable loops (the same roundings; the product's sums in another order), for tests.
void sideman_pack_panels_bf16_portable(const float *b, int ldb, int trans_b, int k, int n, uint16_t *packed);
void sideman_gemm_packed_bf16_portable(int m, int n, int k, const float *a, int lda, const uint16_t *packed,
                                       uint32_t *scratch, float *c, int ldc, int accumulate);

#endif
