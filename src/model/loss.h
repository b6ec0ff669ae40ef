/* Detection training loss of Ultralytics 8.4.37 (v8DetectionLoss, E2ELoss)
 * with its task-aligned assigner, and the analytic gradient of the loss with
 * respect to the raw head outputs.
 *
 *   cy_targets t;                          rows: batch_idx, cls, cx, cy, w, h
 *   cy_targets_from_rows(&t, rows, n, B, nc, &err);
 *   cy_det_loss_ws *ws; cy_det_loss_ws_create(&ws, &err);
 *   cy_det_head o2m = {boxes, scores, gboxes, gscores}, o2o = {...};
 *   cy_e2e_result r;
 *   cy_det_loss_e2e(ws, &grid, B, nc, &t, NULL, NULL, cy_e2e_weights_at(0, epochs),
 *                   &o2m, &o2o, &r, &err);
 *   ... r.loss (backpropagated vector), r.items (logged), gradients in o2m/o2o
 *   cy_det_loss_ws_free(ws); cy_targets_free(&t);
 *
 * Head outputs are one branch's raw tensors with the levels concatenated,
 * each level row-major (Ultralytics' feats flattening): boxes [B][4*reg_max][A]
 * (ltrb in grid units for reg_max 1; DFL logits, channel = side*reg_max + bin,
 * otherwise) and class logits [B][nc][A]. The image size is (H, W) =
 * (h[0], w[0]) * stride[0].
 *
 * The math is done in double (the BCE terms in float, summed in double); the
 * assigner sees the predictions as constants (no gradient flows through it),
 * and CIoU's aspect weight alpha is a constant too, as under torch.no_grad.
 * Nothing here is global: a workspace holds every buffer and is freed once. */
#ifndef CY_MODEL_LOSS_H
#define CY_MODEL_LOSS_H
#include <stdint.h>
#include "backend/backend.h"
#include "core/status.h"

#define CY_DET_MAX_LEVELS 8

/* ---- targets ---------------------------------------------------------- */

/* Labels of one batch, grouped per image in the order the rows came in
 * (Ultralytics' preprocess on rows sorted by image). Images without labels
 * have count 0 and still count in the batch. */
typedef struct {
    int batch;      /* images in the batch */
    int n_max;      /* most labels of one image (0: no labels at all) */
    int *count;     /* [batch] */
    int *cls;       /* [batch][n_max] class ids (padding 0) */
    float *xywhn;   /* [batch][n_max][4] normalised cx, cy, w, h (padding 0) */
} cy_targets;

/* rows: n_rows x 6 floats (batch_idx, cls, cx, cy, w, h normalised), any row
 * order. Errors (CY_ERR_ARG, naming the row): non-finite values, batch_idx
 * not an integer in [0, batch), a class id not an integer in [0, nc) (nc <= 0
 * skips the upper bound), negative w or h. On failure *t is empty. */
cy_status cy_targets_from_rows(cy_targets *t, const float *rows, int64_t n_rows, int batch,
                               int nc, cy_error *err);
void cy_targets_free(cy_targets *t);

/* [batch][n_max][5] rows (cls, x1, y1, x2, y2) in input pixels, computed in
 * float exactly as v8DetectionLoss.preprocess (c5_gt_xyxy_px.npy). */
cy_status cy_targets_xyxy_px(const cy_targets *t, int img_h, int img_w, float *out,
                             cy_error *err);

/* ---- geometry --------------------------------------------------------- */

typedef struct {
    int nl;                          /* levels */
    int h[CY_DET_MAX_LEVELS], w[CY_DET_MAX_LEVELS];
    float stride[CY_DET_MAX_LEVELS]; /* 8, 16, 32 */
} cy_det_grid;

int cy_det_grid_anchors(const cy_det_grid *g);   /* A = sum h*w; -1 if invalid */

/* Anchor centres in pixels [A][2] (x, y) = (col + 0.5, row + 0.5) * stride
 * (c5_anchor_points_px.npy) and, when stride_out is not NULL, the stride of
 * each anchor [A]. */
cy_status cy_det_anchor_points(const cy_det_grid *g, float *xy_px, float *stride_out,
                               cy_error *err);

/* ---- hyperparameters -------------------------------------------------- */

typedef struct {
    double box, cls, dfl;   /* gains: 7.5, 0.5, 1.5 */
    int topk, topk2;        /* anchors per gt; topk2 != topk keeps only the
                               topk2 best per gt after conflict resolution */
    double alpha, beta;     /* align metric = score^alpha * CIoU^beta: 0.5, 6 */
    int reg_max;            /* 1: YOLO26 (L1 on ltrb), > 1: DFL (v8/11: 16) */
    int stal;               /* 1: widen gt sides < stride[0] to stride[1] when
                               selecting candidate anchors (8.4.37 always does) */
} cy_det_loss_hyp;

/* v8/11 (v8DetectionLoss): topk 10, topk2 10, alpha 0.5, beta 6, STAL on. */
cy_det_loss_hyp cy_det_loss_hyp_default(int reg_max);
/* YOLO26 E2ELoss branches: one2many topk 10/10, one2one topk 7/1, reg_max 1. */
cy_det_loss_hyp cy_det_loss_hyp_o2m(void);
cy_det_loss_hyp cy_det_loss_hyp_o2o(void);

/* ---- workspace and results -------------------------------------------- */

typedef struct cy_det_loss_ws cy_det_loss_ws;

cy_status cy_det_loss_ws_create(cy_det_loss_ws **out, cy_error *err);
/* Lets the segment terms use this backend's GEMM (NULL: plain loops); the
 * workspace does not own it. */
void cy_det_loss_ws_set_backend(cy_det_loss_ws *ws, cy_backend *b);
void cy_det_loss_ws_free(cy_det_loss_ws *ws);

/* The assigner's result per anchor, [B][A]; the arrays live in the workspace
 * and stay valid until the next call that uses the same slot. Background
 * anchors hold gt 0 of their image (label/box; zeros without labels, label
 * nc when the whole batch has none), as Ultralytics does. */
typedef struct {
    int batch, anchors;
    const uint8_t *fg;        /* foreground mask */
    const int32_t *label;     /* class of the assigned gt */
    const int32_t *gt_idx;    /* index into the image's labels (0 for bg) */
    const float *box_px;      /* [B][A][4] target xyxy in pixels */
    const float *score;       /* target score at the label (0 for bg) */
    double target_scores_sum; /* max(sum of target scores, 1) */
    int64_t n_fg;
} cy_det_assign;

typedef struct {
    double items[3];          /* box, cls, dfl after gains, before x B */
    cy_det_assign assign;
} cy_det_branch_result;

/* One branch's raw outputs, and where its gradients go (same layouts,
 * overwritten; NULL skips that gradient). */
typedef struct {
    const float *boxes;       /* [B][4*reg_max][A] */
    const float *scores;      /* [B][nc][A] */
    float *grad_boxes;
    float *grad_scores;
} cy_det_head;

/* ---- losses ----------------------------------------------------------- */

/* One v8DetectionLoss branch: assigns targets, then the three terms (after
 * gains, not x B) and the gradient of grad_scale * (box + cls + dfl). Uses
 * workspace slot 0. */
cy_status cy_det_loss_branch(cy_det_loss_ws *ws, const cy_det_grid *g, int batch, int nc,
                             const cy_targets *t, const cy_det_loss_hyp *hyp,
                             const cy_det_head *head, double grad_scale,
                             cy_det_branch_result *out, cy_error *err);

/* The same in two steps, for a frozen assignment (finite differences, or a
 * caller that wants the targets first): assign into slot 0 or 1, then
 * evaluate the loss of any head outputs against that slot's targets. */
cy_status cy_det_assign_targets(cy_det_loss_ws *ws, int slot, const cy_det_grid *g, int batch,
                                int nc, const cy_targets *t, const cy_det_loss_hyp *hyp,
                                const float *boxes, const float *scores,
                                cy_det_assign *out, cy_error *err);
cy_status cy_det_loss_assigned(cy_det_loss_ws *ws, int slot, const cy_det_grid *g, int batch,
                               int nc, const cy_det_loss_hyp *hyp, const cy_det_head *head,
                               double grad_scale, double items[3], cy_error *err);

/* E2ELoss weights: o2m = max(1 - updates/max(epochs-1, 1), 0) * (0.8 - 0.1)
 * + 0.1, o2o = max(1 - o2m, 0). "updates" counts finished epochs (E2ELoss.
 * update() runs at every epoch end), so epoch e trains with updates = e. */
typedef struct {
    double o2m, o2o;
} cy_e2e_weights;
cy_e2e_weights cy_e2e_weights_at(int updates, int epochs);

typedef struct {
    double loss[3];    /* backpropagated: o2m.items*B*w.o2m + o2o.items*B*w.o2o */
    double items[3];   /* logged: the one2one items (not x B, not weighted) */
    cy_det_branch_result o2m, o2o;   /* o2m in slot 0, o2o in slot 1 */
} cy_e2e_result;

/* YOLO26's E2ELoss. o2m_hyp/o2o_hyp may be NULL for the defaults. Each
 * head's gradients are those of loss[0] + loss[1] + loss[2]. */
cy_status cy_det_loss_e2e(cy_det_loss_ws *ws, const cy_det_grid *g, int batch, int nc,
                          const cy_targets *t, const cy_det_loss_hyp *o2m_hyp,
                          const cy_det_loss_hyp *o2o_hyp, cy_e2e_weights w,
                          const cy_det_head *o2m, const cy_det_head *o2o,
                          cy_e2e_result *out, cy_error *err);

typedef struct {
    double loss[3];    /* backpropagated: items * B */
    double items[3];   /* logged */
    cy_det_assign assign;
} cy_v8_result;

/* v8/11 models (plain v8DetectionLoss, DFL when reg_max > 1). hyp may be
 * NULL for cy_det_loss_hyp_default(16). Gradients of the sum of loss. */
cy_status cy_det_loss_v8(cy_det_loss_ws *ws, const cy_det_grid *g, int batch, int nc,
                         const cy_targets *t, const cy_det_loss_hyp *hyp,
                         const cy_det_head *head, cy_v8_result *out, cy_error *err);

#endif
