#include "ckpt_hdf5.h"

hid_t ckpt_h5p_default(void) { return H5P_DEFAULT; }
unsigned ckpt_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
hid_t ckpt_h5t_c_s1(void) { return H5T_C_S1; }
void ckpt_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
hid_t ckpt_h5s_all(void) { return H5S_ALL; }
size_t ckpt_h5t_variable(void) { return H5T_VARIABLE; }
