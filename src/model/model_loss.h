/* A model's training loss and backward pass (see model_loss.c). */
#ifndef CY_MODEL_MODEL_LOSS_H
#define CY_MODEL_MODEL_LOSS_H
#include "model/loss.h"
#include "model/model.h"

#include "model/loss_seg.h"

/* Detection models have 3 items (box, cls, dfl), segment models 5 (box,
 * seg, cls, dfl, sem), named as Ultralytics' loss_names. */
typedef struct {
    int nitems;
    const char *const *names;  /* "box_loss", ... */
    double loss[CY_SEG_ITEMS];       /* what is backpropagated, x batch */
    double items[CY_SEG_ITEMS];      /* logged items (YOLO26: the one-to-one branch) */
    double o2m_items[CY_SEG_ITEMS], o2o_items[CY_SEG_ITEMS];
    cy_det_assign o2m_assign, o2o_assign; /* valid until the workspace is reused */
} cy_model_loss_out;

cy_status cy_model_loss_grid(const cy_model *m, cy_det_grid *g);

/* On the last training forward: the loss against t (E2E weights w for
 * end2end models) and, when backward, the gradients of loss.sum() added to
 * m->grads (call cy_model_zero_grad first to start from zero). */
cy_status cy_model_loss(cy_model *m, cy_det_loss_ws *ws, const cy_targets *t, cy_e2e_weights w,
                        int backward, cy_model_loss_out *out, cy_error *err);
/* The same with the batch's gt masks, which segment models need (NULL for
 * detection models). */
cy_status cy_model_loss_masks(cy_model *m, cy_det_loss_ws *ws, const cy_targets *t, const cy_seg_masks *masks,
                              cy_e2e_weights w, int backward, cy_model_loss_out *out, cy_error *err);
/* The loss item names of a model (3 or 5 of them); *n gets the count. */
const char *const *cy_model_loss_names(const cy_model *m, int *n);

#endif
