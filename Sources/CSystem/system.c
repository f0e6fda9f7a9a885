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

/* ---- interrupts ---------------------------------------------------------------------------- */
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t progress_shown = 0;

void ckpt_interrupts_set_progress(int shown) { progress_shown = shown; }
static char *guard_work, *guard_final;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

static void *watch_interrupts(void *arg) {
    sigset_t *set = arg;
    int sig = 0;
    while (sigwait(set, &sig) != 0) {}
    pthread_mutex_lock(&guard_lock);
    const char *name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
    if (progress_shown) fputs("\r\033[K", stderr); /* the message replaces the progress line */
    if (guard_work) {
        /* The main thread may still be creating a file in the folder while it is removed (the
           folder then survives, not empty): remove again until it is gone, for up to a second. */
        nftw(guard_work, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        for (int tries = 0; tries < 200 && access(guard_work, F_OK) == 0; tries++) {
            usleep(5000);
            nftw(guard_work, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        }
        fprintf(stderr, "ckpt: interrupted (%s): nothing written to %s (unfinished output removed)\n", name,
                guard_final ? guard_final : guard_work);
    } else {
        fprintf(stderr, "ckpt: interrupted (%s)\n", name);
    }
    fflush(stderr);
    _exit(128 + sig);
}

void ckpt_interrupts_install(void) {
    static sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) return;
    signal(SIGXFSZ, SIG_IGN);
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&thread, &attr, watch_interrupts, &set) != 0) pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    pthread_attr_destroy(&attr);
}

void ckpt_interrupts_protect(const char *work, const char *final_path) {
    pthread_mutex_lock(&guard_lock);
    free(guard_work);
    free(guard_final);
    guard_work = work ? strdup(work) : NULL;
    guard_final = final_path ? strdup(final_path) : NULL;
    pthread_mutex_unlock(&guard_lock);
}

void ckpt_interrupts_begin_commit(void) { pthread_mutex_lock(&guard_lock); }

void ckpt_interrupts_end_commit(void) {
    free(guard_work);
    free(guard_final);
    guard_work = guard_final = NULL;
    pthread_mutex_unlock(&guard_lock);
}
