#ifndef CNEURALKERNELS_H
#define CNEURALKERNELS_H

#include <stdint.h>

// Int8 matrix-vector product for the streaming step (Sources/Neural/Storage/Matrix.swift explains the
// quantisation). In C because it needs AVX-512 VNNI's 8-bit dot product (vpdpbusd) chosen at run time: Swift
// has no per-function target attributes, and its AVX2 fp32/fp16 kernels measured compute-bound at about 13
// multiply-adds per cycle, too slow for the latency target.

// The CPU's instruction-set extensions, probed once (cpu_features.c): a mask of the bits below.
enum {
    SIDEMAN_CPU_AVX2 = 1,
    SIDEMAN_CPU_FMA = 2,
    SIDEMAN_CPU_AVX512F = 4,
    SIDEMAN_CPU_AVX512BW = 8,
    SIDEMAN_CPU_AVX512DQ = 16,
    SIDEMAN_CPU_AVX512VNNI = 32,
};
int sideman_cpu_features(void);

// 1 when this CPU runs the AVX-512 VNNI kernel; otherwise the portable loop (same integer results) is used.
int sideman_int8_vnni_available(void);

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

// AVX-512 forms of the step's transcendental loops (16 lanes per instruction, reciprocal estimates instead of
// divisions). Each returns 0 without touching its outputs when the CPU lacks AVX-512; the caller then runs
// its Swift loop. All lengths are multiples of 16 (padded buffers).
int sideman_avx512_available(void);

// u[i] = sum_j v[j] * tanh(keys[i][j] + q[j]) for i < window; keys rows `stride` floats apart.
int sideman_attention_scores(const float *keys, int window, int stride, const float *q, const float *v,
                             float *u);

// LSTM cell update on gate pre-activations z = [i; f; g; o], each block `stride` long (PyTorch order).
int sideman_lstm_gates(const float *z, int stride, float *c, float *h);

#endif
