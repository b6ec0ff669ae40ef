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
