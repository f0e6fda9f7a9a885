#include "ckpt_blas.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

/* CBLAS enumerations (cblas.h): CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112. */
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int,
                         float, float *, int);

typedef void (*set_threads_fn)(int);

static sgemm_fn sgemm = 0;
static set_threads_fn set_threads = 0;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char failure[512];

static void load(void) {
    /* Debian's libopenblas0 (through alternatives), then the generic names. */
    const char *names[] = {"libopenblas.so.0", "libopenblas.so", "libcblas.so.3", "libblas.so.3"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!h) continue;
        sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
        if (sgemm) {
            set_threads = (set_threads_fn)dlsym(h, "openblas_set_num_threads");
            return;
        }
    }
    snprintf(failure, sizeof failure, "cannot load OpenBLAS (libopenblas.so.0): %s", dlerror());
}

int ckpt_blas_load(char *error, size_t size) {
    pthread_once(&once, load);
    if (sgemm) return 0;
    if (error && size) snprintf(error, size, "%s", failure);
    return -1;
}

void ckpt_sgemm(int transpose_b, int m, int n, int k, float alpha, const float *a, int lda,
                const float *b, int ldb, float beta, float *c, int ldc) {
    sgemm(101, 111, transpose_b ? 112 : 111, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

int ckpt_blas_single_threaded(void) {
    if (!set_threads) return -1;
    set_threads(1);
    return 0;
}
