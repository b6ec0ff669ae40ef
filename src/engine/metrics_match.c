/* Matching predictions to ground truth: the TP table of
 * BaseValidator.match_predictions and the confusion matrix of
 * ConfusionMatrix.process_batch (Ultralytics 8.4.37). Both start from the same
 * numpy idiom — pairs above a threshold, argsort by IoU then [::-1], and
 * np.unique(..., return_index=True) keeping first occurrences — reproduced
 * here with the tie order it yields for a stable sort: equal IoUs put the
 * later pair (row-major over [gt, pred]) first. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "engine/metrics.h"

const float cy_iouv[CY_NIOU] = {0.5f,  0.55f, 0.6f,  0.65f, 0.7f,
                                0.75f, 0.8f,  0.85f, 0.9f,  0.95f};

void cy_box_iou_f32(const float *a, int na, const float *b, int nb, float *out) {
    const float eps = 1e-7f;
    for (int i = 0; i < na; i++) {
        const float *p = a + 4 * i;
        float area_a = (p[2] - p[0]) * (p[3] - p[1]);
        for (int j = 0; j < nb; j++) {
            const float *q = b + 4 * j;
            float iw = fminf(p[2], q[2]) - fmaxf(p[0], q[0]);
            float ih = fminf(p[3], q[3]) - fmaxf(p[1], q[1]);
            if (!(iw > 0)) iw = 0; /* clamp_(0) */
            if (!(ih > 0)) ih = 0;
            float inter = iw * ih;
            float area_b = (q[2] - q[0]) * (q[3] - q[1]);
            out[(size_t)i * nb + j] = inter / (area_a + area_b - inter + eps);
        }
    }
}

typedef struct {
    float iou;
    int g, d;
    int64_t order; /* position in the pair list before sorting */
} pair;

/* IoU descending; ties: later order first (stable argsort, then [::-1]). */
static int by_iou_desc(const void *x, const void *y) {
    const pair *a = x, *b = y;
    if (a->iou != b->iou) return a->iou < b->iou ? 1 : -1;
    return (a->order < b->order) - (a->order > b->order);
}

cy_status cy_match_predictions(const int *pred_cls, int npred, const int *gt_cls, int ngt,
                               const float *iou, uint8_t *correct, cy_error *err) {
    if (npred < 0 || ngt < 0) return cy_fail(err, CY_ERR_ARG, "match_predictions: negative count");
    if (!npred) return CY_OK;
    memset(correct, 0, (size_t)npred * CY_NIOU);
    if (!ngt) return CY_OK;
    size_t cap = (size_t)npred * ngt;
    pair *pairs = malloc(cap * sizeof *pairs);
    int *best_gt = malloc((size_t)npred * sizeof *best_gt);   /* per pred: its kept gt */
    int *first_pred = malloc((size_t)ngt * sizeof *first_pred); /* per gt: lowest pred */
    if (!pairs || !best_gt || !first_pred) {
        free(pairs), free(best_gt), free(first_pred);
        return cy_fail(err, CY_ERR_MEMORY, "match_predictions: out of memory (%d x %d)", ngt, npred);
    }
    for (int t = 0; t < CY_NIOU; t++) {
        /* iou * (true_cls == pred_cls) >= t; np.nonzero order is row-major */
        size_t k = 0;
        for (int g = 0; g < ngt; g++)
            for (int d = 0; d < npred; d++) {
                float v = gt_cls[g] == pred_cls[d] ? iou[(size_t)g * npred + d] : 0.0f;
                if (v >= cy_iouv[t]) pairs[k] = (pair){v, g, d, (int64_t)k}, k++;
            }
        if (!k) continue;
        qsort(pairs, k, sizeof *pairs, by_iou_desc);
        /* np.unique(matches[:, 1]): the first (best) pair of each prediction */
        for (int d = 0; d < npred; d++) best_gt[d] = -1;
        for (size_t i = 0; i < k; i++)
            if (best_gt[pairs[i].d] < 0) best_gt[pairs[i].d] = pairs[i].g;
        /* np.unique(matches[:, 0]) over that list, which is ordered by
         * prediction index: each gt keeps its lowest-index prediction */
        for (int g = 0; g < ngt; g++) first_pred[g] = -1;
        for (int d = 0; d < npred; d++) {
            int g = best_gt[d];
            if (g >= 0 && first_pred[g] < 0) first_pred[g] = d;
        }
        for (int g = 0; g < ngt; g++)
            if (first_pred[g] >= 0) correct[(size_t)first_pred[g] * CY_NIOU + t] = 1;
    }
    free(pairs), free(best_gt), free(first_pred);
    return CY_OK;
}

/* ---- confusion matrix --------------------------------------------------- */

float cy_confusion_conf(float args_conf) {
    return (args_conf <= 0 || args_conf == 0.001f) ? 0.25f : args_conf;
}

cy_status cy_confusion_process_batch(int64_t *matrix, int nc, const float *dets, int ndet,
                                     const float *gt_boxes, const int *gt_cls, int ngt,
                                     float conf_thres, float iou_thres, cy_error *err) {
    if (nc < 1 || ndet < 0 || ngt < 0)
        return cy_fail(err, CY_ERR_ARG, "confusion matrix: invalid counts (nc %d)", nc);
    const int W = nc + 1;
    for (int g = 0; g < ngt; g++)
        if (gt_cls[g] < 0 || gt_cls[g] >= nc)
            return cy_fail(err, CY_ERR_ARG, "confusion matrix: label class %d outside [0, %d)", gt_cls[g], nc);
    for (int d = 0; d < ndet; d++) {
        float c = dets[6 * d + 5];
        if (!(c >= 0 && c < nc))
            return cy_fail(err, CY_ERR_ARG, "confusion matrix: detection class %g outside [0, %d)", c, nc);
    }
    if (ngt == 0) {
        for (int d = 0; d < ndet; d++)
            if (dets[6 * d + 4] > conf_thres) matrix[(int)dets[6 * d + 5] * W + nc]++; /* FP */
        return CY_OK;
    }
    if (ndet == 0) {
        for (int g = 0; g < ngt; g++) matrix[nc * W + gt_cls[g]]++; /* FN */
        return CY_OK;
    }
    /* detections[conf > conf_thres] */
    int nk = 0;
    int *keep = malloc((size_t)ndet * sizeof *keep);
    float *boxes = malloc((size_t)ndet * 4 * sizeof *boxes);
    float *iou = malloc((size_t)ngt * ndet * sizeof *iou);
    pair *pairs = malloc((size_t)ngt * ndet * sizeof *pairs);
    int *det_gt = malloc((size_t)ndet * sizeof *det_gt), *gt_det = malloc((size_t)ngt * sizeof *gt_det);
    cy_status st = CY_OK;
    if (!keep || !boxes || !iou || !pairs || !det_gt || !gt_det) {
        st = cy_fail(err, CY_ERR_MEMORY, "confusion matrix: out of memory");
        goto done;
    }
    for (int d = 0; d < ndet; d++)
        if (dets[6 * d + 4] > conf_thres) {
            memcpy(boxes + 4 * nk, dets + 6 * d, 4 * sizeof *boxes);
            keep[nk++] = d;
        }
    cy_box_iou_f32(gt_boxes, ngt, boxes, nk, iou);
    /* torch.where(iou > iou_thres), row-major */
    size_t k = 0;
    for (int g = 0; g < ngt; g++)
        for (int d = 0; d < nk; d++) {
            float v = iou[(size_t)g * nk + d];
            if (v > iou_thres) pairs[k] = (pair){v, g, d, (int64_t)k}, k++;
        }
    for (int d = 0; d < nk; d++) det_gt[d] = -1;
    for (int g = 0; g < ngt; g++) gt_det[g] = -1;
    if (k == 1) {
        det_gt[pairs[0].d] = pairs[0].g, gt_det[pairs[0].g] = pairs[0].d;
    } else if (k > 1) {
        qsort(pairs, k, sizeof *pairs, by_iou_desc);
        for (size_t i = 0; i < k; i++)
            if (det_gt[pairs[i].d] < 0) det_gt[pairs[i].d] = pairs[i].g;
        /* the survivors, in prediction order, sorted again by IoU (ties:
         * later position in that list first) */
        size_t m = 0;
        for (int d = 0; d < nk; d++)
            if (det_gt[d] >= 0) {
                float v = iou[(size_t)det_gt[d] * nk + d];
                pairs[m] = (pair){v, det_gt[d], d, (int64_t)m}, m++;
            }
        qsort(pairs, m, sizeof *pairs, by_iou_desc);
        for (size_t i = 0; i < m; i++)
            if (gt_det[pairs[i].g] < 0) gt_det[pairs[i].g] = pairs[i].d;
        /* a prediction counts as matched only if it survived both uniques */
        for (int d = 0; d < nk; d++) det_gt[d] = -1;
        for (int g = 0; g < ngt; g++)
            if (gt_det[g] >= 0) det_gt[gt_det[g]] = g;
    }
    for (int g = 0; g < ngt; g++) {
        if (gt_det[g] >= 0) matrix[(int)dets[6 * keep[gt_det[g]] + 5] * W + gt_cls[g]]++;
        else matrix[nc * W + gt_cls[g]]++; /* FN: background */
    }
    for (int d = 0; d < nk; d++)
        if (det_gt[d] < 0) matrix[(int)dets[6 * keep[d] + 5] * W + nc]++; /* FP */
done:
    free(keep), free(boxes), free(iou), free(pairs), free(det_gt), free(gt_det);
    return st;
}

cy_status cy_match_predictions_greedy(const int *pred_cls, int npred, const int *gt_cls, int ngt,
                                      const float *iou, uint8_t *correct, cy_error *err) {
    if (npred < 0 || ngt < 0) return cy_fail(err, CY_ERR_ARG, "match_predictions: negative count");
    if (!npred) return CY_OK;
    memset(correct, 0, (size_t)npred * CY_NIOU);
    if (!ngt) return CY_OK;
    uint8_t *claimed = calloc((size_t)ngt * CY_NIOU, 1); /* [gt, threshold] */
    if (!claimed) return cy_fail(err, CY_ERR_MEMORY, "match_predictions: out of memory");
    for (int d = 0; d < npred; d++) {
        for (int t = 0; t < CY_NIOU; t++) {
            /* argmax over gts of np.where(matched, 0, iou * same_class):
             * the first of equal maxima */
            int best = 0;
            float bv = -INFINITY;
            for (int g = 0; g < ngt; g++) {
                float v = claimed[(size_t)g * CY_NIOU + t] || gt_cls[g] != pred_cls[d] ? 0.0f
                                                                                      : iou[(size_t)g * npred + d];
                if (v > bv) bv = v, best = g;
            }
            if (bv >= cy_iouv[t]) {
                correct[(size_t)d * CY_NIOU + t] = 1;
                claimed[(size_t)best * CY_NIOU + t] = 1;
            }
        }
    }
    free(claimed);
    return CY_OK;
}
