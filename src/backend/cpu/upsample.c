/* cpu nearest upsampling on NHWC: every output pixel copies one input
 * channel row; an output row is built once and copied scale-1 times. */
#include <string.h>
#include "backend/cpu/cpu.h"
#include "backend/ref/check.h"

cy_status cpu_upsample_nearest(cy_backend *b, const cy_tensor *in, cy_tensor *out,
                               int scale, cy_error *err) {
    const cpu_impl *c = cpu_of(b);
    CY_TRY(cy_check_upsample(in, out, scale, err));
    const int C = in->s.c, H = in->s.h, W = in->s.w, OW = out->s.w;
    const size_t row = (size_t)C * sizeof(float);
    const long rows = (long)in->s.n * H;
#pragma omp parallel for num_threads(c->threads) if (rows * W * C > 16384)
    for (long r = 0; r < rows; r++) {
        const float *x = in->data + (size_t)r * W * C;
        float *y = out->data + (size_t)r * scale * OW * C;
        for (int ix = 0; ix < W; ix++)
            for (int j = 0; j < scale; j++)
                memcpy(y + ((size_t)ix * scale + j) * C, x + (size_t)ix * C, row);
        for (int j = 1; j < scale; j++)
            memcpy(y + (size_t)j * OW * C, y, (size_t)OW * row);
    }
    return CY_OK;
}

/* din pixel += the sum of its scale x scale block of dout, channel rows at a
 * time; one task per input row, so no two tasks touch the same din. */
cy_status cpu_upsample_nearest_backward(cy_backend *b, const cy_tensor *dout,
                                        cy_tensor *din, int scale, cy_error *err) {
    const cpu_impl *c = cpu_of(b);
    CY_TRY(cy_check_upsample_backward(dout, din, scale, err));
    if (!din) return CY_OK;
    const int C = din->s.c, W = din->s.w, OW = dout->s.w;
    const long rows = (long)din->s.n * din->s.h;
#pragma omp parallel for num_threads(c->threads) if (rows * W * C > 16384)
    for (long r = 0; r < rows; r++) {
        float *dx = din->data + (size_t)r * W * C;
        const float *dy = dout->data + (size_t)r * scale * OW * C;
        for (int ix = 0; ix < W; ix++) {
            float *d = dx + (size_t)ix * C;
            for (int j = 0; j < scale; j++)
                for (int i = 0; i < scale; i++) {
                    const float *g = dy + ((size_t)j * OW + (size_t)ix * scale + i) * C;
#pragma omp simd
                    for (int k = 0; k < C; k++) d[k] += g[k];
                }
        }
    }
    return CY_OK;
}
