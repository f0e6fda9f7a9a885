#ifndef CKPT_CRC32C_H
#define CKPT_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/// Extends a CRC32C (Castagnoli) `crc` over `n` bytes at `data` (start with 0), as TensorFlow's
/// tsl::crc32c::Extend does. Uses the CPU's CRC32 instructions when present (SSE4.2 on x86_64,
/// the CRC extension on ARMv8), a slicing-by-8 table otherwise.
uint32_t ckpt_crc32c_extend(uint32_t crc, const void *data, size_t n);

/// 1 when the hardware path is in use, 0 for the table fallback (for benchmarks and tests).
int ckpt_crc32c_is_hardware(void);

/// Extends zlib's CRC-32 (`crc32(crc, data, n)`, start with 0) by carry-less multiplication where
/// the CPU has PCLMULQDQ; byte by byte otherwise — use zlib then (`ckpt_crc32_is_fast` says which).
uint32_t ckpt_crc32_extend(uint32_t crc, const void *data, size_t n);
int ckpt_crc32_is_fast(void);

#endif
