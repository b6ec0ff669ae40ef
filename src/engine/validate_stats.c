/* The validator's per-batch work on fixed model outputs: postprocess (rows
 * of end2end models or NMS, keeping the mask coefficients), the predicted
 * and gt masks of segment models, and the TP tables; then the metrics and
 * plots. Detect and segment differ only in the data this holds (nm, the
 * mask buffers, which stats object), not in a second code path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/train_plots.h"
#include "engine/validate.h"
#include "io/plot_confusion.h"
#include "io/plot_curves.h"
#include "model/mask_ops.h"

struct cy_val_stats {
    int nc, nm;
    cy_val_params p;
    cy_det_stats *det; /* detect: 8.4.37's matching */
    cy_seg_stats *seg; /* segment: SegmentMetrics, 8.4.190's matching */
    float *rows;       /* [batch][max_det][6 + nm] postprocessed rows */
    float *dets;       /* [batch][max_det][6] their boxes, conf, class */
    int *counts;       /* [batch] */
    float *gt;         /* [maxgt][4], grown per image */
    int *gtc;
    int gt_cap;
    uint8_t *pm, *gm;  /* segment: pred and gt masks of one image */
    float *fm;         /* segment: one image's batch masks as float */
    size_t pm_cap, gm_cap, fm_cap;
    int images, instances;
};

void cy_val_result_free(cy_val_result *r) {
    if (!r) return;
    cy_det_metrics_free(&r->metrics);
    cy_det_metrics_free(&r->mask);
}

void cy_val_stats_free(cy_val_stats *s) {
    if (!s) return;
    cy_det_stats_free(s->det);
    cy_seg_stats_free(s->seg);
    free(s->rows), free(s->dets), free(s->counts), free(s->gt), free(s->gtc);
    free(s->pm), free(s->gm), free(s->fm);
    free(s);
}

cy_status cy_val_stats_create(cy_val_stats **out, int nc, int nm, const cy_val_params *p, cy_error *err) {
    *out = NULL;
    if (nc < 1 || nm < 0 || p->batch < 1 || p->batch > CY_VAL_MAX_BATCH || p->max_det < 1)
        return cy_fail(err, CY_ERR_ARG, "validation batch must be 1..%d (nc %d, nm %d, max_det %d)", CY_VAL_MAX_BATCH,
                       nc, nm, p->max_det);
    cy_val_stats *s = calloc(1, sizeof *s);
    if (!s) return cy_fail(err, CY_ERR_MEMORY, "out of memory in validation");
    s->nc = nc, s->nm = nm, s->p = *p;
    cy_status st = nm ? cy_seg_stats_create(&s->seg, nc, NULL, err) : cy_det_stats_create(&s->det, nc, NULL, err);
    size_t slots = (size_t)p->batch * p->max_det;
    s->rows = malloc(slots * (6 + nm) * sizeof *s->rows);
    s->dets = malloc(slots * 6 * sizeof *s->dets);
    s->counts = calloc((size_t)p->batch, sizeof *s->counts);
    if (st == CY_OK && (!s->rows || !s->dets || !s->counts)) st = cy_fail(err, CY_ERR_MEMORY, "out of memory in validation");
    if (st != CY_OK) {
        cy_val_stats_free(s);
        return st;
    }
    *out = s;
    return CY_OK;
}

static cy_status grow(void **buf, size_t *cap, size_t need, cy_error *err) {
    if (need <= *cap) return CY_OK;
    void *q = realloc(*buf, need);
    if (!q) return cy_fail(err, CY_ERR_MEMORY, "out of memory in validation");
    *buf = q, *cap = need;
    return CY_OK;
}

/* DetectionValidator.postprocess: rows of 6 + nm per image, at most max_det */
static cy_status postprocess(cy_val_stats *s, int n, const cy_array *o, int end2end, cy_error *err) {
    int row = 6 + s->nm, max_det = s->p.max_det;
    if (end2end) {
        if (o->ndim != 3 || o->shape[0] != n || o->shape[2] != row)
            return cy_fail(err, CY_ERR_ARG, "validation: end2end output is not [%d, k, %d]", n, row);
        int k = (int)o->shape[1];
        for (int i = 0; i < n; i++) {
            int c = 0;
            for (int r = 0; r < k && c < max_det; r++) {
                const float *q = o->data + ((size_t)i * k + r) * row;
                if (q[4] > s->p.conf) memcpy(s->rows + ((size_t)i * max_det + c++) * row, q, row * sizeof(float));
            }
            s->counts[i] = c;
        }
        return CY_OK;
    }
    if (o->ndim != 3 || o->shape[0] != n || o->shape[1] != 4 + s->nc + s->nm)
        return cy_fail(err, CY_ERR_ARG, "validation: decoded output is not [%d, %d, A]", n, 4 + s->nc + s->nm);
    cy_nms_params np = cy_nms_default_params();
    np.conf = s->p.conf, np.iou = s->p.iou, np.max_det = max_det;
    /* SegmentationValidator passes nc and multi_label=True; the detect branch
     * keeps the single-label NMS it has been validated with */
    np.multi_label = s->nm > 0;
    return cy_nms_extra(o->data, n, s->nc, s->nm, (int)o->shape[2], &np, s->rows, s->counts, err);
}

static cy_status gt_room(cy_val_stats *s, int n, cy_error *err) {
    if (n <= s->gt_cap) return CY_OK;
    float *g = realloc(s->gt, (size_t)n * 4 * sizeof *g);
    if (g) s->gt = g;
    int *c = realloc(s->gtc, (size_t)n * sizeof *c);
    if (c) s->gtc = c;
    if (!g || !c) return cy_fail(err, CY_ERR_MEMORY, "out of memory in validation");
    s->gt_cap = n;
    return CY_OK;
}

/* the labels of record r in original pixels (xyxy) */
static cy_status record_gt(cy_val_stats *s, const cy_det_record *r, cy_error *err) {
    CY_TRY(gt_room(s, r->n, err));
    for (int j = 0; j < r->n; j++) {
        const float *q = r->labels + 5 * j;
        s->gtc[j] = (int)q[0];
        s->gt[4 * j] = (q[1] - q[3] / 2) * r->w, s->gt[4 * j + 1] = (q[2] - q[4] / 2) * r->h;
        s->gt[4 * j + 2] = (q[1] + q[3] / 2) * r->w, s->gt[4 * j + 3] = (q[2] + q[4] / 2) * r->h;
    }
    return CY_OK;
}

/* image i's target rows (from row first on, nl of them) in original
 * pixels (xyxy): segment models read their labels from the batch, whose
 * row k is what mask value k + 1 marks (the loader may reorder an image's
 * rows, as Ultralytics' Format sorts them by mask area) */
static cy_status target_gt(cy_val_stats *s, const cy_batch *b, int i, int first, int nl, cy_error *err) {
    CY_TRY(gt_room(s, nl, err));
    double ratio = b->ratio[i], px = b->pad[2 * i], py = b->pad[2 * i + 1];
    for (int j = 0; j < nl; j++) {
        const float *q = b->targets + 6 * (size_t)(first + j);
        if ((int)q[0] != i) return cy_fail(err, CY_ERR_ARG, "validation: target rows are not grouped by image");
        s->gtc[j] = (int)q[1];
        float cx = q[2] * b->w, cy = q[3] * b->h, w = q[4] * b->w, h = q[5] * b->h;
        s->gt[4 * j] = (float)((cx - w / 2 - px) / ratio), s->gt[4 * j + 1] = (float)((cy - h / 2 - py) / ratio);
        s->gt[4 * j + 2] = (float)((cx + w / 2 - px) / ratio), s->gt[4 * j + 3] = (float)((cy + h / 2 - py) / ratio);
    }
    return CY_OK;
}

/* SegmentationValidator.postprocess (process_mask, boxes in the letterboxed
 * input) and _prepare_batch's gt masks, both at (mh, mw) = imgsz / 4.
 * first: the image's first target row (overlap=0 masks are per row). */
static cy_status image_masks(cy_val_stats *s, const cy_batch *b, int i, int first, int nl, const float *proto,
                             int mh, int mw, const float *rows, int np_, cy_error *err) {
    size_t hw = (size_t)mh * mw, mhw = (size_t)b->mask_h * b->mask_w;
    int nm = s->nm, row = 6 + nm;
    CY_TRY(grow((void **)&s->pm, &s->pm_cap, (np_ ? np_ : 1) * hw, err));
    CY_TRY(grow((void **)&s->gm, &s->gm_cap, (nl ? nl : 1) * hw, err));
    size_t nf = b->overlap ? mhw : (size_t)nl * mhw;
    CY_TRY(grow((void **)&s->fm, &s->fm_cap, (nf ? nf : 1) * sizeof(float), err));
    float box[4], *coef = NULL, *boxes = NULL;
    cy_status st = CY_OK;
    if (np_) {
        coef = malloc((size_t)np_ * nm * sizeof *coef), boxes = malloc((size_t)np_ * 4 * sizeof *boxes);
        if (!coef || !boxes) st = cy_fail(err, CY_ERR_MEMORY, "out of memory in validation");
        for (int d = 0; st == CY_OK && d < np_; d++) {
            memcpy(boxes + 4 * d, rows + (size_t)d * row, sizeof box);
            memcpy(coef + (size_t)d * nm, rows + (size_t)d * row + 6, (size_t)nm * sizeof *coef);
        }
        const float *pr = proto + (size_t)i * nm * hw;
        if (st == CY_OK) st = cy_process_mask(pr, nm, mh, mw, coef, boxes, np_, 4 * mh, 4 * mw, 0, s->pm, err);
    }
    free(coef), free(boxes);
    if (st != CY_OK || !nl) return st;
    const uint8_t *src = b->masks + (b->overlap ? (size_t)i * mhw : (size_t)first * mhw);
    for (size_t k = 0; k < nf; k++) s->fm[k] = src[k];
    return cy_seg_gt_masks(s->fm, b->overlap, nl, b->mask_h, b->mask_w, mh, mw, s->gm, err);
}

cy_status cy_val_stats_add(cy_val_stats *s, const cy_batch *b, const cy_split *split, const cy_array *o, int end2end,
                           const float *proto, int bi, cy_error *err) {
    if (b->n < 1 || b->n > s->p.batch)
        return cy_fail(err, CY_ERR_ARG, "validation: a batch of %d images (at most %d)", b->n, s->p.batch);
    int nm = s->nm, row = 6 + nm, max_det = s->p.max_det, mh = b->h / 4, mw = b->w / 4;
    if (nm && (!proto || !b->masks))
        return cy_fail(err, CY_ERR_ARG, "validation: a segment model needs %s",
                       proto ? "the batch's gt masks (a loader with segments=1)" : "the prototype masks");
    CY_TRY(postprocess(s, b->n, o, end2end, err));
    for (int i = 0; i < b->n; i++)
        for (int d = 0; d < s->counts[i]; d++)
            memcpy(s->dets + ((size_t)i * max_det + d) * 6, s->rows + ((size_t)i * max_det + d) * row, 6 * sizeof(float));
    if (s->p.plots && s->p.save_dir && bi < 3) { /* the first three batches, before boxes leave the letterbox */
        char stem[64];
        snprintf(stem, sizeof stem, "val_batch%d_labels", bi);
        CY_TRY(cy_plot_batch_labels(b, split, s->p.names, s->nc, s->p.save_dir, stem, err));
        snprintf(stem, sizeof stem, "val_batch%d_pred", bi);
        CY_TRY(cy_plot_batch_preds(b, split, s->dets, s->counts, max_det, s->p.names, s->nc, s->p.save_dir, stem,
                                   err));
    }
    int first = 0; /* the image's first target row */
    for (int i = 0; i < b->n; i++) {
        const cy_det_record *r = &split->rec[b->index[i]];
        int nl = 0;
        for (int t = 0; t < b->ntargets; t++) nl += (int)b->targets[6 * t] == i;
        float *d = s->dets + (size_t)i * max_det * 6;
        int n = s->counts[i];
        if (nm)
            CY_TRY(image_masks(s, b, i, first, nl, proto, mh, mw, s->rows + (size_t)i * max_det * row, n, err));
        cy_val_boxes_to_image(d, n, b->ratio[i], b->pad + 2 * i);
        if (nm) {
            CY_TRY(target_gt(s, b, i, first, nl, err));
            CY_TRY(cy_seg_stats_add(s->seg, d, s->pm, n, s->gt, s->gtc, s->gm, nl, mh, mw, err));
        } else {
            CY_TRY(record_gt(s, r, err));
            CY_TRY(cy_det_stats_add(s->det, d, n, s->gt, s->gtc, r->n, err));
        }
        s->images++;
        s->instances += nm ? nl : r->n;
        first += nl;
    }
    return CY_OK;
}

/* the four curves of one metric set: <prefix>PR/F1/P/R_curve.png */
static cy_status plot_curves(const cy_det_metrics *mt, const char *prefix, const cy_val_params *p, cy_error *err) {
    char path[4200];
    const char **names = malloc((mt->n_ap > 0 ? mt->n_ap : 1) * sizeof *names);
    if (!names) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    for (int i = 0; i < mt->n_ap; i++) names[i] = p->names ? p->names[mt->ap_class[i]] : NULL;
    snprintf(path, sizeof path, "%s/%sPR_curve.png", p->save_dir, prefix);
    cy_status st = cy_plot_pr_curve(mt->px, mt->prec_values, CY_NCURVE, mt->n_ap, mt->ap50, names, path, err);
    static const char *stem[3] = {"F1", "P", "R"}, *label[3] = {"F1", "Precision", "Recall"};
    const double *curve[3] = {mt->f1_curve, mt->p_curve, mt->r_curve};
    for (int k = 0; k < 3 && st == CY_OK; k++) {
        snprintf(path, sizeof path, "%s/%s%s_curve.png", p->save_dir, prefix, stem[k]);
        st = cy_plot_mc_curve(mt->px, curve[k], CY_NCURVE, mt->n_ap, names, "Confidence", label[k], path, err);
    }
    free(names);
    return st;
}

/* confusion matrices and the curves, as finalize_metrics with plots=True */
static cy_status plot_metrics(const cy_val_stats *s, const cy_val_result *r, cy_error *err) {
    char path[4200];
    const cy_det_stats *box = s->seg ? cy_seg_stats_box(s->seg) : s->det;
    for (int norm = 0; norm < 2; norm++) {
        snprintf(path, sizeof path, "%s/confusion_matrix%s.png", s->p.save_dir, norm ? "_normalized" : "");
        CY_TRY(cy_plot_confusion(cy_det_stats_confusion(box), s->nc, s->p.names, norm, path, err));
    }
    CY_TRY(plot_curves(&r->metrics, "Box", &s->p, err));
    return r->has_masks ? plot_curves(&r->mask, "Mask", &s->p, err) : CY_OK;
}

cy_status cy_val_stats_finish(cy_val_stats *s, cy_val_result *out, cy_error *err) {
    double loss[5];
    const int nloss = out->nloss;
    const char *const *names = out->loss_names;
    memcpy(loss, out->loss, sizeof loss);
    memset(out, 0, sizeof *out);
    memcpy(out->loss, loss, sizeof loss);
    out->nloss = nloss, out->loss_names = names;
    out->images = s->images, out->instances = s->instances;
    out->keys = cy_seg_metric_keys; /* its first four are the (B) keys */
    if (s->seg) {
        cy_seg_metrics m;
        CY_TRY(cy_seg_stats_compute(s->seg, &m, err));
        out->metrics = m.box, out->mask = m.mask, out->has_masks = 1;
        out->nkeys = CY_SEG_NKEYS;
        double v[CY_SEG_NKEYS + 1];
        cy_seg_metrics_results(&m, v);
        memcpy(out->values, v, sizeof out->values);
        out->fitness = m.fitness;
    } else {
        CY_TRY(cy_det_stats_compute(s->det, &out->metrics, err));
        const cy_det_metrics *b = &out->metrics;
        out->nkeys = 4;
        out->values[0] = b->mp, out->values[1] = b->mr, out->values[2] = b->map50, out->values[3] = b->map;
        out->fitness = b->fitness;
    }
    cy_status st = s->p.plots && s->p.save_dir ? plot_metrics(s, out, err) : CY_OK;
    if (st != CY_OK) cy_val_result_free(out);
    return st;
}
