/* Reference attention core (NCHW), the Ultralytics Attention module between
 * its qkv conv and its proj conv:
 *   q, k, v = qkv.view(N, heads, 2kd+hd, HW).split([kd, kd, hd], dim=2)
 *   attn = softmax_j(scale * sum_d q[d,i] k[d,j])
 *   out[h*hd + d, i] = sum_j v[d,j] attn[i,j]                          */
#include <math.h>
#include <stdlib.h>
#include "backend/ref/check.h"
#include "backend/ref/ref.h"

cy_status ref_attention(cy_backend *b, const cy_tensor *qkv, cy_tensor *out,
                        int heads, int kd, int hd, float scale, cy_error *err) {
    CY_TRY(cy_check_attention(qkv, out, heads, kd, hd, err));
    const size_t L = (size_t)qkv->s.h * qkv->s.w;
    const int per = 2 * kd + hd;
    double *a = malloc(L * sizeof *a);
    if (!a) return cy_fail(err, CY_ERR_MEMORY, "attention: out of memory");
    for (int n = 0; n < qkv->s.n; n++)
        for (int h = 0; h < heads; h++) {
            const float *q = qkv->data + ((size_t)n * qkv->s.c + (size_t)h * per) * L;
            const float *k = q + (size_t)kd * L, *v = q + (size_t)2 * kd * L;
            float *y = out->data + ((size_t)n * out->s.c + (size_t)h * hd) * L;
            for (size_t i = 0; i < L; i++) {
                double mx = -INFINITY, sum = 0;
                for (size_t j = 0; j < L; j++) {
                    double s = 0;
                    for (int d = 0; d < kd; d++) s += (double)q[d * L + i] * k[d * L + j];
                    a[j] = s * scale;
                    if (a[j] > mx) mx = a[j];
                }
                for (size_t j = 0; j < L; j++) sum += a[j] = exp(a[j] - mx);
                for (int d = 0; d < hd; d++) {
                    double s = 0;
                    for (size_t j = 0; j < L; j++) s += v[d * L + j] * a[j];
                    y[d * L + i] = (float)(s / sum);
                }
            }
        }
    free(a);
    return CY_OK;
}

/* Reference attention backward, per (image, head), everything in double:
 *   P = softmax_j(scale q_i . k_j) recomputed,  dO = dout
 *   dv[d, j]  += sum_i P[i,j] dO[d,i]
 *   dP[i, j]   = sum_d dO[d,i] v[d,j]
 *   dS[i, j]   = P[i,j] (dP[i,j] - sum_j' P[i,j'] dP[i,j'])
 *   dq[d, i]  += scale sum_j dS[i,j] k[d,j]
 *   dk[d, j]  += scale sum_i dS[i,j] q[d,i] */
cy_status ref_attention_backward(cy_backend *b, const cy_tensor *qkv,
                                 const cy_tensor *dout, cy_tensor *dqkv, int heads,
                                 int kd, int hd, float scale, cy_error *err) {
    CY_TRY(cy_check_attention_backward(qkv, dout, dqkv, heads, kd, hd, err));
    if (!dqkv) return CY_OK;
    const size_t L = (size_t)qkv->s.h * qkv->s.w;
    const int per = 2 * kd + hd;
    double *P = malloc(2 * L * L * sizeof *P), *dS = P + L * L;
    double *g = malloc((size_t)per * L * sizeof *g);
    if (!P || !g) {
        free(P), free(g);
        return cy_fail(err, CY_ERR_MEMORY, "attention_backward: out of memory");
    }
    for (int n = 0; n < qkv->s.n; n++)
        for (int h = 0; h < heads; h++) {
            const size_t base = ((size_t)n * qkv->s.c + (size_t)h * per) * L;
            const float *q = qkv->data + base;
            const float *k = q + (size_t)kd * L, *v = q + (size_t)2 * kd * L;
            const float *dO = dout->data + ((size_t)n * dout->s.c + (size_t)h * hd) * L;
            double *gq = g, *gk = g + (size_t)kd * L, *gv = g + (size_t)2 * kd * L;
            for (size_t i = 0; i < (size_t)per * L; i++) g[i] = 0;
            for (size_t i = 0; i < L; i++) {
                double *pr = P + i * L, *ds = dS + i * L, mx = -INFINITY, sum = 0, dot = 0;
                for (size_t j = 0; j < L; j++) {
                    double s = 0;
                    for (int d = 0; d < kd; d++) s += (double)q[d * L + i] * k[d * L + j];
                    pr[j] = s * scale;
                    if (pr[j] > mx) mx = pr[j];
                }
                for (size_t j = 0; j < L; j++) sum += pr[j] = exp(pr[j] - mx);
                for (size_t j = 0; j < L; j++) {
                    pr[j] /= sum;
                    double s = 0;
                    for (int d = 0; d < hd; d++) s += (double)dO[d * L + i] * v[d * L + j];
                    ds[j] = s;
                    dot += pr[j] * s;
                }
                for (size_t j = 0; j < L; j++) ds[j] = pr[j] * (ds[j] - dot);
            }
            for (size_t i = 0; i < L; i++)
                for (size_t j = 0; j < L; j++) {
                    const double pij = P[i * L + j], sij = dS[i * L + j] * scale;
                    for (int d = 0; d < hd; d++) gv[d * L + j] += pij * dO[d * L + i];
                    for (int d = 0; d < kd; d++) {
                        gq[d * L + i] += sij * k[d * L + j];
                        gk[d * L + j] += sij * q[d * L + i];
                    }
                }
            float *dst = dqkv->data + base;
            for (size_t i = 0; i < (size_t)per * L; i++) dst[i] = (float)(dst[i] + g[i]);
        }
    free(P), free(g);
    return CY_OK;
}
