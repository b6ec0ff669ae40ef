/* Reference conv2d (NCHW): direct convolution with double accumulation, then
 * bias, then eval BatchNorm as (y - mean) / sqrt(var + eps) * gamma + beta in
 * float (PyTorch's unfused order), then the activation.
 * CY_PREC_BF16: BN folded into the weights as the fused kernel folds it, the
 * input and those weights rounded to bfloat16, then the same loop.
 * CY_PREC_INT8: input and folded weights quantized (conv_lowp.h), the same
 * loop on the integers (exact in double), then scale, bias, activation. */
#include <math.h>
#include <stdlib.h>
#include "backend/conv_lowp.h"
#include "backend/ref/check.h"
#include "backend/ref/ref.h"

static cy_status conv_bf16(cy_backend *b, cy_slot *slot, const cy_tensor *in, cy_tensor *out,
                           const cy_conv_params *p, cy_error *err) {
    const int O = out->s.c;
    const size_t per_o = (size_t)(in->s.c / p->groups) * p->kh * p->kw, nin = cy_shape_numel(in->s);
    float *w = malloc((O * per_o + O + nin) * sizeof *w);
    if (!w) return cy_fail(err, CY_ERR_MEMORY, "conv2d: out of memory");
    float *bias = w + O * per_o, *x = bias + O;
    cy_conv_fold_bn(p, O, per_o, w, bias);
    for (size_t i = 0; i < O * per_o; i++) w[i] = cy_bf16_round(w[i]);
    for (size_t i = 0; i < nin; i++) x[i] = cy_bf16_round(in->data[i]);
    cy_conv_params q = *p;
    q.precision = CY_PREC_F32;
    q.weight = w, q.bias = bias;
    q.bn_gamma = q.bn_beta = q.bn_mean = q.bn_var = NULL;
    cy_tensor xin = {x, in->s};
    cy_status st = ref_conv2d(b, slot, &xin, out, &q, err);
    free(w);
    return st;
}

static cy_status conv_s8(cy_backend *b, cy_slot *slot, const cy_tensor *in, cy_tensor *out, const cy_conv_params *p,
                         cy_error *err) {
    const int O = out->s.c;
    const size_t per_o = (size_t)(in->s.c / p->groups) * p->kh * p->kw, nin = cy_shape_numel(in->s);
    const size_t ohw = (size_t)out->s.h * out->s.w;
    int8_t *qw = malloc(O * per_o + nin);
    float *f = malloc((O * per_o + 2 * (size_t)O + nin) * sizeof *f);
    if (!qw || !f || cy_conv_quantize_s8(p, O, per_o, qw, f + O * per_o, f + O * per_o + O)) {
        free(qw), free(f);
        return cy_fail(err, CY_ERR_MEMORY, "conv2d: out of memory");
    }
    float *w = f, *scale = f + O * per_o, *bias = scale + O, *x = bias + O;
    int8_t *qx = qw + O * per_o;
    cy_s8_quantize(in->data, qx, nin, 1.0f / p->in_scale);
    for (size_t i = 0; i < O * per_o; i++) w[i] = qw[i];
    for (size_t i = 0; i < nin; i++) x[i] = qx[i];
    cy_conv_params q = *p;
    q.precision = CY_PREC_F32;
    q.weight = w, q.bias = NULL, q.act = CY_ACT_NONE;
    q.bn_gamma = q.bn_beta = q.bn_mean = q.bn_var = NULL;
    cy_tensor xin = {x, in->s};
    cy_status st = ref_conv2d(b, slot, &xin, out, &q, err);
    for (long no = 0; st == CY_OK && no < (long)out->s.n * O; no++) {
        const int o = (int)(no % O);
        float *y = out->data + (size_t)no * ohw;
        for (size_t i = 0; i < ohw; i++) y[i] = ref_act1(scale[o] * (y[i] + bias[o]), p->act);
    }
    free(qw), free(f);
    return st;
}

cy_status ref_conv2d(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                     cy_tensor *out, const cy_conv_params *p, cy_error *err) {
    CY_TRY(cy_check_conv(in, out, p, err));
    if (p->precision == CY_PREC_BF16) return conv_bf16(b, slot, in, out, p, err);
    if (p->precision == CY_PREC_INT8) return conv_s8(b, slot, in, out, p, err);
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

/* Reference conv2d backward (no BN, no activation): the adjoint of the loop
 * above, each gradient element summed in double and added to its output.
 *   din[n, g*cig+ci, iy, ix] += sum_{o in g, ky, kx} w[o, ci, ky, kx] dout[n, o, oy, ox]
 *   dweight[o, ci, ky, kx]    += sum_{n, oy, ox} dout[n, o, oy, ox] x[n, g*cig+ci, iy, ix]
 *   dbias[o]                  += sum_{n, oy, ox} dout[n, o, oy, ox]
 * where iy = oy*sh - ph + ky*dh, ix = ox*sw - pw + kx*dw. */
cy_status ref_conv2d_backward(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                              const cy_tensor *dout, cy_tensor *din, float *dweight,
                              float *dbias, const cy_conv_params *p, cy_error *err) {
    CY_TRY(cy_check_conv_backward(in, dout, din, p, err));
    const int N = in->s.n, C = in->s.c, H = in->s.h, W = in->s.w;
    const int O = dout->s.c, OH = dout->s.h, OW = dout->s.w;
    const int cig = C / p->groups, cog = O / p->groups, KH = p->kh, KW = p->kw;
    const size_t hw = (size_t)H * W, ohw = (size_t)OH * OW;
    const float *dy = dout->data;

    /* din first, all or nothing: the only part that can fail (every thread
     * has its buffer before any adds) */
    if (din) {
        int failed = 0;
        /* one input plane per iteration; acc holds its double sums */
#pragma omp parallel
        {
            double *acc = malloc(hw * sizeof *acc);
            if (!acc) {
#pragma omp atomic write
                failed = 1;
            }
#pragma omp barrier
            int skip;
#pragma omp atomic read
            skip = failed;
#pragma omp for schedule(dynamic)
            for (long nc = 0; nc < (long)N * C; nc++) {
                if (skip) continue;
                const int n = (int)(nc / C), c = (int)(nc % C), g = c / cig, ci = c % cig;
                for (size_t i = 0; i < hw; i++) acc[i] = 0;
                for (int o = g * cog; o < (g + 1) * cog; o++) {
                    const float *d = dy + ((size_t)n * O + o) * ohw;
                    const float *wk = p->weight + (((size_t)o * cig + ci) * KH) * KW;
                    for (int ky = 0; ky < KH; ky++)
                        for (int kx = 0; kx < KW; kx++) {
                            const double wv = wk[ky * KW + kx];
                            for (int oy = 0; oy < OH; oy++) {
                                const int iy = oy * p->sh - p->ph + ky * p->dh;
                                if (iy < 0 || iy >= H) continue;
                                for (int ox = 0; ox < OW; ox++) {
                                    const int ix = ox * p->sw - p->pw + kx * p->dw;
                                    if (ix < 0 || ix >= W) continue;
                                    acc[(size_t)iy * W + ix] += wv * d[(size_t)oy * OW + ox];
                                }
                            }
                        }
                }
                float *dx = din->data + (size_t)nc * hw;
                for (size_t i = 0; i < hw; i++) dx[i] = (float)(dx[i] + acc[i]);
            }
            free(acc);
        }
        if (failed) return cy_fail(err, CY_ERR_MEMORY, "conv2d_backward: out of memory");
    }
    if (dbias)
        for (int o = 0; o < O; o++) {
            double s = 0;
            for (int n = 0; n < N; n++)
                for (size_t i = 0; i < ohw; i++) s += dy[((size_t)n * O + o) * ohw + i];
            dbias[o] = (float)(dbias[o] + s);
        }

    if (dweight) {
        /* one weight per iteration: every tap is its own double sum */
        const long nw = (long)O * cig * KH * KW;
#pragma omp parallel for schedule(static)
        for (long wi = 0; wi < nw; wi++) {
            const int kx = (int)(wi % KW), ky = (int)(wi / KW % KH);
            const int ci = (int)(wi / ((long)KW * KH) % cig);
            const int o = (int)(wi / ((long)KW * KH * cig)), g = o / cog;
            double s = 0;
            for (int n = 0; n < N; n++) {
                const float *x = in->data + ((size_t)n * C + (size_t)g * cig + ci) * hw;
                const float *d = dy + ((size_t)n * O + o) * ohw;
                for (int oy = 0; oy < OH; oy++) {
                    const int iy = oy * p->sh - p->ph + ky * p->dh;
                    if (iy < 0 || iy >= H) continue;
                    for (int ox = 0; ox < OW; ox++) {
                        const int ix = ox * p->sw - p->pw + kx * p->dw;
                        if (ix < 0 || ix >= W) continue;
                        s += (double)d[(size_t)oy * OW + ox] * x[(size_t)iy * W + ix];
                    }
                }
            }
            dweight[wi] = (float)(dweight[wi] + s);
        }
    }

    return CY_OK;
}
