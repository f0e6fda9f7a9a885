#ifndef CKPT_KERNELS_H
#define CKPT_KERNELS_H
#include <stddef.h>
#include <stdint.h>

/// dst[c][r] = src[r][c] for a rows × cols matrix of 4-byte elements (float32, int32), walked in
/// 32 × 32 tiles so both sides stay in cache, with AVX 8 × 8 register transposes where the CPU
/// has AVX (element by element with `ckpt_kernels_use_vectors(0)`).
void ckpt_transpose32(const void *src, void *dst, size_t rows, size_t cols);

/// The same for a block: rows × cols elements read with `src_stride` elements between rows,
/// written transposed with `dst_stride` elements between the output's rows — a strip of a larger
/// matrix transposed into a small buffer that stays in cache until it is written out.
void ckpt_transpose32_strided(const void *src, size_t src_stride, void *dst, size_t dst_stride, size_t rows,
                              size_t cols);

/// In place, x = 0.5·x·(1 + erf(x/√2)) (bert4keras' `gelu`, erf-based), 8 lanes at a time
/// where the CPU has AVX2 and FMA.
void ckpt_gelu_erf(float *x, size_t count);

/// Each of `rows` rows of `cols` scores: x·scale where allowed[r·cols + c] is non-zero, −∞
/// elsewhere, then softmax (masked entries 0; a row with nothing allowed all 0).
void ckpt_masked_softmax(float *x, const uint8_t *allowed, size_t rows, size_t cols, float scale);

/// In place, each of `rows` rows: x (+ residual, when given) normalized over its `cols` values —
/// (x − mean)/√(var + ε)·γ + β (β optional), or without the mean (`zero_mean` 0: T5's RMS norm).
void ckpt_layer_norm(float *x, const float *residual, const float *gamma, const float *beta, size_t rows, size_t cols,
                     float epsilon, int zero_mean);

/// float32 <-> float16 / bfloat16 of `count` elements, round to nearest even (NumPy's astype,
/// ml_dtypes, ggml); F16C 8 lanes at a time where the CPU has it. Any alignment.
void ckpt_f32_to_f16(const void *src, void *dst, size_t count);
void ckpt_f16_to_f32(const void *src, void *dst, size_t count);
void ckpt_f32_to_bf16(const void *src, void *dst, size_t count);
void ckpt_bf16_to_f32(const void *src, void *dst, size_t count);

/// With `enabled` 0, the element-wise kernels above take their portable scalar paths (libm), as
/// on a CPU without AVX2 — for tests of both; 1 restores the default. Returns whether the
/// vector paths are now in use.
int ckpt_kernels_use_vectors(int enabled);

#endif
