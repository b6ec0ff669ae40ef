#include "backend/ref/check.h"
#include <math.h>

#define SHAPE_FMT "[%d,%d,%d,%d]"
#define SHAPE_ARGS(s) (s).n, (s).c, (s).h, (s).w

static int shape_eq(cy_shape a, cy_shape b) {
    return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w;
}

static int shape_ok(cy_shape s) { return s.n > 0 && s.c > 0 && s.h > 0 && s.w > 0; }

static cy_status check_tensor(const char *op, const char *name, const cy_tensor *t,
                              cy_error *err) {
    if (!t || !t->data)
        return cy_fail(err, CY_ERR_ARG, "%s: %s tensor is NULL", op, name);
    if (!shape_ok(t->s))
        return cy_fail(err, CY_ERR_ARG, "%s: %s shape " SHAPE_FMT " is empty", op,
                       name, SHAPE_ARGS(t->s));
    return CY_OK;
}

static cy_status check_conv(const char *op, const cy_tensor *in, const cy_tensor *out,
                            const cy_conv_params *p, cy_error *err) {
    CY_TRY(check_tensor(op, "input", in, err));
    CY_TRY(check_tensor(op, "output", out, err));
    if (!p || !p->weight)
        return cy_fail(err, CY_ERR_ARG, "%s: no weight", op);
    if (p->kh < 1 || p->kw < 1 || p->sh < 1 || p->sw < 1 || p->dh < 1 || p->dw < 1 ||
        p->ph < 0 || p->pw < 0 || p->groups < 1)
        return cy_fail(err, CY_ERR_ARG,
                       "%s: bad kernel %dx%d stride %dx%d pad %dx%d dilation %dx%d "
                       "groups %d", op, p->kh, p->kw, p->sh, p->sw, p->ph, p->pw, p->dh,
                       p->dw, p->groups);
    if (in->s.c % p->groups || out->s.c % p->groups)
        return cy_fail(err, CY_ERR_ARG,
                       "%s: groups %d does not divide input channels %d and "
                       "output channels %d", op, p->groups, in->s.c, out->s.c);
    if (p->bn_gamma && (!p->bn_beta || !p->bn_mean || !p->bn_var))
        return cy_fail(err, CY_ERR_ARG, "%s: batchnorm needs gamma, beta, mean, var", op);
    if (p->precision != CY_PREC_F32 && p->precision != CY_PREC_BF16 && p->precision != CY_PREC_INT8)
        return cy_fail(err, CY_ERR_ARG, "%s: unknown precision %d", op, (int)p->precision);
    if (p->precision == CY_PREC_INT8 && !(p->in_scale > 0 && isfinite(p->in_scale)))
        return cy_fail(err, CY_ERR_ARG, "%s: int8 needs an input scale > 0 (got %g)", op, p->in_scale);
    cy_shape want = cy_conv_out_shape(in->s, out->s.c, p);
    if (want.h < 1 || want.w < 1 || !shape_eq(want, out->s))
        return cy_fail(err, CY_ERR_ARG,
                       "%s: output shape " SHAPE_FMT " but input " SHAPE_FMT
                       " gives " SHAPE_FMT, op, SHAPE_ARGS(out->s), SHAPE_ARGS(in->s),
                       SHAPE_ARGS(want));
    return CY_OK;
}

cy_status cy_check_conv(const cy_tensor *in, const cy_tensor *out,
                        const cy_conv_params *p, cy_error *err) {
    return check_conv("conv2d", in, out, p, err);
}

cy_status cy_check_bn(const cy_tensor *in, const cy_tensor *out,
                      const cy_bn_params *p, cy_error *err) {
    CY_TRY(cy_check_same("batchnorm", in, out, err));
    if (!p || !p->running_mean || !p->running_var)
        return cy_fail(err, CY_ERR_ARG, "batchnorm: no running statistics");
    if (p->training && (size_t)in->s.n * in->s.h * in->s.w < 2)
        return cy_fail(err, CY_ERR_ARG,
                       "batchnorm: training needs more than one value per channel "
                       "(input " SHAPE_FMT ")", SHAPE_ARGS(in->s));
    return CY_OK;
}

cy_status cy_check_same(const char *op, const cy_tensor *a, const cy_tensor *b,
                        cy_error *err) {
    CY_TRY(check_tensor(op, "input", a, err));
    CY_TRY(check_tensor(op, "output", b, err));
    if (!shape_eq(a->s, b->s))
        return cy_fail(err, CY_ERR_ARG, "%s: shapes " SHAPE_FMT " and " SHAPE_FMT
                       " differ", op, SHAPE_ARGS(a->s), SHAPE_ARGS(b->s));
    return CY_OK;
}

static cy_status check_maxpool(const char *op, const cy_tensor *in, const cy_tensor *out,
                               int k, int stride, int pad, cy_error *err) {
    CY_TRY(check_tensor(op, "input", in, err));
    CY_TRY(check_tensor(op, "output", out, err));
    /* PyTorch: pad should be at most half of the kernel size */
    if (k < 1 || stride < 1 || pad < 0 || 2 * pad > k)
        return cy_fail(err, CY_ERR_ARG, "%s: bad kernel %d stride %d pad %d", op, k,
                       stride, pad);
    cy_shape want = {in->s.n, in->s.c, cy_pool_out(in->s.h, k, stride, pad),
                     cy_pool_out(in->s.w, k, stride, pad)};
    if (want.h < 1 || want.w < 1 || !shape_eq(want, out->s))
        return cy_fail(err, CY_ERR_ARG,
                       "%s: output shape " SHAPE_FMT " but input " SHAPE_FMT
                       " gives " SHAPE_FMT, op, SHAPE_ARGS(out->s), SHAPE_ARGS(in->s),
                       SHAPE_ARGS(want));
    return CY_OK;
}

cy_status cy_check_maxpool(const cy_tensor *in, const cy_tensor *out, int k,
                           int stride, int pad, cy_error *err) {
    return check_maxpool("maxpool2d", in, out, k, stride, pad, err);
}

static cy_status check_upsample(const char *op, const cy_tensor *in, const cy_tensor *out,
                                int scale, cy_error *err) {
    CY_TRY(check_tensor(op, "input", in, err));
    CY_TRY(check_tensor(op, "output", out, err));
    cy_shape want = {in->s.n, in->s.c, in->s.h * scale, in->s.w * scale};
    if (scale < 1 || !shape_eq(want, out->s))
        return cy_fail(err, CY_ERR_ARG, "%s: scale %d, input " SHAPE_FMT ", output " SHAPE_FMT,
                       op, scale, SHAPE_ARGS(in->s), SHAPE_ARGS(out->s));
    return CY_OK;
}

cy_status cy_check_upsample(const cy_tensor *in, const cy_tensor *out, int scale,
                            cy_error *err) {
    return check_upsample("upsample_nearest", in, out, scale, err);
}

cy_status cy_check_conv_transpose(const char *op, const cy_tensor *in, const cy_tensor *out,
                                  const float *weight, int k, cy_error *err) {
    CY_TRY(check_tensor(op, "input", in, err));
    CY_TRY(check_tensor(op, "output", out, err));
    if (k < 1 || out->s.n != in->s.n || out->s.c < 1 || out->s.h != in->s.h * k || out->s.w != in->s.w * k)
        return cy_fail(err, CY_ERR_ARG, "%s: kernel = stride %d, input " SHAPE_FMT ", output " SHAPE_FMT,
                       op, k, SHAPE_ARGS(in->s), SHAPE_ARGS(out->s));
    if (!weight) return cy_fail(err, CY_ERR_ARG, "%s: weight is NULL", op);
    return CY_OK;
}

cy_status cy_check_concat(const cy_tensor *const *in, int n, const cy_tensor *out,
                          cy_error *err) {
    if (n < 1 || !in) return cy_fail(err, CY_ERR_ARG, "concat: no inputs");
    CY_TRY(check_tensor("concat", "output", out, err));
    long c = 0;
    for (int i = 0; i < n; i++) {
        CY_TRY(check_tensor("concat", "input", in[i], err));
        cy_shape s = in[i]->s;
        if (s.n != out->s.n || s.h != out->s.h || s.w != out->s.w)
            return cy_fail(err, CY_ERR_ARG,
                           "concat: input %d shape " SHAPE_FMT " does not match output "
                           SHAPE_FMT, i, SHAPE_ARGS(s), SHAPE_ARGS(out->s));
        c += s.c;
    }
    if (c != out->s.c)
        return cy_fail(err, CY_ERR_ARG, "concat: inputs have %ld channels, output %d",
                       c, out->s.c);
    return CY_OK;
}

static cy_status check_slice(const char *op, const cy_tensor *in, const cy_tensor *out,
                             int groups, int group_stride, int offset, int len,
                             cy_error *err) {
    CY_TRY(check_tensor(op, "input", in, err));
    CY_TRY(check_tensor(op, "output", out, err));
    if (groups < 1 || len < 1 || offset < 0 || group_stride < 0 ||
        (long)(groups - 1) * group_stride + offset + len > in->s.c ||
        (long)groups * len != out->s.c || in->s.n != out->s.n || in->s.h != out->s.h ||
        in->s.w != out->s.w)
        return cy_fail(err, CY_ERR_ARG,
                       "%s: groups %d stride %d offset %d len %d from "
                       SHAPE_FMT " into " SHAPE_FMT, op, groups, group_stride, offset, len,
                       SHAPE_ARGS(in->s), SHAPE_ARGS(out->s));
    return CY_OK;
}

cy_status cy_check_slice(const cy_tensor *in, const cy_tensor *out, int groups,
                         int group_stride, int offset, int len, cy_error *err) {
    return check_slice("slice_channels", in, out, groups, group_stride, offset, len, err);
}

static cy_status check_attention(const char *op, const cy_tensor *qkv,
                                 const cy_tensor *out, int heads, int kd, int hd,
                                 cy_error *err) {
    CY_TRY(check_tensor(op, "qkv", qkv, err));
    CY_TRY(check_tensor(op, "output", out, err));
    if (heads < 1 || kd < 1 || hd < 1 || (long)heads * (2 * kd + hd) != qkv->s.c ||
        (long)heads * hd != out->s.c || qkv->s.n != out->s.n || qkv->s.h != out->s.h ||
        qkv->s.w != out->s.w)
        return cy_fail(err, CY_ERR_ARG,
                       "%s: heads %d key_dim %d head_dim %d, qkv " SHAPE_FMT
                       ", output " SHAPE_FMT, op, heads, kd, hd, SHAPE_ARGS(qkv->s),
                       SHAPE_ARGS(out->s));
    return CY_OK;
}

cy_status cy_check_attention(const cy_tensor *qkv, const cy_tensor *out, int heads,
                             int kd, int hd, cy_error *err) {
    return check_attention("attention", qkv, out, heads, kd, hd, err);
}

/* A stored [rows, cols] row-major matrix with leading dimension ld. */
static cy_status check_matrix(const char *name, const void *p, int rows, int cols,
                              int64_t ld, int64_t stride, int batch, cy_error *err) {
    const int64_t need = cols > 1 ? cols : 1;
    if (ld < need)
        return cy_fail(err, CY_ERR_ARG,
                       "matmul: ld%s %lld is less than its stored row length %d "
                       "(stored %s is [%d, %d])", name, (long long)ld, cols, name, rows,
                       cols);
    if (stride < 0)
        return cy_fail(err, CY_ERR_ARG, "matmul: stride_%s %lld is negative", name,
                       (long long)stride);
    if (!p && batch > 0 && rows > 0 && cols > 0)
        return cy_fail(err, CY_ERR_ARG, "matmul: %s is NULL", name);
    return CY_OK;
}

cy_status cy_check_matmul(int batch, int M, int N, int K, int trans_a, int trans_b,
                          const float *A, int64_t lda, int64_t stride_a,
                          const float *B, int64_t ldb, int64_t stride_b,
                          const float *C, int64_t ldc, int64_t stride_c,
                          cy_error *err) {
    if (batch < 0 || M < 0 || N < 0 || K < 0)
        return cy_fail(err, CY_ERR_ARG, "matmul: negative size batch %d M %d N %d K %d",
                       batch, M, N, K);
    /* stored shapes: A is [M, K] or, transposed, [K, M]; B [K, N] or [N, K] */
    CY_TRY(check_matrix("a", A, trans_a ? K : M, trans_a ? M : K, lda, stride_a, batch,
                        err));
    CY_TRY(check_matrix("b", B, trans_b ? N : K, trans_b ? K : N, ldb, stride_b, batch,
                        err));
    CY_TRY(check_matrix("c", C, M, N, ldc, stride_c, batch, err));
    if (batch > 1 && stride_c == 0 && M > 0 && N > 0)
        return cy_fail(err, CY_ERR_ARG,
                       "matmul: stride_c 0 with batch %d writes one C from every item",
                       batch);
    return CY_OK;
}

cy_status cy_check_softmax(const float *in, const float *out, int64_t rows, int cols,
                           cy_error *err) {
    if (rows < 0 || cols < 0)
        return cy_fail(err, CY_ERR_ARG, "softmax: negative size rows %lld cols %d",
                       (long long)rows, cols);
    if (rows == 0 || cols == 0) return CY_OK;
    if (!in || !out)
        return cy_fail(err, CY_ERR_ARG, "softmax: %s is NULL", !in ? "input" : "output");
    const uintptr_t i = (uintptr_t)in, o = (uintptr_t)out;
    const uintptr_t bytes = (uintptr_t)rows * (uintptr_t)cols * sizeof(float);
    if (i != o && i < o + bytes && o < i + bytes)
        return cy_fail(err, CY_ERR_ARG,
                       "softmax: input and output overlap without being the same array");
    return CY_OK;
}

/* ---- backward ---------------------------------------------------------- */

/* A gradient output: NULL (not wanted), or a tensor of the given shape. */
static cy_status check_grad(const char *op, const char *name, const cy_tensor *g,
                            cy_shape want, cy_error *err) {
    if (!g) return CY_OK;
    if (!g->data) return cy_fail(err, CY_ERR_ARG, "%s: %s tensor has no data", op, name);
    if (!shape_eq(g->s, want))
        return cy_fail(err, CY_ERR_ARG, "%s: %s shape " SHAPE_FMT " but " SHAPE_FMT
                       " expected", op, name, SHAPE_ARGS(g->s), SHAPE_ARGS(want));
    return CY_OK;
}

cy_status cy_check_conv_backward(const cy_tensor *in, const cy_tensor *dout,
                                 const cy_tensor *din, const cy_conv_params *p,
                                 cy_error *err) {
    static const char op[] = "conv2d_backward";
    CY_TRY(check_conv(op, in, dout, p, err));
    if (p->bn_gamma || p->act != CY_ACT_NONE)
        return cy_fail(err, CY_ERR_ARG, "%s: the conv must have no fused batchnorm "
                       "or activation (they are nodes of their own in training)", op);
    if (p->precision != CY_PREC_F32)
        return cy_fail(err, CY_ERR_ARG, "%s: reduced precision is for inference only", op);
    return check_grad(op, "input gradient", din, in->s, err);
}

cy_status cy_check_bn_backward(const cy_tensor *in, const cy_tensor *dout,
                               const cy_tensor *din, const cy_bn_params *p,
                               cy_error *err) {
    static const char op[] = "batchnorm_backward";
    CY_TRY(check_tensor(op, "input", in, err));
    CY_TRY(check_tensor(op, "output gradient", dout, err));
    if (!shape_eq(in->s, dout->s))
        return cy_fail(err, CY_ERR_ARG, "%s: shapes " SHAPE_FMT " and " SHAPE_FMT
                       " differ", op, SHAPE_ARGS(in->s), SHAPE_ARGS(dout->s));
    if (!p || !p->training)
        return cy_fail(err, CY_ERR_ARG, "%s: only training mode (batch statistics) "
                       "has a backward", op);
    if (!p->save_mean || !p->save_invstd)
        return cy_fail(err, CY_ERR_ARG, "%s: needs the forward's save_mean and "
                       "save_invstd", op);
    return check_grad(op, "input gradient", din, in->s, err);
}

cy_status cy_check_act_backward(const cy_tensor *in, const cy_tensor *dout,
                                const cy_tensor *din, cy_act act, cy_error *err) {
    static const char op[] = "activation_backward";
    CY_TRY(check_tensor(op, "input", in, err));
    CY_TRY(check_tensor(op, "output gradient", dout, err));
    if (!shape_eq(in->s, dout->s))
        return cy_fail(err, CY_ERR_ARG, "%s: shapes " SHAPE_FMT " and " SHAPE_FMT
                       " differ", op, SHAPE_ARGS(in->s), SHAPE_ARGS(dout->s));
    if (act < CY_ACT_NONE || act > CY_ACT_SIGMOID)
        return cy_fail(err, CY_ERR_ARG, "%s: unknown activation %d", op, (int)act);
    return check_grad(op, "input gradient", din, in->s, err);
}

cy_status cy_check_maxpool_backward(const cy_tensor *in, const cy_tensor *dout,
                                    const cy_tensor *din, int k, int stride, int pad,
                                    cy_error *err) {
    static const char op[] = "maxpool2d_backward";
    CY_TRY(check_maxpool(op, in, dout, k, stride, pad, err));
    return check_grad(op, "input gradient", din, in->s, err);
}

cy_status cy_check_upsample_backward(const cy_tensor *dout, const cy_tensor *din,
                                     int scale, cy_error *err) {
    static const char op[] = "upsample_nearest_backward";
    if (!din) return check_tensor(op, "output gradient", dout, err);
    return check_upsample(op, din, dout, scale, err);
}

cy_status cy_check_slice_backward(const cy_tensor *dout, const cy_tensor *din, int groups,
                                  int group_stride, int offset, int len, cy_error *err) {
    static const char op[] = "slice_channels_backward";
    if (!din) return check_tensor(op, "output gradient", dout, err);
    return check_slice(op, din, dout, groups, group_stride, offset, len, err);
}

cy_status cy_check_attention_backward(const cy_tensor *qkv, const cy_tensor *dout,
                                      const cy_tensor *dqkv, int heads, int kd, int hd,
                                      cy_error *err) {
    static const char op[] = "attention_backward";
    CY_TRY(check_attention(op, qkv, dout, heads, kd, hd, err));
    return check_grad(op, "qkv gradient", dqkv, qkv->s, err);
}

cy_status cy_check_accumulate(const cy_tensor *in, const cy_tensor *out, cy_error *err) {
    static const char op[] = "accumulate";
    CY_TRY(check_tensor(op, "input", in, err));
    return check_grad(op, "output", out, in->s, err);
}
