#define _GNU_SOURCE
#include "ckpt_system.h"
#include <errno.h>
#include <fcntl.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <unistd.h>

ssize_t ckpt_copy_file_range(int in, int64_t *offset, int out, size_t length) {
#if defined(__linux__)
    loff_t off = (loff_t)*offset;
    ssize_t n = copy_file_range(in, &off, out, NULL, length, 0);
    if (n > 0) *offset = (int64_t)off;
    return n;
#else
    (void)in; (void)offset; (void)out; (void)length;
    errno = ENOSYS;
    return -1;
#endif
}

int ckpt_preallocate(int fd, int64_t length) {
#if defined(__linux__)
    return fallocate(fd, 0, 0, (off_t)length);
#else
    (void)fd; (void)length;
    errno = ENOSYS;
    return -1;
#endif
}

void ckpt_reuse_freed_memory(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 256 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);
#endif
}
