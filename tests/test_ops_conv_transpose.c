/* conv_transpose (kernel = stride, Proto's learned upsampling) forward and
 * backward: the reference against a hand case and central finite
 * differences of a double forward written here, the cpu backend (NHWC)
 * against the reference on random shapes, accumulation, NULL gradient
 * outputs and argument errors. */
#include "test_util.h"
#include "backend/backend.h"

static cy_backend *ref, *cpu;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static float *rand_buf(size_t n, float lo, float hi) {
    float *x = malloc((n ? n : 1) * sizeof *x);
    test_fill(x, n, &rng, lo, hi);
    return x;
}

/* 1 image, 2 -> 1 channels, 1x2 pixels, k = 2: each pixel's 2x2 block is
 * bias + x0 * w[0] + x1 * w[1]. */
static void hand_case(void) {
    cy_error err = {0};
    float x[] = {1, 2, /* channel 0 */ 10, 20 /* channel 1 */};
    float w[] = {1, 2, 3, 4, /* cin 0 */ 0.5f, 0, 0, -1 /* cin 1 */};
    float bias[] = {100};
    float y[8];
    cy_tensor in = {x, {1, 2, 1, 2}}, out = {y, {1, 1, 2, 4}};
    CHECK(ref->conv_transpose(ref, &in, &out, w, bias, 2, &err) == CY_OK, "%s", err.msg);
    const float want[] = {106, 102, 112, 104, 103, 94, 106, 88};
    int ok = 1;
    for (int i = 0; i < 8; i++) ok &= y[i] == want[i];
    CHECK(ok, "hand case: %g %g %g %g / %g %g %g %g", y[0], y[1], y[2], y[3], y[4], y[5], y[6], y[7]);
}

typedef struct {
    cy_shape s;
    int O, k;
    const double *r; /* loss weights over the output */
    double *x, *w, *b;
} ct_fd;

static double ct_loss(const ct_fd *f) {
    const int N = f->s.n, C = f->s.c, H = f->s.h, W = f->s.w, O = f->O, k = f->k, OH = H * k, OW = W * k;
    double L = 0;
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++)
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++) {
                    double s = f->b[o];
                    for (int c = 0; c < C; c++)
                        s += f->x[(((size_t)n * C + c) * H + oy / k) * W + ox / k] *
                             f->w[(((size_t)c * O + o) * k + oy % k) * k + ox % k];
                    L += f->r[(((size_t)n * O + o) * OH + oy) * OW + ox] * s;
                }
    return L;
}

static void fd(ct_fd *f, double *v, size_t n, double *g) {
    for (size_t i = 0; i < n; i++) {
        const double keep = v[i];
        v[i] = keep + 1e-3;
        const double lp = ct_loss(f);
        v[i] = keep - 1e-3;
        const double lm = ct_loss(f);
        v[i] = keep;
        g[i] = (lp - lm) / 2e-3;
    }
}

static void ref_vs_fd(void) {
    cy_error err = {0};
    const cy_shape s = {2, 3, 3, 2};
    const int O = 4, k = 2;
    const cy_shape os = {s.n, O, s.h * k, s.w * k};
    const size_t nx = cy_shape_numel(s), nw = (size_t)s.c * O * k * k, no = cy_shape_numel(os);
    float *x = rand_buf(nx, -1, 1), *w = rand_buf(nw, -1, 1), *b = rand_buf(O, -1, 1), *r = rand_buf(no, -1, 1);
    float *dx = calloc(nx, 4), *dw = calloc(nw, 4), *db = calloc(O, 4), *y = malloc(no * 4);
    cy_tensor in = {x, s}, dout = {r, os}, din = {dx, s}, out = {y, os};
    ct_fd f = {s, O, k, test_to_double(r, no), test_to_double(x, nx), test_to_double(w, nw), test_to_double(b, O)};
    /* the forward against the double one: loss = sum(r * y) */
    CHECK(ref->conv_transpose(ref, &in, &out, w, b, k, &err) == CY_OK, "%s", err.msg);
    double L = 0;
    for (size_t i = 0; i < no; i++) L += (double)r[i] * y[i];
    CHECK(fabs(L - ct_loss(&f)) < 1e-5 * (1 + fabs(L)), "forward: %.8g vs %.8g", L, ct_loss(&f));
    CHECK(ref->conv_transpose_backward(ref, &in, &dout, &din, w, dw, db, k, &err) == CY_OK, "%s", err.msg);
    double *g = malloc(nw * sizeof *g);
    fd(&f, f.x, nx, g);
    CHECK(test_max_rel_d(dx, g, nx) < 1e-5, "din vs FD: %.3g", test_max_rel_d(dx, g, nx));
    fd(&f, f.w, nw, g);
    CHECK(test_max_rel_d(dw, g, nw) < 1e-5, "dweight vs FD: %.3g", test_max_rel_d(dw, g, nw));
    fd(&f, f.b, O, g);
    CHECK(test_max_rel_d(db, g, O) < 1e-5, "dbias vs FD: %.3g", test_max_rel_d(db, g, O));
    free(g), free((void *)f.r), free(f.x), free(f.w), free(f.b);
    free(x), free(w), free(b), free(r), free(dx), free(dw), free(db), free(y);
}

static double nhwc_err(const float *c, const float *r, cy_shape s) {
    size_t n = cy_shape_numel(s);
    float *t = malloc(n * sizeof *t);
    cy_nhwc_to_nchw(t, c, s);
    double e = test_max_rel(t, r, n);
    free(t);
    return e;
}

static void cpu_vs_ref(void) {
    cy_error err = {0};
    static const struct { cy_shape s; int O, k; } cs[] = {
        {{1, 3, 5, 7}, 5, 2}, {{2, 16, 10, 10}, 16, 2}, {{2, 64, 8, 6}, 64, 2}, {{1, 7, 3, 4}, 9, 3},
        {{2, 5, 4, 4}, 3, 1}, {{3, 33, 1, 1}, 17, 2},
    };
    for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
        const cy_shape s = cs[i].s;
        const int O = cs[i].O, k = cs[i].k;
        const cy_shape os = {s.n, O, s.h * k, s.w * k};
        const size_t nx = cy_shape_numel(s), nw = (size_t)s.c * O * k * k, no = cy_shape_numel(os);
        float *x = rand_buf(nx, -1, 1), *w = rand_buf(nw, -1, 1), *b = rand_buf(O, -1, 1), *r = rand_buf(no, -1, 1);
        float *xc = malloc(nx * 4), *rc = malloc(no * 4), *yr = malloc(no * 4), *yc = malloc(no * 4);
        cy_nchw_to_nhwc(xc, x, s);
        cy_nchw_to_nhwc(rc, r, os);
        cy_tensor inr = {x, s}, inc = {xc, s}, outr = {yr, os}, outc = {yc, os};
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            const float *bb = with_bias ? b : NULL;
            CHECK(ref->conv_transpose(ref, &inr, &outr, w, bb, k, &err) == CY_OK, "%s", err.msg);
            CHECK(cpu->conv_transpose(cpu, &inc, &outc, w, bb, k, &err) == CY_OK, "%s", err.msg);
            CHECK(nhwc_err(yc, yr, os) < 1e-5, "forward cpu vs ref case %zu bias %d: %.3g", i, with_bias,
                  nhwc_err(yc, yr, os));
        }
        /* gradients start non-zero and are added to twice: they must hold x0 + 2 g */
        float *dxr = rand_buf(nx, -1, 1), *dxc = malloc(nx * 4), *dwr = rand_buf(nw, -1, 1), *dbr = rand_buf(O, -1, 1);
        float *dwc = malloc(nw * 4), *dbc = malloc(O * 4);
        cy_nchw_to_nhwc(dxc, dxr, s);
        memcpy(dwc, dwr, nw * 4);
        memcpy(dbc, dbr, O * 4);
        cy_tensor doutr = {r, os}, doutc = {rc, os}, dinr = {dxr, s}, dinc = {dxc, s};
        for (int t = 0; t < 2; t++) {
            CHECK(ref->conv_transpose_backward(ref, &inr, &doutr, &dinr, w, dwr, dbr, k, &err) == CY_OK, "%s",
                  err.msg);
            CHECK(cpu->conv_transpose_backward(cpu, &inc, &doutc, &dinc, w, dwc, dbc, k, &err) == CY_OK, "%s",
                  err.msg);
        }
        CHECK(nhwc_err(dxc, dxr, s) < 1e-4, "din cpu vs ref case %zu: %.3g", i, nhwc_err(dxc, dxr, s));
        CHECK(test_max_rel(dwc, dwr, nw) < 1e-4, "dweight cpu vs ref case %zu: %.3g", i, test_max_rel(dwc, dwr, nw));
        CHECK(test_max_rel(dbc, dbr, O) < 1e-4, "dbias cpu vs ref case %zu: %.3g", i, test_max_rel(dbc, dbr, O));
        /* NULL outputs are skipped, the others still accumulate */
        memcpy(dbc, dbr, O * 4);
        CHECK(cpu->conv_transpose_backward(cpu, &inc, &doutc, NULL, w, NULL, dbc, k, &err) == CY_OK, "%s", err.msg);
        CHECK(ref->conv_transpose_backward(ref, &inr, &doutr, NULL, w, NULL, dbr, k, &err) == CY_OK, "%s", err.msg);
        CHECK(test_max_rel(dbc, dbr, O) < 1e-4, "dbias alone case %zu", i);
        free(x), free(w), free(b), free(r), free(xc), free(rc), free(yr), free(yc);
        free(dxr), free(dxc), free(dwr), free(dbr), free(dwc), free(dbc);
    }
}

static void bad_arguments(void) {
    cy_error err = {0};
    float x[12] = {0}, y[48] = {0}, w[16] = {0};
    cy_backend *bk[] = {ref, cpu};
    for (int i = 0; i < 2; i++) {
        cy_tensor in = {x, {1, 3, 2, 2}}, out = {y, {1, 4, 4, 3}}, din = {x, {1, 3, 2, 3}};
        CHECK(bk[i]->conv_transpose(bk[i], &in, &out, w, NULL, 2, &err) == CY_ERR_ARG &&
                  strstr(err.msg, "conv_transpose: kernel = stride 2"),
              "%s: wrong output shape refused: %s", bk[i]->name, err.msg);
        out.s = (cy_shape){1, 4, 4, 4};
        CHECK(bk[i]->conv_transpose(bk[i], &in, &out, NULL, NULL, 2, &err) == CY_ERR_ARG &&
                  strstr(err.msg, "weight is NULL"),
              "%s: NULL weight refused: %s", bk[i]->name, err.msg);
        CHECK(bk[i]->conv_transpose_backward(bk[i], &in, &out, &din, w, NULL, NULL, 2, &err) == CY_ERR_ARG,
              "%s: din of another shape refused", bk[i]->name);
    }
}

int main(void) {
    cy_error err = {0};
    CHECK(cy_backend_ref_create(&ref, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_backend_cpu_create(&cpu, 2, &err) == CY_OK, "%s", err.msg);
    if (!ref || !cpu) return test_summary();
    hand_case();
    ref_vs_fd();
    cpu_vs_ref();
    bad_arguments();
    cy_backend_destroy(ref);
    cy_backend_destroy(cpu);
    return test_summary();
}
