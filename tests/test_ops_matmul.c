/* matmul and softmax, the plain-array ops: the reference against
 * hand-computed values, then the cpu backend (oneDNN sgemm, SIMD softmax)
 * against the reference on odd shapes, every transpose combination, padded
 * leading dimensions and batch strides; bad arguments are refused. */
#include "test_util.h"
#include "backend/backend.h"

static cy_backend *ref, *cpu;
static uint64_t rng = 0x5eed0fa11ab1e5ull;
static const float SENTINEL = -12345.0f;

/* ---- matmul ----------------------------------------------------------- */

static void matmul_hand(void) {
    cy_error err = {0};
    /* A [2,3], B [3,2]: A@B = [[58, 64], [139, 154]] */
    const float A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {7, 8, 9, 10, 11, 12};
    const float At[6] = {1, 4, 2, 5, 3, 6}, Bt[6] = {7, 9, 11, 8, 10, 12};
    const float AB[4] = {58, 64, 139, 154};
    for (int t = 0; t < 4; t++) {
        const int ta = t & 1, tb = t >> 1;
        float C[4] = {1, 2, 3, 4};
        /* C = 2 AB + 0.5 C */
        CHECK(ref->matmul(ref, 1, 2, 2, 3, ta, tb, 2.0f, ta ? At : A, ta ? 2 : 3, 0,
                          tb ? Bt : B, tb ? 3 : 2, 0, 0.5f, C, 2, 0, &err) == CY_OK,
              "%s", err.msg);
        for (int i = 0; i < 4; i++)
            CHECK(C[i] == 2 * AB[i] + 0.5f * (i + 1), "hand ta %d tb %d C[%d] = %g", ta,
                  tb, i, C[i]);
    }
    /* batch 2 with B broadcast (stride 0), ldc 3 with a padding column that
     * must stay untouched, beta 0 ignoring NaN in C */
    const float A2[4] = {1, 2, 3, 4}, I2[4] = {0, 1, 1, 0}; /* swap columns */
    float C[6] = {NAN, NAN, SENTINEL, NAN, NAN, SENTINEL};
    CHECK(ref->matmul(ref, 2, 1, 2, 2, 0, 0, 1.0f, A2, 2, 2, I2, 2, 0, 0.0f, C, 3, 3,
                      &err) == CY_OK, "%s", err.msg);
    CHECK(C[0] == 2 && C[1] == 1 && C[3] == 4 && C[4] == 3, "batched hand %g %g %g %g",
          C[0], C[1], C[3], C[4]);
    CHECK(C[2] == SENTINEL && C[5] == SENTINEL, "padding written");
    /* K = 0: C = beta C */
    float D[2] = {3, 4};
    CHECK(ref->matmul(ref, 1, 1, 2, 0, 0, 0, 1.0f, NULL, 1, 0, NULL, 2, 0, 2.0f, D, 2,
                      0, &err) == CY_OK && D[0] == 6 && D[1] == 8, "K=0 %g %g", D[0],
          D[1]);
    CHECK(cpu->matmul(cpu, 1, 1, 2, 0, 0, 0, 1.0f, NULL, 1, 0, NULL, 2, 0, 0.0f, D, 2,
                      0, &err) == CY_OK && D[0] == 0 && D[1] == 0, "cpu K=0 beta 0");
}

/* Stored [rows, cols] matrices, batch items at stride, ld = cols + pad. */
typedef struct {
    int64_t ld, stride;
    size_t size;
} layout;

static layout layout_of(int batch, int rows, int cols, int pad, int gap) {
    layout l;
    l.ld = cols + pad;
    l.stride = (int64_t)rows * l.ld + gap;
    l.size = (size_t)(batch > 0 ? batch - 1 : 0) * l.stride + (size_t)rows * l.ld + 1;
    return l;
}

static void matmul_case(int batch, int M, int N, int K, int ta, int tb, float alpha,
                        float beta, int pad, int gap) {
    cy_error err = {0};
    layout la = layout_of(batch, ta ? K : M, ta ? M : K, pad, gap);
    layout lb = layout_of(batch, tb ? N : K, tb ? K : N, pad + 1, 2 * gap);
    layout lc = layout_of(batch, M, N, pad + 2, gap + 1);
    float *A = malloc(la.size * sizeof(float)), *B = malloc(lb.size * sizeof(float));
    float *Cr = malloc(lc.size * sizeof(float)), *Cc = malloc(lc.size * sizeof(float));
    test_fill(A, la.size, &rng, -1, 1);
    test_fill(B, lb.size, &rng, -1, 1);
    /* the padding holds a sentinel; beta == 0 must ignore NaN in C */
    for (size_t i = 0; i < lc.size; i++) Cr[i] = SENTINEL;
    for (int n = 0; n < batch; n++)
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                Cr[n * lc.stride + i * lc.ld + j] =
                    beta == 0 ? NAN : test_rand_uniform(&rng, -1, 1);
    memcpy(Cc, Cr, lc.size * sizeof(float));
    cy_status sr = ref->matmul(ref, batch, M, N, K, ta, tb, alpha, A, la.ld, la.stride,
                               B, lb.ld, lb.stride, beta, Cr, lc.ld, lc.stride, &err);
    CHECK(sr == CY_OK, "ref: %s", err.msg);
    cy_status sc = cpu->matmul(cpu, batch, M, N, K, ta, tb, alpha, A, la.ld, la.stride,
                               B, lb.ld, lb.stride, beta, Cc, lc.ld, lc.stride, &err);
    CHECK(sc == CY_OK, "cpu: %s", err.msg);
    double e = test_max_rel(Cc, Cr, lc.size);
    CHECK(e < 1e-5, "matmul b%d M%d N%d K%d ta%d tb%d alpha %g beta %g pad %d: rel err %g",
          batch, M, N, K, ta, tb, alpha, beta, pad, e);
    /* everything outside the [M, N] items is untouched */
    size_t outside = 0;
    for (size_t p = 0; p < lc.size; p++) {
        size_t n = p / lc.stride, q = p % lc.stride;
        int in = n < (size_t)batch && q / lc.ld < (size_t)M && q % lc.ld < (size_t)N;
        if (!in) outside += Cr[p] != SENTINEL || Cc[p] != SENTINEL;
    }
    CHECK(outside == 0, "matmul b%d M%d N%d K%d: %zu padding values written", batch, M,
          N, K, outside);
    free(A), free(B), free(Cr), free(Cc);
}

static void matmul_compare(void) {
    static const int mnk[][3] = {{1, 1, 1},     {7, 33, 1},    {33, 7, 130},
                                 {1, 130, 400}, {400, 1, 7},   {130, 33, 400},
                                 {400, 130, 7}, {33, 400, 33}, {7, 7, 400}};
    const int nshapes = (int)(sizeof mnk / sizeof *mnk);
    int k = 0;
    for (int s = 0; s < nshapes; s++)
        for (int t = 0; t < 4; t++)
            for (int v = 0; v < 2; v++, k++) {
                const int batch = v ? 3 : 1; /* 3 > threads: one item per thread */
                const float alpha = (k % 3 == 0) ? 1.0f : -0.75f;
                const float beta = v ? 0.5f : (k % 2 ? 0.0f : -1.25f);
                matmul_case(batch, mnk[s][0], mnk[s][1], mnk[s][2], t & 1, t >> 1, alpha,
                            beta, k % 4 /* pad */, k % 5 /* batch gap */);
            }
    /* beta 0 with batch > 1 too, and the per-item zero-size no-ops */
    matmul_case(5, 33, 7, 130, 1, 0, 1.0f, 0.0f, 3, 0);
    matmul_case(2, 0, 7, 5, 0, 0, 1.0f, 1.0f, 0, 0);
    matmul_case(2, 7, 0, 5, 0, 1, 1.0f, 1.0f, 0, 0);
    matmul_case(0, 7, 7, 5, 1, 1, 1.0f, 1.0f, 0, 0);
}

/* The NHWC view attention uses: per head a column range of [L, heads*d]
 * rows, batch = heads, stride = d columns (items interleave, never overlap). */
static void matmul_views(void) {
    cy_error err = {0};
    const int L = 37, heads = 4, kd = 8, hd = 16, per = 2 * kd + hd;
    const size_t nq = (size_t)L * heads * per, no = (size_t)L * heads * hd;
    float *qkv = malloc(nq * sizeof(float));
    float *S[2] = {malloc((size_t)heads * L * L * sizeof(float)),
                   malloc((size_t)heads * L * L * sizeof(float))};
    float *O[2] = {malloc(no * sizeof(float)), malloc(no * sizeof(float))};
    test_fill(qkv, nq, &rng, -1, 1);
    cy_backend *bk[2] = {ref, cpu};
    for (int i = 0; i < 2; i++) {
        cy_backend *b = bk[i];
        /* S_h = 0.35 Q_h K_h^T, [L, L] per head, contiguous */
        CHECK(b->matmul(b, heads, L, L, kd, 0, 1, 0.35f, qkv, heads * per, per,
                        qkv + kd, heads * per, per, 0.0f, S[i], L, (int64_t)L * L,
                        &err) == CY_OK, "%s qk: %s", b->name, err.msg);
        CHECK(b->softmax(b, S[i], S[i], (int64_t)heads * L, L, &err) == CY_OK, "%s: %s",
              b->name, err.msg);
        /* O_h = S_h V_h into columns h*hd.. of [L, heads*hd] */
        CHECK(b->matmul(b, heads, L, hd, L, 0, 0, 1.0f, S[i], L, (int64_t)L * L,
                        qkv + 2 * kd, heads * per, per, 0.0f, O[i], heads * hd, hd,
                        &err) == CY_OK, "%s sv: %s", b->name, err.msg);
    }
    double e = test_max_rel(O[1], O[0], no);
    CHECK(e < 1e-5, "attention-style strided views: rel err %g", e);
    free(qkv), free(S[0]), free(S[1]), free(O[0]), free(O[1]);
}

static void matmul_bad(void) {
    cy_error err = {0};
    float x[64] = {0};
    cy_backend *bk[2] = {ref, cpu};
    for (int i = 0; i < 2; i++) {
        cy_backend *b = bk[i];
#define BAD(what, ...)                                                              \
    do {                                                                            \
        err.msg[0] = 0;                                                             \
        CHECK(b->matmul(b, __VA_ARGS__, &err) == CY_ERR_ARG &&                      \
                  strstr(err.msg, "matmul"), "%s: %s accepted (%s)", b->name, what, \
              err.msg);                                                             \
    } while (0)
        BAD("negative M", 1, -1, 2, 2, 0, 0, 1.0f, x, 2, 0, x, 2, 0, 0.0f, x, 2, 0);
        BAD("negative batch", -1, 2, 2, 2, 0, 0, 1.0f, x, 2, 0, x, 2, 0, 0.0f, x, 2, 0);
        BAD("lda < K", 1, 4, 4, 3, 0, 0, 1.0f, x, 2, 0, x, 4, 0, 0.0f, x, 4, 0);
        BAD("lda < M (A^T)", 1, 4, 4, 3, 1, 0, 1.0f, x, 3, 0, x, 4, 0, 0.0f, x, 4, 0);
        BAD("ldb < N", 1, 4, 4, 3, 0, 0, 1.0f, x, 3, 0, x, 3, 0, 0.0f, x, 4, 0);
        BAD("ldb < K (B^T)", 1, 4, 4, 3, 0, 1, 1.0f, x, 3, 0, x, 2, 0, 0.0f, x, 4, 0);
        BAD("ldc < N", 1, 4, 4, 3, 0, 0, 1.0f, x, 3, 0, x, 4, 0, 0.0f, x, 3, 0);
        BAD("ld 0", 1, 1, 0, 1, 0, 0, 1.0f, x, 1, 0, x, 0, 0, 0.0f, x, 1, 0);
        BAD("NULL A", 1, 2, 2, 2, 0, 0, 1.0f, NULL, 2, 0, x, 2, 0, 0.0f, x, 2, 0);
        BAD("NULL B", 1, 2, 2, 2, 0, 0, 1.0f, x, 2, 0, NULL, 2, 0, 0.0f, x, 2, 0);
        BAD("NULL C", 1, 2, 2, 2, 0, 0, 1.0f, x, 2, 0, x, 2, 0, 0.0f, NULL, 2, 0);
        BAD("negative stride", 2, 2, 2, 2, 0, 0, 1.0f, x, 2, -4, x, 2, 4, 0.0f, x + 32, 2,
            4);
        BAD("stride_c 0", 2, 2, 2, 2, 0, 0, 1.0f, x, 2, 4, x, 2, 4, 0.0f, x + 32, 2, 0);
#undef BAD
    }
}

/* ---- softmax ---------------------------------------------------------- */

static void softmax_hand(void) {
    cy_error err = {0};
    /* exp: 1, 2, 5 -> 1/8, 2/8, 5/8; shifting by 500 changes nothing */
    float x[6] = {0, logf(2), logf(5), 500, 500 + logf(2), 500 + logf(5)}, y[6];
    cy_backend *bk[2] = {ref, cpu};
    for (int i = 0; i < 2; i++) {
        CHECK(bk[i]->softmax(bk[i], x, y, 2, 3, &err) == CY_OK, "%s", err.msg);
        for (int r = 0; r < 2; r++)
            CHECK(fabsf(y[3 * r] - 0.125f) < 1e-6f && fabsf(y[3 * r + 1] - 0.25f) < 1e-6f &&
                      fabsf(y[3 * r + 2] - 0.625f) < 1e-6f,
                  "%s row %d: %g %g %g", bk[i]->name, r, y[3 * r], y[3 * r + 1],
                  y[3 * r + 2]);
    }
}

static void softmax_case(int64_t rows, int cols, float lo, float hi) {
    cy_error err = {0};
    const size_t n = (size_t)rows * cols;
    float *x = malloc(n * sizeof(float)), *yr = malloc(n * sizeof(float));
    float *yc = malloc(n * sizeof(float)), *yi = malloc(n * sizeof(float));
    test_fill(x, n, &rng, lo, hi);
    memcpy(yi, x, n * sizeof(float));
    CHECK(ref->softmax(ref, x, yr, rows, cols, &err) == CY_OK, "%s", err.msg);
    CHECK(cpu->softmax(cpu, x, yc, rows, cols, &err) == CY_OK, "%s", err.msg);
    CHECK(cpu->softmax(cpu, yi, yi, rows, cols, &err) == CY_OK, "%s", err.msg);
    double e = test_max_rel(yc, yr, n);
    CHECK(e < 1e-6, "softmax %lldx%d in [%g,%g]: cpu rel err %g", (long long)rows, cols,
          lo, hi, e);
    CHECK(memcmp(yi, yc, n * sizeof(float)) == 0, "softmax %lldx%d: in place differs",
          (long long)rows, cols);
    double worst = 0;
    for (int64_t r = 0; r < rows; r++) {
        double sr = 0, sc = 0;
        for (int j = 0; j < cols; j++) sr += yr[r * cols + j], sc += yc[r * cols + j];
        worst = fmax(worst, fmax(fabs(sr - 1), fabs(sc - 1)));
    }
    CHECK(worst < 1e-5, "softmax %lldx%d: a row sums to 1 +- %g", (long long)rows, cols,
          worst);
    if (cols == 1)
        for (size_t i = 0; i < n; i++)
            CHECK(yr[i] == 1 && yc[i] == 1, "cols=1 gives %g, %g", yr[i], yc[i]);
    /* ref in place too */
    memcpy(yi, x, n * sizeof(float));
    CHECK(ref->softmax(ref, yi, yi, rows, cols, &err) == CY_OK, "%s", err.msg);
    CHECK(memcmp(yi, yr, n * sizeof(float)) == 0, "ref softmax in place differs");
    free(x), free(yr), free(yc), free(yi);
}

static void softmax_compare(void) {
    static const struct { int64_t rows; int cols; } s[] = {
        {1, 1}, {5, 1}, {3, 7}, {37, 16}, {400, 400}, {2, 1000}, {8, 33}, {1000, 17}};
    for (size_t i = 0; i < sizeof s / sizeof *s; i++) {
        softmax_case(s[i].rows, s[i].cols, -5, 5);
        softmax_case(s[i].rows, s[i].cols, -80, 80);   /* large magnitude */
        softmax_case(s[i].rows, s[i].cols, 995, 1005); /* exp overflows unshifted */
    }
}

static void softmax_bad(void) {
    cy_error err = {0};
    float x[16] = {0};
    cy_backend *bk[2] = {ref, cpu};
    for (int i = 0; i < 2; i++) {
        cy_backend *b = bk[i];
#define BAD(what, ...)                                                               \
    do {                                                                             \
        err.msg[0] = 0;                                                              \
        CHECK(b->softmax(b, __VA_ARGS__, &err) == CY_ERR_ARG &&                      \
                  strstr(err.msg, "softmax"), "%s: %s accepted (%s)", b->name, what, \
              err.msg);                                                              \
    } while (0)
        BAD("negative rows", x, x, -1, 4);
        BAD("negative cols", x, x, 2, -4);
        BAD("NULL input", NULL, x, 2, 4);
        BAD("NULL output", x, NULL, 2, 4);
        BAD("partial overlap", x, x + 1, 2, 4);
#undef BAD
        CHECK(b->softmax(b, NULL, NULL, 0, 4, &err) == CY_OK, "%s: 0 rows", b->name);
    }
}

int main(void) {
    cy_error err = {0};
    CHECK(cy_backend_ref_create(&ref, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_backend_cpu_create(&cpu, 2, &err) == CY_OK, "%s", err.msg);
    if (!ref || !cpu) return test_summary();
    matmul_hand();
    matmul_compare();
    matmul_views();
    matmul_bad();
    softmax_hand();
    softmax_compare();
    softmax_bad();
    cy_backend_destroy(ref);
    cy_backend_destroy(cpu);
    return test_summary();
}
