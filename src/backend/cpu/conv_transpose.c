/* cpu transposed convolution with kernel = stride (NHWC). The k x k output
 * blocks do not overlap, so the op is one GEMM of the input's channel rows
 * [N*H*W, cin] by the weight reordered to [cin, (i, j, o)], whose result
 * rows are then scattered, bias added, as whole channel rows into their
 * blocks. Backward gathers the output gradient into the same [N*H*W,
 * (i, j, o)] rows and runs the two adjoint GEMMs. */
#include <stdlib.h>
#include <string.h>
#include "backend/cpu/cpu.h"
#include "backend/ref/check.h"

/* wr[c][(i*k + j)*O + o] = w[c][o][i][j] */
static void reorder_weight(float *wr, const float *w, int C, int O, int k) {
    for (int c = 0; c < C; c++)
        for (int o = 0; o < O; o++)
            for (int ij = 0; ij < k * k; ij++) wr[((size_t)c * k * k + ij) * O + o] = w[((size_t)c * O + o) * k * k + ij];
}

/* Moves channel rows between the GEMM layout g [(n, y, x)][(i, j)][O] and the
 * NHWC output t [n][y*k + i][x*k + j][O]; to_out adds bias (may be NULL). */
static void blocks_copy(const cpu_impl *c, float *g, float *t, int N, int H, int W, int O, int k, int to_out,
                        const float *bias) {
    const long rows = (long)N * H;
    const size_t OW = (size_t)W * k;
#pragma omp parallel for num_threads(c->threads) if (rows * W * k * k * O > 32768)
    for (long r = 0; r < rows; r++) {
        const long n = r / H, y = r % H;
        for (int x = 0; x < W; x++)
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++) {
                    float *gr = g + (((size_t)r * W + x) * k * k + (size_t)i * k + j) * O;
                    float *tr = t + (((size_t)n * H * k + (size_t)y * k + i) * OW + (size_t)x * k + j) * O;
                    if (!to_out) memcpy(gr, tr, (size_t)O * sizeof(float));
                    else if (!bias) memcpy(tr, gr, (size_t)O * sizeof(float));
                    else {
#pragma omp simd
                        for (int o = 0; o < O; o++) tr[o] = gr[o] + bias[o];
                    }
                }
    }
}

cy_status cpu_conv_transpose(cy_backend *b, const cy_tensor *in, cy_tensor *out, const float *weight,
                             const float *bias, int k, cy_error *err) {
    cpu_impl *c = cpu_of(b);
    CY_TRY(cy_check_conv_transpose("conv_transpose", in, out, weight, k, err));
    const int N = in->s.n, C = in->s.c, H = in->s.h, W = in->s.w, O = out->s.c;
    const int rows = N * H * W, cols = k * k * O;
    /* the GEMM result is the output's size: the backend's reused scratch, not a fresh mapping per call */
    float *wr = malloc((size_t)C * cols * sizeof(float)), *g = cpu_scratch(c, (size_t)rows * cols);
    cy_status st = CY_OK;
    if (!wr || !g) st = cy_fail(err, CY_ERR_MEMORY, "conv_transpose: out of memory");
    if (st == CY_OK) {
        reorder_weight(wr, weight, C, O, k);
        st = cpu_matmul(b, 1, rows, cols, C, 0, 0, 1.0f, in->data, C, 0, wr, cols, 0, 0.0f, g, cols, 0, err);
    }
    if (st == CY_OK) blocks_copy(c, g, out->data, N, H, W, O, k, 1, bias);
    free(wr);
    return st;
}

cy_status cpu_conv_transpose_backward(cy_backend *b, const cy_tensor *in, const cy_tensor *dout, cy_tensor *din,
                                      const float *weight, float *dweight, float *dbias, int k, cy_error *err) {
    static const char op[] = "conv_transpose_backward";
    cpu_impl *c = cpu_of(b);
    CY_TRY(cy_check_conv_transpose(op, in, dout, weight, k, err));
    if (din) CY_TRY(cy_check_same(op, in, din, err));
    const int N = in->s.n, C = in->s.c, H = in->s.h, W = in->s.w, O = dout->s.c;
    const int rows = N * H * W, cols = k * k * O;
    float *wr = malloc((size_t)C * cols * sizeof(float)), *g = cpu_scratch(c, (size_t)rows * cols);
    cy_status st = CY_OK;
    if (!wr || !g) st = cy_fail(err, CY_ERR_MEMORY, "%s: out of memory", op);
    if (st == CY_OK) {
        blocks_copy(c, g, (float *)dout->data, N, H, W, O, k, 0, NULL); /* read only */
        reorder_weight(wr, weight, C, O, k);
    }
    if (st == CY_OK && din) /* din [rows, C] += g [rows, cols] wr^T */
        st = cpu_matmul(b, 1, rows, C, cols, 0, 1, 1.0f, g, cols, 0, wr, cols, 0, 1.0f, din->data, C, 0, err);
    if (st == CY_OK && dweight) { /* wr := in^T g, then added back in PyTorch's layout */
        st = cpu_matmul(b, 1, C, cols, rows, 1, 0, 1.0f, in->data, C, 0, g, cols, 0, 0.0f, wr, cols, 0, err);
        for (int ci = 0; st == CY_OK && ci < C; ci++)
            for (int o = 0; o < O; o++)
                for (int ij = 0; ij < k * k; ij++)
                    dweight[((size_t)ci * O + o) * k * k + ij] += wr[((size_t)ci * k * k + ij) * O + o];
    }
    if (st == CY_OK && dbias) {
        double *s = calloc((size_t)O, sizeof *s);
        if (!s) st = cy_fail(err, CY_ERR_MEMORY, "%s: out of memory", op);
        for (size_t r = 0; s && r < (size_t)rows * k * k; r++)
            for (int o = 0; o < O; o++) s[o] += g[r * O + o];
        for (int o = 0; s && o < O; o++) dbias[o] = (float)(dbias[o] + s[o]);
        free(s);
    }
    free(wr);
    return st;
}
