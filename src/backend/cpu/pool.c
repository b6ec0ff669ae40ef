/* cpu max pooling on NHWC: each output pixel is an elementwise max over the
 * channel rows of its window (vectorised over C). Padding never wins and
 * NaN propagates, as in PyTorch. */
#include <math.h>
#include "backend/cpu/cpu.h"
#include "backend/ref/check.h"

cy_status cpu_maxpool2d(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                        cy_tensor *out, int k, int stride, int pad, cy_error *err) {
    const cpu_impl *c = cpu_of(b);
    CY_TRY(cy_check_maxpool(in, out, k, stride, pad, err));
    const int C = in->s.c, H = in->s.h, W = in->s.w, OH = out->s.h, OW = out->s.w;
    const long rows = (long)in->s.n * OH;
#pragma omp parallel for num_threads(c->threads) if (rows * OW * C > 16384)
    for (long r = 0; r < rows; r++) {
        const int n = (int)(r / OH), oy = (int)(r % OH);
        const int y0 = oy * stride - pad;
        const int ky0 = y0 < 0 ? -y0 : 0, ky1 = H - y0 < k ? H - y0 : k;
        for (int ox = 0; ox < OW; ox++) {
            const int x0 = ox * stride - pad;
            const int kx0 = x0 < 0 ? -x0 : 0, kx1 = W - x0 < k ? W - x0 : k;
            float *y = out->data + ((size_t)r * OW + ox) * C;
            for (int ch = 0; ch < C; ch++) y[ch] = -INFINITY;
            for (int ky = ky0; ky < ky1; ky++)
                for (int kx = kx0; kx < kx1; kx++) {
                    const float *x =
                        in->data + (((size_t)n * H + y0 + ky) * W + x0 + kx) * C;
#pragma omp simd
                    for (int ch = 0; ch < C; ch++)
                        y[ch] = (x[ch] > y[ch] || x[ch] != x[ch]) ? x[ch] : y[ch];
                }
        }
    }
    return CY_OK;
}
