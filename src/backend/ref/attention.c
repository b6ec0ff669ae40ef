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
