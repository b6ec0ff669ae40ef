/* The backward ops other than conv: batchnorm (training), activation,
 * maxpool, upsample, slice_channels, attention and accumulate. Each
 * reference backward against central finite differences of a small
 * double-precision forward written here, then the cpu backend (NHWC)
 * against the reference (NCHW), then accumulation (twice = double, NULL
 * outputs untouched) and argument errors. */
#include "test_util.h"
#include "backend/backend.h"

static cy_backend *ref, *cpu;
static uint64_t rng = 0x2545f4914f6cdd1dull;

static float *rand_buf(size_t n, float lo, float hi) {
    float *x = malloc((n ? n : 1) * sizeof *x);
    test_fill(x, n, &rng, lo, hi);
    return x;
}


/* Central differences of loss(ctx) with respect to every element of v. */
typedef double (*loss_fn)(const void *ctx);
static void fd_grad(loss_fn loss, const void *ctx, double *v, size_t n, double h,
                    double *grad) {
    for (size_t i = 0; i < n; i++) {
        const double keep = v[i];
        v[i] = keep + h;
        const double lp = loss(ctx);
        v[i] = keep - h;
        const double lm = loss(ctx);
        v[i] = keep;
        grad[i] = (lp - lm) / (2 * h);
    }
}

/* An NCHW tensor and its NHWC twin. */
typedef struct {
    cy_tensor r, c;
} pair;

static pair pair_new(cy_shape s, float lo, float hi) {
    size_t n = cy_shape_numel(s);
    pair p = {{rand_buf(n, lo, hi), s}, {malloc(n * sizeof(float)), s}};
    cy_nchw_to_nhwc(p.c.data, p.r.data, s);
    return p;
}
static pair pair_copy(const pair *a) {
    size_t n = cy_shape_numel(a->r.s);
    pair p = {{malloc(n * sizeof(float)), a->r.s}, {malloc(n * sizeof(float)), a->r.s}};
    memcpy(p.r.data, a->r.data, n * sizeof(float));
    memcpy(p.c.data, a->c.data, n * sizeof(float));
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

/* ---- batchnorm ------------------------------------------------------------ */

typedef struct {
    cy_shape s;
    double eps;
    const double *r;
    double *x, *gamma, *beta;
} bn_fd;

static double bn_loss(const void *ctx) {
    const bn_fd *f = ctx;
    const int N = f->s.n, C = f->s.c;
    const size_t hw = (size_t)f->s.h * f->s.w;
    double L = 0;
    for (int c = 0; c < C; c++) {
        double mean = 0, var = 0;
        for (int n = 0; n < N; n++)
            for (size_t i = 0; i < hw; i++) mean += f->x[((size_t)n * C + c) * hw + i];
        mean /= (double)N * hw;
        for (int n = 0; n < N; n++)
            for (size_t i = 0; i < hw; i++) {
                const double d = f->x[((size_t)n * C + c) * hw + i] - mean;
                var += d * d;
            }
        var /= (double)N * hw;
        const double is = 1 / sqrt(var + f->eps);
        for (int n = 0; n < N; n++)
            for (size_t i = 0; i < hw; i++) {
                const size_t j = ((size_t)n * C + c) * hw + i;
                L += f->r[j] * ((f->x[j] - mean) * is * f->gamma[c] + f->beta[c]);
            }
    }
    return L;
}

/* forward (training) on backend be, keeping the batch statistics */
static void bn_forward(cy_backend *be, cy_slot *slot, const cy_tensor *x, float *gamma,
                       float *beta, float *save) {
    cy_error err = {0};
    const int C = x->s.c;
    float *rs = malloc(2 * C * sizeof(float)), *y = malloc(cy_shape_numel(x->s) * 4);
    for (int c = 0; c < C; c++) rs[c] = 0, rs[C + c] = 1;
    cy_bn_params p = {gamma, beta, rs, rs + C, 1e-3f, 0.03f, 1, save, save + C};
    cy_tensor out = {y, x->s};
    CHECK(be->batchnorm(be, slot, x, &out, &p, &err) == CY_OK, "%s", err.msg);
    free(rs), free(y);
}

static void bn_fd_case(cy_shape s) {
    cy_error err = {0};
    const int C = s.c;
    const size_t n = cy_shape_numel(s);
    float *x = rand_buf(n, -2, 3), *dy = rand_buf(n, -1, 1);
    float *gb = rand_buf(2 * C, 0.5f, 1.5f), *save = malloc(2 * C * sizeof(float));
    cy_tensor in = {x, s}, dout = {dy, s};
    bn_forward(ref, NULL, &in, gb, gb + C, save);
    float *dx = calloc(n, 4), *dg = calloc(C, 4), *db = calloc(C, 4);
    cy_tensor din = {dx, s};
    float rs[2] = {0, 1}; /* never read by the backward */
    cy_bn_params p = {gb, gb + C, rs, rs, 1e-3f, 0.03f, 1, save, save + C};
    CHECK(ref->batchnorm_backward(ref, NULL, &in, &dout, &din, &p, dg, db, &err) == CY_OK,
          "%s", err.msg);
    bn_fd f = {s, (double)1e-3f, test_to_double(dy, n), test_to_double(x, n), test_to_double(gb, C),
               test_to_double(gb + C, C)};
    double *g = malloc(n * sizeof *g);
    fd_grad(bn_loss, &f, f.x, n, 1e-5, g);
    const double ex = test_max_rel_d(dx, g, n);
    fd_grad(bn_loss, &f, f.gamma, C, 1e-5, g);
    const double eg = test_max_rel_d(dg, g, C);
    fd_grad(bn_loss, &f, f.beta, C, 1e-5, g);
    const double eb = test_max_rel_d(db, g, C);
    CHECK(ex < 1e-5 && eg < 1e-5 && eb < 1e-5,
          "bn ref vs FD [%d,%d,%d,%d]: din %.3g dgamma %.3g dbeta %.3g", s.n, s.c, s.h, s.w,
          ex, eg, eb);
    free(g), free((void *)f.r), free(f.x), free(f.gamma), free(f.beta);
    free(x), free(dy), free(gb), free(save), free(dx), free(dg), free(db);
}

static void bn_cpu_case(cy_shape s, int affine) {
    cy_error err = {0};
    const int C = s.c;
    const size_t n = cy_shape_numel(s);
    pair x = pair_new(s, -2, 3), dy = pair_new(s, -1, 1), dx = pair_new(s, -1, 1);
    pair dx0 = pair_copy(&dx);
    float *gb = rand_buf(2 * C, 0.5f, 1.5f);
    float *sr = malloc(2 * C * 4), *sc = malloc(2 * C * 4);
    float *g = rand_buf(4 * C, -1, 1); /* ref dgamma dbeta | cpu dgamma dbeta */
    memcpy(g + 2 * C, g, 2 * C * sizeof(float));
    float *g0 = malloc(2 * C * sizeof(float));
    memcpy(g0, g, 2 * C * sizeof(float));
    float *gamma = affine ? gb : NULL, *beta = affine ? gb + C : NULL;
    cy_slot slot = NULL;
    bn_forward(ref, NULL, &x.r, gamma, beta, sr);
    bn_forward(cpu, &slot, &x.c, gamma, beta, sc);
    float rs[2] = {0, 1};
    cy_bn_params pr = {gamma, beta, rs, rs, 1e-3f, 0.03f, 1, sr, sr + C};
    cy_bn_params pc = pr;
    pc.save_mean = sc, pc.save_invstd = sc + C;
    CHECK(ref->batchnorm_backward(ref, NULL, &x.r, &dy.r, &dx.r, &pr, g, g + C, &err) ==
              CY_OK, "%s", err.msg);
    CHECK(cpu->batchnorm_backward(cpu, &slot, &x.c, &dy.c, &dx.c, &pc, g + 2 * C, g + 3 * C,
                                  &err) == CY_OK, "%s", err.msg);
    const double e = pair_err(&dx), eg = test_max_rel(g + 2 * C, g, 2 * C);
    CHECK(e < 1e-4 && eg < 1e-4, "bn cpu vs ref [%d,%d,%d,%d] affine %d: din %.3g "
          "dgamma/dbeta %.3g", s.n, s.c, s.h, s.w, affine, e, eg);

    /* twice adds twice: from the same start, dx0 + 2 G = 2 (dx0 + G) - dx0 */
    for (size_t i = 0; i < n; i++) dx.r.data[i] = 2 * dx.r.data[i] - dx0.r.data[i];
    for (int i = 0; i < 2 * C; i++) g[i] = 2 * g[i] - g0[i];
    memcpy(dx.c.data, dx0.c.data, n * 4);
    memcpy(g + 2 * C, g0, 2 * C * 4);
    for (int rep = 0; rep < 2; rep++)
        CHECK(cpu->batchnorm_backward(cpu, &slot, &x.c, &dy.c, &dx.c, &pc, g + 2 * C,
                                      g + 3 * C, &err) == CY_OK, "%s", err.msg);
    CHECK(test_max_rel(g + 2 * C, g, 2 * C) < 1e-4, "bn cpu twice: dgamma/dbeta");
    const double e2 = pair_err(&dx);
    CHECK(e2 < 1e-4, "bn cpu twice: %.3g", e2);
    memcpy(dx0.c.data, dx.c.data, n * 4);
    CHECK(cpu->batchnorm_backward(cpu, &slot, &x.c, &dy.c, NULL, &pc, NULL, NULL, &err) ==
              CY_OK, "%s", err.msg);
    CHECK(!memcmp(dx0.c.data, dx.c.data, n * 4), "bn all-NULL wrote");
    cpu->slot_free(cpu, slot);
    pair_free(&x), pair_free(&dy), pair_free(&dx), pair_free(&dx0);
    free(gb), free(sr), free(sc), free(g), free(g0);
}

static void batchnorm(void) {
    static const cy_shape fd[] = {{2, 3, 5, 7}, {1, 4, 3, 3}, {3, 2, 1, 1}, {4, 1, 2, 3}};
    for (size_t i = 0; i < sizeof fd / sizeof *fd; i++) bn_fd_case(fd[i]);
    static const cy_shape cs[] = {{2, 3, 7, 5}, {2, 16, 13, 9}, {3, 5, 4, 11},
                                  {2, 64, 20, 20}, {4, 33, 1, 1}, {8, 128, 10, 10}};
    for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) bn_cpu_case(cs[i], i != 2);

    /* eval mode and missing saved statistics are refused */
    cy_error err = {0};
    float x[4] = {1, 2, 3, 4}, d[4] = {0}, one = 1;
    cy_tensor t = {x, {1, 1, 2, 2}}, dt = {d, {1, 1, 2, 2}};
    cy_bn_params p = {NULL, NULL, &one, &one, 1e-3f, 0.03f, 0, &one, &one};
    cy_backend *bk[2] = {ref, cpu};
    for (int k = 0; k < 2; k++) {
        cy_slot slot = NULL;
        p.training = 0;
        CHECK(bk[k]->batchnorm_backward(bk[k], &slot, &t, &t, &dt, &p, NULL, NULL, &err) ==
                  CY_ERR_ARG && strstr(err.msg, "batchnorm_backward"), "%s: eval: %s",
              bk[k]->name, err.msg);
        p.training = 1, p.save_invstd = NULL;
        CHECK(bk[k]->batchnorm_backward(bk[k], &slot, &t, &t, &dt, &p, NULL, NULL, &err) ==
                  CY_ERR_ARG, "%s: no saved stats", bk[k]->name);
        p.save_invstd = &one;
        bk[k]->slot_free(bk[k], slot);
    }
}

/* ---- activation ----------------------------------------------------------- */

static double act_d(double x, cy_act a) {
    switch (a) {
    case CY_ACT_SILU: return x / (1 + exp(-x));
    case CY_ACT_RELU: return x > 0 ? x : 0;
    case CY_ACT_SIGMOID: return 1 / (1 + exp(-x));
    case CY_ACT_NONE: break;
    }
    return x;
}

static void activation(void) {
    cy_error err = {0};
    /* elementwise: dL/dx_i of sum r f(x) depends on x_i alone, so each
     * element's central difference is taken on its own term */
    const cy_shape s = {2, 3, 5, 7};
    const size_t n = cy_shape_numel(s);
    for (int a = CY_ACT_NONE; a <= CY_ACT_SIGMOID; a++) {
        float *x = rand_buf(n, -6, 6), *dy = rand_buf(n, -1, 1), *dx = calloc(n, 4);
        for (size_t i = 0; i < n; i++)
            if (fabsf(x[i]) < 1e-3f) x[i] = 0.5f; /* keep ReLU's kink out of reach */
        cy_tensor in = {x, s}, dout = {dy, s}, din = {dx, s};
        CHECK(ref->activation_backward(ref, &in, &dout, &din, a, &err) == CY_OK, "%s", err.msg);
        double *g = malloc(n * sizeof *g);
        const double h = 1e-6;
        for (size_t i = 0; i < n; i++)
            g[i] = dy[i] * (act_d(x[i] + h, a) - act_d(x[i] - h, a)) / (2 * h);
        const double e = test_max_rel_d(dx, g, n);
        CHECK(e < 1e-6, "act %d ref vs FD: %.3g", a, e);
        free(x), free(dy), free(dx), free(g);
    }
    static const cy_shape cs[] = {{1, 3, 7, 5}, {2, 16, 13, 9}, {2, 64, 20, 20}, {2, 33, 1, 1}};
    for (size_t i = 0; i < sizeof cs / sizeof *cs; i++)
        for (int a = CY_ACT_NONE; a <= CY_ACT_SIGMOID; a++) {
            pair x = pair_new(cs[i], -12, 12), dy = pair_new(cs[i], -1, 1);
            pair dx = pair_new(cs[i], -1, 1), dx0 = pair_copy(&dx);
            CHECK(ref->activation_backward(ref, &x.r, &dy.r, &dx.r, a, &err) == CY_OK, "%s",
                  err.msg);
            CHECK(cpu->activation_backward(cpu, &x.c, &dy.c, &dx.c, a, &err) == CY_OK, "%s",
                  err.msg);
            CHECK(pair_err(&dx) < 1e-5, "act %d shape %zu cpu vs ref %.3g", a, i,
                  pair_err(&dx));
            /* twice: dx0 + 2G */
            const size_t m = cy_shape_numel(cs[i]);
            for (size_t j = 0; j < m; j++) dx.r.data[j] = 2 * dx.r.data[j] - dx0.r.data[j];
            CHECK(cpu->activation_backward(cpu, &x.c, &dy.c, &dx.c, a, &err) == CY_OK, "%s",
                  err.msg);
            CHECK(pair_err(&dx) < 1e-5, "act %d twice", a);
            CHECK(cpu->activation_backward(cpu, &x.c, &dy.c, NULL, a, &err) == CY_OK &&
                      ref->activation_backward(ref, &x.r, &dy.r, NULL, a, &err) == CY_OK,
                  "NULL din");
            pair_free(&x), pair_free(&dy), pair_free(&dx), pair_free(&dx0);
        }
    /* ReLU at exactly 0 passes nothing (PyTorch: grad where x > 0) */
    float z = 0, one = 1, d = 0;
    cy_tensor tz = {&z, {1, 1, 1, 1}}, t1 = {&one, {1, 1, 1, 1}}, td = {&d, {1, 1, 1, 1}};
    CHECK(ref->activation_backward(ref, &tz, &t1, &td, CY_ACT_RELU, &err) == CY_OK && d == 0,
          "relu'(0) ref %g", d);
    CHECK(cpu->activation_backward(cpu, &tz, &t1, &td, CY_ACT_RELU, &err) == CY_OK && d == 0,
          "relu'(0) cpu %g", d);
    CHECK(cpu->activation_backward(cpu, &tz, &t1, &td, (cy_act)9, &err) == CY_ERR_ARG,
          "unknown act");
}

/* ---- maxpool -------------------------------------------------------------- */

typedef struct {
    cy_shape s;
    int k, st, pad, oh, ow;
    const double *r;
    double *x;
} pool_fd;

static double pool_loss(const void *ctx) {
    const pool_fd *f = ctx;
    const int H = f->s.h, W = f->s.w;
    double L = 0;
    for (int pl = 0; pl < f->s.n * f->s.c; pl++)
        for (int oy = 0; oy < f->oh; oy++)
            for (int ox = 0; ox < f->ow; ox++) {
                double m = -INFINITY;
                for (int ky = 0; ky < f->k; ky++)
                    for (int kx = 0; kx < f->k; kx++) {
                        const int iy = oy * f->st - f->pad + ky, ix = ox * f->st - f->pad + kx;
                        if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                        const double v = f->x[((size_t)pl * H + iy) * W + ix];
                        if (v > m) m = v;
                    }
                L += f->r[((size_t)pl * f->oh + oy) * f->ow + ox] * m;
            }
    return L;
}

static const int pool_kps[][3] = {{5, 1, 2}, {3, 2, 1}, {2, 2, 0}, {3, 1, 1}, {3, 3, 0}};
#define NPOOL (int)(sizeof pool_kps / sizeof *pool_kps)

static cy_shape pool_out(cy_shape is, int k, int s, int p) {
    return (cy_shape){is.n, is.c, (is.h + 2 * p - k) / s + 1, (is.w + 2 * p - k) / s + 1};
}

static void maxpool(void) {
    cy_error err = {0};
    /* FD on distinct values (a shuffled ramp, gaps far above the step) */
    const cy_shape fs[] = {{2, 2, 7, 6}, {1, 3, 5, 9}};
    for (size_t si = 0; si < 2; si++)
        for (int j = 0; j < NPOOL; j++) {
            const int k = pool_kps[j][0], st = pool_kps[j][1], pad = pool_kps[j][2];
            const cy_shape is = fs[si], os = pool_out(is, k, st, pad);
            const size_t n = cy_shape_numel(is), no = cy_shape_numel(os);
            float *x = malloc(n * 4), *dy = rand_buf(no, -1, 1), *dx = calloc(n, 4);
            for (size_t i = 0; i < n; i++) x[i] = 0.01f * (float)i - 1;
            for (size_t i = n - 1; i > 0; i--) {
                size_t r = test_rand_u32(&rng) % (i + 1);
                float t = x[i];
                x[i] = x[r], x[r] = t;
            }
            cy_tensor in = {x, is}, dout = {dy, os}, din = {dx, is};
            CHECK(ref->maxpool2d_backward(ref, NULL, &in, &dout, &din, k, st, pad, &err) ==
                      CY_OK, "%s", err.msg);
            pool_fd f = {is, k, st, pad, os.h, os.w, test_to_double(dy, no), test_to_double(x, n)};
            double *g = malloc(n * sizeof *g);
            fd_grad(pool_loss, &f, f.x, n, 1e-3, g);
            const double e = test_max_rel_d(dx, g, n);
            CHECK(e < 1e-6, "maxpool ref vs FD k%d s%d p%d shape %zu: %.3g", k, st, pad, si, e);
            free(g), free((void *)f.r), free(f.x), free(x), free(dy), free(dx);
        }

    /* ties go to the first maximum in scan order, NaN to the last NaN */
    float t[9] = {1, 5, 5, 5, 2, 5, 0, 0, 0}, one[1] = {1}, d[9] = {0};
    cy_tensor ti = {t, {1, 1, 3, 3}}, to = {one, {1, 1, 1, 1}}, td = {d, {1, 1, 3, 3}};
    cy_slot slot = NULL;
    CHECK(ref->maxpool2d_backward(ref, NULL, &ti, &to, &td, 3, 1, 0, &err) == CY_OK &&
              d[1] == 1 && d[2] == 0 && d[3] == 0 && d[5] == 0, "ref tie %g %g %g", d[1], d[2],
          d[5]);
    memset(d, 0, sizeof d);
    CHECK(cpu->maxpool2d_backward(cpu, &slot, &ti, &to, &td, 3, 1, 0, &err) == CY_OK &&
              d[1] == 1 && d[2] == 0 && d[3] == 0 && d[5] == 0, "cpu tie %g %g %g", d[1], d[2],
          d[5]);
    t[4] = NAN, t[7] = NAN;
    memset(d, 0, sizeof d);
    CHECK(ref->maxpool2d_backward(ref, NULL, &ti, &to, &td, 3, 1, 0, &err) == CY_OK &&
              d[7] == 1 && d[1] == 0 && d[4] == 0, "ref NaN %g %g", d[4], d[7]);
    memset(d, 0, sizeof d);
    CHECK(cpu->maxpool2d_backward(cpu, &slot, &ti, &to, &td, 3, 1, 0, &err) == CY_OK &&
              d[7] == 1 && d[1] == 0 && d[4] == 0, "cpu NaN %g %g", d[4], d[7]);

    /* cpu vs ref: continuous data, then data with many ties (0.5 steps) */
    static const cy_shape cs[] = {{1, 3, 7, 5}, {2, 16, 13, 9}, {3, 5, 4, 11},
                                  {2, 70, 20, 20}, {2, 33, 2, 3}};
    for (int tie = 0; tie < 2; tie++)
        for (size_t i = 0; i < sizeof cs / sizeof *cs; i++)
            for (int j = 0; j < NPOOL; j++) {
                const int k = pool_kps[j][0], st = pool_kps[j][1], pad = pool_kps[j][2];
                const cy_shape is = cs[i], os = pool_out(is, k, st, pad);
                if (os.h < 1 || os.w < 1) continue;
                pair x = pair_new(is, -3, 3), dy = pair_new(os, -1, 1);
                pair dx = pair_new(is, -1, 1), dx0 = pair_copy(&dx);
                const size_t n = cy_shape_numel(is);
                if (tie) {
                    for (size_t q = 0; q < n; q++) x.r.data[q] = roundf(x.r.data[q] * 2) / 2;
                    cy_nchw_to_nhwc(x.c.data, x.r.data, is);
                }
                CHECK(ref->maxpool2d_backward(ref, NULL, &x.r, &dy.r, &dx.r, k, st, pad,
                                              &err) == CY_OK, "%s", err.msg);
                CHECK(cpu->maxpool2d_backward(cpu, &slot, &x.c, &dy.c, &dx.c, k, st, pad,
                                              &err) == CY_OK, "%s", err.msg);
                CHECK(pair_err(&dx) < 1e-6, "maxpool cpu vs ref k%d s%d p%d shape %zu tie %d: "
                      "%.3g", k, st, pad, i, tie, pair_err(&dx));
                for (size_t q = 0; q < n; q++) dx.r.data[q] = 2 * dx.r.data[q] - dx0.r.data[q];
                CHECK(cpu->maxpool2d_backward(cpu, &slot, &x.c, &dy.c, &dx.c, k, st, pad,
                                              &err) == CY_OK, "%s", err.msg);
                CHECK(pair_err(&dx) < 1e-6, "maxpool twice");
                CHECK(cpu->maxpool2d_backward(cpu, &slot, &x.c, &dy.c, NULL, k, st, pad,
                                              &err) == CY_OK, "NULL din");
                pair_free(&x), pair_free(&dy), pair_free(&dx), pair_free(&dx0);
            }
    cy_tensor bad = {d, {1, 1, 2, 2}};
    CHECK(cpu->maxpool2d_backward(cpu, &slot, &ti, &to, &bad, 3, 1, 0, &err) == CY_ERR_ARG &&
              strstr(err.msg, "maxpool2d_backward"), "din shape: %s", err.msg);
    cpu->slot_free(cpu, slot);
}

/* ---- upsample ------------------------------------------------------------- */

typedef struct {
    cy_shape s;
    int scale;
    const double *r;
    double *x;
} up_fd;

static double up_loss(const void *ctx) {
    const up_fd *f = ctx;
    const int H = f->s.h, W = f->s.w, OH = H * f->scale, OW = W * f->scale;
    double L = 0;
    for (int pl = 0; pl < f->s.n * f->s.c; pl++)
        for (int y = 0; y < OH; y++)
            for (int x = 0; x < OW; x++)
                L += f->r[((size_t)pl * OH + y) * OW + x] *
                     f->x[((size_t)pl * H + y / f->scale) * W + x / f->scale];
    return L;
}

static void upsample(void) {
    cy_error err = {0};
    for (int sc = 1; sc <= 3; sc++) {
        const cy_shape is = {2, 3, 3, 5}, os = {2, 3, 3 * sc, 5 * sc};
        const size_t n = cy_shape_numel(is), no = cy_shape_numel(os);
        float *dy = rand_buf(no, -1, 1), *dx = calloc(n, 4), *x = rand_buf(n, -1, 1);
        cy_tensor dout = {dy, os}, din = {dx, is};
        CHECK(ref->upsample_nearest_backward(ref, &dout, &din, sc, &err) == CY_OK, "%s",
              err.msg);
        up_fd f = {is, sc, test_to_double(dy, no), test_to_double(x, n)};
        double *g = malloc(n * sizeof *g);
        fd_grad(up_loss, &f, f.x, n, 1e-3, g);
        CHECK(test_max_rel_d(dx, g, n) < 1e-6, "upsample ref vs FD x%d: %.3g", sc,
              test_max_rel_d(dx, g, n));
        free(g), free((void *)f.r), free(f.x), free(x), free(dy), free(dx);
    }
    static const cy_shape cs[] = {{1, 3, 7, 5}, {2, 16, 13, 9}, {2, 64, 20, 20}, {2, 33, 1, 1}};
    for (size_t i = 0; i < sizeof cs / sizeof *cs; i++)
        for (int sc = 1; sc <= 3; sc++) {
            const cy_shape is = cs[i], os = {is.n, is.c, is.h * sc, is.w * sc};
            pair dy = pair_new(os, -1, 1), dx = pair_new(is, -1, 1), dx0 = pair_copy(&dx);
            CHECK(ref->upsample_nearest_backward(ref, &dy.r, &dx.r, sc, &err) == CY_OK, "%s",
                  err.msg);
            CHECK(cpu->upsample_nearest_backward(cpu, &dy.c, &dx.c, sc, &err) == CY_OK, "%s",
                  err.msg);
            CHECK(pair_err(&dx) < 1e-5, "upsample cpu vs ref x%d shape %zu: %.3g", sc, i,
                  pair_err(&dx));
            const size_t n = cy_shape_numel(is);
            for (size_t q = 0; q < n; q++) dx.r.data[q] = 2 * dx.r.data[q] - dx0.r.data[q];
            CHECK(cpu->upsample_nearest_backward(cpu, &dy.c, &dx.c, sc, &err) == CY_OK, "%s",
                  err.msg);
            CHECK(pair_err(&dx) < 1e-5, "upsample twice");
            CHECK(cpu->upsample_nearest_backward(cpu, &dy.c, NULL, sc, &err) == CY_OK, "NULL");
            cy_tensor bad = {dx.c.data, {is.n, is.c, is.h, is.w + 1}};
            CHECK(cpu->upsample_nearest_backward(cpu, &dy.c, &bad, sc, &err) == CY_ERR_ARG,
                  "upsample bad shape");
            pair_free(&dy), pair_free(&dx), pair_free(&dx0);
        }
}

/* ---- slice_channels ------------------------------------------------------- */

typedef struct {
    cy_shape s, o;
    int groups, stride, offset, len;
    const double *r;
    double *x;
} slice_fd;

static double slice_loss(const void *ctx) {
    const slice_fd *f = ctx;
    const size_t hw = (size_t)f->s.h * f->s.w;
    double L = 0;
    for (int n = 0; n < f->s.n; n++)
        for (int g = 0; g < f->groups; g++)
            for (int j = 0; j < f->len; j++)
                for (size_t i = 0; i < hw; i++)
                    L += f->r[((size_t)n * f->o.c + g * f->len + j) * hw + i] *
                         f->x[((size_t)n * f->s.c + g * f->stride + f->offset + j) * hw + i];
    return L;
}

/* groups, group_stride, offset, len over input channels c */
static const int slices[][5] = {
    {1, 0, 0, 5, 10}, {1, 0, 5, 5, 10}, /* chunk(2) halves */
    {3, 8, 4, 4, 24},                   /* attention's v of 3 heads (kd 2, hd 4) */
    {2, 3, 1, 4, 8},                    /* overlapping groups: shared channels add up */
    {4, 4, 0, 1, 16},                   /* every 4th channel */
};
#define NSLICE (int)(sizeof slices / sizeof *slices)

static void slice(void) {
    cy_error err = {0};
    for (int si = 0; si < NSLICE; si++) {
        const int G = slices[si][0], gs = slices[si][1], off = slices[si][2];
        const int len = slices[si][3], C = slices[si][4];
        const cy_shape is = {2, C, 3, 4}, os = {2, G * len, 3, 4};
        const size_t n = cy_shape_numel(is), no = cy_shape_numel(os);
        float *dy = rand_buf(no, -1, 1), *dx = calloc(n, 4), *x = rand_buf(n, -1, 1);
        cy_tensor dout = {dy, os}, din = {dx, is};
        CHECK(ref->slice_channels_backward(ref, &dout, &din, G, gs, off, len, &err) == CY_OK,
              "%s", err.msg);
        slice_fd f = {is, os, G, gs, off, len, test_to_double(dy, no), test_to_double(x, n)};
        double *g = malloc(n * sizeof *g);
        fd_grad(slice_loss, &f, f.x, n, 1e-3, g);
        CHECK(test_max_rel_d(dx, g, n) < 1e-6, "slice %d ref vs FD: %.3g", si, test_max_rel_d(dx, g, n));
        free(g), free((void *)f.r), free(f.x), free(x), free(dy), free(dx);

        for (int big = 0; big < 2; big++) {
            const cy_shape bs = {big ? 4 : 1, C, big ? 40 : 5, big ? 40 : 3};
            const cy_shape bo = {bs.n, G * len, bs.h, bs.w};
            pair py = pair_new(bo, -1, 1), px = pair_new(bs, -1, 1), px0 = pair_copy(&px);
            CHECK(ref->slice_channels_backward(ref, &py.r, &px.r, G, gs, off, len, &err) ==
                      CY_OK, "%s", err.msg);
            CHECK(cpu->slice_channels_backward(cpu, &py.c, &px.c, G, gs, off, len, &err) ==
                      CY_OK, "%s", err.msg);
            CHECK(pair_err(&px) < 1e-6, "slice %d cpu vs ref: %.3g", si, pair_err(&px));
            const size_t m = cy_shape_numel(bs);
            for (size_t q = 0; q < m; q++) px.r.data[q] = 2 * px.r.data[q] - px0.r.data[q];
            CHECK(cpu->slice_channels_backward(cpu, &py.c, &px.c, G, gs, off, len, &err) ==
                      CY_OK, "%s", err.msg);
            CHECK(pair_err(&px) < 1e-6, "slice twice");
            CHECK(cpu->slice_channels_backward(cpu, &py.c, NULL, G, gs, off, len, &err) ==
                      CY_OK, "NULL");
            CHECK(cpu->slice_channels_backward(cpu, &py.c, &px.c, G, gs, off + C, len, &err) ==
                      CY_ERR_ARG && strstr(err.msg, "slice_channels_backward"),
                  "out of range: %s", err.msg);
            pair_free(&py), pair_free(&px), pair_free(&px0);
        }
    }
}

/* ---- attention ------------------------------------------------------------ */

typedef struct {
    int n, heads, kd, hd, L;
    double scale;
    const double *r;
    double *qkv;
} attn_fd;

static double attn_loss(const void *ctx) {
    const attn_fd *f = ctx;
    const int L = f->L, per = 2 * f->kd + f->hd;
    double Ls = 0, *a = malloc(L * sizeof *a);
    for (int n = 0; n < f->n; n++)
        for (int h = 0; h < f->heads; h++) {
            const double *q = f->qkv + ((size_t)n * f->heads * per + (size_t)h * per) * L;
            const double *k = q + (size_t)f->kd * L, *v = q + (size_t)2 * f->kd * L;
            const double *r = f->r + ((size_t)n * f->heads * f->hd + (size_t)h * f->hd) * L;
            for (int i = 0; i < L; i++) {
                double mx = -INFINITY, sum = 0;
                for (int j = 0; j < L; j++) {
                    double s = 0;
                    for (int d = 0; d < f->kd; d++) s += q[d * L + i] * k[d * L + j];
                    a[j] = s * f->scale;
                    if (a[j] > mx) mx = a[j];
                }
                for (int j = 0; j < L; j++) sum += a[j] = exp(a[j] - mx);
                for (int d = 0; d < f->hd; d++) {
                    double o = 0;
                    for (int j = 0; j < L; j++) o += v[d * L + j] * a[j];
                    Ls += r[d * L + i] * o / sum;
                }
            }
        }
    free(a);
    return Ls;
}

static void attention(void) {
    cy_error err = {0};
    /* n heads kd hd h w */
    static const int fd[][6] = {{2, 2, 3, 4, 3, 4}, {1, 1, 2, 5, 5, 3}, {1, 3, 4, 2, 2, 2}};
    for (size_t c = 0; c < sizeof fd / sizeof *fd; c++) {
        const int N = fd[c][0], nh = fd[c][1], kd = fd[c][2], hd = fd[c][3];
        const cy_shape qs = {N, nh * (2 * kd + hd), fd[c][4], fd[c][5]};
        const cy_shape os = {N, nh * hd, qs.h, qs.w};
        const size_t nq = cy_shape_numel(qs), no = cy_shape_numel(os);
        const float scale = 1.0f / sqrtf((float)kd);
        float *q = rand_buf(nq, -1.5f, 1.5f), *dy = rand_buf(no, -1, 1), *dq = calloc(nq, 4);
        cy_tensor tq = {q, qs}, td = {dy, os}, tdq = {dq, qs};
        CHECK(ref->attention_backward(ref, &tq, &td, &tdq, nh, kd, hd, scale, &err) == CY_OK,
              "%s", err.msg);
        attn_fd f = {N, nh, kd, hd, qs.h * qs.w, scale, test_to_double(dy, no), test_to_double(q, nq)};
        double *g = malloc(nq * sizeof *g);
        fd_grad(attn_loss, &f, f.qkv, nq, 1e-5, g);
        CHECK(test_max_rel_d(dq, g, nq) < 1e-5, "attention %zu ref vs FD: %.3g", c,
              test_max_rel_d(dq, g, nq));
        free(g), free((void *)f.r), free(f.qkv), free(q), free(dy), free(dq);
    }
    /* n heads kd hd h w: PSA-like (yolo26n: 2 heads, kd 32, hd 64 at 20x20) */
    static const int cs[][6] = {{2, 2, 8, 16, 7, 9}, {2, 2, 32, 64, 20, 20},
                                {3, 1, 4, 8, 5, 5}, {1, 4, 16, 32, 10, 10}};
    for (size_t c = 0; c < sizeof cs / sizeof *cs; c++) {
        const int N = cs[c][0], nh = cs[c][1], kd = cs[c][2], hd = cs[c][3];
        const cy_shape qs = {N, nh * (2 * kd + hd), cs[c][4], cs[c][5]};
        const cy_shape os = {N, nh * hd, qs.h, qs.w};
        const float scale = 1.0f / sqrtf((float)kd);
        pair q = pair_new(qs, -1, 1), dy = pair_new(os, -1, 1);
        pair dq = pair_new(qs, -1, 1), dq0 = pair_copy(&dq);
        CHECK(ref->attention_backward(ref, &q.r, &dy.r, &dq.r, nh, kd, hd, scale, &err) ==
                  CY_OK, "%s", err.msg);
        CHECK(cpu->attention_backward(cpu, &q.c, &dy.c, &dq.c, nh, kd, hd, scale, &err) ==
                  CY_OK, "%s", err.msg);
        CHECK(pair_err(&dq) < 1e-4, "attention %zu cpu vs ref: %.3g", c, pair_err(&dq));
        const size_t m = cy_shape_numel(qs);
        for (size_t i = 0; i < m; i++) dq.r.data[i] = 2 * dq.r.data[i] - dq0.r.data[i];
        CHECK(cpu->attention_backward(cpu, &q.c, &dy.c, &dq.c, nh, kd, hd, scale, &err) ==
                  CY_OK, "%s", err.msg);
        CHECK(pair_err(&dq) < 1e-4, "attention %zu twice: %.3g", c, pair_err(&dq));
        CHECK(cpu->attention_backward(cpu, &q.c, &dy.c, NULL, nh, kd, hd, scale, &err) ==
                  CY_OK, "NULL");
        cy_tensor bad = {dq.c.data, os};
        CHECK(cpu->attention_backward(cpu, &q.c, &dy.c, &bad, nh, kd, hd, scale, &err) ==
                  CY_ERR_ARG && strstr(err.msg, "attention_backward"), "bad dqkv: %s",
              err.msg);
        pair_free(&q), pair_free(&dy), pair_free(&dq), pair_free(&dq0);
    }
}

/* ---- accumulate ----------------------------------------------------------- */

static void accumulate(void) {
    cy_error err = {0};
    static const cy_shape cs[] = {{1, 3, 7, 5}, {2, 64, 40, 40}};
    cy_backend *bk[2] = {ref, cpu};
    for (size_t i = 0; i < 2; i++)
        for (int k = 0; k < 2; k++) {
            const size_t n = cy_shape_numel(cs[i]);
            float *a = rand_buf(n, -1, 1), *b = rand_buf(n, -1, 1), *b0 = malloc(n * 4);
            memcpy(b0, b, n * 4);
            cy_tensor ta = {a, cs[i]}, tb = {b, cs[i]};
            CHECK(bk[k]->accumulate(bk[k], &ta, &tb, &err) == CY_OK, "%s", err.msg);
            CHECK(bk[k]->accumulate(bk[k], &ta, &tb, &err) == CY_OK, "%s", err.msg);
            int ok = 1;
            for (size_t j = 0; j < n; j++) ok &= b[j] == (b0[j] + a[j]) + a[j];
            CHECK(ok, "%s accumulate shape %zu", bk[k]->name, i);
            CHECK(bk[k]->accumulate(bk[k], &ta, NULL, &err) == CY_OK, "NULL out");
            cy_tensor bad = {b, {1, 3, 5, 7}};
            CHECK(bk[k]->accumulate(bk[k], &ta, &bad, &err) == CY_ERR_ARG, "shape mismatch");
            free(a), free(b), free(b0);
        }
}

int main(void) {
    cy_error err = {0};
    CHECK(cy_backend_ref_create(&ref, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_backend_cpu_create(&cpu, 2, &err) == CY_OK, "%s", err.msg);
    if (!ref || !cpu) return test_summary();
    batchnorm();
    activation();
    maxpool();
    upsample();
    slice();
    attention();
    accumulate();
    cy_backend_destroy(ref);
    cy_backend_destroy(cpu);
    return test_summary();
}
