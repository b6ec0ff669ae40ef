/* Reference channel concat and channel slicing (NCHW). */
#include <string.h>
#include "backend/ref/check.h"
#include "backend/ref/ref.h"

cy_status ref_concat(cy_backend *b, const cy_tensor *const *in, int n,
                     cy_tensor *out, cy_error *err) {
    CY_TRY(cy_check_concat(in, n, out, err));
    const size_t hw = (size_t)out->s.h * out->s.w;
    for (int bn = 0; bn < out->s.n; bn++) {
        int c0 = 0;
        for (int i = 0; i < n; i++) {
            const int c = in[i]->s.c;
            memcpy(out->data + ((size_t)bn * out->s.c + c0) * hw,
                   in[i]->data + (size_t)bn * c * hw, (size_t)c * hw * sizeof(float));
            c0 += c;
        }
    }
    return CY_OK;
}

cy_status ref_slice_channels(cy_backend *b, const cy_tensor *in, cy_tensor *out,
                             int groups, int group_stride, int offset, int len,
                             cy_error *err) {
    CY_TRY(cy_check_slice(in, out, groups, group_stride, offset, len, err));
    const size_t hw = (size_t)in->s.h * in->s.w;
    for (int n = 0; n < in->s.n; n++)
        for (int g = 0; g < groups; g++)
            for (int j = 0; j < len; j++)
                memcpy(out->data + ((size_t)n * out->s.c + (size_t)g * len + j) * hw,
                       in->data + ((size_t)n * in->s.c + (size_t)g * group_stride +
                                   offset + j) * hw,
                       hw * sizeof(float));
    return CY_OK;
}

/* The adjoint of slice_channels: din channel g*group_stride + offset + j +=
 * dout channel g*len + j (overlapping groups add up). */
cy_status ref_slice_channels_backward(cy_backend *b, const cy_tensor *dout,
                                      cy_tensor *din, int groups, int group_stride,
                                      int offset, int len, cy_error *err) {
    CY_TRY(cy_check_slice_backward(dout, din, groups, group_stride, offset, len, err));
    if (!din) return CY_OK;
    const size_t hw = (size_t)din->s.h * din->s.w;
    for (int n = 0; n < din->s.n; n++)
        for (int g = 0; g < groups; g++)
            for (int j = 0; j < len; j++) {
                const float *dy =
                    dout->data + ((size_t)n * dout->s.c + (size_t)g * len + j) * hw;
                float *dx = din->data + ((size_t)n * din->s.c + (size_t)g * group_stride +
                                         offset + j) * hw;
                for (size_t i = 0; i < hw; i++) dx[i] += dy[i];
            }
    return CY_OK;
}
