/* CRC-32 (zlib, gzip, zip: the reflected polynomial 0xEDB88320) by carry-less multiplication:
 * four 128-bit lanes folded 64 bytes at a time, then into one lane, then Barrett-reduced to 32
 * bits — the method of Intel's "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ"
 * (Gopal et al., 2009), with its published constants for this polynomial. zlib's own crc32 is
 * table-driven (~1.5 GB/s); this runs at memory speed, which a zip-stored PyTorch checkpoint's
 * per-entry check needs. */
#include "ckpt_crc32c.h"
#include <string.h>

static uint32_t table[256];
static int table_ready = 0;

static void build_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        table[i] = c;
    }
    __atomic_store_n(&table_ready, 1, __ATOMIC_RELEASE);
}

/* On the raw register (no pre/post inversion). */
static uint32_t bytewise(uint32_t c, const uint8_t *p, size_t n) {
    /* Threads may race to build the table: each builds the same values. */
    if (!__atomic_load_n(&table_ready, __ATOMIC_ACQUIRE)) build_table();
    while (n--) c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return c;
}

#if defined(__x86_64__)
#include <immintrin.h>

#define CLMUL __attribute__((target("pclmul,sse4.1")))

/* k1..k5: x^(4·128+32), x^(4·128−32), x^(128+32), x^(128−32), x^64 mod P, bit-reflected;
 * then P' (the polynomial) and μ (floor(x^64 / P)), reflected. */
CLMUL static uint32_t fold(uint32_t crc, const uint8_t *p, size_t n) {
    const __m128i k1k2 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);
    const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
    const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124);
    const __m128i poly = _mm_set_epi64x(0x1F7011641, 0x1DB710641);
    const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);
    __m128i x1 = _mm_loadu_si128((const __m128i *)p), x2 = _mm_loadu_si128((const __m128i *)(p + 16)),
            x3 = _mm_loadu_si128((const __m128i *)(p + 32)), x4 = _mm_loadu_si128((const __m128i *)(p + 48));
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
    p += 64;
    n -= 64;
    while (n >= 64) {
        __m128i y1 = _mm_clmulepi64_si128(x1, k1k2, 0x11), y2 = _mm_clmulepi64_si128(x2, k1k2, 0x11),
                y3 = _mm_clmulepi64_si128(x3, k1k2, 0x11), y4 = _mm_clmulepi64_si128(x4, k1k2, 0x11);
        x1 = _mm_clmulepi64_si128(x1, k1k2, 0x00);
        x2 = _mm_clmulepi64_si128(x2, k1k2, 0x00);
        x3 = _mm_clmulepi64_si128(x3, k1k2, 0x00);
        x4 = _mm_clmulepi64_si128(x4, k1k2, 0x00);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, y1), _mm_loadu_si128((const __m128i *)p));
        x2 = _mm_xor_si128(_mm_xor_si128(x2, y2), _mm_loadu_si128((const __m128i *)(p + 16)));
        x3 = _mm_xor_si128(_mm_xor_si128(x3, y3), _mm_loadu_si128((const __m128i *)(p + 32)));
        x4 = _mm_xor_si128(_mm_xor_si128(x4, y4), _mm_loadu_si128((const __m128i *)(p + 48)));
        p += 64;
        n -= 64;
    }
    /* Four lanes into one, then the remaining whole 16-byte blocks. */
    __m128i lanes[3] = {x2, x3, x4};
    for (int i = 0; i < 3; i++) {
        __m128i hi = _mm_clmulepi64_si128(x1, k3k4, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x00), hi), lanes[i]);
    }
    while (n >= 16) {
        __m128i hi = _mm_clmulepi64_si128(x1, k3k4, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x00), hi),
                           _mm_loadu_si128((const __m128i *)p));
        p += 16;
        n -= 16;
    }
    /* 128 → 64 bits (appending 32 zero bits), 64 → 32 by k5, then Barrett. */
    __m128i t = _mm_clmulepi64_si128(x1, k3k4, 0x10);
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), t);
    __m128i x2b = _mm_srli_si128(x1, 4);
    x1 = _mm_and_si128(x1, mask32);
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(x1, k5, 0x00), x2b);
    __m128i keep = x1;
    x1 = _mm_and_si128(x1, mask32);
    x1 = _mm_clmulepi64_si128(x1, poly, 0x10);
    x1 = _mm_and_si128(x1, mask32);
    x1 = _mm_clmulepi64_si128(x1, poly, 0x00);
    x1 = _mm_xor_si128(x1, keep);
    uint32_t c = (uint32_t)_mm_extract_epi32(x1, 1);
    return bytewise(c, p, n);
}

static int has_clmul(void) {
    static int state = -1;
    if (state < 0) {
        __builtin_cpu_init();
        state = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    }
    return state;
}
#else
static uint32_t fold(uint32_t crc, const uint8_t *p, size_t n) { return bytewise(crc, p, n); }
static int has_clmul(void) { return 0; }
#endif

int ckpt_crc32_is_fast(void) { return has_clmul(); }

uint32_t ckpt_crc32_extend(uint32_t crc, const void *data, size_t n) {
    const uint8_t *p = data;
    uint32_t c = ~crc;
    if (n >= 64 && has_clmul()) return ~fold(c, p, n);
    return ~bytewise(c, p, n);
}
