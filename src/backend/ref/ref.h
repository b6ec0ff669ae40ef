/* The reference backend's ops (NCHW, plain C). Each is the obviously-correct
 * loop nest of its definition, accumulating in double where that is cheap,
 * so that every fast kernel can be held to it. */
#ifndef CY_BACKEND_REF_H
#define CY_BACKEND_REF_H
#include "backend/backend.h"

cy_status ref_conv2d(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                     cy_tensor *out, const cy_conv_params *p, cy_error *err);
cy_status ref_batchnorm(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                        cy_tensor *out, const cy_bn_params *p, cy_error *err);
cy_status ref_activation(cy_backend *b, const cy_tensor *in, cy_tensor *out,
                         cy_act act, cy_error *err);
cy_status ref_add(cy_backend *b, const cy_tensor *a, const cy_tensor *x,
                  cy_tensor *out, cy_error *err);
cy_status ref_maxpool2d(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                        cy_tensor *out, int k, int stride, int pad, cy_error *err);
cy_status ref_upsample_nearest(cy_backend *b, const cy_tensor *in, cy_tensor *out,
                               int scale, cy_error *err);
cy_status ref_conv_transpose(cy_backend *b, const cy_tensor *in, cy_tensor *out, const float *weight,
                             const float *bias, int k, cy_error *err);
cy_status ref_concat(cy_backend *b, const cy_tensor *const *in, int n,
                     cy_tensor *out, cy_error *err);
cy_status ref_slice_channels(cy_backend *b, const cy_tensor *in, cy_tensor *out,
                             int groups, int group_stride, int offset, int len,
                             cy_error *err);
cy_status ref_attention(cy_backend *b, const cy_tensor *qkv, cy_tensor *out,
                        int heads, int kd, int hd, float scale, cy_error *err);

/* Backward ops (backend.h): each accumulates into its gradient outputs. */
cy_status ref_conv2d_backward(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                              const cy_tensor *dout, cy_tensor *din, float *dweight,
                              float *dbias, const cy_conv_params *p, cy_error *err);
cy_status ref_batchnorm_backward(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                                 const cy_tensor *dout, cy_tensor *din,
                                 const cy_bn_params *p, float *dgamma, float *dbeta,
                                 cy_error *err);
cy_status ref_activation_backward(cy_backend *b, const cy_tensor *in,
                                  const cy_tensor *dout, cy_tensor *din, cy_act act,
                                  cy_error *err);
cy_status ref_conv_transpose_backward(cy_backend *b, const cy_tensor *in, const cy_tensor *dout, cy_tensor *din,
                                      const float *weight, float *dweight, float *dbias, int k, cy_error *err);
cy_status ref_accumulate(cy_backend *b, const cy_tensor *in, cy_tensor *out,
                         cy_error *err);
cy_status ref_maxpool2d_backward(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                                 const cy_tensor *dout, cy_tensor *din, int k,
                                 int stride, int pad, cy_error *err);
cy_status ref_upsample_nearest_backward(cy_backend *b, const cy_tensor *dout,
                                        cy_tensor *din, int scale, cy_error *err);
cy_status ref_slice_channels_backward(cy_backend *b, const cy_tensor *dout,
                                      cy_tensor *din, int groups, int group_stride,
                                      int offset, int len, cy_error *err);
cy_status ref_attention_backward(cy_backend *b, const cy_tensor *qkv,
                                 const cy_tensor *dout, cy_tensor *dqkv, int heads,
                                 int kd, int hd, float scale, cy_error *err);

/* One activation value, as PyTorch defines it (SiLU = x * sigmoid(x)). */
float ref_act1(float x, cy_act act);
/* Plain-array ops on [rows, cols] / row-major matrices. */
cy_status ref_matmul(cy_backend *b, int batch, int M, int N, int K, int trans_a,
                     int trans_b, float alpha, const float *A, int64_t lda,
                     int64_t stride_a, const float *B, int64_t ldb, int64_t stride_b,
                     float beta, float *C, int64_t ldc, int64_t stride_c,
                     cy_error *err);
cy_status ref_softmax(cy_backend *b, const float *in, float *out, int64_t rows,
                      int cols, cy_error *err);

#endif
