#ifndef CKPT_KERNELS_H
#define CKPT_KERNELS_H
#include <stddef.h>

/// dst[c][r] = src[r][c] for a rows × cols matrix of 4-byte elements (float32, int32), walked in
/// 64 × 64 tiles so both sides stay in cache, with SSE 4 × 4 register transposes on x86-64.
void ckpt_transpose32(const void *src, void *dst, size_t rows, size_t cols);

#endif
