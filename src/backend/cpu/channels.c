/* cpu channel concat and slicing on NHWC: per pixel, contiguous channel
 * rows are copied into place. */
#include "backend/cpu/cpu.h"
#include "backend/ref/check.h"

/* Channel rows are short (8-64 floats): an inlined vector loop beats a
 * memcpy call per row. */
static inline void copy_row(float *restrict y, const float *restrict x, int n) {
#pragma omp simd
    for (int i = 0; i < n; i++) y[i] = x[i];
}

cy_status cpu_concat(cy_backend *b, const cy_tensor *const *in, int n,
                     cy_tensor *out, cy_error *err) {
    const cpu_impl *c = cpu_of(b);
    CY_TRY(cy_check_concat(in, n, out, err));
    const long px = (long)out->s.n * out->s.h * out->s.w;
    const int OC = out->s.c;
#pragma omp parallel for num_threads(c->threads) if (px * OC > 16384)
    for (long i = 0; i < px; i++) {
        float *y = out->data + (size_t)i * OC;
        for (int t = 0; t < n; t++) {
            const int ci = in[t]->s.c;
            copy_row(y, in[t]->data + (size_t)i * ci, ci);
            y += ci;
        }
    }
    return CY_OK;
}

cy_status cpu_slice_channels(cy_backend *b, const cy_tensor *in, cy_tensor *out,
                             int groups, int group_stride, int offset, int len,
                             cy_error *err) {
    const cpu_impl *c = cpu_of(b);
    CY_TRY(cy_check_slice(in, out, groups, group_stride, offset, len, err));
    const long px = (long)in->s.n * in->s.h * in->s.w;
    const int IC = in->s.c, OC = out->s.c;
#pragma omp parallel for num_threads(c->threads) if (px * OC > 16384)
    for (long i = 0; i < px; i++) {
        const float *x = in->data + (size_t)i * IC + offset;
        float *y = out->data + (size_t)i * OC;
        for (int g = 0; g < groups; g++)
            copy_row(y + (size_t)g * len, x + (size_t)g * group_stride, len);
    }
    return CY_OK;
}

/* The adjoint of slice_channels, per pixel: din channel
 * g*group_stride + offset + j += dout channel g*len + j. */
cy_status cpu_slice_channels_backward(cy_backend *b, const cy_tensor *dout,
                                      cy_tensor *din, int groups, int group_stride,
                                      int offset, int len, cy_error *err) {
    const cpu_impl *c = cpu_of(b);
    CY_TRY(cy_check_slice_backward(dout, din, groups, group_stride, offset, len, err));
    if (!din) return CY_OK;
    const long px = (long)din->s.n * din->s.h * din->s.w;
    const int IC = din->s.c, OC = dout->s.c;
#pragma omp parallel for num_threads(c->threads) if (px * OC > 16384)
    for (long i = 0; i < px; i++) {
        float *x = din->data + (size_t)i * IC + offset;
        const float *y = dout->data + (size_t)i * OC;
        for (int g = 0; g < groups; g++) {
            float *xg = x + (size_t)g * group_stride;
            const float *yg = y + (size_t)g * len;
#pragma omp simd
            for (int j = 0; j < len; j++) xg[j] += yg[j];
        }
    }
    return CY_OK;
}
