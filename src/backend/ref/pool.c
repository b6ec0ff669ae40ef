/* Reference max pooling (NCHW), PyTorch semantics: floor mode, padding never
 * wins (it is -inf, not 0), NaN propagates. */
#include <math.h>
#include "backend/ref/check.h"
#include "backend/ref/ref.h"

cy_status ref_maxpool2d(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                        cy_tensor *out, int k, int stride, int pad, cy_error *err) {
    CY_TRY(cy_check_maxpool(in, out, k, stride, pad, err));
    const int H = in->s.h, W = in->s.w, OH = out->s.h, OW = out->s.w;
    const long planes = (long)in->s.n * in->s.c;
    for (long pl = 0; pl < planes; pl++) {
        const float *x = in->data + (size_t)pl * H * W;
        float *y = out->data + (size_t)pl * OH * OW;
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                float m = -INFINITY;
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        const int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                        if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                        const float v = x[(size_t)iy * W + ix];
                        if (v > m || isnan(v)) m = v;
                    }
                y[(size_t)oy * OW + ox] = m;
            }
    }
    return CY_OK;
}

/* Each window's gradient goes to its argmax, found as the forward (and
 * PyTorch's CPU kernel) scans it: starting at the first real position, moved
 * by a strictly larger value or a NaN. So ties go to the first maximum, a
 * window of -inf to its first position, and NaN to the last NaN. */
cy_status ref_maxpool2d_backward(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                                 const cy_tensor *dout, cy_tensor *din, int k,
                                 int stride, int pad, cy_error *err) {
    CY_TRY(cy_check_maxpool_backward(in, dout, din, k, stride, pad, err));
    if (!din) return CY_OK;
    const int H = in->s.h, W = in->s.w, OH = dout->s.h, OW = dout->s.w;
    const long planes = (long)in->s.n * in->s.c;
    for (long pl = 0; pl < planes; pl++) {
        const float *x = in->data + (size_t)pl * H * W;
        const float *dy = dout->data + (size_t)pl * OH * OW;
        float *dx = din->data + (size_t)pl * H * W;
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                float m = -INFINITY;
                long at = -1;
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        const int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                        if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                        const long i = (long)iy * W + ix;
                        const float v = x[i];
                        if (at < 0 || v > m || isnan(v)) m = v, at = i;
                    }
                dx[at] += dy[(size_t)oy * OW + ox];
            }
    }
    return CY_OK;
}
