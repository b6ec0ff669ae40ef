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
