/* Argument and shape checks shared by every backend: the contract of
 * backend.h, written once. Each returns CY_OK or CY_ERR_ARG with a message
 * that names the op and the mismatching shapes. */
#ifndef CY_BACKEND_CHECK_H
#define CY_BACKEND_CHECK_H
#include "backend/backend.h"

cy_status cy_check_conv(const cy_tensor *in, const cy_tensor *out,
                        const cy_conv_params *p, cy_error *err);
cy_status cy_check_bn(const cy_tensor *in, const cy_tensor *out,
                      const cy_bn_params *p, cy_error *err);
cy_status cy_check_same(const char *op, const cy_tensor *a, const cy_tensor *b,
                        cy_error *err);
cy_status cy_check_maxpool(const cy_tensor *in, const cy_tensor *out, int k,
                           int stride, int pad, cy_error *err);
cy_status cy_check_upsample(const cy_tensor *in, const cy_tensor *out, int scale,
                            cy_error *err);
/* conv_transpose and its backward (op names the caller): in [N, cin, H, W],
 * out [N, cout, H*k, W*k], k >= 1, a weight. */
cy_status cy_check_conv_transpose(const char *op, const cy_tensor *in, const cy_tensor *out,
                                  const float *weight, int k, cy_error *err);
cy_status cy_check_concat(const cy_tensor *const *in, int n, const cy_tensor *out,
                          cy_error *err);
cy_status cy_check_slice(const cy_tensor *in, const cy_tensor *out, int groups,
                         int group_stride, int offset, int len, cy_error *err);
cy_status cy_check_attention(const cy_tensor *qkv, const cy_tensor *out, int heads,
                             int kd, int hd, cy_error *err);
/* Plain-array ops (see backend.h for the contracts). */
cy_status cy_check_matmul(int batch, int M, int N, int K, int trans_a, int trans_b,
                          const float *A, int64_t lda, int64_t stride_a,
                          const float *B, int64_t ldb, int64_t stride_b,
                          const float *C, int64_t ldc, int64_t stride_c,
                          cy_error *err);
cy_status cy_check_softmax(const float *in, const float *out, int64_t rows, int cols,
                           cy_error *err);

/* Backward ops: the forward's checks under the backward's name, plus the
 * gradient outputs, each NULL (not wanted) or of its value's shape. */
cy_status cy_check_conv_backward(const cy_tensor *in, const cy_tensor *dout,
                                 const cy_tensor *din, const cy_conv_params *p,
                                 cy_error *err);
cy_status cy_check_bn_backward(const cy_tensor *in, const cy_tensor *dout,
                               const cy_tensor *din, const cy_bn_params *p,
                               cy_error *err);
cy_status cy_check_act_backward(const cy_tensor *in, const cy_tensor *dout,
                                const cy_tensor *din, cy_act act, cy_error *err);
cy_status cy_check_maxpool_backward(const cy_tensor *in, const cy_tensor *dout,
                                    const cy_tensor *din, int k, int stride, int pad,
                                    cy_error *err);
cy_status cy_check_upsample_backward(const cy_tensor *dout, const cy_tensor *din,
                                     int scale, cy_error *err);
cy_status cy_check_slice_backward(const cy_tensor *dout, const cy_tensor *din, int groups,
                                  int group_stride, int offset, int len, cy_error *err);
cy_status cy_check_attention_backward(const cy_tensor *qkv, const cy_tensor *dout,
                                      const cy_tensor *dqkv, int heads, int kd, int hd,
                                      cy_error *err);
/* out may be NULL (nothing to do) */
cy_status cy_check_accumulate(const cy_tensor *in, const cy_tensor *out, cy_error *err);

/* Output size of a floor-mode pooling window (PyTorch). */
static inline int cy_pool_out(int in, int k, int stride, int pad) {
    return (in + 2 * pad - k) / stride + 1;
}
#endif
