#include "engine/validate.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/train_plots.h"
#include "io/plot_confusion.h"
#include "io/plot_curves.h"
#include "model/model_loss.h"

/* Not clipped to the image: Ultralytics
 * 8.4.37 matches the model's boxes as they are, in the letterboxed input
 * (DetectionValidator._prepare_pred), and IoU is the same in either space;
 * clipping (as scale_boxes did in older versions) raised mAP50-95 by 0.004 on
 * a model whose boxes reach past the image border. */
void cy_val_boxes_to_image(float *dets, int n, double ratio, const double pad[2]) {
    for (int j = 0; j < n; j++)
        for (int k = 0; k < 4; k++) dets[6 * j + k] = (float)((dets[6 * j + k] - pad[k % 2]) / ratio);
}

/* confusion matrices and the four curves, as DetectionValidator.finalize_metrics
 * with plots=True */
static cy_status plot_metrics(const cy_det_stats *stats, const cy_det_metrics *mt, int nc, const cy_val_params *p,
                              cy_error *err) {
    char path[4200];
    for (int norm = 0; norm < 2; norm++) {
        snprintf(path, sizeof path, "%s/confusion_matrix%s.png", p->save_dir, norm ? "_normalized" : "");
        CY_TRY(cy_plot_confusion(cy_det_stats_confusion(stats), nc, p->names, norm, path, err));
    }
    const char **names = malloc((mt->n_ap > 0 ? mt->n_ap : 1) * sizeof *names);
    if (!names) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    for (int i = 0; i < mt->n_ap; i++) names[i] = p->names ? p->names[mt->ap_class[i]] : NULL;
    snprintf(path, sizeof path, "%s/BoxPR_curve.png", p->save_dir);
    cy_status st = cy_plot_pr_curve(mt->px, mt->prec_values, CY_NCURVE, mt->n_ap, mt->ap50, names, path, err);
    static const char *stem[3] = {"F1", "P", "R"}, *label[3] = {"F1", "Precision", "Recall"};
    const double *curve[3] = {mt->f1_curve, mt->p_curve, mt->r_curve};
    for (int k = 0; k < 3 && st == CY_OK; k++) {
        snprintf(path, sizeof path, "%s/Box%s_curve.png", p->save_dir, stem[k]);
        st = cy_plot_mc_curve(mt->px, curve[k], CY_NCURVE, mt->n_ap, names, "Confidence", label[k], path, err);
    }
    free(names);
    return st;
}

cy_status cy_validate(cy_model *m, cy_loader *loader, const cy_split *split, int nc, const cy_val_params *p,
                      cy_val_result *out, cy_error *err) {
    memset(out, 0, sizeof *out);
    cy_det_stats *stats = NULL;
    cy_det_loss_ws *ws = NULL;
    float *dets = NULL, *gt = NULL;
    int *gtc = NULL;
    cy_array o = {0};
    if (p->batch < 1 || p->batch > CY_VAL_MAX_BATCH || p->max_det < 1)
        return cy_fail(err, CY_ERR_ARG, "validation batch must be 1..%d", CY_VAL_MAX_BATCH);
    cy_status st = cy_det_stats_create(&stats, nc, NULL, err);
    if (st == CY_OK) st = cy_det_loss_ws_create(&ws, err);
    if (st != CY_OK) goto done;
    cy_model_set_training(m, 0);
    cy_model_set_want_one2many(m, 1); /* the val loss uses both branches */
    cy_loader_epoch(loader, 0, 0);
    int nb = cy_loader_batches(loader, p->batch), nbatches = 0;
    dets = malloc((size_t)p->batch * p->max_det * 6 * sizeof *dets);
    int maxgt = 1;
    for (int i = 0; i < split->n; i++) maxgt = split->rec[i].n > maxgt ? split->rec[i].n : maxgt;
    gt = malloc((size_t)maxgt * 4 * sizeof *gt);
    gtc = malloc((size_t)maxgt * sizeof *gtc);
    if (!dets || !gt || !gtc) {
        st = cy_fail(err, CY_ERR_MEMORY, "out of memory in validation");
        goto done;
    }
    for (int b = 0; b < nb && st == CY_OK; b++) {
        cy_batch batch;
        cy_predict_params pp = {.max_det = p->max_det};
        if ((st = cy_loader_batch(loader, b, p->batch, &batch, err)) != CY_OK) break;
        if ((st = cy_model_forward(m, batch.x, batch.n, batch.h, batch.w, &pp, &o, err)) != CY_OK) break;
        /* losses on the same forward */
        cy_targets t;
        cy_model_loss_out lo;
        if ((st = cy_targets_from_rows(&t, batch.targets, batch.ntargets, batch.n, nc, err)) != CY_OK) break;
        st = cy_model_loss(m, ws, &t, cy_e2e_weights_at(0, 1), 0, &lo, err);
        cy_targets_free(&t);
        if (st != CY_OK) break;
        for (int k = 0; k < 3; k++) out->loss[k] += lo.items[k];
        nbatches++;
        int counts[CY_VAL_MAX_BATCH];
        if (m->end2end) {
            int k = (int)o.shape[1];
            for (int i = 0; i < batch.n; i++) {
                int c = 0;
                for (int r = 0; r < k; r++) {
                    const float *row = o.data + ((size_t)i * k + r) * 6;
                    if (row[4] > p->conf) memcpy(dets + ((size_t)i * p->max_det + c++) * 6, row, 6 * sizeof(float));
                }
                counts[i] = c;
            }
        } else {
            cy_nms_params np = cy_nms_default_params();
            np.conf = p->conf, np.iou = p->iou, np.max_det = p->max_det;
            if ((st = cy_nms(o.data, batch.n, nc, (int)o.shape[2], &np, dets, counts, err)) != CY_OK) break;
        }
        if (p->plots && p->save_dir && b < 3) { /* the first three batches, before boxes leave the letterbox */
            char stem[64];
            snprintf(stem, sizeof stem, "val_batch%d_labels", b);
            if ((st = cy_plot_batch_labels(&batch, split, p->names, nc, p->save_dir, stem, err)) != CY_OK) break;
            snprintf(stem, sizeof stem, "val_batch%d_pred", b);
            if ((st = cy_plot_batch_preds(&batch, split, dets, counts, p->max_det, p->names, nc, p->save_dir, stem,
                                          err)) != CY_OK)
                break;
        }
        for (int i = 0; i < batch.n && st == CY_OK; i++) {
            const cy_det_record *r = &split->rec[batch.index[i]];
            float *d = dets + (size_t)i * p->max_det * 6;
            cy_val_boxes_to_image(d, counts[i], batch.ratio[i], batch.pad + 2 * i);
            for (int j = 0; j < r->n; j++) {
                const float *q = r->labels + 5 * j;
                gtc[j] = (int)q[0];
                gt[4 * j] = (q[1] - q[3] / 2) * r->w, gt[4 * j + 1] = (q[2] - q[4] / 2) * r->h;
                gt[4 * j + 2] = (q[1] + q[3] / 2) * r->w, gt[4 * j + 3] = (q[2] + q[4] / 2) * r->h;
            }
            st = cy_det_stats_add(stats, d, counts[i], gt, gtc, r->n, err);
            out->images++;
            out->instances += r->n;
        }
        cy_array_free(&o);
    }
    if (st == CY_OK) {
        for (int k = 0; k < 3; k++) out->loss[k] /= nbatches > 0 ? nbatches : 1;
        st = cy_det_stats_compute(stats, &out->metrics, err);
        if (st == CY_OK && p->plots && p->save_dir && (st = plot_metrics(stats, &out->metrics, nc, p, err)) != CY_OK)
            cy_det_metrics_free(&out->metrics);
    }
done:
    cy_array_free(&o);
    free(dets);
    free(gt);
    free(gtc);
    cy_det_stats_free(stats);
    cy_det_loss_ws_free(ws);
    return st;
}
