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
#include "model/mask_ops.h"

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

/* Decodes the binary predicted masks of anchors[0..k) of image b that are not
 * cached yet (one GEMM of their coefficients by the prototypes); -1 when out
 * of memory or the GEMM fails. */
static int decode_masks(cy_det_loss_ws *ws, const cy_mask_overlap *mo, int b, int A, const double *dist_b,
                        const int *anchors, int k) {
    const size_t P = (size_t)mo->ph * mo->pw;
    int *todo = ws->zlist; /* [A], free while a gt's candidates are refined */
    int n = 0;
    for (int i = 0; i < k; i++)
        if (ws->pm_slot[anchors[i]] < 0) {
            ws->pm_slot[anchors[i]] = -2; /* queued (an anchor may be listed once only, but be safe) */
            todo[n++] = anchors[i];
        }
    if (n == 0) return 0;
    const size_t k0 = ws->pm_used;
    if (cy_det_grow((void **)&ws->pm_pool, &ws->cap_pm_pool, (k0 + n) * P, 1) ||
        cy_det_grow((void **)&ws->pm_area, &ws->cap_pm_area, k0 + n, sizeof(int)) ||
        cy_det_grow((void **)&ws->pm_logit, &ws->cap_pm_logit, (size_t)n * P, sizeof(float)) ||
        cy_det_grow((void **)&ws->seg_c, &ws->cap_seg_c, (size_t)n * mo->nm, sizeof(float)))
        return -1;
    float *C = ws->seg_c, *L = ws->pm_logit;
    for (int r = 0; r < n; r++)
        for (int c = 0; c < mo->nm; c++) C[(size_t)r * mo->nm + c] = mo->coef[((size_t)b * mo->nm + c) * A + todo[r]];
    if (cy_loss_gemm(ws, n, (int)P, mo->nm, 0, 0, C, mo->proto + (size_t)b * mo->nm * P, L, 0, NULL) != CY_OK)
        return -1;
    for (int r = 0; r < n; r++) {
        const int a = todo[r];
        /* the predicted box in input pixels (float, as torch keeps it), then prototype pixels */
        const double *d = dist_b + (size_t)a * 4;
        const double sa = ws->astr[a], gx = ws->anc[2 * a], gy = ws->anc[2 * a + 1];
        const float box[4] = {(float)((gx - d[0]) * sa) * mo->mask_scale, (float)((gy - d[1]) * sa) * mo->mask_scale,
                              (float)((gx + d[2]) * sa) * mo->mask_scale, (float)((gy + d[3]) * sa) * mo->mask_scale};
        const float *lg = L + (size_t)r * P;
        uint8_t *pm = ws->pm_pool + (k0 + r) * P;
        for (size_t p = 0; p < P; p++) pm[p] = lg[p] > 0;
        cy_crop_mask(pm, 1, mo->ph, mo->pw, box, NULL); /* the validator's crop rule */
        int area = 0;
        for (size_t p = 0; p < P; p++) area += pm[p];
        ws->pm_area[k0 + r] = area;
        ws->pm_slot[a] = (int)(k0 + r);
    }
    ws->pm_used = k0 + n;
    return 0;
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
    int *sel = ws->first; /* [A], free while a gt's candidates are refined */
    for (int s = 0; s < nsel; s++) sel[s] = rank[s].i;
    if (decode_masks(ws, mo, b, A, dist_b, sel, nsel)) return -1;
    for (int s = 0; s < nsel; s++) {
        const int a = rank[s].i, k = ws->pm_slot[a], parea = ws->pm_area[k];
        const uint8_t *pm = ws->pm_pool + (size_t)k * P;
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
