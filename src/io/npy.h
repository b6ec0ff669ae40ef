/* NumPy .npy files (format 1.0-3.0), float32 little-endian, C order. */
#ifndef CY_IO_NPY_H
#define CY_IO_NPY_H
#include <stdint.h>
#include "core/status.h"

#define CY_NPY_MAX_DIMS 8

typedef struct {
    float *data;   /* malloc'd */
    int ndim;
    int64_t shape[CY_NPY_MAX_DIMS];
    int64_t numel;
} cy_npy;

/* Reads a '<f4' C-order array; anything else is a clear CY_ERR_FORMAT. */
cy_status cy_npy_read(const char *path, cy_npy *out, cy_error *err);
cy_status cy_npy_write(const char *path, const float *data, int ndim,
                       const int64_t *shape, cy_error *err);
void cy_npy_free(cy_npy *a);

#endif
