/* SegTaskAlignedAssigner's overlaps (Ultralytics 8.4.190, YOLO26-seg): per
 * gt, its candidates' box metrics score^alpha * CIoU^beta + 1e-9 rank them,
 * and the best 3 * topk get the IoU of their predicted mask with the gt
 * mask; every candidate's overlap becomes (CIoU + mask IoU) / 2 (mask IoU 0
 * outside the best) and its metric is recomputed from that overlap.
 * A predicted mask is coefficients x prototypes > 0 (float sums), cropped to
 * the predicted box in prototype pixels; it is decoded once per anchor and
 * image, however many gts pick it. Equal box metrics rank the lower anchor
 * first (torch.topk leaves that order open). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "model/loss_internal.h"

static int cand_cmp(const void *pa, const void *pb) {
    const cy_det_pair *a = pa, *b = pb;
    if (a->v != b->v) return a->v > b->v ? -1 : 1;
    return a->i - b->i;
}

int cy_mask_cache_reset(cy_det_loss_ws *ws, int anchors) {
    if (cy_det_grow((void **)&ws->pm_slot, &ws->cap_pm_slot, (size_t)anchors, sizeof(int))) return -1;
    for (int i = 0; i < anchors; i++) ws->pm_slot[i] = -1;
    ws->pm_used = 0;
    return 0;
}

/* The binary predicted mask of anchor a in image b (decoded on first use);
 * NULL when out of memory. */
static const uint8_t *pred_mask(cy_det_loss_ws *ws, const cy_mask_overlap *mo, int b, int a, int A,
                                const double *dist_b, int *area) {
    const size_t P = (size_t)mo->ph * mo->pw;
    int k = ws->pm_slot[a];
    if (k >= 0) {
        *area = ws->pm_area[k];
        return ws->pm_pool + (size_t)k * P;
    }
    k = (int)ws->pm_used;
    if (cy_det_grow((void **)&ws->pm_pool, &ws->cap_pm_pool, (size_t)(k + 1) * P, 1) ||
        cy_det_grow((void **)&ws->pm_area, &ws->cap_pm_area, (size_t)(k + 1), sizeof(int)) ||
        cy_det_grow((void **)&ws->pm_logit, &ws->cap_pm_logit, P, sizeof(float)))
        return NULL;
    float *lg = ws->pm_logit;
    const float *coef = mo->coef + (size_t)b * mo->nm * A + a;
    const float *proto = mo->proto + (size_t)b * mo->nm * P;
    memset(lg, 0, P * sizeof *lg);
    for (int c = 0; c < mo->nm; c++) {
        const float w = coef[(size_t)c * A];
        const float *pr = proto + (size_t)c * P;
#pragma omp simd
        for (size_t p = 0; p < P; p++) lg[p] += w * pr[p];
    }
    /* the predicted box in input pixels (float, as torch keeps it), then prototype pixels */
    const double *d = dist_b + (size_t)a * 4;
    const double sa = ws->astr[a], gx = ws->anc[2 * a], gy = ws->anc[2 * a + 1];
    const float box[4] = {(float)((gx - d[0]) * sa) * mo->mask_scale, (float)((gy - d[1]) * sa) * mo->mask_scale,
                          (float)((gx + d[2]) * sa) * mo->mask_scale, (float)((gy + d[3]) * sa) * mo->mask_scale};
    uint8_t *pm = ws->pm_pool + (size_t)k * P;
    int n = 0;
    for (int y = 0; y < mo->ph; y++) {
        const int row_in = (float)y >= box[1] && (float)y < box[3];
        for (int x = 0; x < mo->pw; x++) {
            const size_t p = (size_t)y * mo->pw + x;
            const uint8_t v = row_in && (float)x >= box[0] && (float)x < box[2] && lg[p] > 0;
            pm[p] = v;
            n += v;
        }
    }
    ws->pm_area[k] = n;
    ws->pm_slot[a] = k;
    ws->pm_used++;
    *area = n;
    return pm;
}

int cy_mask_refine_overlaps(cy_det_loss_ws *ws, const cy_mask_overlap *mo, const cy_det_loss_hyp *hyp, int b,
                            int j, const int *cand, int ncand, const float *scores_l, const double *dist_b,
                            double *ov, double *met) {
    if (ncand == 0) return 0;
    const int A = cy_det_grid_anchors(&ws->grid);
    if (cy_det_grow((void **)&ws->dense, &ws->cap_dense, (size_t)ncand * 2, sizeof(double))) return -1;
    cy_det_pair *rank = (cy_det_pair *)ws->pairs; /* [A] pairs, free during this call */
    for (int i = 0; i < ncand; i++) rank[i] = (cy_det_pair){met[cand[i]] + 1e-9, cand[i]};
    int nsel = mo->topk3 < ncand ? mo->topk3 : ncand;
    if (nsel < ncand) qsort(rank, ncand, sizeof *rank, cand_cmp);
    double *miou = ws->dense; /* [ncand] by candidate position */
    for (int i = 0; i < ncand; i++) miou[i] = 0;
    const size_t P = (size_t)mo->ph * mo->pw;
    const uint8_t *gt = mo->gt + ((size_t)b * mo->n_max + j) * P;
    int garea = 0;
    for (size_t p = 0; p < P; p++) garea += gt[p];
    for (int s = 0; s < nsel; s++) {
        const int a = rank[s].i;
        int parea;
        const uint8_t *pm = pred_mask(ws, mo, b, a, A, dist_b, &parea);
        if (!pm) return -1;
        int inter = 0;
        for (size_t p = 0; p < P; p++) inter += gt[p] & pm[p];
        const int uni = garea + parea - inter;
        /* position of a among the candidates: they are ascending */
        int lo = 0, hi = ncand - 1;
        while (lo < hi) {
            const int mid = (lo + hi) / 2;
            if (cand[mid] < a) lo = mid + 1;
            else hi = mid;
        }
        miou[lo] = (double)((float)inter / (float)(uni > 1 ? uni : 1));
    }
    for (int i = 0; i < ncand; i++) {
        const int a = cand[i];
        const double o = (ov[a] + miou[i]) / 2;
        const double score = 1.0 / (1.0 + exp(-(double)scores_l[a]));
        const double sp = hyp->alpha == 0.5 ? sqrt(score) : pow(score, hyp->alpha);
        ov[a] = o;
        met[a] = sp * (hyp->beta == 6.0 ? o * o * o * o * o * o : pow(o, hyp->beta));
    }
    return 0;
}
