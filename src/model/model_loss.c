/* The training loss of a model on its last training forward: reads the raw
 * head outputs, runs YOLO26's E2ELoss (end2end) or v8DetectionLoss, seeds
 * the head gradients and walks the graph backwards into m->grads. */
#include <stdlib.h>
#include <string.h>
#include "model/detect_decode.h"
#include "model/model.h"
#include "model/model_loss.h"

cy_status cy_model_loss_grid(const cy_model *m, cy_det_grid *g) {
    memset(g, 0, sizeof *g);
    g->nl = m->nl;
    for (int l = 0; l < m->nl; l++) {
        g->h[l] = m->graph.level_h[l];
        g->w[l] = m->graph.level_w[l];
        g->stride[l] = (float)m->stride[l];
    }
    return CY_OK;
}

typedef struct {
    cy_array boxes, scores;
    float *gboxes, *gscores;
} branch_io;

static void branch_free(branch_io *b) {
    cy_array_free(&b->boxes);
    cy_array_free(&b->scores);
    free(b->gboxes);
    free(b->gscores);
}

static cy_status branch_read(cy_model *m, int one2one, int want_grad, branch_io *b, cy_error *err) {
    memset(b, 0, sizeof *b);
    CY_TRY(cy_model_raw_head(m, one2one, 1, &b->boxes, err));
    CY_TRY(cy_model_raw_head(m, one2one, 0, &b->scores, err));
    if (!want_grad) return CY_OK;
    size_t nb = (size_t)(b->boxes.shape[0] * b->boxes.shape[1] * b->boxes.shape[2]);
    size_t ns = (size_t)(b->scores.shape[0] * b->scores.shape[1] * b->scores.shape[2]);
    b->gboxes = malloc(nb * sizeof(float));
    b->gscores = malloc(ns * sizeof(float));
    if (!b->gboxes || !b->gscores) return cy_fail(err, CY_ERR_MEMORY, "out of memory for head gradients");
    return CY_OK;
}

cy_status cy_model_loss(cy_model *m, cy_det_loss_ws *ws, const cy_targets *t, cy_e2e_weights w,
                        int backward, cy_model_loss_out *out, cy_error *err) {
    memset(out, 0, sizeof *out);
    if (!m->graph.planned) return cy_fail(err, CY_ERR_ARG, "the loss needs a forward first");
    if (backward && !m->graph.training) return cy_fail(err, CY_ERR_ARG, "backward needs a training forward");
    if (m->end2end && !m->graph.training && !m->want_o2m)
        return cy_fail(err, CY_ERR_ARG, "an eval loss needs the one-to-many branch (cy_model_set_want_one2many)");
    int B = m->graph.input.n;
    if (t->batch != B)
        return cy_fail(err, CY_ERR_ARG, "targets are for %d images, the batch has %d", t->batch, B);
    cy_det_grid g;
    cy_model_loss_grid(m, &g);
    branch_io o2m, o2o;
    memset(&o2o, 0, sizeof o2o);
    cy_status st = branch_read(m, 0, backward, &o2m, err);
    if (st == CY_OK && m->end2end) st = branch_read(m, 1, backward, &o2o, err);
    if (st == CY_OK) {
        cy_det_head h2m = {o2m.boxes.data, o2m.scores.data, o2m.gboxes, o2m.gscores};
        if (m->end2end) {
            cy_det_head h2o = {o2o.boxes.data, o2o.scores.data, o2o.gboxes, o2o.gscores};
            cy_e2e_result r;
            cy_det_loss_hyp hm = cy_det_loss_hyp_o2m(), ho = cy_det_loss_hyp_o2o();
            hm.box = ho.box = m->loss_gain[0], hm.cls = ho.cls = m->loss_gain[1], hm.dfl = ho.dfl = m->loss_gain[2];
            st = cy_det_loss_e2e(ws, &g, B, m->nc, t, &hm, &ho, w, &h2m, &h2o, &r, err);
            if (st == CY_OK) {
                memcpy(out->loss, r.loss, sizeof out->loss);
                memcpy(out->items, r.items, sizeof out->items);
                memcpy(out->o2m_items, r.o2m.items, sizeof out->o2m_items);
                memcpy(out->o2o_items, r.o2o.items, sizeof out->o2o_items);
                out->o2m_assign = r.o2m.assign;
                out->o2o_assign = r.o2o.assign;
            }
        } else {
            cy_det_loss_hyp hyp = cy_det_loss_hyp_default(m->reg_max);
            hyp.box = m->loss_gain[0], hyp.cls = m->loss_gain[1], hyp.dfl = m->loss_gain[2];
            cy_v8_result r;
            st = cy_det_loss_v8(ws, &g, B, m->nc, t, &hyp, &h2m, &r, err);
            if (st == CY_OK) {
                memcpy(out->loss, r.loss, sizeof out->loss);
                memcpy(out->items, r.items, sizeof out->items);
                memcpy(out->o2m_items, r.items, sizeof out->o2m_items);
                out->o2m_assign = r.assign;
            }
        }
    }
    if (st == CY_OK && backward) {
        st = cy_model_seed_head_grad(m, 0, 1, o2m.gboxes, err);
        if (st == CY_OK) st = cy_model_seed_head_grad(m, 0, 0, o2m.gscores, err);
        if (st == CY_OK && m->end2end) st = cy_model_seed_head_grad(m, 1, 1, o2o.gboxes, err);
        if (st == CY_OK && m->end2end) st = cy_model_seed_head_grad(m, 1, 0, o2o.gscores, err);
        if (st == CY_OK) st = cy_model_backward(m, err);
    }
    branch_free(&o2m);
    branch_free(&o2o);
    return st;
}
