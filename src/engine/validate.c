/* cy_validate: the loader, the eval forward and the validation losses;
 * scoring is validate_stats.c's. */
#include "engine/validate.h"
#include <stdlib.h>
#include <string.h>
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

cy_status cy_validate(cy_model *m, cy_loader *loader, const cy_split *split, int nc, const cy_val_params *p,
                      cy_val_result *out, cy_error *err) {
    memset(out, 0, sizeof *out);
    cy_val_stats *stats = NULL;
    cy_det_loss_ws *ws = NULL;
    cy_array o = {0}, proto = {0};
    cy_model_summary sum;
    cy_model_summarize(m, &sum);
    int nm = sum.task == CY_TASK_SEGMENT ? sum.nm : 0;
    cy_status st = cy_val_stats_create(&stats, nc, nm, p, err);
    if (st == CY_OK) st = cy_det_loss_ws_create(&ws, err);
    if (st != CY_OK) goto done;
    cy_model_set_training(m, 0);
    cy_model_set_want_one2many(m, 1); /* the val loss uses both branches */
    cy_loader_epoch(loader, 0, 0);
    int nb = cy_loader_batches(loader, p->batch), nbatches = 0;
    for (int b = 0; b < nb && st == CY_OK; b++) {
        cy_batch batch = {0}; /* a loader without masks leaves them NULL */
        cy_predict_params pp = {.max_det = p->max_det};
        if ((st = cy_loader_batch(loader, b, p->batch, &batch, err)) != CY_OK) break;
        if ((st = cy_model_forward(m, batch.x, batch.n, batch.h, batch.w, &pp, &o, err)) != CY_OK) break;
        if (nm && !batch.masks) {
            st = cy_fail(err, CY_ERR_ARG, "a segment model is validated on a segment loader (cy_loader_params.segments)");
            break;
        }
        /* losses on the same forward */
        cy_targets t;
        cy_model_loss_out lo;
        cy_seg_masks sm = {.overlap = batch.overlap, .h = batch.mask_h, .w = batch.mask_w, .masks = batch.masks};
        if ((st = cy_targets_from_rows(&t, batch.targets, batch.ntargets, batch.n, nc, err)) != CY_OK) break;
        st = cy_model_loss_masks(m, ws, &t, nm ? &sm : NULL, cy_e2e_weights_at(0, 1), 0, &lo, err);
        cy_targets_free(&t);
        if (st != CY_OK) break;
        out->nloss = lo.nitems;
        out->loss_names = lo.names;
        for (int k = 0; k < lo.nitems; k++) out->loss[k] += lo.items[k];
        nbatches++;
        if (nm && (st = cy_model_proto(m, &proto, err)) != CY_OK) break;
        st = cy_val_stats_add(stats, &batch, split, &o, m->end2end, nm ? proto.data : NULL, b, err);
        cy_array_free(&o);
        cy_array_free(&proto);
    }
    if (st == CY_OK) {
        for (int k = 0; k < out->nloss; k++) out->loss[k] /= nbatches > 0 ? nbatches : 1;
        st = cy_val_stats_finish(stats, out, err);
    }
done:
    cy_array_free(&o);
    cy_array_free(&proto);
    cy_val_stats_free(stats);
    cy_det_loss_ws_free(ws);
    return st;
}
