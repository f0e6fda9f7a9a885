#ifndef CKPT_BLAS_H
#define CKPT_BLAS_H
#include <stddef.h>

/// Loads OpenBLAS on first use (dlopen) instead of at process start: OpenBLAS starts its thread
/// pool in a library constructor, which would cost every `ckpt` command a few milliseconds,
/// including `inspect`, which never multiplies a matrix. Returns 0 on success; on failure
/// writes the reason into `error` (capacity `size`) and returns -1.
int ckpt_blas_load(char *error, size_t size);

/// cblas_sgemm, row-major: C = alpha·A·op(B) + beta·C. Call ckpt_blas_load first.
void ckpt_sgemm(int transpose_b, int m, int n, int k, float alpha, const float *a, int lda,
                const float *b, int ldb, float beta, float *c, int ldc);

#endif
