// CRC32C (polynomial 0x82F63B78, reflected). Why C: the CRC32 instructions are reached through
// compiler intrinsics, which Swift cannot call; everything else about checksums lives in Swift.
#include "ckpt_crc32c.h"
#include <string.h>

static uint32_t table[8][256];
static int table_ready = 0;

static void build_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int s = 1; s < 8; s++) table[s][i] = (table[s - 1][i] >> 8) ^ table[0][table[s - 1][i] & 0xff];
    table_ready = 1;
}

static uint32_t extend_table(uint32_t crc, const uint8_t *p, size_t n) {
    if (!table_ready) build_table();
    crc = ~crc;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        v ^= crc;
        crc = table[7][v & 0xff] ^ table[6][(v >> 8) & 0xff] ^ table[5][(v >> 16) & 0xff] ^
              table[4][(v >> 24) & 0xff] ^ table[3][(v >> 32) & 0xff] ^ table[2][(v >> 40) & 0xff] ^
              table[1][(v >> 48) & 0xff] ^ table[0][v >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
    return ~crc;
}

#if defined(__x86_64__)
#include <nmmintrin.h>

// The CRC32 instruction takes 3 cycles to give its result to the next, but can start one every
// cycle: one dependency chain reads 8 bytes per 3 cycles (~7.5 GB/s measured), which made the
// checksum, not the copy, the longer half of a 400 MB conversion. Long inputs therefore run as
// three chains over three consecutive blocks of STREAM bytes, joined by the linearity of CRCs:
// the register after block X0 X1 X2 is shift(shift(c0) ^ c1) ^ c2, where c0 continues the
// incoming CRC over X0, c1 and c2 start from 0 over X1 and X2, and shift(c) is c advanced over
// STREAM zero bytes: a linear map on 32 bits, applied through four 256-entry tables built once.
enum { STREAM = 8192 };

static uint32_t shift_table[4][256];
static int shift_ready = 0;

__attribute__((target("sse4.2")))
static uint32_t advance_over_zeros(uint32_t c) {
    uint64_t r = c;
    for (int i = 0; i < STREAM / 8; i++) r = _mm_crc32_u64(r, 0);
    return (uint32_t)r;
}

__attribute__((target("sse4.2")))
static void build_shift_table(void) {
    uint32_t basis[32];
    for (int i = 0; i < 32; i++) basis[i] = advance_over_zeros(1u << i);
    for (int b = 0; b < 4; b++)
        for (uint32_t v = 0; v < 256; v++) {
            uint32_t r = 0;
            for (int i = 0; i < 8; i++)
                if (v & (1u << i)) r ^= basis[8 * b + i];
            shift_table[b][v] = r;
        }
    __atomic_store_n(&shift_ready, 1, __ATOMIC_RELEASE);
}

static uint32_t shift(uint32_t c) {
    return shift_table[0][c & 0xff] ^ shift_table[1][(c >> 8) & 0xff] ^ shift_table[2][(c >> 16) & 0xff] ^
           shift_table[3][c >> 24];
}

__attribute__((target("sse4.2")))
static uint32_t extend_hw(uint32_t crc, const uint8_t *p, size_t n) {
    uint64_t c = ~crc;
    while (n && ((uintptr_t)p & 7)) { c = _mm_crc32_u8((uint32_t)c, *p++); n--; }
    if (n >= 3 * STREAM) {
        // Threads may race to build the table: each builds the same values.
        if (!__atomic_load_n(&shift_ready, __ATOMIC_ACQUIRE)) build_shift_table();
        while (n >= 3 * STREAM) {
            uint64_t c1 = 0, c2 = 0;
            for (size_t i = 0; i < STREAM; i += 8) {
                uint64_t v0, v1, v2;
                memcpy(&v0, p + i, 8);
                memcpy(&v1, p + STREAM + i, 8);
                memcpy(&v2, p + 2 * STREAM + i, 8);
                c = _mm_crc32_u64(c, v0);
                c1 = _mm_crc32_u64(c1, v1);
                c2 = _mm_crc32_u64(c2, v2);
            }
            c = shift(shift((uint32_t)c) ^ (uint32_t)c1) ^ (uint32_t)c2;
            p += 3 * STREAM;
            n -= 3 * STREAM;
        }
    }
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        n -= 8;
    }
    while (n--) c = _mm_crc32_u8((uint32_t)c, *p++);
    return ~(uint32_t)c;
}

static int hw_state = -1;
static int has_hw(void) {
    if (hw_state < 0) hw_state = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    return hw_state;
}
#elif defined(__aarch64__)
#include <arm_acle.h>
#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
#endif

__attribute__((target("crc")))
static uint32_t extend_hw(uint32_t crc, const uint8_t *p, size_t n) {
    uint32_t c = ~crc;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __crc32cd(c, v);
        p += 8;
        n -= 8;
    }
    while (n--) c = __crc32cb(c, *p++);
    return ~c;
}

static int hw_state = -1;
static int has_hw(void) {
#if defined(__APPLE__)
    return 1;
#elif defined(__linux__)
    if (hw_state < 0) hw_state = (getauxval(AT_HWCAP) & HWCAP_CRC32) ? 1 : 0;
    return hw_state;
#else
    return 0;
#endif
}
#else
static uint32_t extend_hw(uint32_t crc, const uint8_t *p, size_t n) { return extend_table(crc, p, n); }
static int has_hw(void) { return 0; }
#endif

uint32_t ckpt_crc32c_extend(uint32_t crc, const void *data, size_t n) {
    if (has_hw()) return extend_hw(crc, (const uint8_t *)data, n);
    return extend_table(crc, (const uint8_t *)data, n);
}

int ckpt_crc32c_is_hardware(void) { return has_hw(); }
