// HDF5 for Swift. The library's predefined types, property-list classes and flags are
// macros over global ids (`(H5OPEN H5T_NATIVE_DOUBLE_g)`) or casts, which Swift does not
// import: each is wrapped in a static inline function of the same meaning.
#include <hdf5.h>

static inline hid_t wgf_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t wgf_H5S_ALL(void) { return H5S_ALL; }
static inline hid_t wgf_H5E_DEFAULT(void) { return H5E_DEFAULT; }
static inline hsize_t wgf_H5S_UNLIMITED(void) { return H5S_UNLIMITED; }

static inline unsigned wgf_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned wgf_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
static inline unsigned wgf_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }

static inline hid_t wgf_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
static inline hid_t wgf_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t wgf_H5P_GROUP_CREATE(void) { return H5P_GROUP_CREATE; }
static inline unsigned wgf_H5P_CRT_ORDER_TRACKED_INDEXED(void) { return H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED; }

static inline hid_t wgf_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t wgf_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t wgf_H5T_NATIVE_INT(void) { return H5T_NATIVE_INT; }
static inline hid_t wgf_H5T_IEEE_F64LE(void) { return H5T_IEEE_F64LE; }
static inline hid_t wgf_H5T_STD_I64LE(void) { return H5T_STD_I64LE; }
static inline hid_t wgf_H5T_STD_I32LE(void) { return H5T_STD_I32LE; }
static inline hid_t wgf_H5T_C_S1(void) { return H5T_C_S1; }
static inline unsigned wgf_H5F_ACC_SWMR_READ(void) { return H5F_ACC_SWMR_READ; }
static inline H5F_libver_t wgf_H5F_LIBVER_LATEST(void) { return H5F_LIBVER_LATEST; }
