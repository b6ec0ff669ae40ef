/* The task-aligned assigner against reference case 5 (Ultralytics 8.4.37 on
 * the case-3 train-mode head outputs of yolo26n): anchor points, gt boxes in
 * pixels, and per branch the fg mask, labels and gt index (identical) and the
 * target boxes and scores (1e-4). */
#include "model/loss.h"
#include "model/loss_internal.h"
#include "test_ref.h"

static const float CASE3_ROWS[6][6] = {
    {0, 0, 0.3f, 0.4f, 0.35f, 0.45f}, {0, 17, 0.7f, 0.6f, 0.2f, 0.25f},
    {0, 5, 0.55f, 0.45f, 0.04f, 0.05f}, {1, 2, 0.5f, 0.5f, 0.8f, 0.7f},
    {1, 2, 0.45f, 0.55f, 0.3f, 0.25f}, {1, 79, 0.15f, 0.2f, 0.1f, 0.12f}};

static const cy_det_grid GRID = {3, {16, 8, 4}, {20, 10, 5}, {8, 16, 32}};

/* exact equality of an int/bool array with a float-stored reference */
static void check_exact_u8(const char *what, const uint8_t *a, const char *ref, int64_t n) {
    cy_npy r;
    if (ref_load(ref, &r)) { CHECK(0, "%s: missing %s", what, ref); return; }
    CHECK(r.numel == n, "%s: size %lld vs %lld", what, (long long)r.numel, (long long)n);
    int64_t bad = 0, first = -1;
    for (int64_t i = 0; i < n && i < r.numel; i++)
        if ((float)a[i] != r.data[i]) { bad++; if (first < 0) first = i; }
    CHECK(bad == 0, "%s: %lld mismatches (first at %lld)", what, (long long)bad, (long long)first);
    cy_npy_free(&r);
}
static void check_exact_i32(const char *what, const int32_t *a, const char *ref, int64_t n) {
    cy_npy r;
    if (ref_load(ref, &r)) { CHECK(0, "%s: missing %s", what, ref); return; }
    CHECK(r.numel == n, "%s: size %lld vs %lld", what, (long long)r.numel, (long long)n);
    int64_t bad = 0, first = -1;
    for (int64_t i = 0; i < n && i < r.numel; i++)
        if ((float)a[i] != r.data[i]) { bad++; if (first < 0) first = i; }
    CHECK(bad == 0, "%s: %lld mismatches (first at %lld: %d vs %g)", what, (long long)bad,
          (long long)first, first >= 0 ? a[first] : 0, first >= 0 ? r.data[first] : 0);
    cy_npy_free(&r);
}
static double check_float(const char *what, const float *a, const char *ref, int64_t n, double tol) {
    cy_npy r;
    if (ref_load(ref, &r)) { CHECK(0, "%s: missing %s", what, ref); return 1; }
    CHECK(r.numel == n, "%s: size %lld vs %lld", what, (long long)r.numel, (long long)n);
    double e = r.numel == n ? test_max_rel(a, r.data, (size_t)n) : 1;
    CHECK(e <= tol, "%s: max rel err %.3e > %.1e", what, e, tol);
    cy_npy_free(&r);
    return e;
}

/* ---- a dense transliteration of tal.py, to stress the sparse assigner ---- */

typedef struct {
    uint8_t *fg;
    int32_t *label, *gt_idx;
    float *box;
    double *score;
} dense_out;

/* k largest of v (ties to the lower index) over all A entries, marked in sel */
static void dense_topk(const double *v, int A, int k, uint8_t *sel) {
    memset(sel, 0, A);
    if (k > A) k = A;
    for (int it = 0; it < k; it++) {
        int best = -1;
        for (int a = 0; a < A; a++)
            if (!sel[a] && (best < 0 || v[a] > v[best])) best = a;
        sel[best] = 1;
    }
}

static void dense_assign(int B, int A, int nc, const cy_targets *t, const float *gt /*[B][nmax][5]*/,
                         const float *anc /*[A][2] px*/, const float *str, const double *dist /*[B][A][4]*/,
                         const float *scores, const cy_det_loss_hyp *h, float stride0, float stride_val,
                         dense_out *o) {
    const int nmax = t->n_max;
    for (int b = 0; b < B; b++) {
        const int n = nmax;   /* padded, as Ultralytics */
        double *ov = calloc((size_t)n * A + 1, sizeof *ov), *mt = calloc((size_t)n * A + 1, sizeof *mt);
        uint8_t *in = calloc((size_t)n * A + 1, 1), *mp = calloc((size_t)n * A + 1, 1), *sel = malloc(A);
        double *tmp = malloc(A * sizeof *tmp);
        for (int j = 0; j < n; j++) {
            const float *q = gt + ((size_t)b * nmax + j) * 5;
            int valid = q[1] + q[2] + q[3] + q[4] > 0.0f;
            if (!valid) continue;
            float c[4] = {q[1], q[2], q[3], q[4]};
            if (h->stal) {
                float cx = (q[1] + q[3]) / 2, cy = (q[2] + q[4]) / 2, w = q[3] - q[1], hh = q[4] - q[2];
                if (w < stride0) w = stride_val;
                if (hh < stride0) hh = stride_val;
                c[0] = cx - w / 2, c[1] = cy - hh / 2, c[2] = cx + w / 2, c[3] = cy + hh / 2;
            }
            const double gb[4] = {q[1], q[2], q[3], q[4]};
            for (int a = 0; a < A; a++) {
                float ax = anc[2 * a], ay = anc[2 * a + 1];
                float d = fminf(fminf(ax - c[0], ay - c[1]), fminf(c[2] - ax, c[3] - ay));
                if (!((double)d > 1e-9)) continue;
                in[j * A + a] = 1;
                const double *p = dist + ((size_t)b * A + a) * 4;
                double s = str[a], gx = anc[2 * a] / s, gy = anc[2 * a + 1] / s;
                double pb[4] = {(gx - p[0]) * s, (gy - p[1]) * s, (gx + p[2]) * s, (gy + p[3]) * s};
                double iou = cy_ciou(gb, pb, 1e-7, NULL, NULL, NULL);
                if (!(iou > 0)) iou = 0;
                double sc = 1.0 / (1.0 + exp(-(double)scores[((size_t)b * nc + (int)q[0]) * A + a]));
                double i2 = iou * iou;
                ov[j * A + a] = iou;
                mt[j * A + a] = (h->alpha == 0.5 ? sqrt(sc) : pow(sc, h->alpha)) * (h->beta == 6 ? i2 * i2 * i2 : pow(iou, h->beta));
            }
            dense_topk(mt + (size_t)j * A, A, h->topk, sel);
            for (int a = 0; a < A; a++) mp[j * A + a] = sel[a] && in[j * A + a];
        }
        for (int a = 0; a < A; a++) {
            int cnt = 0;
            for (int j = 0; j < n; j++) cnt += mp[j * A + a];
            if (cnt <= 1) continue;
            int best = 0;
            for (int j = 1; j < n; j++)
                if (ov[j * A + a] > ov[best * A + a]) best = j;
            for (int j = 0; j < n; j++) mp[j * A + a] = j == best;
        }
        if (h->topk2 != h->topk)
            for (int j = 0; j < n; j++) {
                for (int a = 0; a < A; a++) tmp[a] = mt[j * A + a] * mp[j * A + a];
                dense_topk(tmp, A, h->topk2, sel);
                for (int a = 0; a < A; a++) mp[j * A + a] &= sel[a];
            }
        for (int a = 0; a < A; a++) {
            size_t i = (size_t)b * A + a;
            int jj = -1;
            for (int j = 0; j < n && jj < 0; j++)
                if (mp[j * A + a]) jj = j;
            int gi = jj < 0 ? 0 : jj;
            const float *q = gt + ((size_t)b * nmax + gi) * 5;
            o->fg[i] = jj >= 0;
            o->gt_idx[i] = gi;
            o->label[i] = (int)q[0];
            memcpy(o->box + i * 4, q + 1, 16);
            o->score[i] = 0;
            if (jj < 0) continue;
            double pam = 0, pov = 0;
            for (int a2 = 0; a2 < A; a2++)
                if (mp[jj * A + a2]) pam = fmax(pam, mt[jj * A + a2]), pov = fmax(pov, ov[jj * A + a2]);
            o->score[i] = mt[jj * A + a] * pov / (pam + 1e-9);
        }
        free(ov), free(mt), free(in), free(mp), free(sel), free(tmp);
    }
}

/* random crowded images: duplicates, nested and tiny boxes, zero sizes,
 * a box at the origin; the sparse assigner must equal the dense one */
static void stress(void) {
    const cy_det_grid g = {3, {8, 4, 2}, {10, 5, 3}, {8, 16, 32}};   /* 64 x 80 */
    const int B = 4, nc = 3, A = cy_det_grid_anchors(&g);
    cy_error err = {0};
    cy_det_loss_ws *ws;
    cy_det_loss_ws_create(&ws, &err);
    float *boxes = malloc((size_t)B * 4 * A * 4), *scores = malloc((size_t)B * nc * A * 4);
    double *dist = malloc((size_t)B * A * 4 * sizeof *dist);
    float anc[2 * 200], str[200];
    cy_det_anchor_points(&g, anc, str, &err);
    dense_out o = {malloc(B * A), malloc(B * A * 4), malloc(B * A * 4), malloc(B * A * 16), malloc(B * A * 8)};
    const int hk[][3] = {{10, 10, 1}, {7, 1, 1}, {3, 2, 1}, {13, 13, 0}, {1, 1, 1}, {5, 3, 0}};
    uint64_t rng = 2024;
    int cases = 0, bad = 0;
    for (int trial = 0; trial < 40; trial++) {
        float rows[40][6];
        int nr = 0;
        for (int b = 0; b < B; b++) {
            int n = b == 3 ? 0 : 2 + test_rand_u32(&rng) % 9;   /* image 3 unlabelled */
            for (int j = 0; j < n && nr < 40; j++, nr++) {
                float *r = rows[nr];
                r[0] = b, r[1] = test_rand_u32(&rng) % nc;
                r[2] = test_rand_uniform(&rng, 0, 1), r[3] = test_rand_uniform(&rng, 0, 1);
                r[4] = test_rand_uniform(&rng, 0, 0.6f), r[5] = test_rand_uniform(&rng, 0, 0.6f);
                int kind = test_rand_u32(&rng) % 8;
                if (kind == 0 && nr > 0 && rows[nr - 1][0] == b) memcpy(r + 1, rows[nr - 1] + 1, 20);  /* duplicate */
                if (kind == 1) r[4] = 0;                                                             /* zero width */
                if (kind == 2) r[4] = 0.03f, r[5] = 0.05f;                                          /* tiny */
                if (kind == 3) r[2] = r[3] = r[4] = r[5] = 0;                                       /* origin */
            }
        }
        test_fill(boxes, (size_t)B * 4 * A, &rng, 0.0f, 3.0f);
        test_fill(scores, (size_t)B * nc * A, &rng, -8.0f, 2.0f);
        for (int b = 0; b < B; b++)
            for (int a = 0; a < A; a++)
                for (int k = 0; k < 4; k++) dist[((size_t)b * A + a) * 4 + k] = boxes[((size_t)b * 4 + k) * A + a];
        cy_targets t;
        if (cy_targets_from_rows(&t, &rows[0][0], nr, B, nc, &err) != CY_OK) { CHECK(0, "%s", err.msg); continue; }
        float *gt = malloc((size_t)B * (t.n_max ? t.n_max : 1) * 5 * 4);
        cy_targets_xyxy_px(&t, 64, 80, gt, &err);
        for (int hi = 0; hi < 6; hi++) {
            cy_det_loss_hyp h = cy_det_loss_hyp_default(1);
            h.topk = hk[hi][0], h.topk2 = hk[hi][1], h.stal = hk[hi][2];
            cy_det_assign as;
            if (cy_det_assign_targets(ws, hi & 1, &g, B, nc, &t, &h, boxes, scores, &as, &err) != CY_OK) {
                CHECK(0, "%s", err.msg);
                continue;
            }
            if (t.n_max == 0) continue;
            dense_assign(B, A, nc, &t, gt, anc, str, dist, scores, &h, 8, 16, &o);
            cases++;
            int diff = 0;
            for (int i = 0; i < B * A; i++) {
                diff += as.fg[i] != o.fg[i] || as.gt_idx[i] != o.gt_idx[i] || as.label[i] != o.label[i];
                diff += fabs(as.score[i] - o.score[i]) > 1e-6 * fmax(1, fabs(o.score[i]));
                diff += memcmp(as.box_px + 4 * i, o.box + 4 * i, 16) != 0;
            }
            if (diff && bad++ < 3) fprintf(stderr, "stress trial %d hyp %d: %d differences\n", trial, hi, diff);
        }
        free(gt);
        cy_targets_free(&t);
    }
    printf("stress: %d random cases, sparse == dense in %d\n", cases, cases - bad);
    CHECK(bad == 0 && cases > 100, "sparse assigner differs from the dense one in %d of %d cases", bad, cases);
    free(boxes), free(scores), free(dist);
    free(o.fg), free(o.label), free(o.gt_idx), free(o.box), free(o.score);
    cy_det_loss_ws_free(ws);
}

int main(void) {
    cy_error err = {0};
    const int B = 2, nc = 80, A = 420;
    CHECK(cy_det_grid_anchors(&GRID) == A, "anchors");

    float anc[420 * 2];
    CHECK(cy_det_anchor_points(&GRID, anc, NULL, &err) == CY_OK, "%s", err.msg);
    printf("anchor points: max rel err %.3e\n",
           check_float("anchor points", anc, "c5_anchor_points_px.npy", A * 2, 0));

    cy_targets t;
    CHECK(cy_targets_from_rows(&t, &CASE3_ROWS[0][0], 6, B, nc, &err) == CY_OK, "%s", err.msg);
    float gt[2 * 3 * 5];
    CHECK(t.n_max == 3, "n_max %d", t.n_max);
    CHECK(cy_targets_xyxy_px(&t, 128, 160, gt, &err) == CY_OK, "%s", err.msg);
    printf("gt xyxy px: max rel err %.3e\n", check_float("gt xyxy", gt, "c5_gt_xyxy_px.npy", 30, 0));

    cy_det_loss_ws *ws;
    CHECK(cy_det_loss_ws_create(&ws, &err) == CY_OK, "%s", err.msg);
    const char *branch[2] = {"one2many", "one2one"}, *tag[2] = {"o2m", "o2o"};
    cy_det_loss_hyp hyp[2] = {cy_det_loss_hyp_o2m(), cy_det_loss_hyp_o2o()};
    const double tss_ref[2] = {6.504327774047852, 2.6108176708221436};
    const int fg_ref[2][2] = {{25, 24}, {3, 3}};
    for (int k = 0; k < 2; k++) {
        char nb[128], ns[128], ref[128];
        snprintf(nb, sizeof nb, "c3_n_train_raw_%s_boxes.npy", branch[k]);
        snprintf(ns, sizeof ns, "c3_n_train_raw_%s_scores.npy", branch[k]);
        cy_npy bx, sc;
        if (ref_load(nb, &bx) || ref_load(ns, &sc)) { CHECK(0, "missing raw outputs"); continue; }
        cy_det_assign as;
        cy_status st = cy_det_assign_targets(ws, k, &GRID, B, nc, &t, &hyp[k], bx.data, sc.data, &as, &err);
        CHECK(st == CY_OK, "%s: %s", tag[k], err.msg);
        if (st == CY_OK) {
            snprintf(ref, sizeof ref, "c5_%s_fg_mask.npy", tag[k]);
            check_exact_u8(ref, as.fg, ref, B * A);
            snprintf(ref, sizeof ref, "c5_%s_target_labels.npy", tag[k]);
            check_exact_i32(ref, as.label, ref, B * A);
            snprintf(ref, sizeof ref, "c5_%s_target_gt_idx.npy", tag[k]);
            check_exact_i32(ref, as.gt_idx, ref, B * A);
            snprintf(ref, sizeof ref, "c5_%s_target_bboxes_px.npy", tag[k]);
            double eb = check_float(ref, as.box_px, ref, B * A * 4, 1e-4);
            snprintf(ref, sizeof ref, "c5_%s_target_scores_at_label.npy", tag[k]);
            double es = check_float(ref, as.score, ref, B * A, 1e-4);
            int fg[2] = {0, 0};
            for (int b = 0; b < B; b++)
                for (int a = 0; a < A; a++) fg[b] += as.fg[b * A + a];
            CHECK(fg[0] == fg_ref[k][0] && fg[1] == fg_ref[k][1], "%s fg per image %d %d", tag[k], fg[0], fg[1]);
            double et = fabs(as.target_scores_sum - tss_ref[k]) / tss_ref[k];
            CHECK(et <= 1e-5, "%s target_scores_sum %.9g vs %.9g", tag[k], as.target_scores_sum, tss_ref[k]);
            printf("%s: fg %d+%d, boxes err %.2e, scores err %.2e, tss %.9g (rel err %.2e)\n", tag[k],
                   fg[0], fg[1], eb, es, as.target_scores_sum, et);
        }
        cy_npy_free(&bx);
        cy_npy_free(&sc);
    }

    /* without STAL the 6.4 px gt of image 0 has anchors only at stride 8
     * strictly inside its own box, fewer than with the widening */
    {
        cy_npy bx, sc;
        if (!ref_load("c3_n_train_raw_one2many_boxes.npy", &bx) && !ref_load("c3_n_train_raw_one2many_scores.npy", &sc)) {
            cy_det_loss_hyp h = cy_det_loss_hyp_o2m();
            cy_det_assign as;
            int n_stal = 0, n_plain = 0;
            CHECK(cy_det_assign_targets(ws, 0, &GRID, B, nc, &t, &h, bx.data, sc.data, &as, &err) == CY_OK, "%s", err.msg);
            for (int a = 0; a < A; a++) n_stal += as.fg[a] && as.gt_idx[a] == 2;
            h.stal = 0;
            CHECK(cy_det_assign_targets(ws, 0, &GRID, B, nc, &t, &h, bx.data, sc.data, &as, &err) == CY_OK, "%s", err.msg);
            for (int a = 0; a < A; a++) n_plain += as.fg[a] && as.gt_idx[a] == 2;
            CHECK(n_stal == 5 && n_plain < n_stal, "STAL: small gt anchors %d (stal) vs %d (plain)", n_stal, n_plain);
            cy_npy_free(&bx);
            cy_npy_free(&sc);
        }
    }
    cy_det_loss_ws_free(ws);
    cy_targets_free(&t);
    stress();
    return test_summary();
}
