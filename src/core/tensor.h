/* Activation tensors: 4-D float32, shape always given as (n, c, h, w); the
 * memory layout (NCHW or NHWC) belongs to the backend that produced it. */
#ifndef CY_CORE_TENSOR_H
#define CY_CORE_TENSOR_H
#include <stddef.h>
#include <stdint.h>

typedef enum { CY_LAYOUT_NCHW = 0, CY_LAYOUT_NHWC = 1 } cy_layout;

typedef struct {
    int n, c, h, w;
} cy_shape;

typedef struct {
    float *data;
    cy_shape s;
} cy_tensor;

static inline size_t cy_shape_numel(cy_shape s) {
    return (size_t)s.n * (size_t)s.c * (size_t)s.h * (size_t)s.w;
}

/* Layout conversion between the reference (NCHW) and fast (NHWC) layouts. */
void cy_nchw_to_nhwc(float *dst, const float *src, cy_shape s);
void cy_nhwc_to_nchw(float *dst, const float *src, cy_shape s);

#endif
