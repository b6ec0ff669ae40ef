/* Reference batched GEMM: the definition, accumulated in double.
 *   C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b]
 * Row-major; op(A)[i][k] is A[i*lda + k], or A[k*lda + i] when transposed. */
#include "backend/ref/check.h"
#include "backend/ref/ref.h"

cy_status ref_matmul(cy_backend *b, int batch, int M, int N, int K, int trans_a,
                     int trans_b, float alpha, const float *A, int64_t lda,
                     int64_t stride_a, const float *B, int64_t ldb, int64_t stride_b,
                     float beta, float *C, int64_t ldc, int64_t stride_c,
                     cy_error *err) {
    CY_TRY(cy_check_matmul(batch, M, N, K, trans_a, trans_b, A, lda, stride_a, B, ldb,
                           stride_b, C, ldc, stride_c, err));
    /* element steps of op(A) along i and k, of op(B) along k and j */
    const int64_t ai = trans_a ? 1 : lda, ak = trans_a ? lda : 1;
    const int64_t bk = trans_b ? 1 : ldb, bj = trans_b ? ldb : 1;
    for (int64_t n = 0; n < batch; n++) {
        const float *a = A + n * stride_a, *bb = B + n * stride_b;
        float *c = C + n * stride_c;
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double s = 0;
                for (int64_t k = 0; k < K; k++)
                    s += (double)a[i * ai + k * ak] * bb[k * bk + j * bj];
                double v = (double)alpha * s;
                /* beta == 0: C is not read (BLAS), so garbage there is ignored */
                if (beta != 0.0f) v += (double)beta * c[i * ldc + j];
                c[i * ldc + j] = (float)v;
            }
    }
    return CY_OK;
}
