/* batchnorm, activation, add, maxpool, upsample, concat, slice_channels and
 * attention: the reference against hand-computed or naive values, then the
 * cpu backend (NHWC) against the reference (NCHW). */
#include <omp.h>
#include <stdlib.h>
#include "test_util.h"
#include "backend/backend.h"

static cy_backend *ref, *cpu;
static uint64_t rng = 0x1234567887654321ull;

/* An NCHW tensor with random data and its NHWC twin. */
typedef struct {
    cy_tensor r, c;
} pair;

static pair pair_new(cy_shape s, float lo, float hi) {
    size_t n = cy_shape_numel(s);
    pair p = {{malloc(n * sizeof(float)), s}, {malloc(n * sizeof(float)), s}};
    test_fill(p.r.data, n, &rng, lo, hi);
    cy_nchw_to_nhwc(p.c.data, p.r.data, s);
    return p;
}

static void pair_free(pair *p) { free(p->r.data), free(p->c.data); }

/* max relative difference of the cpu result (NHWC) from the ref one (NCHW) */
static double pair_err(const pair *p) {
    size_t n = cy_shape_numel(p->r.s);
    float *t = malloc(n * sizeof(float));
    cy_nhwc_to_nchw(t, p->c.data, p->c.s);
    double e = test_max_rel(t, p->r.data, n);
    free(t);
    return e;
}

static const cy_shape shapes[] = {{1, 3, 7, 5}, {2, 16, 13, 9}, {3, 5, 4, 11},
                                  {1, 64, 20, 20}, {2, 33, 1, 1}};
#define NSHAPES (int)(sizeof shapes / sizeof *shapes)

static void bn_hand(void) {
    cy_error err = {0};
    /* one channel, M = 4 values 1..4: mean 2.5, biased var 1.25, unbiased 5/3 */
    float x[4] = {1, 2, 3, 4}, y[4], g = 2, b = 1, rm = 0, rv = 1, sm = 0, si = 0;
    cy_tensor in = {x, {2, 1, 1, 2}}, out = {y, {2, 1, 1, 2}};
    cy_bn_params p = {&g, &b, &rm, &rv, 0.0f, 0.1f, 1, &sm, &si};
    CHECK(ref->batchnorm(ref, NULL, &in, &out, &p, &err) == CY_OK, "%s", err.msg);
    const double is = 1 / sqrt(1.25);
    for (int i = 0; i < 4; i++)
        CHECK(fabs(y[i] - ((x[i] - 2.5) * is * 2 + 1)) < 1e-6, "bn train y[%d] = %g", i, y[i]);
    CHECK(fabsf(rm - 0.25f) < 1e-7f, "running mean %g", rm);
    CHECK(fabsf(rv - (0.9f + 0.1f * 5.0f / 3.0f)) < 1e-6f, "running var %g", rv);
    CHECK(sm == 2.5f && fabs(si - is) < 1e-7, "saved %g %g", sm, si);
    /* eval with those running stats, eps 1: (x - 0.25) / sqrt(rv + 1) * 2 + 1 */
    p.training = 0, p.eps = 1;
    CHECK(ref->batchnorm(ref, NULL, &in, &out, &p, &err) == CY_OK, "%s", err.msg);
    CHECK(fabs(y[3] - ((4 - 0.25) / sqrt(rv + 1.0) * 2 + 1)) < 1e-6, "bn eval %g", y[3]);
    /* one value per channel cannot be trained on */
    in.s = out.s = (cy_shape){1, 4, 1, 1};
    p.training = 1;
    CHECK(ref->batchnorm(ref, NULL, &in, &out, &p, &err) == CY_ERR_ARG, "M=1 refused");
}

static void bn_compare(void) {
    cy_error err = {0};
    for (int i = 0; i < NSHAPES; i++) {
        cy_slot slot = NULL; /* eval, then training: rebuilt when the mode changes */
        for (int training = 0; training < 2; training++) {
            cy_shape s = shapes[i];
            if (training && s.n * s.h * s.w < 2) continue;
            const int C = s.c;
            pair x = pair_new(s, -2, 3), y = pair_new(s, 0, 0);
            /* gamma beta | ref rm rv | cpu rm rv | ref saved | cpu saved | start rm rv */
            float *prm = malloc(12 * C * sizeof(float));
            test_fill(prm, 4 * C, &rng, 0.5f, 1.5f);
            memcpy(prm + 10 * C, prm + 2 * C, 2 * C * sizeof(float));
            cy_bn_params pr = {prm, prm + C, prm + 2 * C, prm + 3 * C, 1e-3f, 0.03f,
                               training, prm + 6 * C, prm + 7 * C};
            cy_bn_params pc = pr;
            pc.running_mean = prm + 4 * C, pc.running_var = prm + 5 * C;
            pc.save_mean = prm + 8 * C, pc.save_invstd = prm + 9 * C;
            if (i == 2) pr.gamma = pc.gamma = pr.beta = pc.beta = NULL; /* affine=False */
            CHECK(ref->batchnorm(ref, NULL, &x.r, &y.r, &pr, &err) == CY_OK, "%s", err.msg);
            /* twice through one slot: the second call reuses the primitive */
            for (int rep = 0; rep < 2; rep++) {
                memcpy(prm + 4 * C, prm + 10 * C, 2 * C * sizeof(float));
                CHECK(cpu->batchnorm(cpu, &slot, &x.c, &y.c, &pc, &err) == CY_OK, "%s",
                      err.msg);
            }
            double e = pair_err(&y);
            CHECK(e < 1e-5, "bn shape %d training %d: err %.3g", i, training, e);
            if (training) {
                /* both updated their running stats once from the same start */
                CHECK(test_max_rel(prm + 4 * C, prm + 2 * C, 2 * C) < 1e-6,
                      "running stats, shape %d", i);
                CHECK(test_max_rel(prm + 8 * C, prm + 6 * C, 2 * C) < 1e-5,
                      "saved stats, shape %d", i);
            }
            free(prm);
            pair_free(&x), pair_free(&y);
        }
        cpu->slot_free(cpu, slot);
    }
}

static void eltwise(void) {
    cy_error err = {0};
    float v[5] = {-100, -1, 0, 1, 100}, o[5];
    cy_tensor t = {v, {1, 1, 1, 5}}, to = {o, {1, 1, 1, 5}};
    CHECK(ref->activation(ref, &t, &to, CY_ACT_SILU, &err) == CY_OK, "%s", err.msg);
    CHECK(fabsf(o[3] - 0.7310585786f) < 1e-7f && fabsf(o[1] + 0.2689414214f) < 1e-7f &&
          o[2] == 0 && o[4] == 100 && fabsf(o[0]) < 1e-30f, "silu %g %g %g %g %g", o[0],
          o[1], o[2], o[3], o[4]);
    for (int i = 0; i < NSHAPES; i++)
        for (int a = CY_ACT_NONE; a <= CY_ACT_SIGMOID; a++) {
            pair x = pair_new(shapes[i], -12, 12), y = pair_new(shapes[i], 0, 0);
            CHECK(ref->activation(ref, &x.r, &y.r, a, &err) == CY_OK, "%s", err.msg);
            CHECK(cpu->activation(cpu, &x.c, &y.c, a, &err) == CY_OK, "%s", err.msg);
            CHECK(pair_err(&y) < 1e-6, "act %d shape %d: %.3g", a, i, pair_err(&y));
            /* in place */
            CHECK(cpu->activation(cpu, &x.c, &x.c, a, &err) == CY_OK, "%s", err.msg);
            CHECK(!memcmp(x.c.data, y.c.data, cy_shape_numel(shapes[i]) * sizeof(float)),
                  "act %d in place", a);
            pair_free(&x), pair_free(&y);
        }
    for (int i = 0; i < NSHAPES; i++) {
        pair a = pair_new(shapes[i], -1, 1), x = pair_new(shapes[i], -1, 1);
        pair y = pair_new(shapes[i], 0, 0);
        CHECK(ref->add(ref, &a.r, &x.r, &y.r, &err) == CY_OK, "%s", err.msg);
        CHECK(cpu->add(cpu, &a.c, &x.c, &y.c, &err) == CY_OK, "%s", err.msg);
        CHECK(pair_err(&y) == 0, "add shape %d", i);
        CHECK(y.r.data[0] == a.r.data[0] + x.r.data[0], "add value");
        pair_free(&a), pair_free(&x), pair_free(&y);
    }
    cy_tensor bad = {o, {1, 1, 5, 1}};
    CHECK(cpu->add(cpu, &t, &t, &bad, &err) == CY_ERR_ARG, "add shape mismatch");
}

static void maxpool(void) {
    cy_error err = {0};
    /* all-negative 3x3, k3 s1 p1: corners are maxima of 4 real values, never
     * the padding's 0 */
    float x[9] = {-9, -8, -7, -6, -5, -4, -3, -2, -1}, y[9];
    cy_tensor in = {x, {1, 1, 3, 3}}, out = {y, {1, 1, 3, 3}};
    cy_slot slot = NULL;
    CHECK(ref->maxpool2d(ref, NULL, &in, &out, 3, 1, 1, &err) == CY_OK, "%s", err.msg);
    CHECK(y[0] == -5 && y[2] == -4 && y[4] == -1 && y[6] == -2, "pool %g %g %g %g", y[0],
          y[2], y[4], y[6]);
    CHECK(cpu->maxpool2d(cpu, &slot, &in, &out, 3, 1, 1, &err) == CY_OK, "%s", err.msg);
    CHECK(y[0] == -5 && y[2] == -4 && y[4] == -1 && y[6] == -2, "cpu pool %g %g %g %g",
          y[0], y[2], y[4], y[6]);
    cpu->slot_free(cpu, slot);
    x[4] = NAN;
    CHECK(ref->maxpool2d(ref, NULL, &in, &out, 3, 1, 1, &err) == CY_OK, "%s", err.msg);
    CHECK(isnan(y[0]) && isnan(y[8]), "NaN propagates");

    /* one slot through all cases: rebuilt when the shape or window changes,
     * reused on the second call of each */
    static const int kps[][3] = {{5, 1, 2}, {3, 2, 1}, {2, 2, 0}, {3, 1, 1}, {3, 3, 0}};
    slot = NULL;
    for (int i = 0; i < NSHAPES; i++)
        for (size_t j = 0; j < sizeof kps / sizeof *kps; j++) {
            const int k = kps[j][0], s = kps[j][1], p = kps[j][2];
            cy_shape is = shapes[i];
            cy_shape os = {is.n, is.c, (is.h + 2 * p - k) / s + 1, (is.w + 2 * p - k) / s + 1};
            if (os.h < 1 || os.w < 1) continue;
            pair xi = pair_new(is, -3, -1), yo = pair_new(os, 0, 0);
            CHECK(ref->maxpool2d(ref, NULL, &xi.r, &yo.r, k, s, p, &err) == CY_OK, "%s",
                  err.msg);
            for (int rep = 0; rep < 2; rep++) {
                memset(yo.c.data, 0, cy_shape_numel(os) * sizeof(float));
                CHECK(cpu->maxpool2d(cpu, &slot, &xi.c, &yo.c, k, s, p, &err) == CY_OK,
                      "%s", err.msg);
                CHECK(pair_err(&yo) == 0, "pool k%d s%d p%d shape %d", k, s, p, i);
            }
            pair_free(&xi), pair_free(&yo);
        }
    cpu->slot_free(cpu, slot);
}

static void upsample(void) {
    cy_error err = {0};
    float x[2] = {1, 2}, y[8];
    cy_tensor in = {x, {1, 1, 1, 2}}, out = {y, {1, 1, 2, 4}};
    CHECK(ref->upsample_nearest(ref, &in, &out, 2, &err) == CY_OK, "%s", err.msg);
    CHECK(y[0] == 1 && y[1] == 1 && y[2] == 2 && y[3] == 2 && y[4] == 1 && y[7] == 2,
          "upsample values");
    for (int i = 0; i < NSHAPES; i++)
        for (int sc = 1; sc <= 3; sc++) {
            cy_shape is = shapes[i], os = {is.n, is.c, is.h * sc, is.w * sc};
            pair xi = pair_new(is, -1, 1), yo = pair_new(os, 0, 0);
            CHECK(ref->upsample_nearest(ref, &xi.r, &yo.r, sc, &err) == CY_OK, "%s", err.msg);
            CHECK(cpu->upsample_nearest(cpu, &xi.c, &yo.c, sc, &err) == CY_OK, "%s", err.msg);
            CHECK(pair_err(&yo) == 0, "upsample x%d shape %d", sc, i);
            pair_free(&xi), pair_free(&yo);
        }
}

static void channels(void) {
    cy_error err = {0};
    /* concat of 1, 2 and 3 inputs with odd channel counts */
    for (int i = 0; i < NSHAPES; i++) {
        cy_shape s = shapes[i];
        int cs[3] = {s.c, 3, 7}, total = 0;
        pair xs[3];
        const cy_tensor *rr[3], *cc[3];
        for (int t = 0; t < 3; t++) {
            cy_shape si = {s.n, cs[t], s.h, s.w};
            xs[t] = pair_new(si, -1, 1);
            rr[t] = &xs[t].r, cc[t] = &xs[t].c;
        }
        for (int n = 1; n <= 3; n++) {
            total += cs[n - 1];
            cy_shape os = {s.n, total, s.h, s.w};
            pair y = pair_new(os, 0, 0);
            CHECK(ref->concat(ref, rr, n, &y.r, &err) == CY_OK, "%s", err.msg);
            CHECK(cpu->concat(cpu, cc, n, &y.c, &err) == CY_OK, "%s", err.msg);
            CHECK(pair_err(&y) == 0, "concat %d shape %d", n, i);
            /* reference: channel s.c of the output is channel 0 of input 1 */
            if (n > 1)
                CHECK(y.r.data[(size_t)s.c * s.h * s.w] == xs[1].r.data[0], "concat order");
            pair_free(&y);
        }
        for (int t = 0; t < 3; t++) pair_free(&xs[t]);
    }
    /* slices: plain split halves, and the strided v-extraction of attention */
    static const int sl[][5] = {
        /* cin groups stride offset len */
        {16, 1, 0, 0, 8}, {16, 1, 0, 8, 8}, {17, 1, 0, 5, 9}, {24, 2, 12, 8, 4},
        {30, 3, 10, 1, 6}};
    for (int i = 0; i < NSHAPES; i++)
        for (size_t j = 0; j < sizeof sl / sizeof *sl; j++) {
            cy_shape is = {shapes[i].n, sl[j][0], shapes[i].h, shapes[i].w};
            cy_shape os = {is.n, sl[j][1] * sl[j][4], is.h, is.w};
            pair x = pair_new(is, -1, 1), y = pair_new(os, 0, 0);
            CHECK(ref->slice_channels(ref, &x.r, &y.r, sl[j][1], sl[j][2], sl[j][3], sl[j][4],
                                      &err) == CY_OK, "%s", err.msg);
            CHECK(cpu->slice_channels(cpu, &x.c, &y.c, sl[j][1], sl[j][2], sl[j][3], sl[j][4],
                                      &err) == CY_OK, "%s", err.msg);
            CHECK(pair_err(&y) == 0, "slice %zu shape %d", j, i);
            /* reference: last output channel = in channel (g-1)*stride+off+len-1 */
            const size_t hw = (size_t)is.h * is.w;
            int src = (sl[j][1] - 1) * sl[j][2] + sl[j][3] + sl[j][4] - 1;
            CHECK(y.r.data[(size_t)(os.c - 1) * hw] == x.r.data[(size_t)src * hw],
                  "slice %zu channel", j);
            pair_free(&x), pair_free(&y);
        }
    float z[4];
    cy_tensor a = {z, {1, 4, 1, 1}}, b = {z, {1, 2, 1, 1}};
    CHECK(cpu->slice_channels(cpu, &a, &b, 1, 0, 3, 2, &err) == CY_ERR_ARG, "slice bounds");
}

/* Ultralytics Attention.forward, written from its PyTorch lines on NCHW:
 *   q, k, v = qkv.view(B, nh, 2kd+hd, N).split([kd, kd, hd], dim=2)
 *   attn = ((q.transpose(-2, -1) @ k) * scale).softmax(dim=-1)
 *   x = (v @ attn.transpose(-2, -1)).view(B, C, H, W) */
static void attention_naive(const float *qkv, float *out, int B, int nh, int kd, int hd,
                            int N, float scale) {
    const int per = 2 * kd + hd;
    double *attn = malloc((size_t)N * N * sizeof *attn);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < nh; h++) {
            const float *base = qkv + ((size_t)b * nh + h) * per * N;
#define Q(d, i) base[(size_t)(d) * N + (i)]
#define K(d, j) base[(size_t)(kd + (d)) * N + (j)]
#define V(d, j) base[(size_t)(2 * kd + (d)) * N + (j)]
            for (int i = 0; i < N; i++) {
                double z = 0;
                for (int j = 0; j < N; j++) {
                    double s = 0;
                    for (int d = 0; d < kd; d++) s += Q(d, i) * K(d, j);
                    z += attn[(size_t)i * N + j] = exp(s * scale);
                }
                for (int j = 0; j < N; j++) attn[(size_t)i * N + j] /= z;
            }
            for (int d = 0; d < hd; d++)
                for (int i = 0; i < N; i++) {
                    double s = 0;
                    for (int j = 0; j < N; j++) s += V(d, j) * attn[(size_t)i * N + j];
                    out[(((size_t)b * nh + h) * hd + d) * N + i] = (float)s;
                }
#undef Q
#undef K
#undef V
        }
    free(attn);
}

static void attention(void) {
    cy_error err = {0};
    static const int cases[][6] = {
        /* n heads kd hd h w */
        {1, 2, 4, 8, 3, 5}, {2, 2, 8, 16, 7, 5}, {3, 1, 16, 32, 4, 4},
        {1, 4, 32, 64, 10, 10}, {2, 2, 32, 64, 13, 9}, {1, 1, 2, 3, 1, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const int n = cases[i][0], nh = cases[i][1], kd = cases[i][2], hd = cases[i][3];
        cy_shape qs = {n, nh * (2 * kd + hd), cases[i][4], cases[i][5]};
        cy_shape os = {n, nh * hd, qs.h, qs.w};
        const float scale = 1.0f / sqrtf((float)kd);
        pair q = pair_new(qs, -2, 2), y = pair_new(os, 0, 0);
        float *naive = malloc(cy_shape_numel(os) * sizeof(float));
        attention_naive(q.r.data, naive, n, nh, kd, hd, qs.h * qs.w, scale);
        CHECK(ref->attention(ref, &q.r, &y.r, nh, kd, hd, scale, &err) == CY_OK, "%s",
              err.msg);
        double en = test_max_rel(y.r.data, naive, cy_shape_numel(os));
        CHECK(en < 1e-6, "attention case %zu: ref vs naive %.3g", i, en);
        CHECK(cpu->attention(cpu, &q.c, &y.c, nh, kd, hd, scale, &err) == CY_OK, "%s",
              err.msg);
        double ec = pair_err(&y);
        CHECK(ec < 1e-5, "attention case %zu: cpu vs ref %.3g", i, ec);
        free(naive);
        pair_free(&q), pair_free(&y);
    }
}

/* threads <= 0 reads OMP_NUM_THREADS as OpenMP and torch do (its first
 * number); without it, or with a value OpenMP would not take, all cores. */
static void default_threads(void) {
    const struct { const char *env; int want; } cases[] = {
        {"1", 1}, {"3", 3}, {" 2", 2}, {"4,2", 4}, {"0", 0}, {"-2", 0}, {"two", 0}, {"2x", 0}, {NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (cases[i].env) setenv("OMP_NUM_THREADS", cases[i].env, 1);
        else unsetenv("OMP_NUM_THREADS");
        cy_backend *b = NULL;
        cy_error err = {0};
        CHECK(cy_backend_cpu_create(&b, 0, &err) == CY_OK, "%s", err.msg);
        if (!b) continue;
        int want = cases[i].want ? cases[i].want : omp_get_num_procs();
        CHECK(b->threads == want, "OMP_NUM_THREADS=%s: %d threads, want %d", cases[i].env ? cases[i].env : "(unset)",
              b->threads, want);
        cy_backend_destroy(b);
        CHECK(cy_backend_cpu_create(&b, 5, &err) == CY_OK && b && b->threads == 5, "threads=5 wins over the environment");
        if (b) cy_backend_destroy(b);
    }
    unsetenv("OMP_NUM_THREADS");
}

int main(void) {
    cy_error err = {0};
    default_threads();
    CHECK(cy_backend_ref_create(&ref, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_backend_cpu_create(&cpu, 2, &err) == CY_OK, "%s", err.msg);
    if (!ref || !cpu) return test_summary();
    bn_hand();
    bn_compare();
    eltwise();
    maxpool();
    upsample();
    channels();
    attention();
    cy_backend_destroy(ref);
    cy_backend_destroy(cpu);
    return test_summary();
}
