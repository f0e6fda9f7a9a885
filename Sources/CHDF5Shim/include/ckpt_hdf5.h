#ifndef CKPT_HDF5_H
#define CKPT_HDF5_H
// libhdf5 through one narrow door:
// - HDF5 spells its predefined types and flags as macros over global variables (H5T_NATIVE_*,
//   H5T_C_S1, H5F_ACC_RDONLY); Swift cannot import those, so functions return them.
// - libhdf5 is loaded with dlopen on first use, not at process start: it pulls in curl, gnutls,
//   krb5 and some thirty other libraries, which every command (even `inspect` of a TF bundle)
//   would otherwise pay for.
// This header does not include hdf5.h (Swift would need its include path everywhere): it
// declares the few types and constants it needs, checked against hdf5.h in hdf5_shim.c.
#include <stddef.h>
#include <stdint.h>

typedef int64_t hid_t;
typedef int herr_t;
typedef int htri_t;
typedef long long hssize_t;
typedef unsigned long long hsize_t;
typedef uint64_t haddr_t;

/// H5T_class_t, H5T_sign_t, H5T_cset_t, H5T_direction_t values ckpt uses.
enum {
    CKPT_H5T_INTEGER = 0, CKPT_H5T_FLOAT = 1, CKPT_H5T_STRING = 3, CKPT_H5T_ENUM = 8,
    CKPT_H5T_SGN_2 = 1, CKPT_H5T_DIR_ASCEND = 1,
    CKPT_H5S_SCALAR = 0, CKPT_H5D_ALLOC_TIME_EARLY = 1, CKPT_H5D_FILL_TIME_NEVER = 1, CKPT_H5T_STR_NULLPAD = 1,
    CKPT_H5T_CSET_ASCII = 0, CKPT_H5F_SCOPE_LOCAL = 0,
};

/// Loads libhdf5; 0 on success, else -1 with the reason in `error` (capacity `size`).
int ckpt_h5_load(char *error, size_t size);

/// Names the file the next calls read. libhdf5 1.10 can crash (SIGSEGV in its heap readers) on
/// corrupt files instead of returning an error; while a call is inside libhdf5, such a signal
/// ends the process with `ckpt: error: FILE: ...` on stderr and exit status 1, not a crash.
void ckpt_h5_set_file(const char *path);

/// Turns off the address-space cap around metadata calls: under AddressSanitizer (the fuzz
/// build), whose shadow memory the cap would starve; libFuzzer's allocation limit takes its place.
void ckpt_h5_disable_memory_cap(void);

hid_t ckpt_h5p_default(void);
unsigned ckpt_h5f_acc_rdonly(void);
hid_t ckpt_h5t_c_s1(void);
unsigned ckpt_h5f_acc_excl(void);
/// A library global id by symbol name, e.g. "H5T_IEEE_F32LE_g", "H5P_CLS_DATASET_CREATE_ID_g"; -1 if absent.
hid_t ckpt_h5_global(const char *symbol);
hid_t ckpt_h5s_all(void);
size_t ckpt_h5t_variable(void);

hid_t ckpt_H5Fopen(const char *name, unsigned flags, hid_t fapl);
/// The libhdf5 in use (H5get_libversion): major, minor, release.
void ckpt_hdf5_version(unsigned *major, unsigned *minor, unsigned *release);
herr_t ckpt_H5Fclose(hid_t id);
hid_t ckpt_H5Gopen2(hid_t loc, const char *name, hid_t gapl);
herr_t ckpt_H5Gclose(hid_t id);
htri_t ckpt_H5Lexists(hid_t loc, const char *name, hid_t lapl);
htri_t ckpt_H5Aexists(hid_t obj, const char *name);
hid_t ckpt_H5Aopen(hid_t obj, const char *name, hid_t aapl);
herr_t ckpt_H5Aclose(hid_t id);
hid_t ckpt_H5Aget_type(hid_t attr);
hid_t ckpt_H5Aget_space(hid_t attr);
herr_t ckpt_H5Aread(hid_t attr, hid_t type, void *buf);
hid_t ckpt_H5Dopen2(hid_t loc, const char *name, hid_t dapl);
herr_t ckpt_H5Dclose(hid_t id);
hid_t ckpt_H5Dget_type(hid_t dset);
hid_t ckpt_H5Dget_space(hid_t dset);
herr_t ckpt_H5Dread(hid_t dset, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t plist, void *buf);
herr_t ckpt_H5Sclose(hid_t id);
hssize_t ckpt_H5Sget_simple_extent_npoints(hid_t space);
int ckpt_H5Sget_simple_extent_ndims(hid_t space);
int ckpt_H5Sget_simple_extent_dims(hid_t space, hsize_t *dims, hsize_t *maxdims);
hid_t ckpt_H5Tcopy(hid_t type);
herr_t ckpt_H5Tclose(hid_t id);
herr_t ckpt_H5Tset_size(hid_t type, size_t size);
size_t ckpt_H5Tget_size(hid_t type);
herr_t ckpt_H5Tset_cset(hid_t type, int cset);
int ckpt_H5Tget_cset(hid_t type);
htri_t ckpt_H5Tis_variable_str(hid_t type);
int ckpt_H5Tget_class(hid_t type);
int ckpt_H5Tget_sign(hid_t type);
hid_t ckpt_H5Tget_native_type(hid_t type, int direction);
herr_t ckpt_H5free_memory(void *mem);
hid_t ckpt_H5Fcreate(const char *name, unsigned flags, hid_t fcpl, hid_t fapl);
hid_t ckpt_H5Gcreate2(hid_t loc, const char *name, hid_t lcpl, hid_t gcpl, hid_t gapl);
hid_t ckpt_H5Screate(int type);
hid_t ckpt_H5Screate_simple(int rank, const hsize_t *dims, const hsize_t *maxdims);
hid_t ckpt_H5Acreate2(hid_t loc, const char *name, hid_t type, hid_t space, hid_t acpl, hid_t aapl);
herr_t ckpt_H5Awrite(hid_t attr, hid_t type, const void *buf);
hid_t ckpt_H5Pcreate(hid_t cls);
herr_t ckpt_H5Pclose(hid_t id);
herr_t ckpt_H5Pset_alloc_time(hid_t plist, int alloc_time);
herr_t ckpt_H5Pset_fill_time(hid_t plist, int fill_time);
hid_t ckpt_H5Dcreate2(hid_t loc, const char *name, hid_t type, hid_t space, hid_t lcpl, hid_t dcpl, hid_t dapl);
haddr_t ckpt_H5Dget_offset(hid_t dset);
herr_t ckpt_H5Tset_strpad(hid_t type, int strpad);
herr_t ckpt_H5Fflush(hid_t id, int scope);
herr_t ckpt_H5Pset_alignment(hid_t fapl, hsize_t threshold, hsize_t alignment);

#endif
