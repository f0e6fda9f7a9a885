#include "ckpt_kernels.h"
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* float32 <-> float16 / bfloat16, round to nearest even (NumPy's astype, ml_dtypes, ggml). A
 * per-element Swift loop through Float16 costs ~1 ns an element without F16C in the build's
 * baseline, which made a float16 GGUF of BERT-base take 5x a copy; here 8 lanes go at once
 * through F16C where the CPU has it (checked at run time), and the scalar paths are exact. */

extern int ckpt_scalar_only;

static inline uint32_t bits_of(float x) {
    uint32_t b;
    memcpy(&b, &x, 4);
    return b;
}

static inline float float_of(uint32_t b) {
    float x;
    memcpy(&x, &b, 4);
    return x;
}

/* IEEE binary32 -> binary16, round to nearest even; NaN stays a quiet NaN with its top payload. */
static uint16_t f32_to_f16_scalar(float x) {
    uint32_t b = bits_of(x);
    uint16_t sign = (uint16_t)((b >> 16) & 0x8000u);
    uint32_t abs = b & 0x7fffffffu;
    if (abs >= 0x7f800000u) { /* inf or NaN */
        if (abs == 0x7f800000u) return sign | 0x7c00u;
        return sign | 0x7e00u | (uint16_t)((abs >> 13) & 0x3ffu);
    }
    if (abs >= 0x477ff000u) return sign | 0x7c00u; /* rounds to >= 65520: infinity */
    if (abs < 0x38800000u) {                       /* below the smallest normal half: subnormal or 0 */
        if (abs < 0x33000000u) return sign;         /* below half the smallest subnormal: 0 */
        uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
        int shift = 126 - (int)(abs >> 23); /* 14..24 */
        uint32_t half = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1u), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1u))) half++;
        return sign | (uint16_t)half;
    }
    uint32_t h = ((abs - 0x38000000u) >> 13); /* rebias the exponent, drop 13 bits */
    uint32_t rem = abs & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++;
    return sign | (uint16_t)h;
}

static float f16_to_f32_scalar(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    if (exp == 0x1fu) return float_of(sign | 0x7f800000u | (mant << 13));
    if (exp == 0) {
        if (mant == 0) return float_of(sign);
        float v = (float)mant * (1.0f / 16777216.0f); /* mant · 2^-24, exact */
        return sign ? -v : v;
    }
    return float_of(sign | ((exp + 112u) << 23) | (mant << 13));
}

#if defined(__x86_64__)
#define F16C __attribute__((target("avx,f16c")))

static int have_f16c(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
    }
    return cached && !__atomic_load_n(&ckpt_scalar_only, __ATOMIC_RELAXED);
}

F16C static size_t f32_to_f16_f16c(const float *src, uint16_t *dst, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(dst + i), h);
    }
    return i;
}

F16C static size_t f16_to_f32_f16c(const uint16_t *src, float *dst, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    }
    return i;
}
#else
static int have_f16c(void) { return 0; }
static size_t f32_to_f16_f16c(const float *src, uint16_t *dst, size_t count) { (void)src; (void)dst; (void)count; return 0; }
static size_t f16_to_f32_f16c(const uint16_t *src, float *dst, size_t count) { (void)src; (void)dst; (void)count; return 0; }
#endif

void ckpt_f32_to_f16(const void *src, void *dst, size_t count) {
    const float *s = src;
    uint16_t *d = dst;
    size_t i = 0;
    /* F16C quiets a signalling NaN as the scalar path does; both keep the top payload bits. */
    if (have_f16c()) i = f32_to_f16_f16c(s, d, count);
    for (; i < count; i++) {
        float x;
        memcpy(&x, s + i, 4);
        uint16_t h = f32_to_f16_scalar(x);
        memcpy(d + i, &h, 2);
    }
}

void ckpt_f16_to_f32(const void *src, void *dst, size_t count) {
    const uint16_t *s = src;
    float *d = dst;
    size_t i = 0;
    if (have_f16c()) i = f16_to_f32_f16c(s, d, count);
    for (; i < count; i++) {
        uint16_t h;
        memcpy(&h, s + i, 2);
        float x = f16_to_f32_scalar(h);
        memcpy(d + i, &x, 4);
    }
}

void ckpt_f32_to_bf16(const void *src, void *dst, size_t count) {
    const unsigned char *s = src;
    unsigned char *d = dst;
    for (size_t i = 0; i < count; i++) {
        uint32_t b;
        memcpy(&b, s + 4 * i, 4);
        uint16_t h;
        if ((b & 0x7fffffffu) > 0x7f800000u) {
            h = (uint16_t)((b >> 16) | 0x40u); /* NaN stays a (quiet) NaN */
        } else {
            h = (uint16_t)((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
        }
        memcpy(d + 2 * i, &h, 2);
    }
}

void ckpt_bf16_to_f32(const void *src, void *dst, size_t count) {
    const unsigned char *s = src;
    unsigned char *d = dst;
    for (size_t i = 0; i < count; i++) {
        uint16_t h;
        memcpy(&h, s + 2 * i, 2);
        uint32_t b = (uint32_t)h << 16;
        memcpy(d + 4 * i, &b, 4);
    }
}
