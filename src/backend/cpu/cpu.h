/* The cpu backend's shared state and helpers (NHWC: element (n,c,h,w) at
 * ((n*H + h)*W + w)*C + c). oneDNN does convolution and batch norm; the
 * memory-bound ops are OpenMP loops over contiguous channel rows. */
#ifndef CY_BACKEND_CPU_H
#define CY_BACKEND_CPU_H
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include "backend/backend.h"

typedef struct {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    int threads;
    /* one growable float buffer for ops that need a temporary the size of
     * an activation (a conv's input gradient before it is added); the
     * backend runs one op at a time, like its stream */
    float *scratch;
    size_t scratch_cap;
} cpu_impl;

/* Every slot this backend hands out starts with this header, so slot_free
 * can release it without knowing which op made it. */
typedef struct cpu_slot_hdr {
    void (*free)(struct cpu_slot_hdr *self);
} cpu_slot_hdr;

static inline cpu_impl *cpu_of(cy_backend *b) { return (cpu_impl *)b->impl; }

/* Makes the calling thread's OpenMP team (and so oneDNN's) the backend's size. */
static inline void cpu_use_threads(const cpu_impl *c) {
    if (omp_get_max_threads() != c->threads) omp_set_num_threads(c->threads);
}

/* "op: oneDNN dnnl_xxx failed: <status>" as CY_ERR_BACKEND. */
cy_status cpu_dnnl_fail(cy_error *err, const char *op, const char *call,
                        dnnl_status_t st);

/* Inside a function with `dnnl_status_t st_;`, `cy_status rc = CY_OK;`, a
 * cy_error *err, and a `fail:` label that cleans up and returns rc. */
#define DNNL_GO(op, call)                                          \
    do {                                                           \
        dnnl_status_t st_ = (call);                                \
        if (st_ != dnnl_success) {                                 \
            rc = cpu_dnnl_fail(err, op, #call, st_);               \
            goto fail;                                             \
        }                                                          \
    } while (0)

/* The shared scratch buffer, at least n floats (NULL when out of memory);
 * valid until the next call. */
float *cpu_scratch(cpu_impl *c, size_t n);

/* y[i] += x[i], OpenMP over the backend's threads when n is large. */
void cpu_add_into(const cpu_impl *c, float *restrict y, const float *restrict x, size_t n);

/* A memory object over user data (handle may be NULL and set per call). */
dnnl_status_t cpu_memory_tag(dnnl_memory_t *m, dnnl_engine_t eng, int ndims,
                             const dnnl_dims_t dims, dnnl_format_tag_t tag,
                             void *handle);

cy_status cpu_conv2d(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                     cy_tensor *out, const cy_conv_params *p, cy_error *err);
cy_status cpu_batchnorm(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                        cy_tensor *out, const cy_bn_params *p, cy_error *err);
cy_status cpu_activation(cy_backend *b, const cy_tensor *in, cy_tensor *out,
                         cy_act act, cy_error *err);
cy_status cpu_add(cy_backend *b, const cy_tensor *a, const cy_tensor *x,
                  cy_tensor *out, cy_error *err);
cy_status cpu_maxpool2d(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                        cy_tensor *out, int k, int stride, int pad, cy_error *err);
cy_status cpu_upsample_nearest(cy_backend *b, const cy_tensor *in, cy_tensor *out,
                               int scale, cy_error *err);
cy_status cpu_conv_transpose(cy_backend *b, const cy_tensor *in, cy_tensor *out, const float *weight,
                             const float *bias, int k, cy_error *err);
cy_status cpu_concat(cy_backend *b, const cy_tensor *const *in, int n,
                     cy_tensor *out, cy_error *err);
cy_status cpu_slice_channels(cy_backend *b, const cy_tensor *in, cy_tensor *out,
                             int groups, int group_stride, int offset, int len,
                             cy_error *err);
cy_status cpu_attention(cy_backend *b, const cy_tensor *qkv, cy_tensor *out,
                        int heads, int kd, int hd, float scale, cy_error *err);
/* Backward ops (backend.h): each accumulates into its gradient outputs. */
cy_status cpu_conv2d_backward(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                              const cy_tensor *dout, cy_tensor *din, float *dweight,
                              float *dbias, const cy_conv_params *p, cy_error *err);
cy_status cpu_batchnorm_backward(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                                 const cy_tensor *dout, cy_tensor *din,
                                 const cy_bn_params *p, float *dgamma, float *dbeta,
                                 cy_error *err);
cy_status cpu_activation_backward(cy_backend *b, const cy_tensor *in,
                                  const cy_tensor *dout, cy_tensor *din, cy_act act,
                                  cy_error *err);
cy_status cpu_conv_transpose_backward(cy_backend *b, const cy_tensor *in, const cy_tensor *dout, cy_tensor *din,
                                      const float *weight, float *dweight, float *dbias, int k, cy_error *err);
cy_status cpu_accumulate(cy_backend *b, const cy_tensor *in, cy_tensor *out,
                         cy_error *err);
cy_status cpu_maxpool2d_backward(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                                 const cy_tensor *dout, cy_tensor *din, int k,
                                 int stride, int pad, cy_error *err);
cy_status cpu_upsample_nearest_backward(cy_backend *b, const cy_tensor *dout,
                                        cy_tensor *din, int scale, cy_error *err);
cy_status cpu_slice_channels_backward(cy_backend *b, const cy_tensor *dout,
                                      cy_tensor *din, int groups, int group_stride,
                                      int offset, int len, cy_error *err);
cy_status cpu_attention_backward(cy_backend *b, const cy_tensor *qkv,
                                 const cy_tensor *dout, cy_tensor *dqkv, int heads,
                                 int kd, int hd, float scale, cy_error *err);
/* Plain-array ops on [rows, cols] / row-major matrices. */
cy_status cpu_matmul(cy_backend *b, int batch, int M, int N, int K, int trans_a,
                     int trans_b, float alpha, const float *A, int64_t lda,
                     int64_t stride_a, const float *B, int64_t ldb, int64_t stride_b,
                     float beta, float *C, int64_t ldc, int64_t stride_c,
                     cy_error *err);
cy_status cpu_softmax(cy_backend *b, const float *in, float *out, int64_t rows,
                      int cols, cy_error *err);

#endif
