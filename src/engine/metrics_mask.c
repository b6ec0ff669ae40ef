/* Segmentation metrics as SegmentationValidator and SegmentMetrics of
 * Ultralytics 8.4.190 compute them: the box TP table and the mask TP table
 * of the same predictions, each through ap_per_class, fitness the sum of
 * both mAP50-95. The mask side differs from detection only in its IoU. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "engine/metrics.h"
#include "model/mask_ops.h"

const char *const cy_seg_metric_keys[CY_SEG_NKEYS + 1] = {
    "metrics/precision(B)", "metrics/recall(B)", "metrics/mAP50(B)", "metrics/mAP50-95(B)",
    "metrics/precision(M)", "metrics/recall(M)", "metrics/mAP50(M)", "metrics/mAP50-95(M)", "fitness"};

cy_status cy_mask_iou_f32(const uint8_t *a, int na, const uint8_t *b, int nb, int64_t npix, float *out,
                          cy_error *err) {
    if (na < 0 || nb < 0 || npix < 0) return cy_fail(err, CY_ERR_ARG, "mask_iou: negative size");
    int64_t *area_b = calloc(nb ? (size_t)nb : 1, sizeof *area_b);
    if (!area_b) return cy_fail(err, CY_ERR_MEMORY, "mask_iou: out of memory");
    for (int j = 0; j < nb; j++)
        for (int64_t k = 0; k < npix; k++) area_b[j] += b[(size_t)j * npix + k] != 0;
    for (int i = 0; i < na; i++) {
        const uint8_t *p = a + (size_t)i * npix;
        int64_t area_a = 0;
        for (int64_t k = 0; k < npix; k++) area_a += p[k] != 0;
        for (int j = 0; j < nb; j++) {
            const uint8_t *q = b + (size_t)j * npix;
            int64_t inter = 0;
            for (int64_t k = 0; k < npix; k++) inter += (p[k] != 0) & (q[k] != 0);
            float fi = (float)inter, uni = ((float)area_a + (float)area_b[j]) - fi;
            out[(size_t)i * nb + j] = fi / (uni + 1e-7f);
        }
    }
    free(area_b);
    return CY_OK;
}

cy_status cy_seg_gt_masks(const float *masks, int overlap, int nl, int ih, int iw, int oh, int ow,
                          uint8_t *out, cy_error *err) {
    if (nl < 0 || ih < 1 || iw < 1 || oh < 1 || ow < 1)
        return cy_fail(err, CY_ERR_ARG, "seg_gt_masks: bad sizes %d x %dx%d -> %dx%d", nl, ih, iw, oh, ow);
    if (!nl) return CY_OK;
    size_t in_hw = (size_t)ih * iw, out_hw = (size_t)oh * ow;
    float *inst = malloc((size_t)nl * in_hw * sizeof *inst);
    if (!inst) return cy_fail(err, CY_ERR_MEMORY, "seg_gt_masks: out of memory");
    for (int k = 0; k < nl; k++)
        for (size_t p = 0; p < in_hw; p++)
            inst[k * in_hw + p] = overlap ? (float)(masks[p] == (float)(k + 1)) : masks[k * in_hw + p];
    cy_status st = CY_OK;
    if (ih == oh && iw == ow) {
        /* used as they are: the dataset's masks are 0/1 */
        for (size_t p = 0; p < (size_t)nl * out_hw; p++) out[p] = inst[p] != 0;
    } else {
        float *r = malloc((size_t)nl * out_hw * sizeof *r);
        if (!r) st = cy_fail(err, CY_ERR_MEMORY, "seg_gt_masks: out of memory");
        else if (!(st = cy_resize_bilinear(inst, nl, ih, iw, r, oh, ow, 0, err)))
            for (size_t p = 0; p < (size_t)nl * out_hw; p++) out[p] = r[p] > 0.5f;
        free(r);
    }
    free(inst);
    return st;
}

cy_status cy_seg_correct(const uint8_t *pred_masks, const int *pred_cls, int npred, const uint8_t *gt_masks,
                         const int *gt_cls, int ngt, int64_t npix, cy_match_rule rule, uint8_t *correct,
                         cy_error *err) {
    if (npred < 0 || ngt < 0) return cy_fail(err, CY_ERR_ARG, "seg_correct: negative count");
    if (!npred) return CY_OK;
    if (!ngt) {
        memset(correct, 0, (size_t)npred * CY_NIOU);
        return CY_OK;
    }
    float *iou = malloc((size_t)ngt * npred * sizeof *iou);
    if (!iou) return cy_fail(err, CY_ERR_MEMORY, "seg_correct: out of memory");
    cy_status st = cy_mask_iou_f32(gt_masks, ngt, pred_masks, npred, npix, iou, err);
    if (!st)
        st = (rule == CY_MATCH_GREEDY ? cy_match_predictions_greedy : cy_match_predictions)(pred_cls, npred, gt_cls,
                                                                                            ngt, iou, correct, err);
    free(iou);
    return st;
}

struct cy_seg_stats {
    cy_det_stats *box, *mask;
    cy_match_rule rule;
};

cy_status cy_seg_stats_create(cy_seg_stats **out, int nc, const cy_det_stats_params *params, cy_error *err) {
    *out = NULL;
    cy_det_stats_params p = params ? *params
                                   : (cy_det_stats_params){.cm_conf = 0.25f, .cm_iou = 0.45f, .match = CY_MATCH_GREEDY};
    cy_seg_stats *s = calloc(1, sizeof *s);
    if (!s) return cy_fail(err, CY_ERR_MEMORY, "seg metrics: out of memory");
    s->rule = p.match;
    cy_status st = cy_det_stats_create(&s->box, nc, &p, err);
    if (!st) st = cy_det_stats_create(&s->mask, nc, &p, err);
    if (st) {
        cy_seg_stats_free(s);
        return st;
    }
    *out = s;
    return CY_OK;
}

void cy_seg_stats_free(cy_seg_stats *s) {
    if (!s) return;
    cy_det_stats_free(s->box), cy_det_stats_free(s->mask), free(s);
}

const cy_det_stats *cy_seg_stats_box(const cy_seg_stats *s) { return s->box; }

cy_status cy_seg_stats_add(cy_seg_stats *s, const float *dets, const uint8_t *pred_masks, int ndet,
                           const float *gt_boxes, const int *gt_cls, const uint8_t *gt_masks, int ngt, int h,
                           int w, cy_error *err) {
    if (ndet < 0 || ngt < 0 || h < 0 || w < 0) return cy_fail(err, CY_ERR_ARG, "seg metrics: negative size");
    CY_TRY(cy_det_stats_add(s->box, dets, ndet, gt_boxes, gt_cls, ngt, err));
    size_t nn = ndet ? (size_t)ndet : 1;
    uint8_t *tp = malloc(nn * CY_NIOU);
    float *conf = malloc(nn * sizeof *conf);
    int *cls = malloc(nn * sizeof *cls);
    cy_status st = CY_OK;
    if (!tp || !conf || !cls) {
        st = cy_fail(err, CY_ERR_MEMORY, "seg metrics: out of memory");
        goto done;
    }
    for (int d = 0; d < ndet; d++) conf[d] = dets[6 * d + 4], cls[d] = (int)dets[6 * d + 5];
    st = cy_seg_correct(pred_masks, cls, ndet, gt_masks, gt_cls, ngt, (int64_t)h * w, s->rule, tp, err);
    if (!st) st = cy_det_stats_add_tp(s->mask, tp, conf, cls, ndet, gt_cls, ngt, err);
done:
    free(tp), free(conf), free(cls);
    return st;
}

cy_status cy_seg_stats_compute(const cy_seg_stats *s, cy_seg_metrics *out, cy_error *err) {
    memset(out, 0, sizeof *out);
    CY_TRY(cy_det_stats_compute(s->box, &out->box, err));
    cy_status st = cy_det_stats_compute(s->mask, &out->mask, err);
    if (st) {
        cy_det_metrics_free(&out->box);
        return st;
    }
    out->fitness = out->mask.fitness + out->box.fitness;
    return CY_OK;
}

void cy_seg_metrics_results(const cy_seg_metrics *m, double out[CY_SEG_NKEYS + 1]) {
    const cy_det_metrics *ms[2] = {&m->box, &m->mask};
    for (int k = 0; k < 2; k++) {
        out[4 * k + 0] = ms[k]->mp, out[4 * k + 1] = ms[k]->mr;
        out[4 * k + 2] = ms[k]->map50, out[4 * k + 3] = ms[k]->map;
    }
    out[CY_SEG_NKEYS] = m->fitness;
}

void cy_seg_metrics_free(cy_seg_metrics *m) {
    if (!m) return;
    cy_det_metrics_free(&m->box), cy_det_metrics_free(&m->mask);
}
