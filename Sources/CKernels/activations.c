#include "ckpt_kernels.h"
#include <math.h>
#include <stdint.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* The forward pass's element-wise hot spots: per element, libm's expf/erff cost 5-10 ns, which
 * at BERT-base size (4.7M GELUs and 2.4M softmax exponentials a pass) is a tenth of the pass.
 * On x86-64 with AVX2+FMA (checked at run time) 8 lanes go at once through a Cody-Waite
 * exponential (degree-6 polynomial on [-ln2/2, ln2/2], within 2 ulp) and the
 * Abramowitz-Stegun 7.1.26 erf (absolute error <= 1.5e-7), both far inside the 1e-4 that the
 * forward pass is held to against TensorFlow (whose own erf is a polynomial approximation too).
 * Elsewhere, and for the ragged tails, libm. */

static const float inv_sqrt2 = 0.70710678118654752f;

static float gelu_scalar(float x) { return 0.5f * x * (1.0f + erff(x * inv_sqrt2)); }

#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2,fma")))

/* e^x for x in [-87.3, 88.7]; below, the result underflows towards 0 (callers mask -inf). */
AVX2 static inline __m256 exp8(__m256 x) {
    x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.7f)), _mm256_set1_ps(-87.3f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    /* r = x - n ln2, with ln2 split in two so that n·ln2_hi is exact. */
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/* erf(z) = sign(z)·(1 - poly(t)·e^(-z²)), t = 1/(1 + 0.3275911|z|) (A&S 7.1.26). */
AVX2 static inline __m256 erf8(__m256 z) {
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    __m256 sign = _mm256_and_ps(z, sign_bit);
    __m256 a = _mm256_andnot_ps(sign_bit, z);
    __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(a, _mm256_set1_ps(0.3275911f), _mm256_set1_ps(1.0f)));
    __m256 p = _mm256_set1_ps(1.061405429f);
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
    p = _mm256_mul_ps(p, t);
    __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(a, a)));
    __m256 y = _mm256_fnmadd_ps(p, e, _mm256_set1_ps(1.0f));
    return _mm256_or_ps(y, sign);
}

AVX2 static void gelu_avx2(float *x, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 e = erf8(_mm256_mul_ps(v, _mm256_set1_ps(inv_sqrt2)));
        __m256 half_v = _mm256_mul_ps(v, _mm256_set1_ps(0.5f));
        _mm256_storeu_ps(x + i, _mm256_fmadd_ps(half_v, e, half_v));
    }
    for (; i < count; i++) x[i] = gelu_scalar(x[i]);
}

AVX2 static float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}

AVX2 static float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

AVX2 static void softmax_avx2(float *row, const uint8_t *allowed, size_t cols, float scale) {
    /* Pass 1: scale, mask, maximum. */
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    float smax = -INFINITY;
    size_t i = 0;
    for (; i + 8 <= cols; i += 8) {
        __m128i a8 = _mm_loadl_epi64((const __m128i *)(allowed + i));
        __m256 keep = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_cvtepu8_epi32(a8), _mm256_setzero_si256()));
        __m256 v = _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), _mm256_mul_ps(_mm256_loadu_ps(row + i), _mm256_set1_ps(scale)), keep);
        _mm256_storeu_ps(row + i, v);
        vmax = _mm256_max_ps(vmax, v);
    }
    for (; i < cols; i++) {
        row[i] = allowed[i] ? row[i] * scale : -INFINITY;
        if (row[i] > smax) smax = row[i];
    }
    float m = hmax8(vmax);
    if (smax > m) m = smax;
    if (m == -INFINITY) { /* nothing allowed: a row of zeros, as the scalar path gives */
        for (i = 0; i < cols; i++) row[i] = 0;
        return;
    }
    /* Pass 2: exponentials (masked ones 0) and their sum. */
    __m256 vsum = _mm256_setzero_ps();
    float ssum = 0;
    __m256 vm = _mm256_set1_ps(m);
    for (i = 0; i + 8 <= cols; i += 8) {
        __m256 v = _mm256_loadu_ps(row + i);
        __m256 keep = _mm256_cmp_ps(v, _mm256_set1_ps(-INFINITY), _CMP_NEQ_OQ);
        __m256 e = _mm256_and_ps(exp8(_mm256_sub_ps(v, vm)), keep);
        _mm256_storeu_ps(row + i, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    for (; i < cols; i++) {
        row[i] = row[i] == -INFINITY ? 0 : expf(row[i] - m);
        ssum += row[i];
    }
    __m256 inv = _mm256_set1_ps(1.0f / (hsum8(vsum) + ssum));
    for (i = 0; i + 8 <= cols; i += 8) _mm256_storeu_ps(row + i, _mm256_mul_ps(_mm256_loadu_ps(row + i), inv));
    float sinv = _mm256_cvtss_f32(inv);
    for (; i < cols; i++) row[i] *= sinv;
}

AVX2 static void layer_norm_avx2(float *x, const float *residual, const float *gamma, const float *beta, size_t cols,
                                  float epsilon, int zero_mean) {
    size_t i = 0;
    __m256 vs = _mm256_setzero_ps();
    float ss = 0;
    for (; i + 8 <= cols; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        if (residual) { v = _mm256_add_ps(v, _mm256_loadu_ps(residual + i)); _mm256_storeu_ps(x + i, v); }
        vs = _mm256_add_ps(vs, v);
    }
    for (; i < cols; i++) {
        if (residual) x[i] += residual[i];
        ss += x[i];
    }
    float mean = zero_mean ? (hsum8(vs) + ss) / (float)cols : 0.0f;
    __m256 vm = _mm256_set1_ps(mean), vq = _mm256_setzero_ps();
    float sq = 0;
    for (i = 0; i + 8 <= cols; i += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i), vm);
        vq = _mm256_fmadd_ps(d, d, vq);
    }
    for (; i < cols; i++) { float d = x[i] - mean; sq += d * d; }
    float inv = 1.0f / sqrtf((hsum8(vq) + sq) / (float)cols + epsilon);
    __m256 vinv = _mm256_set1_ps(inv);
    for (i = 0; i + 8 <= cols; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm), vinv), _mm256_loadu_ps(gamma + i));
        if (beta) v = _mm256_add_ps(v, _mm256_loadu_ps(beta + i));
        _mm256_storeu_ps(x + i, v);
    }
    for (; i < cols; i++) x[i] = (x[i] - mean) * inv * gamma[i] + (beta ? beta[i] : 0.0f);
}

/* Also read by half.c. */
int ckpt_scalar_only = 0;

static int have_avx2(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached && !__atomic_load_n(&ckpt_scalar_only, __ATOMIC_RELAXED);
}

int ckpt_kernels_use_vectors(int enabled) {
    __atomic_store_n(&ckpt_scalar_only, !enabled, __ATOMIC_RELAXED);
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && enabled;
}
#else
static int have_avx2(void) { return 0; }
int ckpt_kernels_use_vectors(int enabled) { (void)enabled; return 0; }
static void gelu_avx2(float *x, size_t count) { (void)x; (void)count; }
static void softmax_avx2(float *row, const uint8_t *allowed, size_t cols, float scale) {
    (void)row; (void)allowed; (void)cols; (void)scale;
}
static void layer_norm_avx2(float *x, const float *residual, const float *gamma, const float *beta, size_t cols,
                            float epsilon, int zero_mean) {
    (void)x; (void)residual; (void)gamma; (void)beta; (void)cols; (void)epsilon; (void)zero_mean;
}
#endif

void ckpt_gelu_erf(float *x, size_t count) {
    if (have_avx2()) { gelu_avx2(x, count); return; }
    for (size_t i = 0; i < count; i++) x[i] = gelu_scalar(x[i]);
}

static void softmax_scalar(float *row, const uint8_t *allowed, size_t cols, float scale) {
    float m = -INFINITY;
    for (size_t i = 0; i < cols; i++) {
        row[i] = allowed[i] ? row[i] * scale : -INFINITY;
        if (row[i] > m) m = row[i];
    }
    if (m == -INFINITY) {
        for (size_t i = 0; i < cols; i++) row[i] = 0;
        return;
    }
    float sum = 0;
    for (size_t i = 0; i < cols; i++) {
        row[i] = row[i] == -INFINITY ? 0 : expf(row[i] - m);
        sum += row[i];
    }
    for (size_t i = 0; i < cols; i++) row[i] /= sum;
}

void ckpt_masked_softmax(float *x, const uint8_t *allowed, size_t rows, size_t cols, float scale) {
    int vector = have_avx2();
    for (size_t r = 0; r < rows; r++) {
        if (vector) softmax_avx2(x + r * cols, allowed + r * cols, cols, scale);
        else softmax_scalar(x + r * cols, allowed + r * cols, cols, scale);
    }
}

static void layer_norm_scalar(float *x, const float *residual, const float *gamma, const float *beta, size_t cols,
                              float epsilon, int zero_mean) {
    float mean = 0;
    for (size_t i = 0; i < cols; i++) {
        if (residual) x[i] += residual[i];
        mean += x[i];
    }
    mean = zero_mean ? mean / (float)cols : 0.0f;
    float variance = 0;
    for (size_t i = 0; i < cols; i++) { float d = x[i] - mean; variance += d * d; }
    float inv = 1.0f / sqrtf(variance / (float)cols + epsilon);
    for (size_t i = 0; i < cols; i++) x[i] = (x[i] - mean) * inv * gamma[i] + (beta ? beta[i] : 0.0f);
}

void ckpt_layer_norm(float *x, const float *residual, const float *gamma, const float *beta, size_t rows, size_t cols,
                     float epsilon, int zero_mean) {
    int vector = have_avx2();
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * cols;
        const float *res = residual ? residual + r * cols : 0;
        if (vector) layer_norm_avx2(row, res, gamma, beta, cols, epsilon, zero_mean);
        else layer_norm_scalar(row, res, gamma, beta, cols, epsilon, zero_mean);
    }
}
