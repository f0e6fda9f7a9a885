#include "ckpt_blas.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

/* CBLAS enumerations (cblas.h): CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112. */
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int,
                         float, float *, int);

typedef void (*set_threads_fn)(int);

static sgemm_fn sgemm = 0;
static set_threads_fn set_threads = 0;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char failure[512];

/* OpenBLAS 0.3.21 runs its Cooperlake (AVX-512) kernels on AMD Zen 4, which executes 512-bit
 * operations in two 256-bit halves; its Zen (AVX2) kernels measured 6-7 % faster there on the
 * forward pass's products (BERT-base, 128 tokens: 117 vs 126 ms on 2 cores, 229 vs 243 ms on
 * one). OpenBLAS picks its kernels when loaded, from OPENBLAS_CORETYPE if set, so on a family
 * 19h AMD CPU with AVX-512 (Zen 4) ckpt sets it before the dlopen; a value the user set wins, and
 * other CPUs (Zen 1-3 get the Zen kernels anyway) are left to OpenBLAS. */
static void prefer_avx2_kernels_on_zen4(void) {
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (getenv("OPENBLAS_CORETYPE") || !__get_cpuid(0, &a, &b, &c, &d)) return;
    if (b != 0x68747541 || d != 0x69746e65 || c != 0x444d4163) return; /* "AuthenticAMD" */
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    unsigned family = ((a >> 8) & 0xf) + ((a >> 20) & 0xff);
    __builtin_cpu_init();
    if (family == 0x19 && __builtin_cpu_supports("avx512f")) setenv("OPENBLAS_CORETYPE", "Zen", 0);
#endif
}

typedef char *(*get_config_fn)(void);
static get_config_fn get_config;

static void load(void) {
    prefer_avx2_kernels_on_zen4();
    /* ckpt runs OpenBLAS on one thread per call and splits products itself
     * (ckpt_blas_single_threaded). Said before the dlopen, OpenBLAS starts no thread pool at all:
     * started, its threads spin on sched_yield for their first milliseconds, taking a core from
     * the loading of the weights (a tenth of a whole forward process's CPU time). */
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    /* Debian's libopenblas0 (through alternatives), then the generic names. */
    const char *names[] = {"libopenblas.so.0", "libopenblas.so", "libcblas.so.3", "libblas.so.3"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!h) continue;
        sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
        if (sgemm) {
            set_threads = (set_threads_fn)dlsym(h, "openblas_set_num_threads");
            get_config = (get_config_fn)dlsym(h, "openblas_get_config");
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

const char *ckpt_blas_config(void) {
    if (ckpt_blas_load(NULL, 0) != 0) return "not loaded";
    return get_config ? get_config() : "a BLAS without openblas_get_config";
}
