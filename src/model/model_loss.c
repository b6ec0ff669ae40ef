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
    cy_array boxes, scores, coef;
    float *gboxes, *gscores, *gcoef;
} branch_io;

static void branch_free(branch_io *b) {
    cy_array_free(&b->boxes);
    cy_array_free(&b->scores);
    cy_array_free(&b->coef);
    free(b->gboxes);
    free(b->gscores);
    free(b->gcoef);
}

static size_t numel3(const cy_array *a) { return (size_t)(a->shape[0] * a->shape[1] * a->shape[2]); }

static cy_status branch_read(cy_model *m, int one2one, int want_grad, branch_io *b, cy_error *err) {
    memset(b, 0, sizeof *b);
    const int seg = m->task == CY_TASK_SEGMENT;
    CY_TRY(cy_model_raw_head(m, one2one, CY_HEAD_BOXES, &b->boxes, err));
    CY_TRY(cy_model_raw_head(m, one2one, CY_HEAD_SCORES, &b->scores, err));
    if (seg) CY_TRY(cy_model_raw_head(m, one2one, CY_HEAD_MASKS, &b->coef, err));
    if (!want_grad) return CY_OK;
    b->gboxes = malloc(numel3(&b->boxes) * sizeof(float));
    b->gscores = malloc(numel3(&b->scores) * sizeof(float));
    if (seg) b->gcoef = malloc(numel3(&b->coef) * sizeof(float));
    if (!b->gboxes || !b->gscores || (seg && !b->gcoef))
        return cy_fail(err, CY_ERR_MEMORY, "out of memory for head gradients");
    return CY_OK;
}

/* The trainers' names (8.4.37's DetectionTrainer / SegmentationTrainer):
 * "dfl_loss" also for YOLO26's L1 term, where 8.4.190 says "l1_loss". */
static const char *const DET_NAMES[] = {"box_loss", "cls_loss", "dfl_loss"};
static const char *const SEG_NAMES[] = {"box_loss", "seg_loss", "cls_loss", "dfl_loss", "sem_loss"};

const char *const *cy_model_loss_names(const cy_model *m, int *n) {
    const int seg = m->task == CY_TASK_SEGMENT;
    *n = seg ? CY_SEG_ITEMS : 3;
    return seg ? SEG_NAMES : DET_NAMES;
}

/* The segment parts the loss reads besides the branches: prototypes and, in
 * YOLO26-seg training forwards, the semantic logits; with room for their
 * gradients. */
typedef struct {
    cy_array proto, sem;
    float *gproto, *gsem;
} seg_io;

static void seg_free(seg_io *s) {
    cy_array_free(&s->proto);
    cy_array_free(&s->sem);
    free(s->gproto);
    free(s->gsem);
}

static size_t numel4(const cy_array *a) { return (size_t)(a->shape[0] * a->shape[1] * a->shape[2] * a->shape[3]); }

static cy_status seg_read(cy_model *m, int want_grad, seg_io *s, cy_error *err) {
    memset(s, 0, sizeof *s);
    CY_TRY(cy_model_proto(m, &s->proto, err));
    if (m->proto26 && m->graph.training) CY_TRY(cy_model_semantic(m, &s->sem, err));
    if (!want_grad) return CY_OK;
    s->gproto = malloc(numel4(&s->proto) * sizeof(float));
    if (s->sem.data) s->gsem = malloc(numel4(&s->sem) * sizeof(float));
    if (!s->gproto || (s->sem.data && !s->gsem)) return cy_fail(err, CY_ERR_MEMORY, "out of memory for head gradients");
    return CY_OK;
}

static cy_seg_head seg_head(const cy_model *m, const branch_io *b, const seg_io *s, int detached) {
    cy_seg_head h = {.nm = m->nm, .ph = (int)s->proto.shape[2], .pw = (int)s->proto.shape[3],
                     .coef = b->coef.data, .grad_coef = b->gcoef, .proto = s->proto.data,
                     .grad_proto = detached ? NULL : s->gproto};
    if (s->sem.data) {
        h.sh = (int)s->sem.shape[2], h.sw = (int)s->sem.shape[3];
        h.sem = s->sem.data;
        h.grad_sem = detached ? NULL : s->gsem;
    }
    return h;
}

static void copy_result(cy_model_loss_out *out, const double *loss, const double *items, const double *o2m,
                        const double *o2o, int n) {
    memcpy(out->loss, loss, n * sizeof *loss);
    memcpy(out->items, items, n * sizeof *items);
    memcpy(out->o2m_items, o2m, n * sizeof *o2m);
    if (o2o) memcpy(out->o2o_items, o2o, n * sizeof *o2o);
}

cy_status cy_model_loss(cy_model *m, cy_det_loss_ws *ws, const cy_targets *t, cy_e2e_weights w,
                        int backward, cy_model_loss_out *out, cy_error *err) {
    return cy_model_loss_masks(m, ws, t, NULL, w, backward, out, err);
}

cy_status cy_model_loss_masks(cy_model *m, cy_det_loss_ws *ws, const cy_targets *t, const cy_seg_masks *masks,
                              cy_e2e_weights w, int backward, cy_model_loss_out *out, cy_error *err) {
    memset(out, 0, sizeof *out);
    out->names = cy_model_loss_names(m, &out->nitems);
    if (!m->graph.planned) return cy_fail(err, CY_ERR_ARG, "the loss needs a forward first");
    if (backward && !m->graph.training) return cy_fail(err, CY_ERR_ARG, "backward needs a training forward");
    if (m->end2end && !m->graph.training && !m->want_o2m)
        return cy_fail(err, CY_ERR_ARG, "an eval loss needs the one-to-many branch (cy_model_set_want_one2many)");
    const int seg = m->task == CY_TASK_SEGMENT;
    if (seg && !masks) return cy_fail(err, CY_ERR_ARG, "a segment model's loss needs the batch's gt masks");
    int B = m->graph.input.n;
    if (t->batch != B)
        return cy_fail(err, CY_ERR_ARG, "targets are for %d images, the batch has %d", t->batch, B);
    cy_det_grid g;
    cy_model_loss_grid(m, &g);
    branch_io o2m, o2o;
    seg_io sg;
    memset(&o2o, 0, sizeof o2o);
    memset(&sg, 0, sizeof sg);
    cy_status st = branch_read(m, 0, backward, &o2m, err);
    if (st == CY_OK && m->end2end) st = branch_read(m, 1, backward, &o2o, err);
    if (st == CY_OK && seg) st = seg_read(m, backward, &sg, err);
    cy_det_loss_ws_set_backend(ws, m->backend); /* the mask terms' GEMMs */
    cy_det_loss_hyp hm = m->end2end ? cy_det_loss_hyp_o2m() : cy_det_loss_hyp_default(m->reg_max),
                    ho = cy_det_loss_hyp_o2o();
    hm.box = ho.box = m->loss_gain[0], hm.cls = ho.cls = m->loss_gain[1], hm.dfl = ho.dfl = m->loss_gain[2];
    if (st == CY_OK) {
        cy_det_head h2m = {o2m.boxes.data, o2m.scores.data, o2m.gboxes, o2m.gscores};
        cy_det_head h2o = {o2o.boxes.data, o2o.scores.data, o2o.gboxes, o2o.gscores};
        if (seg) {
            cy_seg_head s2m = seg_head(m, &o2m, &sg, 0), s2o = seg_head(m, &o2o, &sg, 1);
            cy_seg_result r;
            st = m->end2end ? cy_seg_loss_e2e(ws, &g, B, m->nc, t, masks, &hm, &ho, w, &h2m, &s2m, &h2o, &s2o, &r, err)
                            : cy_seg_loss_v8(ws, &g, B, m->nc, t, masks, &hm, &h2m, &s2m, &r, err);
            if (st == CY_OK) {
                copy_result(out, r.loss, r.items, r.o2m.items, m->end2end ? r.o2o.items : NULL, CY_SEG_ITEMS);
                out->o2m_assign = r.o2m.assign;
                out->o2o_assign = r.o2o.assign;
            }
        } else if (m->end2end) {
            cy_e2e_result r;
            st = cy_det_loss_e2e(ws, &g, B, m->nc, t, &hm, &ho, w, &h2m, &h2o, &r, err);
            if (st == CY_OK) {
                copy_result(out, r.loss, r.items, r.o2m.items, r.o2o.items, 3);
                out->o2m_assign = r.o2m.assign;
                out->o2o_assign = r.o2o.assign;
            }
        } else {
            cy_v8_result r;
            st = cy_det_loss_v8(ws, &g, B, m->nc, t, &hm, &h2m, &r, err);
            if (st == CY_OK) {
                copy_result(out, r.loss, r.items, r.items, NULL, 3);
                out->o2m_assign = r.assign;
            }
        }
    }
    if (st == CY_OK && backward) {
        for (int br = 0; br <= m->end2end && st == CY_OK; br++) {
            const branch_io *b = br ? &o2o : &o2m;
            st = cy_model_seed_head_grad(m, br, CY_HEAD_BOXES, b->gboxes, err);
            if (st == CY_OK) st = cy_model_seed_head_grad(m, br, CY_HEAD_SCORES, b->gscores, err);
            if (st == CY_OK && seg) st = cy_model_seed_head_grad(m, br, CY_HEAD_MASKS, b->gcoef, err);
        }
        if (st == CY_OK && seg) st = cy_model_seed_value_grad(m, m->graph.proto, sg.gproto, err);
        if (st == CY_OK && sg.gsem) st = cy_model_seed_value_grad(m, m->graph.semseg, sg.gsem, err);
        if (st == CY_OK) st = cy_model_backward(m, err);
    }
    branch_free(&o2m);
    branch_free(&o2o);
    seg_free(&sg);
    return st;
}
