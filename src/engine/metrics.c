/* Accumulation over a validation set, as DetectionValidator.update_metrics
 * and DetMetrics.update_stats do it: per image the TP table at the 10 IoU
 * thresholds, the predictions' conf and class, the labels' classes, the
 * image's unique classes, and the confusion matrix. */
#include <stdlib.h>
#include <string.h>
#include "engine/metrics.h"

struct cy_det_stats {
    int nc;
    cy_det_stats_params prm;
    int64_t n, cap;          /* predictions */
    uint8_t *tp;             /* [cap * CY_NIOU] */
    float *conf;
    int *pred_cls;
    int64_t nt, cap_t;       /* labels */
    int *target_cls;
    int64_t nti, cap_ti;     /* (image, class present) entries */
    int *target_img;
    int64_t seen;
    int64_t *cm;             /* [(nc + 1)^2] */
};

static int grow(void **p, int64_t *cap, int64_t need, size_t elem) {
    if (need <= *cap) return 0;
    int64_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    void *q = realloc(*p, (size_t)c * elem);
    if (!q) return -1;
    *p = q, *cap = c;
    return 0;
}

cy_status cy_det_stats_create(cy_det_stats **out, int nc, const cy_det_stats_params *params,
                              cy_error *err) {
    *out = NULL;
    if (nc < 1) return cy_fail(err, CY_ERR_ARG, "metrics: nc must be >= 1 (got %d)", nc);
    cy_det_stats *s = calloc(1, sizeof *s);
    if (!s) return cy_fail(err, CY_ERR_MEMORY, "metrics: out of memory");
    s->nc = nc;
    s->prm = params ? *params : (cy_det_stats_params){.cm_conf = 0.25f, .cm_iou = 0.45f, .match = CY_MATCH_UNIQUE};
    s->cm = calloc((size_t)(nc + 1) * (nc + 1), sizeof *s->cm);
    /* start with room, so no buffer is ever NULL */
    if (!s->cm || grow((void **)&s->tp, &s->cap, 1, CY_NIOU) ||
        !(s->conf = malloc((size_t)s->cap * sizeof *s->conf)) ||
        !(s->pred_cls = malloc((size_t)s->cap * sizeof *s->pred_cls)) ||
        grow((void **)&s->target_cls, &s->cap_t, 1, sizeof *s->target_cls) ||
        grow((void **)&s->target_img, &s->cap_ti, 1, sizeof *s->target_img)) {
        cy_det_stats_free(s);
        return cy_fail(err, CY_ERR_MEMORY, "metrics: out of memory");
    }
    *out = s;
    return CY_OK;
}

void cy_det_stats_free(cy_det_stats *s) {
    if (!s) return;
    free(s->tp), free(s->conf), free(s->pred_cls), free(s->target_cls), free(s->target_img);
    free(s->cm), free(s);
}

void cy_det_stats_reset(cy_det_stats *s) {
    s->n = s->nt = s->nti = s->seen = 0;
    memset(s->cm, 0, (size_t)(s->nc + 1) * (s->nc + 1) * sizeof *s->cm);
}

const int64_t *cy_det_stats_confusion(const cy_det_stats *s) { return s->cm; }

static cy_status check_classes(const cy_det_stats *s, const int *pred_cls, int ndet, const int *gt_cls,
                               int ngt, cy_error *err) {
    if (ndet < 0 || ngt < 0) return cy_fail(err, CY_ERR_ARG, "metrics: negative count");
    for (int g = 0; g < ngt; g++)
        if (gt_cls[g] < 0 || gt_cls[g] >= s->nc)
            return cy_fail(err, CY_ERR_ARG, "metrics: label class %d outside [0, %d)", gt_cls[g], s->nc);
    for (int d = 0; pred_cls && d < ndet; d++)
        if (pred_cls[d] < 0 || pred_cls[d] >= s->nc)
            return cy_fail(err, CY_ERR_ARG, "metrics: detection class %d outside [0, %d)", pred_cls[d], s->nc);
    return CY_OK;
}

/* Room for ndet more predictions and ngt more labels. */
static cy_status reserve(cy_det_stats *s, int ndet, int ngt, cy_error *err) {
    if (grow((void **)&s->tp, &s->cap, s->n + ndet, CY_NIOU) ||
        grow((void **)&s->target_cls, &s->cap_t, s->nt + ngt, sizeof *s->target_cls) ||
        grow((void **)&s->target_img, &s->cap_ti, s->nti + ngt, sizeof *s->target_img))
        return cy_fail(err, CY_ERR_MEMORY, "metrics: out of memory");
    /* conf and pred_cls follow tp's capacity */
    float *cf = realloc(s->conf, (size_t)s->cap * sizeof *cf);
    if (cf) s->conf = cf;
    int *pc = cf ? realloc(s->pred_cls, (size_t)s->cap * sizeof *pc) : NULL;
    if (pc) s->pred_cls = pc;
    if (!cf || !pc) return cy_fail(err, CY_ERR_MEMORY, "metrics: out of memory");
    return CY_OK;
}

/* The labels of one image (target_cls, target_img = np.unique(cls)), and
 * the image count. */
static void append_labels(cy_det_stats *s, const int *gt_cls, int ngt) {
    for (int g = 0; g < ngt; g++) s->target_cls[s->nt + g] = gt_cls[g];
    s->nt += ngt;
    for (int c = 0; c < s->nc && ngt; c++)
        for (int g = 0; g < ngt; g++)
            if (gt_cls[g] == c) {
                s->target_img[s->nti++] = c;
                break;
            }
    s->seen++;
}

cy_status cy_det_stats_add_tp(cy_det_stats *s, const uint8_t *tp, const float *conf, const int *pred_cls,
                              int ndet, const int *gt_cls, int ngt, cy_error *err) {
    CY_TRY(check_classes(s, pred_cls, ndet, gt_cls, ngt, err));
    CY_TRY(reserve(s, ndet, ngt, err));
    if (ndet) {
        memcpy(s->tp + s->n * CY_NIOU, tp, (size_t)ndet * CY_NIOU);
        memcpy(s->conf + s->n, conf, (size_t)ndet * sizeof *conf);
        memcpy(s->pred_cls + s->n, pred_cls, (size_t)ndet * sizeof *pred_cls);
    }
    s->n += ndet;
    append_labels(s, gt_cls, ngt);
    return CY_OK;
}

cy_status cy_det_stats_add(cy_det_stats *s, const float *dets, int ndet, const float *gt_boxes,
                           const int *gt_cls, int ngt, cy_error *err) {
    CY_TRY(check_classes(s, NULL, ndet, gt_cls, ngt, err));
    for (int d = 0; d < ndet; d++) {
        float c = dets[6 * d + 5];
        if (!(c >= 0 && c < s->nc) || c != (float)(int)c)
            return cy_fail(err, CY_ERR_ARG, "metrics: detection class %g is not a class id in [0, %d)", c, s->nc);
    }
    CY_TRY(reserve(s, ndet, ngt, err));

    cy_status st = CY_OK;
    float *iou = NULL, *pboxes = NULL;
    if (ndet && ngt) {
        iou = malloc((size_t)ngt * ndet * sizeof *iou);
        pboxes = malloc((size_t)ndet * 4 * sizeof *pboxes);
        if (!iou || !pboxes) {
            free(iou), free(pboxes);
            return cy_fail(err, CY_ERR_MEMORY, "metrics: out of memory");
        }
        for (int d = 0; d < ndet; d++) memcpy(pboxes + 4 * d, dets + 6 * d, 4 * sizeof *pboxes);
        cy_box_iou_f32(gt_boxes, ngt, pboxes, ndet, iou);
    }
    for (int d = 0; d < ndet; d++) {
        s->conf[s->n + d] = dets[6 * d + 4];
        s->pred_cls[s->n + d] = (int)dets[6 * d + 5];
    }
    /* _process_batch: no labels or no predictions -> all false */
    st = (s->prm.match == CY_MATCH_GREEDY ? cy_match_predictions_greedy : cy_match_predictions)(
        s->pred_cls + s->n, ndet, gt_cls, ngt, iou, s->tp + s->n * CY_NIOU, err);
    free(iou), free(pboxes);
    if (st) return st;
    st = cy_confusion_process_batch(s->cm, s->nc, dets, ndet, gt_boxes, gt_cls, ngt, s->prm.cm_conf,
                                    s->prm.cm_iou, err);
    if (st) return st;
    s->n += ndet;
    append_labels(s, gt_cls, ngt);
    return CY_OK;
}

cy_status cy_det_stats_compute(const cy_det_stats *s, cy_det_metrics *out, cy_error *err) {
    CY_TRY(cy_ap_per_class(s->tp, s->conf, s->pred_cls, s->n, s->target_cls, s->nt, s->target_img,
                           s->nti, s->nc, out, err));
    out->seen = s->seen;
    return CY_OK;
}
