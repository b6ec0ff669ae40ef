/* The backend interface: every primitive op the model graph runs, behind one
 * table of function pointers. A backend owns its activation layout:
 *   ref  - plain C, NCHW, the numerical reference every fast kernel is held to;
 *   cpu  - oneDNN + vectorised C, NHWC (channels innermost, so channel concat,
 *          split and attention read contiguous rows);
 *   cuda - (later) device memory, same contract.
 * Parameters are always given in PyTorch's layouts (conv weight OIHW), straight
 * from the model's flat parameter buffer. Backward ops join this table beside
 * their forwards. */
#ifndef CY_BACKEND_H
#define CY_BACKEND_H
#include <stddef.h>
#include <stdint.h>
#include "core/status.h"
#include "core/tensor.h"

typedef enum { CY_ACT_NONE = 0, CY_ACT_SILU, CY_ACT_RELU, CY_ACT_SIGMOID } cy_act;

/* What an inference conv multiplies in. Forward only (a frozen distillation
 * teacher); backward refuses anything but F32. Output and bias stay float.
 * BF16: input and (BN-folded) weights rounded to bfloat16 (nearest even),
 *   products summed in float: the arithmetic of AVX512-BF16's dot products.
 * INT8: symmetric int8, AVX512-VNNI's arithmetic: the input quantized with
 *   the step in_scale (q = round(clamp(x / in_scale, -127, 127))), the
 *   BN-folded weights per output channel with step max|w_o| / 127, integer
 *   sums, then y = in_scale * w_scale[o] * (sum + bias[o] / (in_scale *
 *   w_scale[o])). */
typedef enum { CY_PREC_F32 = 0, CY_PREC_BF16, CY_PREC_INT8 } cy_precision;

typedef struct {
    int kh, kw;          /* kernel */
    int sh, sw;          /* stride */
    int ph, pw;          /* zero padding, both sides */
    int dh, dw;          /* dilation (1 = none) */
    int groups;
    const float *weight; /* [cout][cin/groups][kh][kw] */
    const float *bias;   /* [cout] or NULL */
    /* Eval-mode BatchNorm applied after the conv, or bn_gamma == NULL. */
    const float *bn_gamma, *bn_beta, *bn_mean, *bn_var;
    float bn_eps;
    cy_act act;          /* applied last */
    cy_precision precision;
    float in_scale;      /* INT8: the input's quantization step (> 0) */
    /* Fast kernels may cache transformed weights (folded BN, blocked layout)
     * in their slot while weights_version stays the same. */
    uint64_t weights_version;
} cy_conv_params;

typedef struct {
    const float *gamma, *beta;     /* [C] */
    float *running_mean, *running_var; /* [C]; read in eval, updated in training */
    float eps, momentum;           /* Ultralytics: 1e-3, 0.03 */
    int training;                  /* 1: batch statistics (biased var to normalise,
                                      unbiased var into the running estimate) */
    float *save_mean, *save_invstd;/* [C] or NULL: batch stats kept for backward */
} cy_bn_params;

typedef struct cy_backend cy_backend;

/* An op's private cache (primitives, reordered weights), owned by the graph
 * node that calls it and released with backend->slot_free. */
typedef void *cy_slot;

/* How a backend runs CY_PREC_BF16 or CY_PREC_INT8 convolutions */
typedef enum {
    CY_LOWP_NONE = 0,  /* refused (oneDNN has no such convolution for this CPU) */
    CY_LOWP_EMULATED,  /* correct, but not faster than float32 */
    CY_LOWP_NATIVE     /* the CPU's bf16 / int8 dot products: faster than float32 */
} cy_lowp_support;

struct cy_backend {
    const char *name;
    cy_layout layout;
    cy_lowp_support bf16;       /* NATIVE: AVX512-BF16 */
    cy_lowp_support int8;       /* NATIVE: AVX512-VNNI */
    int threads;                /* the OpenMP team its kernels use */
    void *impl;
    void (*destroy)(cy_backend *b);
    void (*slot_free)(cy_backend *b, cy_slot slot);

    /* out shape must be cy_conv_out_shape(in, cout, p). */
    cy_status (*conv2d)(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                        cy_tensor *out, const cy_conv_params *p, cy_error *err);
    cy_status (*batchnorm)(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                           cy_tensor *out, const cy_bn_params *p, cy_error *err);
    /* elementwise; in == out allowed */
    cy_status (*activation)(cy_backend *b, const cy_tensor *in, cy_tensor *out,
                            cy_act act, cy_error *err);
    cy_status (*add)(cy_backend *b, const cy_tensor *a, const cy_tensor *x,
                     cy_tensor *out, cy_error *err);
    cy_status (*maxpool2d)(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                           cy_tensor *out, int k, int stride, int pad, cy_error *err);
    cy_status (*upsample_nearest)(cy_backend *b, const cy_tensor *in,
                                  cy_tensor *out, int scale, cy_error *err);
    /* nn.ConvTranspose2d with kernel = stride = k and no padding (Proto's
     * learned 2x upsampling): every input pixel writes its own k x k block,
     * out[n, o, y*k + i, x*k + j] = bias[o] + sum_c in[n, c, y, x] *
     * weight[c][o][i][j]; out [N, cout, H*k, W*k]; weight [cin][cout][k][k]
     * (PyTorch's layout for transposed convs), bias [cout] or NULL. */
    cy_status (*conv_transpose)(cy_backend *b, const cy_tensor *in, cy_tensor *out,
                                const float *weight, const float *bias, int k, cy_error *err);
    /* out = cat(in[0..n-1]) along channels */
    cy_status (*concat)(cy_backend *b, const cy_tensor *const *in, int n,
                        cy_tensor *out, cy_error *err);
    /* out channel g*len + j = in channel g*group_stride + offset + j, for
     * g < groups, j < len. groups = 1 is a plain split/chunk. */
    cy_status (*slice_channels)(cy_backend *b, const cy_tensor *in,
                                cy_tensor *out, int groups, int group_stride,
                                int offset, int len, cy_error *err);
    /* Ultralytics Attention core on the qkv conv output:
     * qkv [N, heads*(2kd+hd), H, W] viewed per head as q (kd), k (kd), v (hd)
     * channels; attn = softmax_j(scale * q_i . k_j); out[N, heads*hd, H, W]
     * with out[h*hd+d, i] = sum_j v[d, j] attn[i, j]. */
    cy_status (*attention)(cy_backend *b, const cy_tensor *qkv, cy_tensor *out,
                           int heads, int kd, int hd, float scale, cy_error *err);

    /* Batched row-major float32 GEMM, layout-independent (plain arrays):
     *   C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b],  b < batch,
     * op(A) is [M, K], op(B) is [K, N], C is [M, N]; op(X) = X^T when trans_x.
     * Element (i, j) of a stored matrix X is X[i * ldx + j] and item b starts
     * at X + b * stride_x, so strided views (a column range of NHWC rows)
     * work. ld must be at least the stored row length (K or M for A, N or K
     * for B, N for C) and at least 1; strides >= 0 (0 broadcasts A or B).
     * beta == 0: C is only written (NaN or garbage there is ignored). The
     * batch items of C must not overlap each other or A and B. Zero sizes
     * are no-ops (K == 0 scales C by beta). */
    cy_status (*matmul)(cy_backend *b, int batch, int M, int N, int K, int trans_a,
                        int trans_b, float alpha, const float *A, int64_t lda,
                        int64_t stride_a, const float *B, int64_t ldb,
                        int64_t stride_b, float beta, float *C, int64_t ldc,
                        int64_t stride_c, cy_error *err);
    /* Softmax over the last (contiguous) dimension of a [rows, cols] float32
     * array: out[r, j] = exp(in[r, j] - max_r) / sum_k exp(in[r, k] - max_r).
     * in == out (in place) allowed; no other overlap. rows, cols >= 0. */
    cy_status (*softmax)(cy_backend *b, const float *in, float *out, int64_t rows,
                         int cols, cy_error *err);
    /* ---- backward ----------------------------------------------------------
     * Every backward ACCUMULATES: din += dL/din, dweight += dL/dweight, so a
     * value read by several nodes gets the sum of its gradients, and weight
     * gradients can accumulate over batches. A NULL output gradient pointer
     * means "not needed" (e.g. din of the first layer, or of a detached
     * input). The forward's slot is passed back so fast kernels can reuse
     * what the forward built (primitive descriptors, workspaces). */

    /* conv2d without BN/activation (training emits conv -> batchnorm ->
     * activation as separate nodes): din [in shape], dweight [cout][cin/g]
     * [kh][kw], dbias [cout]; p->bn_gamma must be NULL, p->act NONE. */
    cy_status (*conv2d_backward)(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                                 const cy_tensor *dout, cy_tensor *din, float *dweight,
                                 float *dbias, const cy_conv_params *p, cy_error *err);
    /* conv_transpose's adjoint: din += dL/din, dweight += dL/dweight
     * [cin][cout][k][k], dbias += dL/dbias [cout] (any of them NULL). */
    cy_status (*conv_transpose_backward)(cy_backend *b, const cy_tensor *in,
                                         const cy_tensor *dout, cy_tensor *din,
                                         const float *weight, float *dweight, float *dbias,
                                         int k, cy_error *err);
    /* Training-mode batchnorm backward, from the forward's save_mean and
     * save_invstd (batch statistics): din, dgamma, dbeta accumulate. */
    cy_status (*batchnorm_backward)(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                                    const cy_tensor *dout, cy_tensor *din,
                                    const cy_bn_params *p, float *dgamma, float *dbeta,
                                    cy_error *err);
    /* in is the activation's INPUT (pre-activation). */
    cy_status (*activation_backward)(cy_backend *b, const cy_tensor *in,
                                     const cy_tensor *dout, cy_tensor *din, cy_act act,
                                     cy_error *err);
    /* Gradient to the argmax of each window (the first maximum in window
     * scan order, PyTorch's choice on ties). */
    cy_status (*maxpool2d_backward)(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                                    const cy_tensor *dout, cy_tensor *din, int k,
                                    int stride, int pad, cy_error *err);
    cy_status (*upsample_nearest_backward)(cy_backend *b, const cy_tensor *dout,
                                           cy_tensor *din, int scale, cy_error *err);
    /* din channel g*group_stride + offset + j += dout channel g*len + j: the
     * adjoint of slice_channels (concat's backward is one of these per input). */
    cy_status (*slice_channels_backward)(cy_backend *b, const cy_tensor *dout,
                                         cy_tensor *din, int groups, int group_stride,
                                         int offset, int len, cy_error *err);
    /* dqkv += dL/dqkv of attention (recomputes the softmax from qkv). */
    cy_status (*attention_backward)(cy_backend *b, const cy_tensor *qkv,
                                    const cy_tensor *dout, cy_tensor *dqkv, int heads,
                                    int kd, int hd, float scale, cy_error *err);
    /* out += in (gradient accumulation of an add's two inputs, copies). */
    cy_status (*accumulate)(cy_backend *b, const cy_tensor *in, cy_tensor *out,
                            cy_error *err);
};

/* Plain C, NCHW. Never fails for valid shapes. */
cy_status cy_backend_ref_create(cy_backend **out, cy_error *err);
/* oneDNN + vectorised C, NHWC. threads <= 0: OMP_NUM_THREADS (its first
 * number) when the environment sets it, else all cores. */
cy_status cy_backend_cpu_create(cy_backend **out, int threads, cy_error *err);

static inline void cy_backend_destroy(cy_backend *b) {
    if (b) b->destroy(b);
}



static inline cy_shape cy_conv_out_shape(cy_shape in, int cout, const cy_conv_params *p) {
    cy_shape o;
    o.n = in.n;
    o.c = cout;
    o.h = (in.h + 2 * p->ph - p->dh * (p->kh - 1) - 1) / p->sh + 1;
    o.w = (in.w + 2 * p->pw - p->dw * (p->kw - 1) - 1) / p->sw + 1;
    return o;
}
#endif
