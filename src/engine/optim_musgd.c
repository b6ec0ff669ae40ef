/* MuSGD (ultralytics/optim/muon.py) on one group. Muon groups:
 *   p -= lr*0.2 * muon_update(g);  d = g + wd*p (the moved p);
 *   buf2 = m*buf2 + d;  p -= lr*1.0 * (d + m*buf2)
 * other groups: plain nesterov SGD (d = g + wd*p, buf = m*buf + d, p -= lr *
 * (d + m*buf)), no scale factor.
 *
 * muon_update orthogonalises the momentum-mixed gradient with five quintic
 * Newton-Schulz steps in bfloat16, as zeropower_via_newtonschulz5 does on
 * torch 1.13's CPU: every tensor op rounds its result to bf16 (round to
 * nearest even); the Python-float coefficients are first cast to bf16 (a
 * wrapped scalar takes the tensor's dtype): a, b, c = 3.4375, -4.78125,
 * 2.03125; matmuls sum in float32 and round once (oneDNN), except those of
 * at most 16^3 multiply-adds, which torch's own gemm accumulates in bf16.
 * The reference's updates are reproduced bit for bit. */
#pragma GCC optimize("fp-contract=off")
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "engine/optim_impl.h"

#define MUON_SCALE 0.2 /* MuSGD(muon=0.2, sgd=1.0) as build_optimizer makes it */
#define SGD_SCALE 1.0

static inline float bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return x; /* NaN stays NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    u &= 0xffff0000u;
    memcpy(&x, &u, 4);
    return x;
}

static void round_bf16(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = bf16(x[i]);
}

/* C[M,N] = A[M,K] @ B[K,N], every element one float32 fused multiply-add
 * chain over k in order: the order oneDNN's gemm kernels sum in, which the
 * reference's large bf16 matmuls went through (bit-exact on all three
 * reference tensors). Rows are independent, so threads change nothing. */
static void mm_fma(int M, int N, int K, const float *A, const float *B, float *C) {
#pragma omp parallel for if ((int64_t)M * N * K > (1 << 22)) schedule(static)
    for (int i = 0; i < M; i++) {
        float *restrict c = C + (size_t)i * N;
        for (int j = 0; j < N; j++) c[j] = 0;
        for (int l = 0; l < K; l++) {
            const float a = A[(size_t)i * K + l];
            const float *restrict b = B + (size_t)l * N;
#pragma omp simd
            for (int j = 0; j < N; j++) c[j] = fmaf(a, b[j], c[j]);
        }
    }
}

static inline float coef(double x, int bf) { return bf ? bf16((float)x) : (float)x; }

/* torch 1.13's own CPU gemm (aten/src/ATen/native/cpu/BlasKernel.cpp), which
 * bf16 matmuls of at most 16*16*16 multiply-adds take instead of oneDNN
 * (mkldnn's size cut). x @ y with both operands contiguous (gemm_notrans_)
 * accumulates straight into the bf16 output: c += a*b rounds the exact
 * product to bf16, then the sum to bf16, for every k in order. x @ x.T
 * (gemm_transa_) is a plain float32 dot product, rounded once. */
static void mm_bf16_small(int M, int N, int K, int tb, const float *A, const float *B, float *C) {
    if (tb) {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                const float *a = A + (size_t)i * K, *b = B + (size_t)j * K;
                float s = 0;
                for (int l = 0; l < K; l++) s += a[l] * b[l];
                C[(size_t)i * N + j] = bf16(s);
            }
        return;
    }
    for (size_t i = 0; i < (size_t)M * N; i++) C[i] = 0;
    for (int l = 0; l < K; l++)
        for (int i = 0; i < M; i++) {
            const float a = A[(size_t)i * K + l], *b = B + (size_t)l * N;
            float *c = C + (size_t)i * N;
            for (int j = 0; j < N; j++) c[j] = bf16(c[j] + bf16(a * b[j]));
        }
}

/* C = A @ B, or A @ A.T with At = A.T given ([K,M]), as the reference's
 * bf16 (or float32) matmul: torch's own gemm up to 16*16*16 multiply-adds,
 * oneDNN's order above. */
static void mm_ns(int bf, int M, int N, int K, int tb, const float *A, const float *B,
                  const float *At, float *C) {
    if (bf && (int64_t)M * N * K <= 16 * 16 * 16) mm_bf16_small(M, N, K, tb, A, B, C);
    else mm_fma(M, N, K, A, tb ? At : B, C);
}

/* zeropower_via_newtonschulz5 on X [n, k], n <= k (already transposed),
 * normalised in place first. work: 3*n*n + 2*n*k floats. */
static void newton_schulz5(float *X, int n, int k, int bf, float *work) {
    const size_t nk = (size_t)n * k, nn = (size_t)n * n;
    float *A = work, *T = A + nn, *B = T + nn, *Y = B + nn, *Xt = Y + nk;
    /* X /= X.norm() + eps: float32 accumulation, the norm rounded to X's dtype */
    double s = 0;
    for (size_t i = 0; i < nk; i++) s += (double)X[i] * X[i];
    float norm = sqrtf((float)s);
    if (bf) norm = bf16(bf16(norm) + coef(1e-7, 1));
    else norm = norm + 1e-7f;
    for (size_t i = 0; i < nk; i++) X[i] = X[i] / norm;
    if (bf) round_bf16(X, nk);
    const float a = coef(3.4445, bf), b = coef(-4.7750, bf), c = coef(2.0315, bf);
    for (int it = 0; it < 5; it++) {
        for (int r = 0; r < n; r++)
            for (int c2 = 0; c2 < k; c2++) Xt[(size_t)c2 * n + r] = X[(size_t)r * k + c2];
        mm_ns(bf, n, n, k, 1, X, X, Xt, A); /* A = X @ X.T */
        if (bf) round_bf16(A, nn);
        for (size_t i = 0; i < nn; i++) T[i] = c * A[i]; /* c * A @ A == (c*A) @ A */
        if (bf) round_bf16(T, nn);
        mm_ns(bf, n, n, n, 0, T, A, NULL, B);
        if (bf) round_bf16(B, nn);
        for (size_t i = 0; i < nn; i++) {
            float t = b * A[i];
            if (bf) t = bf16(t);
            B[i] = t + B[i];
        }
        if (bf) round_bf16(B, nn);
        mm_ns(bf, n, k, n, 0, B, X, NULL, Y); /* B @ X */
        if (bf) round_bf16(Y, nk);
        for (size_t i = 0; i < nk; i++) {
            float t = a * X[i];
            if (bf) t = bf16(t);
            X[i] = t + Y[i];
        }
        if (bf) round_bf16(X, nk);
    }
}

/* torch lerp(self, end, w): self + w*(end-self) for |w| < 0.5, else
 * end - (end-self)*(1-w), the products fused as the compiled kernel does */
static inline float lerp(float self, float end, float w) {
    float d = end - self;
    return fabsf(w) < 0.5f ? fmaf(w, d, self) : fmaf(-d, 1.0f - w, end);
}

cy_status cy_muon_update(const float *grad, float *momentum, int ndim, const int64_t *shape,
                         double beta, int nesterov, int fp32, float *out, cy_error *err) {
    if (!grad || !momentum || !shape || !out || ndim < 2 || ndim > 4)
        return cy_fail(err, CY_ERR_ARG, "muon_update: needs a 2-D or 4-D tensor");
    size_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] <= 0) return cy_fail(err, CY_ERR_ARG, "muon_update: empty tensor");
        numel *= (size_t)shape[d];
    }
    if (ndim == 3)
        return cy_fail(err, CY_ERR_UNSUPPORTED, "muon_update: 3-D tensors are not orthogonalised");
    const int rows = (int)shape[0], cols = (int)(numel / (size_t)shape[0]);
    const float w1 = cy_f32(1 - beta), wb = cy_f32(beta);
    for (size_t i = 0; i < numel; i++) momentum[i] = lerp(momentum[i], grad[i], w1);
    const int tr = rows > cols, n = tr ? cols : rows, k = tr ? rows : cols;
    float *work = malloc(((size_t)3 * n * n + 3 * (size_t)n * k) * sizeof(float));
    if (!work) return cy_fail(err, CY_ERR_MEMORY, "muon_update: out of memory");
    float *X = work + (size_t)3 * n * n + 2 * (size_t)n * k;
    const int bf = !fp32;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            size_t i = (size_t)r * cols + c;
            float u = nesterov ? lerp(grad[i], momentum[i], wb) : momentum[i];
            if (bf) u = bf16(u);
            X[tr ? (size_t)c * rows + r : i] = u;
        }
    newton_schulz5(X, n, k, bf, work);
    /* * max(1, grad.size(-2) / grad.size(-1)) ** 0.5: the LAST two dims of the
     * gradient (kh/kw for a conv filter), not the matrix's */
    const double ratio = (double)shape[ndim - 2] / (double)shape[ndim - 1];
    const float scale = ratio > 1 ? coef(sqrt(ratio), bf) : 1.0f;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            float u = X[tr ? (size_t)c * rows + r : (size_t)r * cols + c];
            if (scale != 1.0f) u = bf ? bf16(u * scale) : u * scale;
            out[(size_t)r * cols + c] = u;
        }
    free(work);
    return CY_OK;
}

cy_status cy_optim_step_musgd(cy_optim *o, const cy_optim_group *g, float *params,
                              const float *grads, cy_error *err) {
    const double lr = g->lr;
    const float wd = cy_f32(g->weight_decay), m = cy_f32(g->momentum);
    const int use_wd = g->weight_decay != 0, nesterov = g->nesterov;
    for (int k = 0; k < g->nentries; k++) {
        const int e = g->entries[k];
        if (!cy_optim_trainable(o, e)) continue;
        const cy_entry *en = &o->entries[e];
        const size_t off = en->offset, n = en->numel;
        float *p = params + off;
        const float *gr = grads + off;
        o->has_state[e] = 1;
        o->step[e]++;
        if (g->use_muon) {
            float *u = o->scratch;
            CY_TRY(cy_muon_update(gr, o->a + off, en->ndim, en->shape, g->momentum, nesterov,
                                  o->ns_fp32, u, err));
            const float am = cy_f32(-(lr * MUON_SCALE)), as = cy_f32(-(lr * SGD_SCALE));
            float *buf = o->b + off;
#pragma omp parallel for if (n > 65536) schedule(static)
            for (size_t i = 0; i < n; i++) {
                float pi = fmaf(u[i], am, p[i]);
                float d = use_wd ? fmaf(pi, wd, gr[i]) : gr[i];
                float b = buf[i] * m + d;
                buf[i] = b;
                float up = nesterov ? fmaf(b, m, d) : b;
                p[i] = fmaf(up, as, pi);
            }
        } else {
            const float nlr = cy_f32(-lr);
            float *buf = o->a + off;
#pragma omp parallel for if (n > 65536) schedule(static)
            for (size_t i = 0; i < n; i++) {
                float d = use_wd ? fmaf(p[i], wd, gr[i]) : gr[i];
                float b = buf[i] * m + d;
                buf[i] = b;
                float up = nesterov ? fmaf(b, m, d) : b;
                p[i] = fmaf(up, nlr, p[i]);
            }
        }
    }
    return CY_OK;
}
