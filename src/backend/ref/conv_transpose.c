/* Reference transposed convolution with kernel = stride (NCHW): each input
 * pixel scatters into its own k x k output block, so forward and backward
 * are plain loops over the definition with double sums. */
#include "backend/ref/check.h"
#include "backend/ref/ref.h"

cy_status ref_conv_transpose(cy_backend *b, const cy_tensor *in, cy_tensor *out, const float *weight,
                             const float *bias, int k, cy_error *err) {
    CY_TRY(cy_check_conv_transpose("conv_transpose", in, out, weight, k, err));
    const int N = in->s.n, C = in->s.c, H = in->s.h, W = in->s.w, O = out->s.c, OH = out->s.h, OW = out->s.w;
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++)
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++) {
                    const int y = oy / k, x = ox / k, i = oy % k, j = ox % k;
                    double s = bias ? bias[o] : 0.0;
                    for (int c = 0; c < C; c++)
                        s += (double)in->data[(((size_t)n * C + c) * H + y) * W + x] *
                             weight[(((size_t)c * O + o) * k + i) * k + j];
                    out->data[(((size_t)n * O + o) * OH + oy) * OW + ox] = (float)s;
                }
    return CY_OK;
}

cy_status ref_conv_transpose_backward(cy_backend *b, const cy_tensor *in, const cy_tensor *dout, cy_tensor *din,
                                      const float *weight, float *dweight, float *dbias, int k, cy_error *err) {
    static const char op[] = "conv_transpose_backward";
    CY_TRY(cy_check_conv_transpose(op, in, dout, weight, k, err));
    if (din) CY_TRY(cy_check_same(op, in, din, err));
    const int N = in->s.n, C = in->s.c, H = in->s.h, W = in->s.w, O = dout->s.c, OH = dout->s.h, OW = dout->s.w;
    const float *g = dout->data;
    if (dbias)
        for (int o = 0; o < O; o++) {
            double s = 0;
            for (int n = 0; n < N; n++)
                for (size_t p = 0; p < (size_t)OH * OW; p++) s += g[((size_t)n * O + o) * OH * OW + p];
            dbias[o] = (float)(dbias[o] + s);
        }
    if (dweight)
        for (int c = 0; c < C; c++)
            for (int o = 0; o < O; o++)
                for (int i = 0; i < k; i++)
                    for (int j = 0; j < k; j++) {
                        double s = 0;
                        for (int n = 0; n < N; n++)
                            for (int y = 0; y < H; y++)
                                for (int x = 0; x < W; x++)
                                    s += (double)in->data[(((size_t)n * C + c) * H + y) * W + x] *
                                         g[(((size_t)n * O + o) * OH + y * k + i) * OW + x * k + j];
                        float *d = dweight + (((size_t)c * O + o) * k + i) * k + j;
                        *d = (float)(*d + s);
                    }
    if (din)
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++)
                for (int y = 0; y < H; y++)
                    for (int x = 0; x < W; x++) {
                        double s = 0;
                        for (int o = 0; o < O; o++)
                            for (int i = 0; i < k; i++)
                                for (int j = 0; j < k; j++)
                                    s += (double)weight[(((size_t)c * O + o) * k + i) * k + j] *
                                         g[(((size_t)n * O + o) * OH + y * k + i) * OW + x * k + j];
                        float *d = din->data + (((size_t)n * C + c) * H + y) * W + x;
                        *d = (float)(*d + s);
                    }
    return CY_OK;
}
