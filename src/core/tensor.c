#include "core/tensor.h"

void cy_nchw_to_nhwc(float *dst, const float *src, cy_shape s) {
    size_t hw = (size_t)s.h * s.w;
    for (int n = 0; n < s.n; n++) {
        const float *sn = src + (size_t)n * s.c * hw;
        float *dn = dst + (size_t)n * s.c * hw;
        for (int c = 0; c < s.c; c++)
            for (size_t p = 0; p < hw; p++) dn[p * s.c + c] = sn[(size_t)c * hw + p];
    }
}

void cy_nhwc_to_nchw(float *dst, const float *src, cy_shape s) {
    size_t hw = (size_t)s.h * s.w;
    for (int n = 0; n < s.n; n++) {
        const float *sn = src + (size_t)n * s.c * hw;
        float *dn = dst + (size_t)n * s.c * hw;
        for (size_t p = 0; p < hw; p++)
            for (int c = 0; c < s.c; c++) dn[(size_t)c * hw + p] = sn[p * s.c + c];
    }
}
