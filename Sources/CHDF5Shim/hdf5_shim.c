#include <hdf5.h>
#include "ckpt_hdf5.h"
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

/* The header's own declarations must agree with hdf5.h. */
_Static_assert(sizeof(hid_t) == 8 && sizeof(hsize_t) == 8 && sizeof(hssize_t) == 8, "HDF5 id and size types");
_Static_assert(CKPT_H5T_INTEGER == H5T_INTEGER && CKPT_H5T_FLOAT == H5T_FLOAT && CKPT_H5T_STRING == H5T_STRING
               && CKPT_H5T_ENUM == H5T_ENUM, "H5T_class_t values");
_Static_assert(CKPT_H5S_SCALAR == H5S_SCALAR && CKPT_H5D_ALLOC_TIME_EARLY == H5D_ALLOC_TIME_EARLY
               && CKPT_H5D_FILL_TIME_NEVER == H5D_FILL_TIME_NEVER && CKPT_H5T_STR_NULLPAD == H5T_STR_NULLPAD
               && CKPT_H5T_CSET_ASCII == H5T_CSET_ASCII && CKPT_H5F_SCOPE_LOCAL == H5F_SCOPE_LOCAL, "write-side enum values");
_Static_assert(sizeof(haddr_t) == 8, "haddr_t");
_Static_assert(CKPT_H5T_SGN_2 == H5T_SGN_2 && CKPT_H5T_DIR_ASCEND == H5T_DIR_ASCEND, "H5T sign and direction values");

/* Every libhdf5 function ckpt calls, with the header's types: C enums travel as int, which is
   their size and calling convention. Return type, name, parameters, arguments. */
#define HDF5_FUNCTIONS(X) \
    X(herr_t, H5open, (void), ()) \
    X(herr_t, H5get_libversion, (unsigned *major, unsigned *minor, unsigned *release), (major, minor, release)) \
    X(herr_t, H5Eset_auto2, (hid_t stack, void *func, void *data), (stack, func, data)) \
    X(hid_t, H5Fopen, (const char *name, unsigned flags, hid_t fapl), (name, flags, fapl)) \
    X(herr_t, H5Fclose, (hid_t id), (id)) \
    X(hid_t, H5Gopen2, (hid_t loc, const char *name, hid_t gapl), (loc, name, gapl)) \
    X(herr_t, H5Gclose, (hid_t id), (id)) \
    X(htri_t, H5Lexists, (hid_t loc, const char *name, hid_t lapl), (loc, name, lapl)) \
    X(htri_t, H5Aexists, (hid_t obj, const char *name), (obj, name)) \
    X(hid_t, H5Aopen, (hid_t obj, const char *name, hid_t aapl), (obj, name, aapl)) \
    X(herr_t, H5Aclose, (hid_t id), (id)) \
    X(hid_t, H5Aget_type, (hid_t attr), (attr)) \
    X(hid_t, H5Aget_space, (hid_t attr), (attr)) \
    X(herr_t, H5Aread, (hid_t attr, hid_t type, void *buf), (attr, type, buf)) \
    X(hid_t, H5Dopen2, (hid_t loc, const char *name, hid_t dapl), (loc, name, dapl)) \
    X(herr_t, H5Dclose, (hid_t id), (id)) \
    X(hid_t, H5Dget_type, (hid_t dset), (dset)) \
    X(hid_t, H5Dget_space, (hid_t dset), (dset)) \
    X(herr_t, H5Dread, (hid_t dset, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t plist, void *buf), \
      (dset, mem_type, mem_space, file_space, plist, buf)) \
    X(herr_t, H5Sclose, (hid_t id), (id)) \
    X(hssize_t, H5Sget_simple_extent_npoints, (hid_t space), (space)) \
    X(int, H5Sget_simple_extent_ndims, (hid_t space), (space)) \
    X(int, H5Sget_simple_extent_dims, (hid_t space, hsize_t *dims, hsize_t *maxdims), (space, dims, maxdims)) \
    X(hid_t, H5Tcopy, (hid_t type), (type)) \
    X(herr_t, H5Tclose, (hid_t id), (id)) \
    X(herr_t, H5Tset_size, (hid_t type, size_t size), (type, size)) \
    X(size_t, H5Tget_size, (hid_t type), (type)) \
    X(herr_t, H5Tset_cset, (hid_t type, int cset), (type, cset)) \
    X(int, H5Tget_cset, (hid_t type), (type)) \
    X(htri_t, H5Tis_variable_str, (hid_t type), (type)) \
    X(int, H5Tget_class, (hid_t type), (type)) \
    X(int, H5Tget_sign, (hid_t type), (type)) \
    X(hid_t, H5Tget_native_type, (hid_t type, int direction), (type, direction)) \
    X(herr_t, H5free_memory, (void *mem), (mem)) \
    X(hid_t, H5Fcreate, (const char *name, unsigned flags, hid_t fcpl, hid_t fapl), (name, flags, fcpl, fapl)) \
    X(hid_t, H5Gcreate2, (hid_t loc, const char *name, hid_t lcpl, hid_t gcpl, hid_t gapl), (loc, name, lcpl, gcpl, gapl)) \
    X(hid_t, H5Screate, (int type), (type)) \
    X(hid_t, H5Screate_simple, (int rank, const hsize_t *dims, const hsize_t *maxdims), (rank, dims, maxdims)) \
    X(hid_t, H5Acreate2, (hid_t loc, const char *name, hid_t type, hid_t space, hid_t acpl, hid_t aapl), \
      (loc, name, type, space, acpl, aapl)) \
    X(herr_t, H5Awrite, (hid_t attr, hid_t type, const void *buf), (attr, type, buf)) \
    X(hid_t, H5Pcreate, (hid_t cls), (cls)) \
    X(herr_t, H5Pclose, (hid_t id), (id)) \
    X(herr_t, H5Pset_alloc_time, (hid_t plist, int alloc_time), (plist, alloc_time)) \
    X(herr_t, H5Pset_fill_time, (hid_t plist, int fill_time), (plist, fill_time)) \
    X(hid_t, H5Dcreate2, (hid_t loc, const char *name, hid_t type, hid_t space, hid_t lcpl, hid_t dcpl, hid_t dapl), \
      (loc, name, type, space, lcpl, dcpl, dapl)) \
    X(haddr_t, H5Dget_offset, (hid_t dset), (dset)) \
    X(herr_t, H5Tset_strpad, (hid_t type, int strpad), (type, strpad)) \
    X(herr_t, H5Fflush, (hid_t id, int scope), (id, scope)) \
    X(herr_t, H5Pset_alignment, (hid_t fapl, hsize_t threshold, hsize_t alignment), (fapl, threshold, alignment))

#define DECLARE(ret, name, params, args) static ret(*p_##name) params;
HDF5_FUNCTIONS(DECLARE)

static hid_t *p_H5T_C_S1_g;
static void *library;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char failure[512];
static int loaded;

/* Crash guard: set while a call runs inside libhdf5. The messages are prepared when the file is
   named, so the signal handler and the watchdog only write(2) them. */
static volatile sig_atomic_t inside;
static int saved_stderr = -1, quiet_stderr = -1;

static int real_stderr(void) { return saved_stderr >= 0 ? saved_stderr : 2; }
static char crash_message[1200] = "ckpt: error: libhdf5 crashed reading a corrupt HDF5 file\n";
static char hang_message[1200] = "ckpt: error: libhdf5 stopped responding reading a corrupt HDF5 file\n";

static void on_crash(int sig) {
    if (inside) {
        (void)!write(real_stderr(), crash_message, strlen(crash_message));
        _exit(1);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void ckpt_h5_set_file(const char *path) {
    snprintf(crash_message, sizeof crash_message,
             "ckpt: error: %s: libhdf5 crashed reading it (corrupt or truncated HDF5 file)\n", path);
    snprintf(hang_message, sizeof hang_message,
             "ckpt: error: %s: libhdf5 stopped responding reading it (corrupt HDF5 file)\n", path);
}

/* Hang guard: libhdf5 1.10 can also loop forever on a corrupt file (H5Aread of a variable-length
   string whose global-heap collection points at itself). A call other than H5Dread (whose time
   grows with the data) that is still inside libhdf5 after this many seconds ends the process the
   same way. Metadata calls take milliseconds even on large files. */
#define METADATA_CALL_LIMIT_SECONDS 10
static volatile sig_atomic_t limited;
static volatile time_t call_started;

static void *watch_calls(void *arg) {
    (void)arg;
    for (;;) {
        sleep(1);
        if (inside && limited && time(NULL) - call_started > METADATA_CALL_LIMIT_SECONDS) {
            (void)!write(real_stderr(), hang_message, strlen(hang_message));
            _exit(1);
        }
    }
    return 0;
}

static void install_guard(void) {
    pthread_t watcher;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_create(&watcher, &attr, watch_calls, 0);
    pthread_attr_destroy(&attr);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_crash;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, 0);
    sigaction(SIGBUS, &sa, 0);
    sigaction(SIGFPE, &sa, 0);
    sigaction(SIGABRT, &sa, 0);  /* glibc aborts on heap damage libhdf5 caused */
}

static void load(void) {
    /* Debian's libhdf5-103 names first, then the generic ones. */
    const char *names[] = {"libhdf5_serial.so.103", "libhdf5_serial.so", "libhdf5.so.103", "libhdf5.so.200",
                           "libhdf5.so.310", "libhdf5.so"};
    void *h = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !h; i++) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(failure, sizeof failure, "cannot load libhdf5: %s", dlerror());
        return;
    }
#define RESOLVE(ret, name, params, args) \
    if (!(p_##name = (ret(*) params)dlsym(h, #name))) { \
        snprintf(failure, sizeof failure, "libhdf5 has no %s", #name); \
        return; \
    }
    HDF5_FUNCTIONS(RESOLVE)
    library = h;
    if (!(p_H5T_C_S1_g = (hid_t *)dlsym(h, "H5T_C_S1_g"))) {
        snprintf(failure, sizeof failure, "libhdf5 has no H5T_C_S1_g");
        return;
    }
    p_H5open(); /* sets the predefined type ids such as H5T_C_S1_g */
    p_H5Eset_auto2(H5E_DEFAULT, 0, 0); /* no error stacks on stderr: ckpt reports one line */
    /* While a call is inside libhdf5, stderr is /dev/null: on heap damage libhdf5 did, glibc
       prints "free(): invalid pointer" before aborting, which would make a second line. The
       guards write to the real stderr, kept here. */
    saved_stderr = fcntl(2, F_DUPFD_CLOEXEC, 3);
    quiet_stderr = open("/dev/null", O_WRONLY | O_CLOEXEC);
    install_guard();
    loaded = 1;
}

int ckpt_h5_load(char *error, size_t size) {
    pthread_once(&once, load);
    if (loaded) return 0;
    if (error && size) snprintf(error, size, "%s", failure);
    return -1;
}

/* Values of HDF5's flag macros; H5T_C_S1 is a library global read after H5open(). */
hid_t ckpt_h5p_default(void) { return H5P_DEFAULT; }
unsigned ckpt_h5f_acc_rdonly(void) { return 0x0000u; /* H5F_ACC_RDONLY */ }
hid_t ckpt_h5t_c_s1(void) { return *p_H5T_C_S1_g; }
unsigned ckpt_h5f_acc_excl(void) { return 0x0004u; /* H5F_ACC_EXCL */ }

hid_t ckpt_h5_global(const char *symbol) {
    const hid_t *p = library ? (const hid_t *)dlsym(library, symbol) : 0;
    return p ? *p : -1;
}
hid_t ckpt_h5s_all(void) { return H5S_ALL; }
size_t ckpt_h5t_variable(void) { return H5T_VARIABLE; }

/* Memory guard: a corrupt variable-length string can claim gigabytes, and libhdf5 1.10 allocates
   its conversion buffer before looking (H5T__conv_vlen: 4 GB for a 100 KB file, found by the
   fuzzer). A metadata call runs with the address space capped at what the process maps now plus
   1 GiB, so such an allocation fails inside libhdf5, which then reports an error, and ckpt a line. */
typedef struct { int set; struct rlimit old; } cap_t;

static int cap_disabled;

void ckpt_h5_disable_memory_cap(void) { cap_disabled = 1; }

static cap_t cap_address_space(void) {
    cap_t c = {0};
    if (cap_disabled) return c;
#if defined(__linux__)
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return c;
    int ok = fscanf(f, "%lu", &pages) == 1;
    fclose(f);
    if (!ok || getrlimit(RLIMIT_AS, &c.old) != 0) return c;
    rlim_t want = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)1 << 30);
    if (c.old.rlim_cur != RLIM_INFINITY && c.old.rlim_cur <= want) return c;
    if (c.old.rlim_max != RLIM_INFINITY && want > c.old.rlim_max) return c;
    struct rlimit capped = {want, c.old.rlim_max};
    c.set = setrlimit(RLIMIT_AS, &capped) == 0;
#endif
    return c;
}

static void uncap_address_space(cap_t c) {
    if (c.set) setrlimit(RLIMIT_AS, &c.old);
}

#define WRAP(ret, name, params, args) \
    ret ckpt_##name params { \
        int metadata = strcmp(#name, "H5Dread") != 0; \
        cap_t cap = {0}; \
        if (metadata) cap = cap_address_space(); \
        call_started = time(NULL); \
        limited = metadata; \
        int quiet = saved_stderr >= 0 && quiet_stderr >= 0 && dup2(quiet_stderr, 2) == 2; \
        inside = 1; \
        ret result = p_##name args; \
        inside = 0; \
        if (quiet) dup2(saved_stderr, 2); \
        uncap_address_space(cap); \
        return result; \
    }
HDF5_FUNCTIONS(WRAP)

void ckpt_hdf5_version(unsigned *major, unsigned *minor, unsigned *release) {
    *major = *minor = *release = 0;
    if (ckpt_h5_load(NULL, 0) == 0 && ckpt_H5get_libversion(major, minor, release) < 0) *major = *minor = *release = 0;
}
