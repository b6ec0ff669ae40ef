/* The detection loss: E2ELoss on the reference case-3 head outputs (loss
 * vector, logged items, both branches), the analytic gradients against
 * central finite differences with the assignment frozen, edge cases, and a
 * v8-style reg_max 16 (DFL) case checked against a plain re-derivation of the
 * formulas and by finite differences. */
#include <time.h>
#include "model/loss.h"
#include "model/loss_internal.h"
#include "test_ref.h"

static const float CASE3_ROWS[6][6] = {
    {0, 0, 0.3f, 0.4f, 0.35f, 0.45f}, {0, 17, 0.7f, 0.6f, 0.2f, 0.25f},
    {0, 5, 0.55f, 0.45f, 0.04f, 0.05f}, {1, 2, 0.5f, 0.5f, 0.8f, 0.7f},
    {1, 2, 0.45f, 0.55f, 0.3f, 0.25f}, {1, 79, 0.15f, 0.2f, 0.1f, 0.12f}};
static const cy_det_grid GRID = {3, {16, 8, 4}, {20, 10, 5}, {8, 16, 32}};

static double rel_err3(const double *a, const float *ref) {
    double e = 0;
    for (int k = 0; k < 3; k++) {
        double d = fabs(a[k] - ref[k]) / fmax(fabs(ref[k]), 1e-12);
        e = d > e ? d : e;
    }
    return e;
}

static void check_vec3(const char *what, const double *a, const char *ref_name, double tol) {
    cy_npy r;
    if (ref_load(ref_name, &r)) { CHECK(0, "%s: missing %s", what, ref_name); return; }
    double e = rel_err3(a, r.data);
    printf("  %-28s [%.7g %.7g %.7g] vs [%.7g %.7g %.7g] rel err %.2e\n", what, a[0], a[1], a[2],
           r.data[0], r.data[1], r.data[2], e);
    CHECK(r.numel == 3 && e <= tol, "%s: rel err %.3e > %.1e", what, e, tol);
    cy_npy_free(&r);
}

static int all_finite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

/* ---- finite differences with a frozen assignment -------------------------- */

typedef struct {
    cy_det_loss_ws *ws;
    int slot, B, nc, A;
    const cy_det_grid *g;
    const cy_det_loss_hyp *hyp;
    float *boxes, *scores;   /* perturbed in place */
} fd_ctx;

static double fd_eval(const fd_ctx *c) {
    cy_det_head h = {c->boxes, c->scores, NULL, NULL};
    double it[3];
    cy_error err = {0};
    if (cy_det_loss_assigned(c->ws, c->slot, c->g, c->B, c->nc, c->hyp, &h, 1.0, it, &err) != CY_OK) {
        fprintf(stderr, "fd eval: %s\n", err.msg);
        return NAN;
    }
    return it[0] + it[1] + it[2];
}

/* central difference of the loss sum w.r.t. x[i]; the step actually taken is
 * measured on the float values */
static double fd_one(const fd_ctx *c, float *x, size_t i, float h) {
    const float x0 = x[i];
    x[i] = x0 + h;
    const double step_p = (double)x[i] - x0;
    const double fp = fd_eval(c);
    x[i] = x0 - h;
    const double step_m = (double)x0 - x[i];
    const double fm = fd_eval(c);
    x[i] = x0;
    return (fp - fm) / (step_p + step_m);
}

typedef struct {
    int n;
    double max_abs, max_rel, gmax;
} fd_stats;

static void fd_check(const char *what, const fd_ctx *c, float *x, const float *g, const size_t *idx,
                     int n, float h, double gmax, double tol_abs_frac, double tol_rel) {
    fd_stats s = {0, 0, 0, gmax};
    int bad = 0;
    for (int k = 0; k < n; k++) {
        const double fd = fd_one(c, x, idx[k], h);
        const double an = g[idx[k]];
        const double d = fabs(fd - an);
        const double lim = tol_abs_frac * gmax + tol_rel * fabs(fd);
        s.max_abs = fmax(s.max_abs, d);
        if (fabs(fd) > 1e-3 * gmax) s.max_rel = fmax(s.max_rel, d / fabs(fd));
        if (!(d <= lim)) {
            if (bad < 5)
                fprintf(stderr, "  %s: element %zu analytic %.9g fd %.9g\n", what, idx[k], an, fd);
            bad++;
        }
        s.n++;
    }
    printf("  %-34s %4d elements: max |an-fd| %.2e (max|g| %.3g), max rel %.2e\n", what, s.n, s.max_abs,
           gmax, s.max_rel);
    CHECK(bad == 0, "%s: %d of %d gradient elements off", what, bad, n);
}

static double max_abs(const float *x, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

/* ---- 1 + 3: reference case 3 ----------------------------------------------- */

static void test_reference(void) {
    printf("reference case 3 (yolo26n, E2ELoss):\n");
    cy_error err = {0};
    const int B = 2, nc = 80, A = 420;
    cy_npy ob, os, qb, qs;
    if (ref_load("c3_n_train_raw_one2many_boxes.npy", &ob) || ref_load("c3_n_train_raw_one2many_scores.npy", &os) ||
        ref_load("c3_n_train_raw_one2one_boxes.npy", &qb) || ref_load("c3_n_train_raw_one2one_scores.npy", &qs)) {
        CHECK(0, "reference raw head outputs missing");
        return;
    }
    cy_targets t;
    CHECK(cy_targets_from_rows(&t, &CASE3_ROWS[0][0], 6, B, nc, &err) == CY_OK, "%s", err.msg);
    cy_det_loss_ws *ws;
    CHECK(cy_det_loss_ws_create(&ws, &err) == CY_OK, "%s", err.msg);
    const size_t nb = (size_t)B * 4 * A, ns = (size_t)B * nc * A;
    float *g[4], *gb[2], *gs[2];
    for (int i = 0; i < 4; i++) g[i] = malloc((i & 1 ? ns : nb) * sizeof(float));
    for (int i = 0; i < 2; i++) {
        gb[i] = malloc(nb * sizeof(float));
        gs[i] = malloc(ns * sizeof(float));
    }
    cy_det_head o2m = {ob.data, os.data, g[0], g[1]}, o2o = {qb.data, qs.data, g[2], g[3]};
    cy_e2e_weights w = cy_e2e_weights_at(0, 100);
    CHECK(fabs(w.o2m - 0.8) < 1e-15 && fabs(w.o2o - 0.2) < 1e-15, "epoch 0 weights %g %g", w.o2m, w.o2o);
    cy_e2e_result r;
    clock_t t0 = clock();
    cy_status st = cy_det_loss_e2e(ws, &GRID, B, nc, &t, NULL, NULL, w, &o2m, &o2o, &r, &err);
    printf("  e2e loss + gradients: %.2f ms\n", 1e3 * (clock() - t0) / CLOCKS_PER_SEC);
    CHECK(st == CY_OK, "e2e: %s", err.msg);
    if (st == CY_OK) {
        check_vec3("loss vector", r.loss, "c3_n_train_loss.npy", 1e-4);
        check_vec3("loss items (o2o)", r.items, "c3_n_train_loss_items.npy", 1e-4);
        check_vec3("o2m items", r.o2m.items, "c3_n_train_o2m_items.npy", 1e-4);
        check_vec3("o2o items", r.o2o.items, "c3_n_train_o2o_items.npy", 1e-4);
        CHECK(r.o2m.assign.n_fg == 49 && r.o2o.assign.n_fg == 6, "fg %lld %lld",
              (long long)r.o2m.assign.n_fg, (long long)r.o2o.assign.n_fg);
    }

    /* branch gradients at scale 1 on the frozen assignments; e2e ones are
     * B * weight times these */
    cy_det_loss_hyp hyp[2] = {cy_det_loss_hyp_o2m(), cy_det_loss_hyp_o2o()};
    float *bx[2] = {ob.data, qb.data}, *sc[2] = {os.data, qs.data};
    const double wk[2] = {w.o2m, w.o2o};
    uint64_t rng = 12345;
    for (int k = 0; k < 2; k++) {
        const char *tag = k ? "o2o" : "o2m";
        cy_det_head h = {bx[k], sc[k], gb[k], gs[k]};
        double it[3];
        CHECK(cy_det_loss_assigned(ws, k, &GRID, B, nc, &hyp[k], &h, 1.0, it, &err) == CY_OK, "%s", err.msg);
        const cy_det_branch_result *br = k ? &r.o2o : &r.o2m;
        CHECK(fabs(it[0] - br->items[0]) + fabs(it[1] - br->items[1]) + fabs(it[2] - br->items[2]) < 1e-12,
              "%s: frozen re-evaluation differs", tag);
        double e = 0;
        for (size_t i = 0; i < nb; i++) e = fmax(e, fabs(g[2 * k][i] - B * wk[k] * gb[k][i]));
        for (size_t i = 0; i < ns; i++) e = fmax(e, fabs(g[2 * k + 1][i] - B * wk[k] * gs[k][i]));
        CHECK(e <= 1e-6 * fmax(max_abs(g[2 * k], nb), max_abs(g[2 * k + 1], ns)), "%s: e2e grads != B*w*branch", tag);
        CHECK(all_finite(gb[k], nb) && all_finite(gs[k], ns), "%s: non-finite gradient", tag);

        /* torch differentiates with CIoU's alpha held constant: so does the FD */
        cy_det_loss_freeze_alpha(ws, k, 1);
        fd_ctx c = {ws, k, B, nc, A, &GRID, &hyp[k], bx[k], sc[k]};
        size_t idx[600];
        int n = 0;
        const cy_det_assign *as = k ? &r.o2o.assign : &r.o2m.assign;
        for (int b = 0; b < B; b++)
            for (int a = 0; a < A; a++)
                if (as->fg[b * A + a])
                    for (int q = 0; q < 4 && n < 400; q++) idx[n++] = ((size_t)b * 4 + q) * A + a;
        for (int i = 0; i < 20; i++) idx[n++] = test_rand_u32(&rng) % nb;
        char what[96];
        snprintf(what, sizeof what, "%s box grads (fg + random)", tag);
        fd_check(what, &c, bx[k], gb[k], idx, n, 1e-3f, max_abs(gb[k], nb), 1e-5, 1e-3);

        n = 0;
        for (int b = 0; b < B; b++)
            for (int a = 0; a < A && n < 200; a++)
                if (as->fg[b * A + a]) {
                    idx[n++] = ((size_t)b * nc + as->label[b * A + a]) * A + a;
                    idx[n++] = ((size_t)b * nc + (as->label[b * A + a] + 1) % nc) * A + a;
                }
        for (int i = 0; i < 40; i++) idx[n++] = test_rand_u32(&rng) % ns;
        snprintf(what, sizeof what, "%s cls grads (fg labels + random)", tag);
        fd_check(what, &c, sc[k], gs[k], idx, n, 1e-2f, max_abs(gs[k], ns), 1e-5, 1e-3);
    }

    /* the gradient at the background anchors' boxes is exactly zero */
    {
        int nz = 0;
        for (int b = 0; b < B; b++)
            for (int a = 0; a < A; a++)
                if (!r.o2m.assign.fg[b * A + a])
                    for (int q = 0; q < 4; q++) nz += gb[0][((size_t)b * 4 + q) * A + a] != 0;
        CHECK(nz == 0, "o2m: %d non-zero box grads at background anchors", nz);
    }
    for (int i = 0; i < 4; i++) free(g[i]);
    for (int i = 0; i < 2; i++) free(gb[i]), free(gs[i]);
    cy_det_loss_ws_free(ws);
    cy_targets_free(&t);
    cy_npy_free(&ob), cy_npy_free(&os), cy_npy_free(&qb), cy_npy_free(&qs);
}

static void test_schedule(void) {
    cy_e2e_weights w = cy_e2e_weights_at(99, 100);
    CHECK(fabs(w.o2m - 0.1) < 1e-12 && fabs(w.o2o - 0.9) < 1e-12, "last epoch %g %g", w.o2m, w.o2o);
    w = cy_e2e_weights_at(33, 100);
    CHECK(fabs(w.o2m - ((1 - 33.0 / 99) * 0.7 + 0.1)) < 1e-12 && fabs(w.o2m + w.o2o - 1) < 1e-12, "mid %g", w.o2m);
    w = cy_e2e_weights_at(150, 100);
    CHECK(fabs(w.o2m - 0.1) < 1e-12, "past the end %g", w.o2m);
    w = cy_e2e_weights_at(0, 1);
    CHECK(fabs(w.o2m - 0.8) < 1e-12, "1 epoch, start %g", w.o2m);
    w = cy_e2e_weights_at(1, 1);
    CHECK(fabs(w.o2m - 0.1) < 1e-12, "1 epoch, after %g", w.o2m);
}

/* ---- 4: edge cases --------------------------------------------------------- */

typedef struct {
    int B, nc, A;
    float *boxes, *scores, *gb, *gs;
} synth;

static synth synth_make(int B, int nc, int R, const cy_det_grid *g, uint64_t seed) {
    synth s = {B, nc, cy_det_grid_anchors(g), 0, 0, 0, 0};
    size_t nb = (size_t)B * 4 * R * s.A, ns = (size_t)B * nc * s.A;
    s.boxes = malloc(nb * sizeof(float));
    s.scores = malloc(ns * sizeof(float));
    s.gb = malloc(nb * sizeof(float));
    s.gs = malloc(ns * sizeof(float));
    uint64_t r = seed;
    if (R == 1) test_fill(s.boxes, nb, &r, 0.3f, 3.0f);
    else
        for (int b = 0; b < B; b++)
            for (int c = 0; c < 4 * R; c++)
                for (int a = 0; a < s.A; a++)   /* mass on the low bins: ltrb ~ 1-3 */
                    s.boxes[((size_t)b * 4 * R + c) * s.A + a] = -0.45f * (c % R) + test_rand_uniform(&r, -1, 1);
    test_fill(s.scores, ns, &r, -6.0f, 0.5f);
    return s;
}
static void synth_free(synth *s) { free(s->boxes), free(s->scores), free(s->gb), free(s->gs); }

/* runs the v8 loss (reg_max 1 or 16) on rows; returns status, fills out */
static cy_status run_rows(cy_det_loss_ws *ws, const cy_det_grid *g, synth *s, int R, const float *rows, int n,
                          cy_v8_result *out, cy_error *err) {
    cy_targets t;
    CY_TRY(cy_targets_from_rows(&t, rows, n, s->B, s->nc, err));
    cy_det_loss_hyp h = cy_det_loss_hyp_default(R);
    cy_det_head hd = {s->boxes, s->scores, s->gb, s->gs};
    cy_status st = cy_det_loss_v8(ws, g, s->B, s->nc, &t, &h, &hd, out, err);
    cy_targets_free(&t);
    return st;
}

static int result_ok(const cy_v8_result *r, const synth *s, int R) {
    int ok = 1;
    for (int k = 0; k < 3; k++) ok &= isfinite(r->loss[k]) && isfinite(r->items[k]) && r->items[k] >= 0;
    ok &= all_finite(s->gb, (size_t)s->B * 4 * R * s->A) && all_finite(s->gs, (size_t)s->B * s->nc * s->A);
    return ok;
}

static void test_edges(void) {
    printf("edge cases:\n");
    const cy_det_grid g = {3, {8, 4, 2}, {8, 4, 2}, {8, 16, 32}};   /* 64 x 64 image */
    cy_det_loss_ws *ws;
    cy_error err = {0};
    CHECK(cy_det_loss_ws_create(&ws, &err) == CY_OK, "%s", err.msg);
    for (int R = 1; R <= 16; R += 15) {
        synth s = synth_make(3, 4, R, &g, 7 + R);
        cy_v8_result r;
        /* image 1 has no labels, image 2 has two labels on the same spot */
        const float rows[][6] = {{0, 1, 0.5f, 0.5f, 0.4f, 0.3f}, {2, 0, 0.3f, 0.3f, 0.2f, 0.2f},
                                 {2, 3, 0.3f, 0.3f, 0.2f, 0.2f}, {0, 2, 0.2f, 0.7f, 0.1f, 0.05f}};
        cy_status st = run_rows(ws, &g, &s, R, &rows[0][0], 4, &r, &err);
        CHECK(st == CY_OK && result_ok(&r, &s, R), "R=%d empty image / shared spot: %s", R, err.msg);
        if (st == CY_OK) {
            int fg1 = 0, fg2 = 0, gt1 = 0;
            for (int a = 0; a < s.A; a++) {
                fg1 += r.assign.fg[s.A + a];
                CHECK(r.assign.label[s.A + a] == 0 && r.assign.box_px[(size_t)(s.A + a) * 4 + 2] == 0,
                      "unlabelled image: padding label/box");
                if (r.assign.fg[2 * s.A + a]) fg2++, gt1 += r.assign.gt_idx[2 * s.A + a] == 1;
            }
            CHECK(fg1 == 0, "unlabelled image has %d fg anchors", fg1);
            /* identical boxes: every shared anchor goes to the first label (argmax of equal overlaps) */
            CHECK(fg2 > 0 && gt1 == 0, "shared spot: fg %d, of which %d to the second label", fg2, gt1);
        }
        /* no labels at all: cls term only, label nc everywhere */
        st = run_rows(ws, &g, &s, R, NULL, 0, &r, &err);
        CHECK(st == CY_OK && result_ok(&r, &s, R), "R=%d no labels: %s", R, err.msg);
        if (st == CY_OK) {
            double bce = 0;
            for (size_t i = 0; i < (size_t)s.B * s.nc * s.A; i++) {
                double x = s.scores[i];
                bce += fmax(x, 0) + log1p(exp(-fabs(x)));
            }
            CHECK(r.items[0] == 0 && r.items[2] == 0 && fabs(r.items[1] - 0.5 * bce) <= 1e-6 * bce,
                  "no labels: items %g %g %g (cls expected %g)", r.items[0], r.items[1], r.items[2], 0.5 * bce);
            CHECK(r.assign.label[0] == s.nc && r.assign.n_fg == 0 && r.assign.target_scores_sum == 1, "no labels: assign");
            CHECK(max_abs(s.gb, (size_t)s.B * 4 * R * s.A) == 0, "no labels: box grads not zero");
        }
        /* zero-width and zero-height boxes, boxes on the border, the whole image,
         * and a degenerate box at the origin (not a valid gt: its coordinates sum to 0) */
        const float rows2[][6] = {{0, 1, 0.5f, 0.5f, 0.0f, 0.3f}, {0, 2, 0.3f, 0.6f, 0.3f, 0.0f},
                                  {1, 0, 0.05f, 0.05f, 0.1f, 0.1f}, {1, 3, 0.9f, 0.5f, 0.2f, 1.0f},
                                  {2, 0, 0.5f, 0.5f, 1.0f, 1.0f}, {2, 1, 0.0f, 0.0f, 0.0f, 0.0f},
                                  {2, 2, 0.0f, 0.0f, 0.0f, 0.0f}};
        st = run_rows(ws, &g, &s, R, &rows2[0][0], 7, &r, &err);
        CHECK(st == CY_OK && result_ok(&r, &s, R), "R=%d degenerate boxes: %s", R, err.msg);
        if (st == CY_OK) {
            int per_gt[3][4] = {{0}};
            for (int b = 0; b < 3; b++)
                for (int a = 0; a < s.A; a++)
                    if (r.assign.fg[b * s.A + a]) per_gt[b][r.assign.gt_idx[b * s.A + a]]++;
            /* a zero-width (or zero-height) gt has IoU 0 with every prediction, so
             * its align metric is 0 everywhere: STAL makes anchors candidates, but
             * top-k over zeros picks none of them with a positive score */
            double sc0 = 0;
            for (int a = 0; a < s.A; a++) sc0 += r.assign.score[a];
            CHECK(sc0 == 0, "zero-size boxes: target score %g", sc0);
            CHECK(per_gt[1][0] > 0 && per_gt[1][1] > 0, "border boxes get anchors: %d %d", per_gt[1][0], per_gt[1][1]);
            CHECK(per_gt[2][0] > 0 && per_gt[2][1] == 0 && per_gt[2][2] == 0, "origin box is not a gt: %d %d %d",
                  per_gt[2][0], per_gt[2][1], per_gt[2][2]);
        }
        synth_free(&s);
    }

    /* bad targets: clear errors, no crash */
    {
        const float bad_cls[][6] = {{0, 1, 0.5f, 0.5f, 0.2f, 0.2f}, {1, 80, 0.5f, 0.5f, 0.2f, 0.2f}};
        cy_targets t;
        cy_status st = cy_targets_from_rows(&t, &bad_cls[0][0], 2, 2, 80, &err);
        printf("  class >= nc: %s\n", err.msg);
        CHECK(st == CY_ERR_ARG && strstr(err.msg, "row 1") && strstr(err.msg, "class 80"), "class >= nc: %d %s", st, err.msg);
        const float bad_b[][6] = {{2, 1, 0.5f, 0.5f, 0.2f, 0.2f}};
        st = cy_targets_from_rows(&t, &bad_b[0][0], 1, 2, 80, &err);
        CHECK(st == CY_ERR_ARG && strstr(err.msg, "batch_idx"), "batch_idx out of range: %s", err.msg);
        const float bad_nan[][6] = {{0, 1, NAN, 0.5f, 0.2f, 0.2f}};
        st = cy_targets_from_rows(&t, &bad_nan[0][0], 1, 2, 80, &err);
        CHECK(st == CY_ERR_ARG && strstr(err.msg, "cx"), "NaN: %s", err.msg);
        const float bad_neg[][6] = {{-1, 1, 0.5f, 0.5f, 0.2f, 0.2f}};
        CHECK(cy_targets_from_rows(&t, &bad_neg[0][0], 1, 2, 80, &err) == CY_ERR_ARG, "negative batch_idx");
        const float bad_frac[][6] = {{0, 1.5f, 0.5f, 0.5f, 0.2f, 0.2f}};
        CHECK(cy_targets_from_rows(&t, &bad_frac[0][0], 1, 2, 80, &err) == CY_ERR_ARG, "fractional class");
        /* targets validated without nc, then used with a smaller nc */
        CHECK(cy_targets_from_rows(&t, &bad_cls[0][0], 2, 2, 0, &err) == CY_OK, "%s", err.msg);
        synth s = synth_make(2, 4, 1, &g, 3);
        cy_det_loss_hyp h = cy_det_loss_hyp_default(1);
        cy_det_head hd = {s.boxes, s.scores, s.gb, s.gs};
        cy_v8_result r;
        st = cy_det_loss_v8(ws, &g, 2, 4, &t, &h, &hd, &r, &err);
        CHECK(st == CY_ERR_ARG && strstr(err.msg, "class"), "class >= nc at loss time: %s", err.msg);
        cy_targets_free(&t);
        /* batch size mismatch */
        CHECK(cy_targets_from_rows(&t, &bad_cls[0][0], 1, 3, 4, &err) == CY_OK, "%s", err.msg);
        CHECK(cy_det_loss_v8(ws, &g, 2, 4, &t, &h, &hd, &r, &err) == CY_ERR_ARG, "batch mismatch");
        cy_targets_free(&t);
        synth_free(&s);
    }
    /* rows in any order give the same result as sorted rows */
    {
        synth s = synth_make(2, 4, 1, &g, 11);
        const float sorted[][6] = {{0, 1, 0.5f, 0.5f, 0.4f, 0.3f}, {0, 2, 0.2f, 0.3f, 0.2f, 0.2f},
                                   {1, 3, 0.6f, 0.4f, 0.5f, 0.5f}};
        const float shuffled[][6] = {{1, 3, 0.6f, 0.4f, 0.5f, 0.5f}, {0, 1, 0.5f, 0.5f, 0.4f, 0.3f},
                                     {0, 2, 0.2f, 0.3f, 0.2f, 0.2f}};
        cy_v8_result r1, r2;
        CHECK(run_rows(ws, &g, &s, 1, &sorted[0][0], 3, &r1, &err) == CY_OK, "%s", err.msg);
        CHECK(run_rows(ws, &g, &s, 1, &shuffled[0][0], 3, &r2, &err) == CY_OK, "%s", err.msg);
        CHECK(r1.loss[0] == r2.loss[0] && r1.loss[1] == r2.loss[1] && r1.loss[2] == r2.loss[2], "row order matters");
        synth_free(&s);
    }
    cy_det_loss_ws_free(ws);
}

/* ---- 5: v8-style reg_max 16 with DFL --------------------------------------- */

/* bbox_iou(CIoU=True) written out as in metrics.py, for the check below */
static double ciou_plain(const double *b1, const double *b2) {
    const double eps = 1e-7;
    double w1 = b1[2] - b1[0], h1 = b1[3] - b1[1] + eps, w2 = b2[2] - b2[0], h2 = b2[3] - b2[1] + eps;
    double inter = fmax(fmin(b1[2], b2[2]) - fmax(b1[0], b2[0]), 0) * fmax(fmin(b1[3], b2[3]) - fmax(b1[1], b2[1]), 0);
    double uni = w1 * h1 + w2 * h2 - inter + eps, iou = inter / uni;
    double cw = fmax(b1[2], b2[2]) - fmin(b1[0], b2[0]), ch = fmax(b1[3], b2[3]) - fmin(b1[1], b2[1]);
    double c2 = cw * cw + ch * ch + eps;
    double rho2 = (pow(b2[0] + b2[2] - b1[0] - b1[2], 2) + pow(b2[1] + b2[3] - b1[1] - b1[3], 2)) / 4;
    double v = 4 / (M_PI * M_PI) * pow(atan(w2 / h2) - atan(w1 / h1), 2);
    double alpha = v / (v - iou + (1 + eps));
    return iou - (rho2 / c2 + v * alpha);
}

static void test_v8_dfl(void) {
    printf("v8-style reg_max 16 (DFL):\n");
    const cy_det_grid g = {3, {8, 4, 2}, {12, 6, 3}, {8, 16, 32}};   /* 64 x 96 image */
    const int B = 2, nc = 5, R = 16;
    cy_error err = {0};
    cy_det_loss_ws *ws;
    CHECK(cy_det_loss_ws_create(&ws, &err) == CY_OK, "%s", err.msg);
    synth s = synth_make(B, nc, R, &g, 99);
    const int A = s.A;
    const float rows[][6] = {{0, 1, 0.4f, 0.5f, 0.5f, 0.6f}, {0, 4, 0.75f, 0.3f, 0.2f, 0.3f},
                             {1, 0, 0.5f, 0.5f, 0.05f, 0.08f}, {1, 2, 0.3f, 0.6f, 0.5f, 0.7f},
                             {0, 3, 0.8f, 0.8f, 0.3f, 0.3f}};
    cy_targets t;
    CHECK(cy_targets_from_rows(&t, &rows[0][0], 5, B, nc, &err) == CY_OK, "%s", err.msg);
    cy_det_loss_hyp h = cy_det_loss_hyp_default(R);
    CHECK(h.topk == 10 && h.topk2 == 10 && h.alpha == 0.5 && h.beta == 6 && h.stal, "v8 defaults");
    cy_det_head hd = {s.boxes, s.scores, s.gb, s.gs};
    cy_v8_result r;
    cy_status st = cy_det_loss_v8(ws, &g, B, nc, &t, NULL, &hd, &r, &err);
    CHECK(st == CY_OK && result_ok(&r, &s, R), "v8: %s", err.msg);
    if (st != CY_OK) goto done;
    printf("  items [%.6g %.6g %.6g], fg %lld, tss %.6g\n", r.items[0], r.items[1], r.items[2],
           (long long)r.assign.n_fg, r.assign.target_scores_sum);
    CHECK(r.assign.n_fg > 0, "v8: no fg");
    for (int k = 0; k < 3; k++) CHECK(r.loss[k] == r.items[k] * B, "v8: loss = items * B");

    /* the three terms re-derived plainly from the assignment */
    {
        const cy_det_assign *as = &r.assign;
        const double tss = as->target_scores_sum;
        double cls = 0, box = 0, dfl = 0;
        for (int b = 0; b < B; b++)
            for (int c = 0; c < nc; c++)
                for (int a = 0; a < A; a++) {
                    double x = s.scores[((size_t)b * nc + c) * A + a];
                    double tv = as->fg[b * A + a] && as->label[b * A + a] == c ? as->score[b * A + a] : 0;
                    cls += (1 - tv) * x + log(1 + exp(-x));
                }
        float anc[2 * 200], str[200];
        cy_det_anchor_points(&g, anc, str, &err);
        for (int b = 0; b < B; b++)
            for (int a = 0; a < A; a++) {
                if (!as->fg[b * A + a]) continue;
                double d[4], lsm[4][16], st_ = str[a], gx = anc[2 * a] / st_, gy = anc[2 * a + 1] / st_;
                for (int k = 0; k < 4; k++) {
                    double z[16], m = -1e300, se = 0;
                    for (int j = 0; j < R; j++) m = fmax(m, z[j] = s.boxes[((size_t)b * 4 * R + k * R + j) * A + a]);
                    for (int j = 0; j < R; j++) se += exp(z[j] - m);
                    d[k] = 0;
                    for (int j = 0; j < R; j++) {
                        lsm[k][j] = z[j] - m - log(se);
                        d[k] += exp(lsm[k][j]) * j;
                    }
                }
                const float *tb = as->box_px + ((size_t)b * A + a) * 4;
                double T[4] = {tb[0] / st_, tb[1] / st_, tb[2] / st_, tb[3] / st_};
                double P[4] = {gx - d[0], gy - d[1], gx + d[2], gy + d[3]};
                double wgt = as->score[b * A + a];
                box += (1 - ciou_plain(P, T)) * wgt;
                double tl[4] = {gx - T[0], gy - T[1], T[2] - gx, T[3] - gy}, dsum = 0;
                for (int k = 0; k < 4; k++) {
                    double tg = fmin(fmax(tl[k], 0), R - 1 - 0.01);
                    int il = (int)tg;
                    double wl = il + 1 - tg, wr = 1 - wl;
                    dsum += -lsm[k][il] * wl - lsm[k][il + 1] * wr;
                }
                dfl += dsum / 4 * wgt;
            }
        double ref[3] = {box / tss * 7.5, cls / tss * 0.5, dfl / tss * 1.5};
        double e = 0;
        for (int k = 0; k < 3; k++) e = fmax(e, fabs(r.items[k] - ref[k]) / fmax(ref[k], 1e-12));
        printf("  plain re-derivation: [%.6g %.6g %.6g], rel err %.2e\n", ref[0], ref[1], ref[2], e);
        CHECK(e <= 1e-5, "v8 items vs plain formulas: rel err %.3e", e);
    }

    /* gradients (of loss.sum() = B * items.sum()) by finite differences */
    {
        cy_det_head h1 = {s.boxes, s.scores, s.gb, s.gs};
        double it[3];
        CHECK(cy_det_loss_assigned(ws, 0, &g, B, nc, &h, &h1, 1.0, it, &err) == CY_OK, "%s", err.msg);
        cy_det_loss_freeze_alpha(ws, 0, 1);
        fd_ctx c = {ws, 0, B, nc, A, &g, &h, s.boxes, s.scores};
        size_t idx[800];
        int n = 0, anchors = 0;
        for (int b = 0; b < B; b++)
            for (int a = 0; a < A && anchors < 10; a++)
                if (r.assign.fg[b * A + a]) {
                    anchors++;
                    for (int ch = 0; ch < 4 * R; ch++) idx[n++] = ((size_t)b * 4 * R + ch) * A + a;
                }
        uint64_t rng = 5;
        for (int i = 0; i < 30; i++) idx[n++] = test_rand_u32(&rng) % ((size_t)B * 4 * R * A);
        fd_check("DFL+CIoU box grads (10 fg anchors)", &c, s.boxes, s.gb, idx, n, 1e-3f,
                 max_abs(s.gb, (size_t)B * 4 * R * A), 1e-5, 1e-3);
        n = 0;
        for (int i = 0; i < 60; i++) idx[n++] = test_rand_u32(&rng) % ((size_t)B * nc * A);
        for (int b = 0; b < B; b++)
            for (int a = 0; a < A; a++)
                if (r.assign.fg[b * A + a] && n < 200) idx[n++] = ((size_t)b * nc + r.assign.label[b * A + a]) * A + a;
        fd_check("cls grads", &c, s.scores, s.gs, idx, n, 1e-2f, max_abs(s.gs, (size_t)B * nc * A), 1e-5, 1e-3);
    }
done:
    cy_targets_free(&t);
    synth_free(&s);
    cy_det_loss_ws_free(ws);
}

int main(void) {
    clock_t t0 = clock();
    test_reference();
    test_schedule();
    test_edges();
    test_v8_dfl();
    printf("total %.2f s\n", (double)(clock() - t0) / CLOCKS_PER_SEC);
    return test_summary();
}
