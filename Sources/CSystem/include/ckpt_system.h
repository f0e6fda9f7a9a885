#ifndef CKPT_SYSTEM_H
#define CKPT_SYSTEM_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// copy_file_range(2) from `in` at `*offset` (advanced) to `out` at its file position: glibc
/// declares it only under _GNU_SOURCE, which Swift's Glibc module does not define. Returns -1
/// with errno ENOSYS where the system has no such call.
ssize_t ckpt_copy_file_range(int in, int64_t *offset, int out, size_t length);

/// Reserves `length` bytes for `fd` (fallocate(2), mode 0) so large writes need no block
/// allocation on the way; -1 with errno where the file system cannot (callers ignore that).
int ckpt_preallocate(int fd, int64_t length);

/// Keeps freed heap memory for reuse instead of returning large blocks to the system (glibc
/// mallopt: mmap threshold and trim threshold raised), so a forward pass that allocates the same
/// activation sizes layer after layer does not page-fault them in again each time.
void ckpt_reuse_freed_memory(void);

/// Interrupts (SIGINT, SIGTERM, SIGHUP) are taken by one watcher thread instead of killing the
/// process mid-write: it removes the output's unfinished temporary folder (if one is registered),
/// prints one line and exits with 128 + the signal. Call first thing in main, before any thread
/// starts (threads inherit the blocked signals). Also ignores SIGXFSZ, so a write over the file
/// size limit fails with EFBIG (an error ckpt reports) instead of killing the process.
void ckpt_interrupts_install(void);

/// Registers the temporary folder to remove on an interrupt (`work`), and the output name for
/// the message (`final`); NULL clears.
void ckpt_interrupts_protect(const char *work, const char *final_path);

/// Held around the rename that commits an output: an interrupt then waits, and finds the
/// registration cleared by `ckpt_interrupts_end_commit`.
void ckpt_interrupts_begin_commit(void);
void ckpt_interrupts_end_commit(void);
/// Whether a progress line is on the terminal: the interrupt message then clears it first.
void ckpt_interrupts_set_progress(int shown);

#endif
