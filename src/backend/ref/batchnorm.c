/* Reference BatchNorm2d (NCHW).
 * eval:     y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta
 * training: the same with the batch mean and biased batch variance over
 *           (N, H, W); then running_mean = (1-m) rm + m mean and
 *           running_var = (1-m) rv + m var * M/(M-1) (unbiased), M = N*H*W. */
#include <math.h>
#include "backend/ref/check.h"
#include "backend/ref/ref.h"

cy_status ref_batchnorm(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                        cy_tensor *out, const cy_bn_params *p, cy_error *err) {
    CY_TRY(cy_check_bn(in, out, p, err));
    const int N = in->s.n, C = in->s.c;
    const size_t hw = (size_t)in->s.h * in->s.w, M = N * hw;
    for (int c = 0; c < C; c++) {
        const float gamma = p->gamma ? p->gamma[c] : 1.0f;
        const float beta = p->beta ? p->beta[c] : 0.0f;
        if (!p->training) {
            const float mean = p->running_mean[c];
            const float sd = sqrtf(p->running_var[c] + p->eps);
            for (int n = 0; n < N; n++) {
                const float *x = in->data + ((size_t)n * C + c) * hw;
                float *y = out->data + ((size_t)n * C + c) * hw;
                for (size_t i = 0; i < hw; i++) y[i] = (x[i] - mean) / sd * gamma + beta;
            }
            continue;
        }
        double sum = 0, ss = 0;
        for (int n = 0; n < N; n++) {
            const float *x = in->data + ((size_t)n * C + c) * hw;
            for (size_t i = 0; i < hw; i++) sum += x[i];
        }
        const double mean = sum / (double)M;
        for (int n = 0; n < N; n++) {
            const float *x = in->data + ((size_t)n * C + c) * hw;
            for (size_t i = 0; i < hw; i++) ss += (x[i] - mean) * (x[i] - mean);
        }
        const double var = ss / (double)M;
        const double invstd = 1.0 / sqrt(var + p->eps);
        /* the input is read before out is written: in == out works */
        for (int n = 0; n < N; n++) {
            const float *x = in->data + ((size_t)n * C + c) * hw;
            float *y = out->data + ((size_t)n * C + c) * hw;
            for (size_t i = 0; i < hw; i++)
                y[i] = (float)((x[i] - mean) * invstd * gamma + beta);
        }
        const double m = p->momentum;
        p->running_mean[c] = (float)((1 - m) * p->running_mean[c] + m * mean);
        p->running_var[c] =
            (float)((1 - m) * p->running_var[c] + m * var * (double)M / (double)(M - 1));
        if (p->save_mean) p->save_mean[c] = (float)mean;
        if (p->save_invstd) p->save_invstd[c] = (float)invstd;
    }
    return CY_OK;
}

/* Reference training-mode BatchNorm2d backward, through the batch statistics
 * (PyTorch's formula), from the forward's saved mean and 1/sqrt(var + eps):
 *   xhat = (x - mean) * invstd,  M = N*H*W
 *   dbeta  += sum dy,  dgamma += sum dy * xhat
 *   din    += gamma * invstd / M * (M dy - sum dy - xhat * sum dy*xhat) */
cy_status ref_batchnorm_backward(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                                 const cy_tensor *dout, cy_tensor *din,
                                 const cy_bn_params *p, float *dgamma, float *dbeta,
                                 cy_error *err) {
    CY_TRY(cy_check_bn_backward(in, dout, din, p, err));
    const int N = in->s.n, C = in->s.c;
    const size_t hw = (size_t)in->s.h * in->s.w;
    const double M = (double)N * hw;
    for (int c = 0; c < C; c++) {
        const double mean = p->save_mean[c], invstd = p->save_invstd[c];
        const double gamma = p->gamma ? p->gamma[c] : 1.0;
        double sdy = 0, sdyx = 0;
        for (int n = 0; n < N; n++) {
            const float *x = in->data + ((size_t)n * C + c) * hw;
            const float *dy = dout->data + ((size_t)n * C + c) * hw;
            for (size_t i = 0; i < hw; i++) {
                sdy += dy[i];
                sdyx += dy[i] * ((x[i] - mean) * invstd);
            }
        }
        if (dbeta) dbeta[c] = (float)(dbeta[c] + sdy);
        if (dgamma) dgamma[c] = (float)(dgamma[c] + sdyx);
        if (!din) continue;
        const double k = gamma * invstd / M;
        for (int n = 0; n < N; n++) {
            const float *x = in->data + ((size_t)n * C + c) * hw;
            const float *dy = dout->data + ((size_t)n * C + c) * hw;
            float *dx = din->data + ((size_t)n * C + c) * hw;
            for (size_t i = 0; i < hw; i++)
                dx[i] = (float)(dx[i] +
                                k * (M * dy[i] - sdy - (x[i] - mean) * invstd * sdyx));
        }
    }
    return CY_OK;
}
