#ifndef CKPT_HDF5_H
#define CKPT_HDF5_H
// HDF5 spells its predefined types and flags as macros that expand to global variables behind
// H5open() (e.g. H5T_NATIVE_FLOAT is `(H5OPEN H5T_NATIVE_FLOAT_g)`); Swift cannot import those.
// Each function here returns one such value; nothing else belongs in this file.
#include <hdf5.h>

hid_t ckpt_h5p_default(void);
unsigned ckpt_h5f_acc_rdonly(void);
hid_t ckpt_h5t_c_s1(void);
hid_t ckpt_h5s_all(void);
size_t ckpt_h5t_variable(void);
/// Turns off HDF5's printing of its error stack to stderr: ckpt reports its own one-line errors.
void ckpt_h5_silence_errors(void);

#endif
