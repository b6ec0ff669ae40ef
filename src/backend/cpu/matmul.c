/* cpu batched GEMM: oneDNN's row-major dnnl_sgemm per batch item. With at
 * least as many items as threads, one item per thread (sgemm runs
 * single-threaded inside a parallel region); else one item at a time with
 * sgemm threaded inside, as attention.c does. */
#include "backend/cpu/cpu.h"
#include "backend/ref/check.h"

cy_status cpu_matmul(cy_backend *b, int batch, int M, int N, int K, int trans_a,
                     int trans_b, float alpha, const float *A, int64_t lda,
                     int64_t stride_a, const float *B, int64_t ldb, int64_t stride_b,
                     float beta, float *C, int64_t ldc, int64_t stride_c,
                     cy_error *err) {
    const cpu_impl *c = cpu_of(b);
    CY_TRY(cy_check_matmul(batch, M, N, K, trans_a, trans_b, A, lda, stride_a, B, ldb,
                           stride_b, C, ldc, stride_c, err));
    if (batch == 0 || M == 0 || N == 0) return CY_OK;
    cpu_use_threads(c);
    if (K == 0) { /* C = beta * C; beta == 0 writes zeros without reading */
#pragma omp parallel for collapse(2) num_threads(c->threads) \
    if (c->threads > 1 && (int64_t)batch * M * N > 65536)
        for (int64_t n = 0; n < batch; n++)
            for (int64_t i = 0; i < M; i++) {
                float *row = C + n * stride_c + i * ldc;
                for (int64_t j = 0; j < N; j++) row[j] = beta != 0.0f ? beta * row[j] : 0;
            }
        return CY_OK;
    }
    const char ta = trans_a ? 'T' : 'N', tb = trans_b ? 'T' : 'N';
    const int outer = batch >= c->threads ? c->threads : 1;
    dnnl_status_t bad = dnnl_success;
#pragma omp parallel for num_threads(outer) schedule(static) if (outer > 1)
    for (int64_t n = 0; n < batch; n++) {
        dnnl_status_t st = dnnl_sgemm(ta, tb, M, N, K, alpha, A + n * stride_a, lda,
                                      B + n * stride_b, ldb, beta, C + n * stride_c, ldc);
        if (st != dnnl_success) {
#pragma omp critical(cy_matmul_err)
            bad = st;
        }
    }
    if (bad != dnnl_success) return cpu_dnnl_fail(err, "matmul", "dnnl_sgemm", bad);
    return CY_OK;
}
