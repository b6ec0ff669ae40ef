/* cpu attention core on NHWC. The qkv tensor is a [L = H*W, C'] row-major
 * matrix per image, C' = heads*(2kd+hd); head h's q, k and v are column
 * ranges of it (leading dimension C'), and its output is a column range of
 * the [L, heads*hd] output. Per (image, head):
 *   S = scale * Q K^T        [L, L]   gemm
 *   S = softmax over rows
 *   O = S V                  [L, hd]  gemm, written in place with ldc = heads*hd
 * oneDNN's sgemm runs on the same OpenMP threads as everything else, and
 * single-threaded when called inside a parallel region (one head per thread). */
#include <stdlib.h>
#include "backend/cpu/cpu.h"
#include "backend/cpu/vmath.h"
#include "backend/ref/check.h"

static void softmax_row(float *s, long L) {
    float mx = s[0], sum = 0;
#pragma omp simd reduction(max : mx)
    for (long j = 0; j < L; j++) mx = s[j] > mx ? s[j] : mx;
#pragma omp simd reduction(+ : sum)
    for (long j = 0; j < L; j++) sum += s[j] = cpu_expf(s[j] - mx);
    const float inv = 1.0f / sum;
#pragma omp simd
    for (long j = 0; j < L; j++) s[j] *= inv;
}

static dnnl_status_t attend(const float *q, const float *k, const float *v, float *o,
                            float *S, long L, int kd, int hd, long ldqkv, long ldo,
                            float scale, int threads) {
    dnnl_status_t st = dnnl_sgemm('N', 'T', L, L, kd, scale, q, ldqkv, k, ldqkv, 0.0f,
                                  S, L);
    if (st != dnnl_success) return st;
#pragma omp parallel for num_threads(threads) if (threads > 1)
    for (long i = 0; i < L; i++) softmax_row(S + i * L, L);
    return dnnl_sgemm('N', 'N', L, hd, L, 1.0f, S, L, v, ldqkv, 0.0f, o, ldo);
}

cy_status cpu_attention(cy_backend *b, const cy_tensor *qkv, cy_tensor *out,
                        int heads, int kd, int hd, float scale, cy_error *err) {
    const cpu_impl *c = cpu_of(b);
    CY_TRY(cy_check_attention(qkv, out, heads, kd, hd, err));
    cpu_use_threads(c);
    const long L = (long)qkv->s.h * qkv->s.w, Cq = qkv->s.c, Co = out->s.c;
    const int per = 2 * kd + hd;
    const long pairs = (long)qkv->s.n * heads;
    /* enough heads: one per thread; else one at a time, threaded inside */
    const int outer = pairs >= c->threads ? c->threads : 1;
    float *scratch = malloc((size_t)outer * L * L * sizeof *scratch);
    if (!scratch) return cy_fail(err, CY_ERR_MEMORY, "attention: out of memory");
    dnnl_status_t bad = dnnl_success;
#pragma omp parallel for num_threads(outer) schedule(dynamic) if (outer > 1)
    for (long ph = 0; ph < pairs; ph++) {
        const long n = ph / heads, h = ph % heads;
        const float *q = qkv->data + (size_t)n * L * Cq + (size_t)h * per;
        float *o = out->data + (size_t)n * L * Co + (size_t)h * hd;
        float *S = scratch + (size_t)omp_get_thread_num() * L * L;
        dnnl_status_t st = attend(q, q + kd, q + 2 * kd, o, S, L, kd, hd, Cq, Co, scale,
                                  outer > 1 ? 1 : c->threads);
        if (st != dnnl_success) {
#pragma omp critical(cy_attention_err)
            bad = st;
        }
    }
    free(scratch);
    if (bad != dnnl_success) return cpu_dnnl_fail(err, "attention", "dnnl_sgemm", bad);
    return CY_OK;
}

/* Backward per (image, head), on the same column views, all through sgemm;
 * dq, dk, dv accumulate in place (beta = 1):
 *   P  = softmax(scale Q K^T)             recomputed, [L, L]
 *   dV += P^T dO                          [L, hd]
 *   dP = dO V^T                           [L, L]
 *   dS = P * (dP - rowsum(P * dP))        in place of dP
 *   dQ += scale dS K,  dK += scale dS^T Q [L, kd] */
static dnnl_status_t attend_backward(const float *q, const float *k, const float *v,
                                     const float *dO, float *dq, float *dk, float *dv,
                                     float *P, float *dP, long L, int kd, int hd,
                                     long ldqkv, long ldo, float scale, int threads) {
    dnnl_status_t st = dnnl_sgemm('N', 'T', L, L, kd, scale, q, ldqkv, k, ldqkv, 0.0f,
                                  P, L);
    if (st != dnnl_success) return st;
#pragma omp parallel for num_threads(threads) if (threads > 1)
    for (long i = 0; i < L; i++) softmax_row(P + i * L, L);
    st = dnnl_sgemm('T', 'N', L, hd, L, 1.0f, P, L, dO, ldo, 1.0f, dv, ldqkv);
    if (st == dnnl_success)
        st = dnnl_sgemm('N', 'T', L, L, hd, 1.0f, dO, ldo, v, ldqkv, 0.0f, dP, L);
    if (st != dnnl_success) return st;
#pragma omp parallel for num_threads(threads) if (threads > 1)
    for (long i = 0; i < L; i++) {
        const float *p = P + i * L;
        float *d = dP + i * L, dot = 0;
#pragma omp simd reduction(+ : dot)
        for (long j = 0; j < L; j++) dot += p[j] * d[j];
#pragma omp simd
        for (long j = 0; j < L; j++) d[j] = p[j] * (d[j] - dot);
    }
    st = dnnl_sgemm('N', 'N', L, kd, L, scale, dP, L, k, ldqkv, 1.0f, dq, ldqkv);
    if (st == dnnl_success)
        st = dnnl_sgemm('T', 'N', L, kd, L, scale, dP, L, q, ldqkv, 1.0f, dk, ldqkv);
    return st;
}

cy_status cpu_attention_backward(cy_backend *b, const cy_tensor *qkv,
                                 const cy_tensor *dout, cy_tensor *dqkv, int heads,
                                 int kd, int hd, float scale, cy_error *err) {
    const cpu_impl *c = cpu_of(b);
    CY_TRY(cy_check_attention_backward(qkv, dout, dqkv, heads, kd, hd, err));
    if (!dqkv) return CY_OK;
    cpu_use_threads(c);
    const long L = (long)qkv->s.h * qkv->s.w, Cq = qkv->s.c, Co = dout->s.c;
    const int per = 2 * kd + hd;
    const long pairs = (long)qkv->s.n * heads;
    const int outer = pairs >= c->threads ? c->threads : 1;
    float *scratch = malloc((size_t)outer * 2 * L * L * sizeof *scratch);
    if (!scratch) return cy_fail(err, CY_ERR_MEMORY, "attention_backward: out of memory");
    dnnl_status_t bad = dnnl_success;
#pragma omp parallel for num_threads(outer) schedule(dynamic) if (outer > 1)
    for (long ph = 0; ph < pairs; ph++) {
        const long n = ph / heads, h = ph % heads;
        const size_t off = (size_t)n * L * Cq + (size_t)h * per;
        const float *q = qkv->data + off;
        float *g = dqkv->data + off;
        const float *dO = dout->data + (size_t)n * L * Co + (size_t)h * hd;
        float *P = scratch + (size_t)omp_get_thread_num() * 2 * L * L;
        dnnl_status_t st = attend_backward(q, q + kd, q + 2 * kd, dO, g, g + kd, g + 2 * kd,
                                           P, P + L * L, L, kd, hd, Cq, Co, scale,
                                           outer > 1 ? 1 : c->threads);
        if (st != dnnl_success) {
#pragma omp critical(cy_attention_err)
            bad = st;
        }
    }
    free(scratch);
    if (bad != dnnl_success)
        return cpu_dnnl_fail(err, "attention_backward", "dnnl_sgemm", bad);
    return CY_OK;
}
