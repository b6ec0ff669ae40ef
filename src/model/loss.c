/* v8DetectionLoss and E2ELoss of Ultralytics 8.4.37 with analytic gradients.
 * Per branch (targets from the assigner, tss = max(sum of target scores, 1)):
 *   cls = sum over all B*A*nc of BCEWithLogits(logit, target) / tss
 *   box = sum over fg of (1 - CIoU(pred, target)) * score / tss   (grid units)
 *   dfl = reg_max 1: sum over fg of mean_4 |ltrb_pred - ltrb_target| * score / tss
 *         with ltrb * stride / (W, H, W, H) (target not clamped);
 *         reg_max > 1: DFL against the target ltrb clamped to reg_max-1-0.01
 * and the items are [box * 7.5, cls * 0.5, dfl * 1.5]. */
#include "model/loss.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "model/loss_internal.h"

int cy_det_grow(void **p, size_t *cap, size_t n, size_t elem) {
    if (n <= *cap && *p) return 0;
    void *q = realloc(*p, (n ? n : 1) * elem);
    if (!q) return -1;
    *p = q;
    *cap = n;
    return 0;
}

/* ---- targets ---------------------------------------------------------- */

void cy_targets_free(cy_targets *t) {
    if (!t) return;
    free(t->count);
    free(t->cls);
    free(t->xywhn);
    memset(t, 0, sizeof *t);
}

cy_status cy_targets_from_rows(cy_targets *t, const float *rows, int64_t n_rows, int batch,
                               int nc, cy_error *err) {
    if (!t) return cy_fail(err, CY_ERR_ARG, "targets: NULL output");
    memset(t, 0, sizeof *t);
    if (batch <= 0) return cy_fail(err, CY_ERR_ARG, "targets: batch size %d must be > 0", batch);
    if (n_rows < 0 || (n_rows > 0 && !rows))
        return cy_fail(err, CY_ERR_ARG, "targets: %lld rows but no data", (long long)n_rows);
    static const char *col[6] = {"batch_idx", "cls", "cx", "cy", "w", "h"};
    for (int64_t i = 0; i < n_rows; i++) {
        const float *r = rows + i * 6;
        for (int k = 0; k < 6; k++)
            if (!isfinite(r[k]))
                return cy_fail(err, CY_ERR_ARG, "targets: row %lld: %s is not finite (%g)",
                               (long long)i, col[k], r[k]);
        if (r[0] != floorf(r[0]) || r[0] < 0 || r[0] >= batch)
            return cy_fail(err, CY_ERR_ARG,
                           "targets: row %lld: batch_idx %g is not an image index in [0, %d)",
                           (long long)i, r[0], batch);
        if (r[1] != floorf(r[1]) || r[1] < 0 || (nc > 0 && r[1] >= nc))
            return cy_fail(err, CY_ERR_ARG,
                           "targets: row %lld: class %g is not a class id in [0, %d) (nc=%d)",
                           (long long)i, r[1], nc > 0 ? nc : 0, nc);
        if (r[4] < 0 || r[5] < 0)
            return cy_fail(err, CY_ERR_ARG, "targets: row %lld: negative box size w=%g h=%g",
                           (long long)i, r[4], r[5]);
    }
    t->batch = batch;
    t->count = calloc((size_t)batch, sizeof *t->count);
    if (!t->count) return cy_fail(err, CY_ERR_MEMORY, "targets: out of memory");
    for (int64_t i = 0; i < n_rows; i++) t->count[(int)rows[i * 6]]++;
    int nmax = 0;
    for (int b = 0; b < batch; b++) nmax = t->count[b] > nmax ? t->count[b] : nmax;
    t->n_max = nmax;
    size_t nslots = (size_t)batch * (nmax ? nmax : 1);
    t->cls = calloc(nslots, sizeof *t->cls);
    t->xywhn = calloc(nslots * 4, sizeof *t->xywhn);
    int *fill = calloc((size_t)batch, sizeof *fill);
    if (!t->cls || !t->xywhn || !fill) {
        free(fill);
        cy_targets_free(t);
        return cy_fail(err, CY_ERR_MEMORY, "targets: out of memory");
    }
    /* stable grouping: within an image, labels keep their row order */
    for (int64_t i = 0; i < n_rows; i++) {
        const float *r = rows + i * 6;
        int b = (int)r[0], j = fill[b]++;
        size_t k = (size_t)b * nmax + j;
        t->cls[k] = (int)r[1];
        memcpy(t->xywhn + k * 4, r + 2, 4 * sizeof(float));
    }
    free(fill);
    return CY_OK;
}

cy_status cy_targets_xyxy_px(const cy_targets *t, int img_h, int img_w, float *out,
                             cy_error *err) {
    if (!t || !out || img_h <= 0 || img_w <= 0)
        return cy_fail(err, CY_ERR_ARG, "targets: bad arguments to cy_targets_xyxy_px");
    const float W = (float)img_w, H = (float)img_h;
    for (int b = 0; b < t->batch; b++)
        for (int j = 0; j < t->n_max; j++) {
            size_t k = (size_t)b * t->n_max + j;
            float *o = out + k * 5;
            if (j >= t->count[b]) {
                memset(o, 0, 5 * sizeof *o);
                continue;
            }
            const float *q = t->xywhn + k * 4;
            /* preprocess: xywh * [W, H, W, H], then xywh2xyxy, all float32;
             * volatile keeps the compiler from fusing a product into the
             * next add (an FMA rounds once, torch rounds twice) */
            volatile float cx = q[0] * W, cy = q[1] * H, w = q[2] * W, h = q[3] * H;
            float hw = w / 2, hh = h / 2;
            o[0] = (float)t->cls[k];
            o[1] = cx - hw, o[2] = cy - hh, o[3] = cx + hw, o[4] = cy + hh;
        }
    return CY_OK;
}

/* ---- geometry --------------------------------------------------------- */

int cy_det_grid_anchors(const cy_det_grid *g) {
    if (!g || g->nl <= 0 || g->nl > CY_DET_MAX_LEVELS) return -1;
    int64_t A = 0;
    for (int l = 0; l < g->nl; l++) {
        if (g->h[l] <= 0 || g->w[l] <= 0 || !(g->stride[l] > 0)) return -1;
        A += (int64_t)g->h[l] * g->w[l];
    }
    return A > (1 << 28) ? -1 : (int)A;
}

cy_status cy_det_anchor_points(const cy_det_grid *g, float *xy_px, float *stride_out,
                               cy_error *err) {
    if (cy_det_grid_anchors(g) < 0 || !xy_px) return cy_fail(err, CY_ERR_ARG, "loss: invalid grid");
    int a = 0;
    for (int l = 0; l < g->nl; l++)
        for (int r = 0; r < g->h[l]; r++)
            for (int c = 0; c < g->w[l]; c++, a++) {
                xy_px[2 * a] = (c + 0.5f) * g->stride[l];
                xy_px[2 * a + 1] = (r + 0.5f) * g->stride[l];
                if (stride_out) stride_out[a] = g->stride[l];
            }
    return CY_OK;
}

/* ---- hyperparameters -------------------------------------------------- */

cy_det_loss_hyp cy_det_loss_hyp_default(int reg_max) {
    return (cy_det_loss_hyp){.box = 7.5, .cls = 0.5, .dfl = 1.5, .topk = 10, .topk2 = 10,
                             .alpha = 0.5, .beta = 6.0, .reg_max = reg_max, .stal = 1};
}
cy_det_loss_hyp cy_det_loss_hyp_o2m(void) { return cy_det_loss_hyp_default(1); }
cy_det_loss_hyp cy_det_loss_hyp_o2o(void) {
    cy_det_loss_hyp h = cy_det_loss_hyp_default(1);
    h.topk = 7;
    h.topk2 = 1;
    return h;
}

cy_e2e_weights cy_e2e_weights_at(int updates, int epochs) {
    const double o2m0 = 0.8, final_o2m = 0.1;
    double den = epochs - 1 > 1 ? epochs - 1 : 1;
    double f = 1 - updates / den;
    double o2m = (f > 0 ? f : 0) * (o2m0 - final_o2m) + final_o2m;
    double o2o = 1.0 - o2m;
    return (cy_e2e_weights){o2m, o2o > 0 ? o2o : 0};
}

/* ---- workspace -------------------------------------------------------- */

cy_status cy_det_loss_ws_create(cy_det_loss_ws **out, cy_error *err) {
    if (!out) return cy_fail(err, CY_ERR_ARG, "loss: NULL workspace pointer");
    *out = calloc(1, sizeof **out);
    return *out ? CY_OK : cy_fail(err, CY_ERR_MEMORY, "loss: out of memory");
}

static void slot_free(cy_det_slot *s) {
    free(s->fg);
    free(s->label);
    free(s->gt_idx);
    free(s->box_px);
    free(s->score);
    free(s->score_d);
    free(s->alpha);
}

void cy_det_loss_ws_set_backend(cy_det_loss_ws *ws, cy_backend *b) {
    if (ws) ws->backend = b;
}

cy_status cy_loss_gemm(cy_det_loss_ws *ws, int M, int N, int K, int trans_a, int trans_b, const float *A,
                       const float *B, float *C, int accumulate, cy_error *err) {
    const int lda = trans_a ? M : K, ldb = trans_b ? K : N;
    if (ws->backend)
        return ws->backend->matmul(ws->backend, 1, M, N, K, trans_a, trans_b, 1.0f, A, lda, 0, B, ldb, 0,
                                   accumulate ? 1.0f : 0.0f, C, N, 0, err);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float s = accumulate ? C[(size_t)i * N + j] : 0.0f;
            for (int k = 0; k < K; k++)
                s += (trans_a ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]) *
                     (trans_b ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j]);
            C[(size_t)i * N + j] = s;
        }
    return CY_OK;
}

void cy_det_loss_ws_free(cy_det_loss_ws *ws) {
    if (!ws) return;
    for (int i = 0; i < 2; i++) slot_free(&ws->slot[i]);
    free(ws->anc);
    free(ws->astr);
    free(ws->dist);
    free(ws->gt);
    free(ws->ov);
    free(ws->met);
    free(ws->inb);
    free(ws->pairs);
    free(ws->zlist);
    free(ws->cnt);
    free(ws->first);
    free(ws->owner);
    free(ws->sel_j);
    free(ws->sel_a);
    free(ws->touched);
    free(ws->pam);
    free(ws->part);
    free(ws->pm_slot);
    free(ws->pm_pool);
    free(ws->pm_area);
    free(ws->pm_logit);
    free(ws->dense);
    free(ws->seg_gt);
    free(ws->seg_gt_p);
    free(ws->seg_proto_t);
    free(ws->seg_gproto_t);
    free(ws->seg_c);
    free(ws->seg_l);
    free(ws->seg_dc);
    free(ws->seg_rows);
    free(ws);
}

static int slot_reserve(cy_det_slot *s, int B, int A) {
    size_t n = (size_t)B * A;
    if (n > s->cap || !s->fg) {
        slot_free(s);
        memset(s, 0, sizeof *s);
        s->fg = malloc(n);
        s->label = malloc(n * sizeof *s->label);
        s->gt_idx = malloc(n * sizeof *s->gt_idx);
        s->box_px = malloc(n * 4 * sizeof *s->box_px);
        s->score = malloc(n * sizeof *s->score);
        s->score_d = malloc(n * sizeof *s->score_d);
        s->alpha = malloc(n * sizeof *s->alpha);
        if (!s->fg || !s->label || !s->gt_idx || !s->box_px || !s->score || !s->score_d || !s->alpha) {
            slot_free(s);
            memset(s, 0, sizeof *s);
            return -1;
        }
        s->cap = n;
    }
    s->batch = B, s->anchors = A;
    return 0;
}

static cy_status ensure_grid(cy_det_loss_ws *ws, const cy_det_grid *g, int A, cy_error *err) {
    if (ws->have_grid && memcmp(&ws->grid, g, sizeof *g) == 0) return CY_OK;
    if ((size_t)A > ws->cap_a || !ws->anc) {
        double *anc = realloc(ws->anc, (size_t)A * 2 * sizeof *anc);
        if (anc) ws->anc = anc;
        double *astr = anc ? realloc(ws->astr, (size_t)A * sizeof *astr) : NULL;
        if (!astr) return cy_fail(err, CY_ERR_MEMORY, "loss: out of memory");
        ws->astr = astr;
        ws->cap_a = (size_t)A;
    }
    int a = 0;
    for (int l = 0; l < g->nl; l++)
        for (int r = 0; r < g->h[l]; r++)
            for (int c = 0; c < g->w[l]; c++, a++) {
                ws->anc[2 * a] = c + 0.5, ws->anc[2 * a + 1] = r + 0.5;
                ws->astr[a] = g->stride[l];
            }
    memset(&ws->grid, 0, sizeof ws->grid);
    ws->grid = *g;
    ws->have_grid = 1;
    return CY_OK;
}

static cy_status check_common(const cy_det_loss_ws *ws, const cy_det_grid *g, int B, int nc,
                              const cy_det_loss_hyp *hyp, int *A, cy_error *err) {
    if (!ws || !hyp) return cy_fail(err, CY_ERR_ARG, "loss: NULL workspace or hyperparameters");
    *A = cy_det_grid_anchors(g);
    if (*A <= 0) return cy_fail(err, CY_ERR_ARG, "loss: invalid level grid");
    if (B <= 0 || nc <= 0) return cy_fail(err, CY_ERR_ARG, "loss: batch %d and nc %d must be > 0", B, nc);
    if (hyp->reg_max < 1 || hyp->reg_max > 64)
        return cy_fail(err, CY_ERR_ARG, "loss: reg_max %d out of range", hyp->reg_max);
    if (hyp->topk < 1 || hyp->topk2 < 1)
        return cy_fail(err, CY_ERR_ARG, "loss: topk %d / topk2 %d must be >= 1", hyp->topk, hyp->topk2);
    return CY_OK;
}

/* ltrb of every anchor in grid units: the raw output for reg_max 1, else the
 * expectation of the softmax over the reg_max bins. */
static cy_status decode_all(cy_det_loss_ws *ws, int B, int A, int R, const float *boxes,
                            cy_error *err) {
    if (cy_det_grow((void **)&ws->dist, &ws->cap_dist, (size_t)B * A * 4, sizeof(double)))
        return cy_fail(err, CY_ERR_MEMORY, "loss: out of memory");
    for (int b = 0; b < B; b++)
        for (int k = 0; k < 4; k++) {
            const float *z = boxes + ((size_t)b * 4 * R + (size_t)k * R) * A;
            double *d = ws->dist + (size_t)b * A * 4 + k;
            for (int a = 0; a < A; a++) {
                if (R == 1) {
                    d[(size_t)a * 4] = z[a];
                    continue;
                }
                double mx = z[a];
                for (int j = 1; j < R; j++) mx = fmax(mx, z[(size_t)j * A + a]);
                double s = 0, e = 0;
                for (int j = 0; j < R; j++) {
                    double p = exp(z[(size_t)j * A + a] - mx);
                    s += p, e += p * j;
                }
                d[(size_t)a * 4] = e / s;
            }
        }
    return CY_OK;
}

cy_status cy_det_assign_targets(cy_det_loss_ws *ws, int slot, const cy_det_grid *g, int B,
                                int nc, const cy_targets *t, const cy_det_loss_hyp *hyp,
                                const float *boxes, const float *scores, cy_det_assign *out,
                                cy_error *err) {
    return cy_det_assign_targets_mask(ws, slot, g, B, nc, t, hyp, boxes, scores, NULL, out, err);
}

cy_status cy_det_assign_targets_mask(cy_det_loss_ws *ws, int slot, const cy_det_grid *g, int B,
                                     int nc, const cy_targets *t, const cy_det_loss_hyp *hyp,
                                     const float *boxes, const float *scores, const cy_mask_overlap *mo,
                                     cy_det_assign *out, cy_error *err) {
    int A;
    CY_TRY(check_common(ws, g, B, nc, hyp, &A, err));
    if (slot < 0 || slot > 1) return cy_fail(err, CY_ERR_ARG, "loss: slot %d is not 0 or 1", slot);
    if (!t || !t->count) return cy_fail(err, CY_ERR_ARG, "loss: no targets");
    if (t->batch != B)
        return cy_fail(err, CY_ERR_ARG, "loss: targets are for %d images, head outputs for %d",
                       t->batch, B);
    if (!boxes || !scores) return cy_fail(err, CY_ERR_ARG, "loss: NULL head outputs");
    for (int b = 0; b < B; b++)
        for (int j = 0; j < t->count[b]; j++) {
            int c = t->cls[(size_t)b * t->n_max + j];
            if (c < 0 || c >= nc)
                return cy_fail(err, CY_ERR_ARG, "loss: image %d label %d: class %d >= nc %d", b, j, c, nc);
        }
    cy_det_slot *s = &ws->slot[slot];
    s->valid = 0;
    s->freeze_alpha = 0;
    CY_TRY(ensure_grid(ws, g, A, err));
    if (slot_reserve(s, B, A)) return cy_fail(err, CY_ERR_MEMORY, "loss: out of memory");
    s->nc = nc;
    CY_TRY(decode_all(ws, B, A, hyp->reg_max, boxes, err));
    const int img_h = (int)(g->h[0] * g->stride[0]), img_w = (int)(g->w[0] * g->stride[0]);
    size_t ngt = (size_t)B * (t->n_max ? t->n_max : 1) * 5;
    if (cy_det_grow((void **)&ws->gt, &ws->cap_gt, ngt, sizeof(float)))
        return cy_fail(err, CY_ERR_MEMORY, "loss: out of memory");
    CY_TRY(cy_targets_xyxy_px(t, img_h, img_w, ws->gt, err));
    CY_TRY(cy_det_assign_run(ws, s, g, B, nc, t, hyp, ws->dist, scores, mo, err));
    s->valid = 1;
    if (out)
        *out = (cy_det_assign){.batch = B, .anchors = A, .fg = s->fg, .label = s->label,
                               .gt_idx = s->gt_idx, .box_px = s->box_px, .score = s->score,
                               .target_scores_sum = s->tss, .n_fg = s->n_fg};
    return CY_OK;
}

/* exp(y) for y <= 0 (Cephes expf: ~1 ulp), clamped where float underflows */
static inline float exp_neg(float y) {
    y = y < -87.0f ? -87.0f : y;
    const float t = y * 1.44269504088896341f;
    const float n = (t + 12582912.0f) - 12582912.0f;   /* round to nearest */
    const float r = y - n * 0.693359375f - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union {
        int32_t i;
        float f;
    } u;
    u.i = ((int32_t)n + 127) << 23;
    return p * u.f;
}

/* log(1 + e) for e in [0, 1] (Cephes logf polynomial: ~1 ulp) */
static inline float log1p_01(float e) {
    const int big = e > 0.41421356f;
    const float f = big ? (1.0f + e) * 0.5f - 1.0f : e;
    const float z = f * f;
    float y = 7.0376836292e-2f;
    y = y * f - 1.1514610310e-1f;
    y = y * f + 1.1676998740e-1f;
    y = y * f - 1.2420140846e-1f;
    y = y * f + 1.4249322787e-1f;
    y = y * f - 1.6668057665e-1f;
    y = y * f + 2.0000714765e-1f;
    y = y * f - 2.4999993993e-1f;
    y = y * f + 3.3333331174e-1f;
    y = y * f * z - 0.5f * z;
    const float r = f + y;
    return big ? r + 0.693147180559945f : r;
}

/* Sum over one image of BCEWithLogits(x, 0) = softplus(x) over all classes
 * and anchors, and the gradient sigmoid(x) * coef; the foreground targets are
 * corrected afterwards. This is the loss's hot loop (B * nc * A elements):
 * float math that vectorises (libm's expf/log1pf do not), ~1.5 ulp per
 * element, summed in double. */
static double bce_image(const float *restrict x, float *restrict gx, size_t n, double coef) {
    const float cf = (float)coef;
    double sum = 0;
    float tmp[1024];
    for (size_t i0 = 0; i0 < n; i0 += 1024) {
        const size_t m = n - i0 < 1024 ? n - i0 : 1024;
        const float *xx = x + i0;
        if (gx) {
            float *gg = gx + i0;
#pragma omp simd
            for (size_t i = 0; i < m; i++) {
                const float v = xx[i], a = v < 0 ? -v : v;
                const float e = exp_neg(-a);
                tmp[i] = (v > 0 ? v : 0.0f) + log1p_01(e);
                const float inv = 1.0f / (1.0f + e);
                gg[i] = (v >= 0 ? inv : e * inv) * cf;
            }
        } else {
#pragma omp simd
            for (size_t i = 0; i < m; i++) {
                const float v = xx[i], a = v < 0 ? -v : v;
                tmp[i] = (v > 0 ? v : 0.0f) + log1p_01(exp_neg(-a));
            }
        }
        double ps = 0;
#pragma omp simd reduction(+ : ps)
        for (size_t i = 0; i < m; i++) ps += tmp[i];
        sum += ps;
    }
    return sum;
}

cy_status cy_det_loss_assigned(cy_det_loss_ws *ws, int slot, const cy_det_grid *g, int B,
                               int nc, const cy_det_loss_hyp *hyp, const cy_det_head *head,
                               double grad_scale, double items[3], cy_error *err) {
    int A;
    CY_TRY(check_common(ws, g, B, nc, hyp, &A, err));
    if (slot < 0 || slot > 1) return cy_fail(err, CY_ERR_ARG, "loss: slot %d is not 0 or 1", slot);
    cy_det_slot *s = &ws->slot[slot];
    if (!s->valid || s->batch != B || s->anchors != A || s->nc != nc)
        return cy_fail(err, CY_ERR_ARG, "loss: slot %d holds no assignment for this batch", slot);
    if (!head || !head->boxes || !head->scores || !items)
        return cy_fail(err, CY_ERR_ARG, "loss: NULL head outputs");
    CY_TRY(ensure_grid(ws, g, A, err));
    const int R = hyp->reg_max;
    const double tss = s->tss;
    const double W = g->w[0] * (double)g->stride[0], H = g->h[0] * (double)g->stride[0];

    /* classification over every anchor and class */
    if (cy_det_grow((void **)&ws->part, &ws->cap_part, (size_t)B, sizeof(double)))
        return cy_fail(err, CY_ERR_MEMORY, "loss: out of memory");
    const double ccoef = grad_scale * hyp->cls / tss;
    double *part = ws->part;
    const size_t per = (size_t)nc * A;
/* threads only pay off on training-size batches (and hurt on a busy machine) */
#pragma omp parallel for schedule(static) if ((size_t)B * per > ((size_t)1 << 21))
    for (int b = 0; b < B; b++) {
        const float *x = head->scores + (size_t)b * per;
        float *gx = head->grad_scores ? head->grad_scores + (size_t)b * per : NULL;
        double sum = bce_image(x, gx, per, ccoef);
        for (int a = 0; a < A; a++) {
            size_t i = (size_t)b * A + a;
            if (!s->fg[i]) continue;
            const double tv = s->score_d[i];
            const size_t k = (size_t)s->label[i] * A + a;
            sum -= (double)x[k] * tv;
            if (gx) gx[k] = (float)((double)gx[k] - tv * ccoef);
        }
        part[b] = sum;
    }
    double cls_sum = 0;
    for (int b = 0; b < B; b++) cls_sum += part[b];

    /* box (CIoU) and L1 / DFL over the foreground anchors */
    float *gb = head->grad_boxes;
    if (gb) memset(gb, 0, (size_t)B * 4 * R * A * sizeof *gb);
    const double bcoef = grad_scale * hyp->box / tss, dcoef = grad_scale * hyp->dfl / tss;
    double box_sum = 0, dfl_sum = 0;
    double prob[4][64];
    for (int b = 0; b < B; b++)
        for (int a = 0; a < A; a++) {
            const size_t i = (size_t)b * A + a;
            if (!s->fg[i]) continue;
            const double wgt = s->score_d[i], st = ws->astr[a];
            const double gx = ws->anc[2 * a], gy = ws->anc[2 * a + 1];
            const float *z = head->boxes + (size_t)b * 4 * R * A + a;
            double d[4];
            for (int k = 0; k < 4; k++) {
                if (R == 1) {
                    d[k] = z[(size_t)k * A];
                    continue;
                }
                const float *zk = z + (size_t)k * R * A;
                double mx = zk[0], sum = 0, e = 0;
                for (int j = 1; j < R; j++) mx = fmax(mx, zk[(size_t)j * A]);
                for (int j = 0; j < R; j++) sum += prob[k][j] = exp(zk[(size_t)j * A] - mx);
                for (int j = 0; j < R; j++) {
                    prob[k][j] /= sum;
                    e += prob[k][j] * j;
                }
                d[k] = e;
            }
            const float *tb = s->box_px + i * 4;
            const double T[4] = {tb[0] / st, tb[1] / st, tb[2] / st, tb[3] / st};
            const double P[4] = {gx - d[0], gy - d[1], gx + d[2], gy + d[3]};
            double gP[4];
            const double ciou = cy_ciou(P, T, 1e-7, gb ? gP : NULL,
                                        s->freeze_alpha ? &s->alpha[i] : NULL, &s->alpha[i]);
            box_sum += (1.0 - ciou) * wgt;
            /* d loss / d ltrb; pred x1 = gx - l, y1 = gy - t, x2 = gx + r, y2 = gy + b */
            double gd[4] = {0, 0, 0, 0};
            if (gb) {
                const double c = -bcoef * wgt;
                gd[0] = -c * gP[0], gd[1] = -c * gP[1], gd[2] = c * gP[2], gd[3] = c * gP[3];
            }
            const double tl[4] = {gx - T[0], gy - T[1], T[2] - gx, T[3] - gy};
            if (R == 1) {
                double l1 = 0;
                for (int k = 0; k < 4; k++) {
                    const double nrm = st / ((k & 1) ? H : W);
                    const double diff = d[k] * nrm - tl[k] * nrm;
                    l1 += fabs(diff);
                    if (gb) gd[k] += dcoef * wgt / 4 * (diff > 0 ? 1 : diff < 0 ? -1 : 0) * nrm;
                }
                dfl_sum += l1 / 4 * wgt;
                if (gb)
                    for (int k = 0; k < 4; k++) gb[(size_t)b * 4 * A + (size_t)k * A + a] = (float)gd[k];
                continue;
            }
            const double hi = R - 1 - 0.01;
            double dfl = 0;
            for (int k = 0; k < 4; k++) {
                const float *zk = z + (size_t)k * R * A;
                const double tg = tl[k] < 0 ? 0 : tl[k] > hi ? hi : tl[k];
                const int il = (int)tg, ir = il + 1;
                const double wl = ir - tg, wr = 1 - wl;
                double mx = zk[0], sum = 0;
                for (int j = 1; j < R; j++) mx = fmax(mx, zk[(size_t)j * A]);
                for (int j = 0; j < R; j++) sum += exp(zk[(size_t)j * A] - mx);
                const double lse = mx + log(sum);
                dfl += wl * (lse - zk[(size_t)il * A]) + wr * (lse - zk[(size_t)ir * A]);
                if (!gb) continue;
                const double cd = dcoef * wgt / 4;
                float *gk = gb + (size_t)b * 4 * R * A + (size_t)k * R * A + a;
                for (int j = 0; j < R; j++) {
                    double v = cd * (prob[k][j] - (j == il ? wl : 0) - (j == ir ? wr : 0));
                    v += gd[k] * prob[k][j] * (j - d[k]);   /* through the expectation */
                    gk[(size_t)j * A] = (float)v;
                }
            }
            dfl_sum += dfl / 4 * wgt;
        }
    items[0] = box_sum / tss * hyp->box;
    items[1] = cls_sum / tss * hyp->cls;
    items[2] = dfl_sum / tss * hyp->dfl;
    for (int k = 0; k < 3; k++)
        if (!isfinite(items[k]))
            return cy_fail(err, CY_ERR_ARG, "loss: the %s loss is not finite (non-finite head outputs?)",
                           k == 0 ? "box" : k == 1 ? "cls" : "dfl");
    return CY_OK;
}

void cy_det_loss_freeze_alpha(cy_det_loss_ws *ws, int slot, int on) {
    if (ws && slot >= 0 && slot < 2) ws->slot[slot].freeze_alpha = on;
}

cy_status cy_det_loss_branch(cy_det_loss_ws *ws, const cy_det_grid *g, int B, int nc,
                             const cy_targets *t, const cy_det_loss_hyp *hyp,
                             const cy_det_head *head, double grad_scale,
                             cy_det_branch_result *out, cy_error *err) {
    if (!head || !out) return cy_fail(err, CY_ERR_ARG, "loss: NULL head or result");
    CY_TRY(cy_det_assign_targets(ws, 0, g, B, nc, t, hyp, head->boxes, head->scores, &out->assign, err));
    return cy_det_loss_assigned(ws, 0, g, B, nc, hyp, head, grad_scale, out->items, err);
}

cy_status cy_det_loss_e2e(cy_det_loss_ws *ws, const cy_det_grid *g, int B, int nc,
                          const cy_targets *t, const cy_det_loss_hyp *o2m_hyp,
                          const cy_det_loss_hyp *o2o_hyp, cy_e2e_weights w,
                          const cy_det_head *o2m, const cy_det_head *o2o, cy_e2e_result *out,
                          cy_error *err) {
    if (!o2m || !o2o || !out) return cy_fail(err, CY_ERR_ARG, "loss: NULL head or result");
    const cy_det_loss_hyp hm = o2m_hyp ? *o2m_hyp : cy_det_loss_hyp_o2m();
    const cy_det_loss_hyp ho = o2o_hyp ? *o2o_hyp : cy_det_loss_hyp_o2o();
    CY_TRY(cy_det_assign_targets(ws, 0, g, B, nc, t, &hm, o2m->boxes, o2m->scores, &out->o2m.assign, err));
    CY_TRY(cy_det_loss_assigned(ws, 0, g, B, nc, &hm, o2m, B * w.o2m, out->o2m.items, err));
    CY_TRY(cy_det_assign_targets(ws, 1, g, B, nc, t, &ho, o2o->boxes, o2o->scores, &out->o2o.assign, err));
    CY_TRY(cy_det_loss_assigned(ws, 1, g, B, nc, &ho, o2o, B * w.o2o, out->o2o.items, err));
    for (int k = 0; k < 3; k++) {
        out->loss[k] = out->o2m.items[k] * B * w.o2m + out->o2o.items[k] * B * w.o2o;
        out->items[k] = out->o2o.items[k];
    }
    return CY_OK;
}

cy_status cy_det_loss_v8(cy_det_loss_ws *ws, const cy_det_grid *g, int B, int nc,
                         const cy_targets *t, const cy_det_loss_hyp *hyp,
                         const cy_det_head *head, cy_v8_result *out, cy_error *err) {
    if (!out) return cy_fail(err, CY_ERR_ARG, "loss: NULL result");
    const cy_det_loss_hyp h = hyp ? *hyp : cy_det_loss_hyp_default(16);
    cy_det_branch_result r;
    CY_TRY(cy_det_loss_branch(ws, g, B, nc, t, &h, head, B, &r, err));
    for (int k = 0; k < 3; k++) out->items[k] = r.items[k], out->loss[k] = r.items[k] * B;
    out->assign = r.assign;
    return CY_OK;
}
