/* Ultralytics 8.4.37 TaskAlignedAssigner, one image at a time (the padding
 * gts of the batched original can never be chosen, so dropping them changes
 * nothing), on sparse lists instead of dense [gts][anchors] masks:
 *   1. candidates: anchor centres strictly inside the gt (STAL: sides below
 *      stride[0] widened to stride[1] around the centre), valid gts only
 *      (x1 + y1 + x2 + y2 > 0); overlaps = max(CIoU(gt, pred), 0) and
 *      metric = sigmoid(score of the gt class)^alpha * overlaps^beta there;
 *   2. per gt the topk largest metrics over all anchors, kept if candidates;
 *   3. an anchor picked by several gts goes to argmax over all gts of the
 *      overlaps (even a gt that did not pick it, as torch's scatter does);
 *   4. topk2 != topk: per gt only its topk2 best metrics survive;
 *   5. target score = metric * (best overlap of the gt) / (best metric of
 *      the gt + 1e-9), over the gt's final anchors.
 * Box tests are done in float on the float pixel boxes as torch does, so an
 * anchor on a box edge falls the same way; metrics are computed in double.
 *
 * Ties: torch.topk leaves the order of equal values open; here equal values
 * go to the lower anchor index. Only zero metrics tie in practice, and an
 * anchor picked with metric 0 gets target score 0 and changes no loss term.
 * argmax takes the first maximum, as torch does. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "model/loss_internal.h"

static int pair_cmp(const void *pa, const void *pb) {
    const cy_det_pair *a = pa, *b = pb;
    if (a->v != b->v) return a->v > b->v ? -1 : 1;
    return a->i - b->i;
}
static int int_cmp(const void *pa, const void *pb) {
    int a = *(const int *)pa, b = *(const int *)pb;
    return (a > b) - (a < b);
}

/* Top-k over all A anchors of a row that is zero except at np positives
 * (pairs, any order) and possibly at the zero-valued list z (ascending):
 * returns in keep[] the picked entries of pairs (first *nkeep after the call
 * are kept, sorted largest first) and flags in zkeep[] the zero-valued
 * entries of z that the top-k reaches when fewer than k values are positive.
 * A zero-valued anchor a ranks a - #(positives below a) among the zeros. */
static void topk_sparse(cy_det_pair *pairs, int np, const int *z, int nz, int k, int A,
                        int *nkeep, uint8_t *zkeep, int *scratch) {
    if (k > A) k = A;
    if (np > k) {
        qsort(pairs, np, sizeof *pairs, pair_cmp);
        *nkeep = k;
        memset(zkeep, 0, (size_t)nz);
        return;
    }
    *nkeep = np;
    const int r = k - np;
    for (int i = 0; i < np; i++) scratch[i] = pairs[i].i;
    qsort(scratch, np, sizeof *scratch, int_cmp);
    int below = 0;
    for (int i = 0; i < nz; i++) {
        while (below < np && scratch[below] < z[i]) below++;
        zkeep[i] = z[i] - below < r;
    }
}

static int grow_all(cy_det_loss_ws *ws, int nmax, int A, int topk) {
    size_t na = (size_t)nmax * A;
    if (na > ws->cap_na || !ws->inb) {
        double *ov = realloc(ws->ov, na * sizeof *ov);
        if (ov) ws->ov = ov;
        double *met = ov ? realloc(ws->met, na * sizeof *met) : NULL;
        if (met) ws->met = met;
        uint8_t *inb = met ? realloc(ws->inb, na) : NULL;
        if (!inb) return -1;
        ws->inb = inb;
        ws->cap_na = na;
    }
    if ((size_t)A > ws->cap_pairs || !ws->pairs) {
        cy_det_pair *p = realloc(ws->pairs, (size_t)A * sizeof *p);
        if (p) ws->pairs = p;
        int **arr[4] = {&ws->zlist, &ws->cnt, &ws->first, &ws->owner};
        for (int i = 0; i < 4 && p; i++) {
            int *q = realloc(*arr[i], (size_t)A * sizeof(int) + sizeof(int));
            if (!q) return -1;
            *arr[i] = q;
        }
        if (!p) return -1;
        ws->cap_pairs = (size_t)A;
    }
    size_t ns = (size_t)nmax * (topk < A ? topk : A) + 1;
    if (ns > ws->cap_sel || !ws->sel_j) {
        int **arr[3] = {&ws->sel_j, &ws->sel_a, &ws->touched};
        for (int i = 0; i < 3; i++) {
            int *q = realloc(*arr[i], ns * sizeof(int));
            if (!q) return -1;
            *arr[i] = q;
        }
        ws->cap_sel = ns;
    }
    if (cy_det_grow((void **)&ws->pam, &ws->cap_n, (size_t)nmax * 2 + 1, sizeof(double))) return -1;
    return 0;
}

/* conservative range of cells whose centre (i + 0.5) * s may lie in (lo, hi) */
static void cell_range(float lo, float hi, float s, int n, int *i0, int *i1) {
    double a = floor(lo / s - 0.5) - 1, b = ceil(hi / s - 0.5) + 1;
    *i0 = a < 0 ? 0 : a > n ? n : (int)a;
    *i1 = b < -1 ? -1 : b > n - 1 ? n - 1 : (int)b;
}

cy_status cy_det_assign_run(cy_det_loss_ws *ws, cy_det_slot *s, const cy_det_grid *g, int B,
                            int nc, const cy_targets *t, const cy_det_loss_hyp *hyp,
                            const double *dist, const float *scores, const cy_mask_overlap *mo,
                            cy_error *err) {
    const int A = cy_det_grid_anchors(g);
    const int nmax = t->n_max;
    const float stride0 = g->stride[0], stride_val = g->nl > 1 ? g->stride[1] : g->stride[0];
    const double eps = 1e-9;
    const int k1 = hyp->topk < A ? hyp->topk : A;
    const size_t BA = (size_t)B * A;
    s->tss = 0;
    s->n_fg = 0;
    memset(s->fg, 0, BA);
    memset(s->score, 0, BA * sizeof *s->score);
    memset(s->score_d, 0, BA * sizeof *s->score_d);
    memset(s->gt_idx, 0, BA * sizeof *s->gt_idx);
    if (nmax == 0) {
        /* Ultralytics returns early: label bg_idx = nc, boxes zero */
        for (size_t i = 0; i < BA; i++) s->label[i] = nc;
        memset(s->box_px, 0, BA * 4 * sizeof *s->box_px);
        s->tss = 1;
        return CY_OK;
    }
    if (grow_all(ws, nmax, A, hyp->topk))
        return cy_fail(err, CY_ERR_MEMORY, "loss: out of memory (assigner, %d gts x %d anchors)", nmax, A);
    int lstart[CY_DET_MAX_LEVELS + 1] = {0};
    for (int l = 0; l < g->nl; l++) lstart[l + 1] = lstart[l] + g->h[l] * g->w[l];
    const double *anc = ws->anc, *astr = ws->astr;
    double *ov = ws->ov, *met = ws->met, *pam = ws->pam, *pov = ws->pam + nmax;
    uint8_t *inb = ws->inb;
    int *cnt = ws->cnt, *first = ws->first, *owner = ws->owner, *touched = ws->touched;
    double tss = 0;

    for (int b = 0; b < B; b++) {
        const int n = t->count[b];
        const float *gt = ws->gt + (size_t)b * nmax * 5;
        const double *db = dist + (size_t)b * A * 4;
        const float *sc = scores + (size_t)b * nc * A;
        int32_t *lab = s->label + (size_t)b * A, *gidx = s->gt_idx + (size_t)b * A;
        uint8_t *fg = s->fg + (size_t)b * A;
        float *tbox = s->box_px + (size_t)b * A * 4, *tsc = s->score + (size_t)b * A;
        double *tscd = s->score_d + (size_t)b * A;
        /* background anchors carry gt 0 (padding zeros when the image has none) */
        for (int a = 0; a < A; a++) {
            lab[a] = n > 0 ? (int32_t)gt[0] : 0;
            for (int q = 0; q < 4; q++) tbox[(size_t)a * 4 + q] = n > 0 ? gt[1 + q] : 0.0f;
        }
        if (n == 0) continue;
        memset(inb, 0, (size_t)n * A);
        if (mo && cy_mask_cache_reset(ws, A))
            return cy_fail(err, CY_ERR_MEMORY, "loss: out of memory (mask-aware assigner)");

        /* 1-2: candidates, metrics, top-k per gt */
        int nsel = 0;
        for (int j = 0; j < n; j++) {
            const float *q = gt + (size_t)j * 5;
            const float x1 = q[1], y1 = q[2], x2 = q[3], y2 = q[4];
            if (!(x1 + y1 + x2 + y2 > 0.0f)) continue;   /* mask_gt */
            float c[4] = {x1, y1, x2, y2};
            if (hyp->stal) {
                /* xyxy -> xywh -> (small sides widened) -> xyxy, in float */
                float cx = (x1 + x2) / 2, cy = (y1 + y2) / 2, w = x2 - x1, h = y2 - y1;
                if (w < stride0) w = stride_val;
                if (h < stride0) h = stride_val;
                c[0] = cx - w / 2, c[1] = cy - h / 2, c[2] = cx + w / 2, c[3] = cy + h / 2;
            }
            const double gbox[4] = {x1, y1, x2, y2};
            const float *scl = sc + (size_t)(int)q[0] * A;
            uint8_t *in = inb + (size_t)j * A;
            double *o = ov + (size_t)j * A, *mt = met + (size_t)j * A;
            int np = 0, nz = 0, ncand = 0;
            int *cand = ws->owner; /* free until stage 3 */
            for (int l = 0; l < g->nl; l++) {
                const float st = g->stride[l];
                int r0, r1, c0, c1;
                cell_range(c[1], c[3], st, g->h[l], &r0, &r1);
                cell_range(c[0], c[2], st, g->w[l], &c0, &c1);
                for (int r = r0; r <= r1; r++)
                    for (int cc = c0; cc <= c1; cc++) {
                        const int a = lstart[l] + r * g->w[l] + cc;
                        const float ax = (cc + 0.5f) * st, ay = (r + 0.5f) * st;
                        const float d = fminf(fminf(ax - c[0], ay - c[1]), fminf(c[2] - ax, c[3] - ay));
                        if (!((double)d > eps)) continue;
                        in[a] = 1;
                        const double *p = db + (size_t)a * 4;
                        const double sa = astr[a], gx = anc[2 * a], gy = anc[2 * a + 1];
                        const double pbox[4] = {(gx - p[0]) * sa, (gy - p[1]) * sa, (gx + p[2]) * sa,
                                                (gy + p[3]) * sa};
                        double iou = cy_ciou(gbox, pbox, 1e-7, NULL, NULL, NULL);
                        if (!(iou > 0)) iou = 0;
                        const double score = 1.0 / (1.0 + exp(-(double)scl[a]));
                        const double sp = hyp->alpha == 0.5 ? sqrt(score) : pow(score, hyp->alpha);
                        double ip;
                        if (hyp->beta == 6.0) {
                            const double i2 = iou * iou;
                            ip = i2 * i2 * i2;
                        } else {
                            ip = pow(iou, hyp->beta);
                        }
                        o[a] = iou;
                        mt[a] = sp * ip;
                        cand[ncand++] = a;
                    }
            }
            /* candidates in anchor order (levels, rows, columns), so zlist is ascending */
            if (mo && cy_mask_refine_overlaps(ws, mo, hyp, b, j, cand, ncand, scl, db, o, mt))
                return cy_fail(err, CY_ERR_MEMORY, "loss: out of memory (mask-aware assigner)");
            for (int i = 0; i < ncand; i++) {
                const int a = cand[i];
                if (mt[a] > 0) ws->pairs[np++] = (cy_det_pair){mt[a], a};
                else ws->zlist[nz++] = a;
            }
            int nkeep;
            uint8_t *zkeep = (uint8_t *)ws->cnt;   /* free until stage 3 */
            topk_sparse(ws->pairs, np, ws->zlist, nz, k1, A, &nkeep, zkeep, ws->first);
            for (int i = 0; i < nkeep; i++) ws->sel_j[nsel] = j, ws->sel_a[nsel++] = ws->pairs[i].i;
            for (int i = 0; i < nz; i++)
                if (zkeep[i]) ws->sel_j[nsel] = j, ws->sel_a[nsel++] = ws->zlist[i];
        }

        /* 3: an anchor picked by several gts goes to the gt it overlaps most */
        memset(cnt, 0, (size_t)A * sizeof *cnt);
        int nt = 0;
        for (int i = 0; i < nsel; i++) {
            const int a = ws->sel_a[i];
            if (cnt[a]++ == 0) first[a] = ws->sel_j[i], touched[nt++] = a;
        }
        for (int i = 0; i < nt; i++) {
            const int a = touched[i];
            if (cnt[a] == 1) {
                owner[a] = first[a];
                continue;
            }
            int best = 0;
            double bv = inb[a] ? ov[a] : 0;
            for (int j = 1; j < n; j++) {
                const double v = inb[(size_t)j * A + a] ? ov[(size_t)j * A + a] : 0;
                if (v > bv) best = j, bv = v;
            }
            owner[a] = best;
        }

        /* 4: topk2 per gt over its anchors (grouped by sorting on owner, then anchor) */
        if (hyp->topk2 != hyp->topk) {
            cy_det_pair *byg = ws->pairs;   /* (owner, anchor) packed as v */
            for (int i = 0; i < nt; i++)
                byg[i] = (cy_det_pair){-(double)owner[touched[i]] * ((double)A + 1) - touched[i], touched[i]};
            qsort(byg, nt, sizeof *byg, pair_cmp);   /* owner ascending, anchor ascending */
            for (int i0 = 0; i0 < nt;) {
                const int j = owner[byg[i0].i];
                int i1 = i0;
                while (i1 < nt && owner[byg[i1].i] == j) i1++;
                /* positives of gt j among its anchors; the rest are its zeros */
                cy_det_pair pos[64];
                int np = 0, nz = 0;
                int *zl = ws->zlist, *zs = ws->cnt;   /* cnt is no longer needed */
                const int use_heap = i1 - i0 > 64;
                cy_det_pair *pp = use_heap ? malloc((size_t)(i1 - i0) * sizeof *pp) : pos;
                if (!pp) return cy_fail(err, CY_ERR_MEMORY, "loss: out of memory (assigner)");
                for (int i = i0; i < i1; i++) {
                    const int a = byg[i].i;
                    const size_t ja = (size_t)j * A + a;
                    const double v = inb[ja] ? met[ja] : 0;
                    if (v > 0) pp[np++] = (cy_det_pair){v, a};
                    else zl[nz++] = a;
                }
                int nkeep;
                uint8_t *zkeep = (uint8_t *)ws->first;
                topk_sparse(pp, np, zl, nz, hyp->topk2, A, &nkeep, zkeep, zs);
                for (int i = nkeep; i < np; i++) owner[pp[i].i] = -1;
                for (int i = 0; i < nz; i++)
                    if (!zkeep[i]) owner[zl[i]] = -1;
                if (use_heap) free(pp);
                i0 = i1;
            }
        }

        /* 5: normalised target scores */
        for (int j = 0; j < n; j++) pam[j] = pov[j] = 0;
        for (int i = 0; i < nt; i++) {
            const int a = touched[i], j = owner[a];
            if (j < 0) continue;
            const size_t ja = (size_t)j * A + a;
            if (inb[ja]) {
                pam[j] = fmax(pam[j], met[ja]);
                pov[j] = fmax(pov[j], ov[ja]);
            }
        }
        for (int i = 0; i < nt; i++) {
            const int a = touched[i], j = owner[a];
            if (j < 0) continue;
            const size_t ja = (size_t)j * A + a;
            const float *q = gt + (size_t)j * 5;
            fg[a] = 1;
            gidx[a] = j;
            lab[a] = (int32_t)q[0];
            memcpy(tbox + (size_t)a * 4, q + 1, 4 * sizeof(float));
            const double v = inb[ja] ? met[ja] * pov[j] / (pam[j] + eps) : 0;
            tscd[a] = v;
            tsc[a] = (float)v;
            tss += v;
            s->n_fg++;
        }
    }
    s->tss = tss > 1 ? tss : 1;
    return CY_OK;
}
