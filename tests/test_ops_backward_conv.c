/* conv2d_backward: the reference (din, dweight, dbias) against central
 * finite differences of a double-precision forward, then the cpu backend
 * (NHWC, oneDNN backward-data / backward-weights) against the reference,
 * accumulation, NULL outputs, slot reuse and argument errors. */
#include "test_util.h"
#include "backend/backend.h"

static cy_backend *ref, *cpu;
static uint64_t rng = 0x5deece66dull;

typedef struct {
    int n, c, h, w, o, k, s, pad, d, g;
} conv_case;

static cy_conv_params case_p(const conv_case *t, const float *w, const float *b) {
    cy_conv_params p = {0};
    p.kh = p.kw = t->k;
    p.sh = p.sw = t->s;
    p.ph = p.pw = t->pad;
    p.dh = p.dw = t->d;
    p.groups = t->g;
    p.weight = w;
    p.bias = b;
    p.bn_eps = 1e-3f;
    p.weights_version = 1;
    return p;
}

static float *rand_buf(size_t n, float lo, float hi) {
    float *x = malloc((n ? n : 1) * sizeof *x);
    test_fill(x, n, &rng, lo, hi);
    return x;
}

static float *copy_buf(const float *x, size_t n) {
    float *y = malloc((n ? n : 1) * sizeof *y);
    memcpy(y, x, n * sizeof *y);
    return y;
}

/* ---- finite differences in double ---------------------------------------- */

/* The conv of one case in double (NCHW), its loss sum(r * y). */
typedef struct {
    const conv_case *t;
    int oh, ow;
    const double *r; /* dL/dy, [n][o][oh][ow] */
    double *x, *w, *b;
} conv_fd;

static double conv_loss(const conv_fd *f) {
    const conv_case *t = f->t;
    const int cig = t->c / t->g, cog = t->o / t->g;
    double L = 0;
    for (int n = 0; n < t->n; n++)
        for (int o = 0; o < t->o; o++) {
            const int g = o / cog;
            for (int oy = 0; oy < f->oh; oy++)
                for (int ox = 0; ox < f->ow; ox++) {
                    double y = f->b[o];
                    for (int ci = 0; ci < cig; ci++)
                        for (int ky = 0; ky < t->k; ky++)
                            for (int kx = 0; kx < t->k; kx++) {
                                const int iy = oy * t->s - t->pad + ky * t->d;
                                const int ix = ox * t->s - t->pad + kx * t->d;
                                if (iy < 0 || iy >= t->h || ix < 0 || ix >= t->w) continue;
                                y += f->w[((o * cig + ci) * t->k + ky) * t->k + kx] *
                                     f->x[((n * t->c + g * cig + ci) * t->h + iy) * t->w + ix];
                            }
                    L += f->r[((n * t->o + o) * f->oh + oy) * f->ow + ox] * y;
                }
        }
    return L;
}

/* central differences of conv_loss with respect to every element of v */
static void conv_fd_grad(conv_fd *f, double *v, size_t n, double *grad) {
    const double h = 1e-3;
    for (size_t i = 0; i < n; i++) {
        const double keep = v[i];
        v[i] = keep + h;
        const double lp = conv_loss(f);
        v[i] = keep - h;
        const double lm = conv_loss(f);
        v[i] = keep;
        grad[i] = (lp - lm) / (2 * h);
    }
}


static void fd_case(const conv_case *t) {
    cy_error err = {0};
    const cy_shape is = {t->n, t->c, t->h, t->w};
    const size_t nx = cy_shape_numel(is), nw = (size_t)t->o * (t->c / t->g) * t->k * t->k;
    float *x = rand_buf(nx, -1, 1), *w = rand_buf(nw, -0.5f, 0.5f);
    float *b = rand_buf(t->o, -0.5f, 0.5f);
    cy_conv_params p = case_p(t, w, b);
    const cy_shape os = cy_conv_out_shape(is, t->o, &p);
    const size_t ny = cy_shape_numel(os);
    float *dy = rand_buf(ny, -1, 1);
    float *dx = calloc(nx, sizeof *dx), *dw = calloc(nw, sizeof *dw), *db = calloc(t->o, 4);
    cy_tensor in = {x, is}, dout = {dy, os}, din = {dx, is};
    CHECK(ref->conv2d_backward(ref, NULL, &in, &dout, &din, dw, db, &p, &err) == CY_OK,
          "%s", err.msg);

    conv_fd f = {t, os.h, os.w, test_to_double(dy, ny), test_to_double(x, nx), test_to_double(w, nw),
                 test_to_double(b, t->o)};
    double *g = malloc((nx > nw ? nx : nw) * sizeof *g);
    conv_fd_grad(&f, f.x, nx, g);
    const double ex = test_max_rel_d(dx, g, nx);
    conv_fd_grad(&f, f.w, nw, g);
    const double ew = test_max_rel_d(dw, g, nw);
    conv_fd_grad(&f, f.b, t->o, g);
    const double eb = test_max_rel_d(db, g, t->o);
    CHECK(ex < 1e-5 && ew < 1e-5 && eb < 1e-5,
          "ref vs FD, n%d c%d %dx%d o%d k%d s%d p%d d%d g%d: din %.3g dweight %.3g "
          "dbias %.3g", t->n, t->c, t->h, t->w, t->o, t->k, t->s, t->pad, t->d, t->g, ex,
          ew, eb);
    free(g), free((void *)f.r), free(f.x), free(f.w), free(f.b);
    free(x), free(w), free(b), free(dy), free(dx), free(dw), free(db);
}

static void fd_cases(void) {
    static const conv_case cases[] = {
        /* n c  h  w  o  k  s pad d  g */
        {2, 4, 7, 9, 6, 3, 1, 1, 1, 1}, /* odd sizes, batch 2 */
        {1, 3, 8, 7, 4, 3, 2, 1, 1, 1}, /* stride 2 */
        {2, 3, 9, 8, 4, 3, 1, 2, 2, 1}, /* dilation 2 */
        {1, 4, 6, 7, 6, 3, 1, 1, 1, 2}, /* groups 2 */
        {2, 5, 7, 6, 5, 3, 2, 1, 1, 5}, /* depthwise, stride 2 */
        {1, 4, 7, 7, 4, 5, 1, 2, 1, 4}, /* depthwise k5 */
        {2, 3, 6, 5, 5, 1, 1, 0, 1, 1}, /* 1x1 */
        {1, 2, 8, 8, 3, 2, 2, 0, 1, 1}, /* even kernel */
        {2, 3, 9, 7, 2, 3, 3, 0, 1, 1}, /* stride 3: the last rows feed nothing */
        {1, 6, 9, 9, 4, 3, 2, 2, 2, 2}, /* grouped, dilated, strided */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) fd_case(&cases[i]);
}

/* ---- cpu against ref ----------------------------------------------------- */

typedef struct {
    cy_shape is, os;
    size_t nx, ny, nw;
    float *x, *xh, *w, *b, *dy, *dyh;
} conv_data;

static conv_data data_new(const conv_case *t) {
    conv_data D;
    D.is = (cy_shape){t->n, t->c, t->h, t->w};
    D.nx = cy_shape_numel(D.is);
    D.nw = (size_t)t->o * (t->c / t->g) * t->k * t->k;
    D.x = rand_buf(D.nx, -1, 1);
    D.w = rand_buf(D.nw, -0.5f, 0.5f);
    D.b = rand_buf(t->o, -0.5f, 0.5f);
    cy_conv_params p = case_p(t, D.w, D.b);
    D.os = cy_conv_out_shape(D.is, t->o, &p);
    D.ny = cy_shape_numel(D.os);
    D.dy = rand_buf(D.ny, -1, 1);
    D.xh = malloc(D.nx * sizeof(float));
    D.dyh = malloc(D.ny * sizeof(float));
    cy_nchw_to_nhwc(D.xh, D.x, D.is);
    cy_nchw_to_nhwc(D.dyh, D.dy, D.os);
    return D;
}

static void data_free(conv_data *D) {
    free(D->x), free(D->xh), free(D->w), free(D->b), free(D->dy), free(D->dyh);
}

/* Gradients from both backends, starting from the same random values (so
 * the adding is checked too); cpu's din back in NCHW. Returns the worst of
 * the three errors relative to max(1, max|ref|). */
static double compare(const conv_case *t, conv_data *D, cy_conv_params *p, cy_slot *slot,
                      int want_din, int want_dw, int want_db) {
    cy_error err = {0};
    const int O = t->o;
    float *d0 = rand_buf(D->nx, -1, 1), *w0 = rand_buf(D->nw, -1, 1), *b0 = rand_buf(O, -1, 1);
    float *rdx = copy_buf(d0, D->nx), *rdw = copy_buf(w0, D->nw), *rdb = copy_buf(b0, O);
    float *cdxh = malloc(D->nx * sizeof(float)), *cdx = malloc(D->nx * sizeof(float));
    float *cdw = copy_buf(w0, D->nw), *cdb = copy_buf(b0, O);
    cy_nchw_to_nhwc(cdxh, d0, D->is);
    cy_tensor in = {D->x, D->is}, dout = {D->dy, D->os}, din = {rdx, D->is};
    cy_tensor inh = {D->xh, D->is}, douth = {D->dyh, D->os}, dinh = {cdxh, D->is};
    CHECK(ref->conv2d_backward(ref, NULL, &in, &dout, want_din ? &din : NULL,
                               want_dw ? rdw : NULL, want_db ? rdb : NULL, p, &err) == CY_OK,
          "ref: %s", err.msg);
    cy_status st = cpu->conv2d_backward(cpu, slot, &inh, &douth, want_din ? &dinh : NULL,
                                        want_dw ? cdw : NULL, want_db ? cdb : NULL, p, &err);
    CHECK(st == CY_OK, "cpu: %s", err.msg);
    cy_nhwc_to_nchw(cdx, cdxh, D->is);
    double e = st == CY_OK ? 0 : 1, t1;
    t1 = test_max_rel(cdx, rdx, D->nx), e = t1 > e ? t1 : e;
    t1 = test_max_rel(cdw, rdw, D->nw), e = t1 > e ? t1 : e;
    t1 = test_max_rel(cdb, rdb, O), e = t1 > e ? t1 : e;
    /* what was not asked for is untouched */
    if (!want_din) CHECK(!memcmp(cdx, d0, D->nx * sizeof(float)), "din touched");
    if (!want_dw) CHECK(!memcmp(cdw, w0, D->nw * sizeof(float)), "dweight touched");
    if (!want_db) CHECK(!memcmp(cdb, b0, O * sizeof(float)), "dbias touched");
    free(d0), free(w0), free(b0), free(rdx), free(rdw), free(rdb);
    free(cdxh), free(cdx), free(cdw), free(cdb);
    return e;
}

static const conv_case cpu_cases[] = {
    /* n  c   h   w   o  k  s pad d  g */
    {1, 3, 32, 32, 16, 3, 2, 1, 1, 1},   /* stem */
    {2, 8, 7, 5, 12, 3, 1, 1, 1, 1},     /* odd sizes */
    {3, 16, 13, 9, 16, 1, 1, 0, 1, 1},   /* 1x1 */
    {2, 16, 13, 9, 24, 3, 2, 1, 1, 1},   /* stride 2, odd */
    {2, 32, 10, 14, 32, 3, 1, 1, 1, 32}, /* depthwise */
    {1, 24, 9, 11, 24, 5, 2, 2, 1, 24},  /* depthwise k5 s2 */
    {2, 8, 12, 7, 6, 3, 1, 1, 1, 2},     /* grouped g=2 */
    {1, 8, 15, 13, 8, 3, 1, 2, 2, 1},    /* dilation 2 */
    {1, 5, 9, 6, 7, 5, 3, 0, 1, 1},      /* no pad, s3 */
    {2, 16, 8, 8, 16, 1, 2, 0, 1, 1},    /* 1x1 s2, pad_r < 0 */
    {2, 64, 20, 20, 64, 3, 1, 1, 1, 1},  /* wide */
    {4, 16, 6, 10, 32, 3, 2, 1, 1, 4},   /* g=4 stride 2 */
    {1, 6, 7, 9, 6, 3, 1, 2, 2, 3},      /* grouped + dilated */
};

static void cpu_vs_ref(void) {
    for (size_t i = 0; i < sizeof cpu_cases / sizeof *cpu_cases; i++) {
        const conv_case *t = &cpu_cases[i];
        conv_data D = data_new(t);
        cy_conv_params p = case_p(t, D.w, D.b);
        cy_slot slot = NULL;
        /* a backward on a fresh slot, then after a forward through it (which
         * lets backward-data share the forward's reordered weights) */
        double e = compare(t, &D, &p, &slot, 1, 1, 1);
        CHECK(e < 1e-4, "case %zu (n%d c%d %dx%d o%d k%d s%d p%d d%d g%d) fresh slot: %.3g",
              i, t->n, t->c, t->h, t->w, t->o, t->k, t->s, t->pad, t->d, t->g, e);
        float *y = malloc(D.ny * sizeof(float));
        cy_tensor inh = {D.xh, D.is}, out = {y, D.os};
        cy_error err = {0};
        CHECK(cpu->conv2d(cpu, &slot, &inh, &out, &p, &err) == CY_OK, "%s", err.msg);
        e = compare(t, &D, &p, &slot, 1, 1, 1);
        CHECK(e < 1e-4, "case %zu after forward: %.3g", i, e);
        free(y);
        cpu->slot_free(cpu, slot);
        data_free(&D);
    }
}

/* Only what is asked for is written, in any combination; the slot follows
 * new weights (weights_version) and new shapes. */
static void subsets_and_caching(void) {
    cy_error err = {0};
    /* the 1x1 case takes the cpu backend's GEMM path */
    const conv_case t1 = {2, 8, 9, 7, 12, 1, 1, 0, 1, 1};
    conv_data D1 = data_new(&t1);
    cy_conv_params p1 = case_p(&t1, D1.w, D1.b);
    cy_slot slot = NULL;
    for (int m = 0; m < 8; m++) {
        double e = compare(&t1, &D1, &p1, &slot, m & 1, m >> 1 & 1, m >> 2 & 1);
        CHECK(e < 1e-4, "1x1 din %d dweight %d dbias %d: %.3g", m & 1, m >> 1 & 1,
              m >> 2 & 1, e);
    }
    data_free(&D1);
    const conv_case t = {2, 8, 9, 7, 12, 3, 1, 1, 1, 1};
    conv_data D = data_new(&t);
    cy_conv_params p = case_p(&t, D.w, D.b);
    for (int m = 0; m < 8; m++) {
        double e = compare(&t, &D, &p, &slot, m & 1, m >> 1 & 1, m >> 2 & 1);
        CHECK(e < 1e-4, "din %d dweight %d dbias %d: %.3g", m & 1, m >> 1 & 1, m >> 2 & 1, e);
    }

    /* forward with version 1, then new weights under version 2: the backward
     * must not read the forward's stale copy */
    float *y = malloc(D.ny * sizeof(float));
    cy_tensor inh = {D.xh, D.is}, out = {y, D.os};
    CHECK(cpu->conv2d(cpu, &slot, &inh, &out, &p, &err) == CY_OK, "%s", err.msg);
    for (size_t i = 0; i < D.nw; i++) D.w[i] = -0.5f * D.w[i] + 0.125f;
    p.weights_version = 2;
    CHECK(compare(&t, &D, &p, &slot, 1, 0, 0) < 1e-4, "new version without forward");
    CHECK(cpu->conv2d(cpu, &slot, &inh, &out, &p, &err) == CY_OK, "%s", err.msg);
    CHECK(compare(&t, &D, &p, &slot, 1, 0, 0) < 1e-4, "new version after forward");
    /* version 0: never cached, weights re-read every call */
    p.weights_version = 0;
    for (size_t i = 0; i < D.nw; i++) D.w[i] += 0.25f;
    CHECK(compare(&t, &D, &p, &slot, 1, 1, 1) < 1e-4, "version 0");
    for (size_t i = 0; i < D.nw; i++) D.w[i] -= 0.5f;
    CHECK(compare(&t, &D, &p, &slot, 1, 1, 1) < 1e-4, "version 0 again");
    free(y);
    data_free(&D);

    /* same slot, another shape: rebuilt */
    const conv_case t2 = {3, 8, 5, 11, 12, 3, 2, 1, 1, 1};
    conv_data D2 = data_new(&t2);
    cy_conv_params p2 = case_p(&t2, D2.w, D2.b);
    CHECK(compare(&t2, &D2, &p2, &slot, 1, 1, 1) < 1e-4, "new shape");
    cpu->slot_free(cpu, slot);
    data_free(&D2);
}

/* Calling a backward twice adds the gradient twice; all-NULL does nothing. */
static void accumulation(void) {
    cy_error err = {0};
    const conv_case t = {2, 6, 8, 7, 4, 3, 2, 1, 1, 2};
    conv_data D = data_new(&t);
    cy_conv_params p = case_p(&t, D.w, D.b);
    cy_backend *bk[2] = {ref, cpu};
    for (int k = 0; k < 2; k++) {
        cy_backend *be = bk[k];
        const int nhwc = be->layout == CY_LAYOUT_NHWC;
        cy_tensor in = {nhwc ? D.xh : D.x, D.is}, dout = {nhwc ? D.dyh : D.dy, D.os};
        float *g1[3], *g2[3];
        const size_t len[3] = {D.nx, D.nw, (size_t)t.o};
        for (int r = 0; r < 3; r++) g1[r] = calloc(len[r], 4), g2[r] = calloc(len[r], 4);
        cy_tensor d1 = {g1[0], D.is}, d2 = {g2[0], D.is};
        cy_slot slot = NULL;
        CHECK(be->conv2d_backward(be, &slot, &in, &dout, &d1, g1[1], g1[2], &p, &err) == CY_OK,
              "%s", err.msg);
        for (int rep = 0; rep < 2; rep++)
            CHECK(be->conv2d_backward(be, &slot, &in, &dout, &d2, g2[1], g2[2], &p, &err) ==
                      CY_OK, "%s", err.msg);
        for (int r = 0; r < 3; r++) {
            for (size_t i = 0; i < len[r]; i++) g1[r][i] *= 2;
            CHECK(test_max_rel(g2[r], g1[r], len[r]) < 1e-6, "%s: twice != 2x (part %d)",
                  be->name, r);
            memcpy(g1[r], g2[r], len[r] * 4);
        }
        CHECK(be->conv2d_backward(be, &slot, &in, &dout, NULL, NULL, NULL, &p, &err) == CY_OK,
              "%s", err.msg);
        for (int r = 0; r < 3; r++)
            CHECK(!memcmp(g1[r], g2[r], len[r] * 4), "%s: all-NULL wrote", be->name);
        for (int r = 0; r < 3; r++) free(g1[r]), free(g2[r]);
        be->slot_free(be, slot);
    }
    data_free(&D);
}

static void bad_args(void) {
    cy_error err = {0};
    const conv_case t = {1, 4, 6, 6, 4, 3, 1, 1, 1, 1};
    conv_data D = data_new(&t);
    cy_conv_params p = case_p(&t, D.w, NULL);
    float *g = calloc(D.nx, 4);
    cy_tensor in = {D.x, D.is}, dout = {D.dy, D.os}, din = {g, D.is};
    cy_backend *bk[2] = {ref, cpu};
    for (int k = 0; k < 2; k++) {
        cy_backend *be = bk[k];
        cy_slot slot = NULL;
        cy_conv_params q = p;
        q.act = CY_ACT_SILU;
        CHECK(be->conv2d_backward(be, &slot, &in, &dout, &din, NULL, NULL, &q, &err) ==
                  CY_ERR_ARG && strstr(err.msg, "conv2d_backward"), "%s: fused act: %s",
              be->name, err.msg);
        q = p;
        q.bn_gamma = D.b, q.bn_beta = D.b, q.bn_mean = D.b, q.bn_var = D.b;
        CHECK(be->conv2d_backward(be, &slot, &in, &dout, &din, NULL, NULL, &q, &err) ==
                  CY_ERR_ARG, "%s: fused bn", be->name);
        cy_tensor bad = {g, {1, 4, 6, 5}};
        CHECK(be->conv2d_backward(be, &slot, &in, &dout, &bad, NULL, NULL, &p, &err) ==
                  CY_ERR_ARG && strstr(err.msg, "input gradient"), "%s: din shape: %s",
              be->name, err.msg);
        cy_tensor bado = {D.dy, {1, 4, 5, 6}};
        CHECK(be->conv2d_backward(be, &slot, &in, &bado, &din, NULL, NULL, &p, &err) ==
                  CY_ERR_ARG, "%s: dout shape", be->name);
        be->slot_free(be, slot);
    }
    free(g);
    data_free(&D);
}

int main(void) {
    cy_error err = {0};
    CHECK(cy_backend_ref_create(&ref, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_backend_cpu_create(&cpu, 2, &err) == CY_OK, "%s", err.msg);
    if (!ref || !cpu) return test_summary();
    fd_cases();
    cpu_vs_ref();
    subsets_and_caching();
    accumulation();
    bad_args();
    cy_backend_destroy(ref);
    cy_backend_destroy(cpu);
    return test_summary();
}
