#include "ckpt_kernels.h"
#include <stdint.h>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

enum { TILE = 64 };

static void tile_scalar(const uint32_t *s, uint32_t *d, size_t rows, size_t cols, size_t r0, size_t r1, size_t c0, size_t c1) {
    for (size_t r = r0; r < r1; r++)
        for (size_t c = c0; c < c1; c++) d[c * rows + r] = s[r * cols + c];
}

void ckpt_transpose32(const void *src, void *dst, size_t rows, size_t cols) {
    const uint32_t *s = src;
    uint32_t *d = dst;
    for (size_t r0 = 0; r0 < rows; r0 += TILE) {
        size_t r1 = r0 + TILE < rows ? r0 + TILE : rows;
        for (size_t c0 = 0; c0 < cols; c0 += TILE) {
            size_t c1 = c0 + TILE < cols ? c0 + TILE : cols;
#if defined(__x86_64__)
            /* 4 × 4 blocks in registers; the ragged edges of the tile element by element. */
            size_t r4 = r0 + (r1 - r0) / 4 * 4, c4 = c0 + (c1 - c0) / 4 * 4;
            for (size_t r = r0; r < r4; r += 4) {
                for (size_t c = c0; c < c4; c += 4) {
                    __m128 a = _mm_loadu_ps((const float *)(s + r * cols + c));
                    __m128 b = _mm_loadu_ps((const float *)(s + (r + 1) * cols + c));
                    __m128 e = _mm_loadu_ps((const float *)(s + (r + 2) * cols + c));
                    __m128 f = _mm_loadu_ps((const float *)(s + (r + 3) * cols + c));
                    _MM_TRANSPOSE4_PS(a, b, e, f);
                    _mm_storeu_ps((float *)(d + c * rows + r), a);
                    _mm_storeu_ps((float *)(d + (c + 1) * rows + r), b);
                    _mm_storeu_ps((float *)(d + (c + 2) * rows + r), e);
                    _mm_storeu_ps((float *)(d + (c + 3) * rows + r), f);
                }
            }
            tile_scalar(s, d, rows, cols, r0, r4, c4, c1);
            tile_scalar(s, d, rows, cols, r4, r1, c0, c1);
#else
            tile_scalar(s, d, rows, cols, r0, r1, c0, c1);
#endif
        }
    }
}
