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

/// Asks OpenBLAS to run each call on the calling thread only (openblas_set_num_threads(1)), for
/// callers that split products across cores themselves. Returns 0 when the library has the
/// switch, -1 when it does not (another BLAS: it then threads as it likes).
int ckpt_blas_single_threaded(void);

/// OpenBLAS' own description of itself (openblas_get_config: version, build options, core),
/// loading it if needed; "not loaded" when no BLAS library loads.
const char *ckpt_blas_config(void);

#endif
