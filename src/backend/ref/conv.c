/* Reference conv2d (NCHW): direct convolution with double accumulation, then
 * bias, then eval BatchNorm as (y - mean) / sqrt(var + eps) * gamma + beta in
 * float (PyTorch's unfused order), then the activation. */
#include <math.h>
#include <stdlib.h>
#include "backend/ref/check.h"
#include "backend/ref/ref.h"

cy_status ref_conv2d(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                     cy_tensor *out, const cy_conv_params *p, cy_error *err) {
    CY_TRY(cy_check_conv(in, out, p, err));
    const int N = in->s.n, C = in->s.c, H = in->s.h, W = in->s.w;
    const int O = out->s.c, OH = out->s.h, OW = out->s.w;
    const int cig = C / p->groups, cog = O / p->groups;
    const size_t ohw = (size_t)OH * OW;
    int failed = 0;

    /* one output plane per iteration; acc holds its double sums */
#pragma omp parallel
    {
        double *acc = malloc(ohw * sizeof *acc);
        if (!acc) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic)
        for (long no = 0; no < (long)N * O; no++) {
            if (!acc) continue;
            const int n = (int)(no / O), o = (int)(no % O), g = o / cog;
            for (size_t i = 0; i < ohw; i++) acc[i] = 0;
            for (int ci = 0; ci < cig; ci++) {
                const float *x = in->data + ((size_t)n * C + (size_t)g * cig + ci) * H * W;
                const float *wk = p->weight + (((size_t)o * cig + ci) * p->kh) * p->kw;
                for (int ky = 0; ky < p->kh; ky++)
                    for (int kx = 0; kx < p->kw; kx++) {
                        const double wv = wk[ky * p->kw + kx];
                        for (int oy = 0; oy < OH; oy++) {
                            const int iy = oy * p->sh - p->ph + ky * p->dh;
                            if (iy < 0 || iy >= H) continue;
                            for (int ox = 0; ox < OW; ox++) {
                                const int ix = ox * p->sw - p->pw + kx * p->dw;
                                if (ix < 0 || ix >= W) continue;
                                acc[(size_t)oy * OW + ox] += wv * x[(size_t)iy * W + ix];
                            }
                        }
                    }
            }
            float *y = out->data + ((size_t)n * O + o) * ohw;
            const double bias = p->bias ? p->bias[o] : 0.0;
            for (size_t i = 0; i < ohw; i++) {
                float v = (float)(acc[i] + bias);
                if (p->bn_gamma)
                    v = (v - p->bn_mean[o]) / sqrtf(p->bn_var[o] + p->bn_eps) *
                            p->bn_gamma[o] + p->bn_beta[o];
                y[i] = ref_act1(v, p->act);
            }
        }
        free(acc);
    }
    if (failed) return cy_fail(err, CY_ERR_MEMORY, "conv2d: out of memory");
    return CY_OK;
}
