/* Reference nearest-neighbour upsampling by an integer scale (NCHW). */
#include "backend/ref/check.h"
#include "backend/ref/ref.h"

cy_status ref_upsample_nearest(cy_backend *b, const cy_tensor *in, cy_tensor *out,
                               int scale, cy_error *err) {
    CY_TRY(cy_check_upsample(in, out, scale, err));
    const int H = in->s.h, W = in->s.w, OH = out->s.h, OW = out->s.w;
    const long planes = (long)in->s.n * in->s.c;
    for (long pl = 0; pl < planes; pl++)
        for (int y = 0; y < OH; y++)
            for (int x = 0; x < OW; x++)
                out->data[((size_t)pl * OH + y) * OW + x] =
                    in->data[((size_t)pl * H + y / scale) * W + x / scale];
    return CY_OK;
}

/* din[y, x] += the sum of dout over its scale x scale block. */
cy_status ref_upsample_nearest_backward(cy_backend *b, const cy_tensor *dout,
                                        cy_tensor *din, int scale, cy_error *err) {
    CY_TRY(cy_check_upsample_backward(dout, din, scale, err));
    if (!din) return CY_OK;
    const int H = din->s.h, W = din->s.w, OH = dout->s.h, OW = dout->s.w;
    const long planes = (long)din->s.n * din->s.c;
    for (long pl = 0; pl < planes; pl++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                double s = 0;
                for (int j = 0; j < scale; j++)
                    for (int i = 0; i < scale; i++)
                        s += dout->data[((size_t)pl * OH + y * scale + j) * OW + x * scale + i];
                float *d = din->data + ((size_t)pl * H + y) * W + x;
                *d = (float)(*d + s);
            }
    return CY_OK;
}
