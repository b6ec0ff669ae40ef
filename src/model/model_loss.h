/* A model's training loss and backward pass (see model_loss.c). */
#ifndef CY_MODEL_MODEL_LOSS_H
#define CY_MODEL_MODEL_LOSS_H
#include "model/loss.h"
#include "model/model.h"

typedef struct {
    double loss[3];       /* what is backpropagated (box, cls, dfl), x batch */
    double items[3];      /* logged items (YOLO26: the one-to-one branch) */
    double o2m_items[3], o2o_items[3];
    cy_det_assign o2m_assign, o2o_assign; /* valid until the workspace is reused */
} cy_model_loss_out;

cy_status cy_model_loss_grid(const cy_model *m, cy_det_grid *g);

/* On the last training forward: the loss against t (E2E weights w for
 * end2end models) and, when backward, the gradients of loss.sum() added to
 * m->grads (call cy_model_zero_grad first to start from zero). */
cy_status cy_model_loss(cy_model *m, cy_det_loss_ws *ws, const cy_targets *t, cy_e2e_weights w,
                        int backward, cy_model_loss_out *out, cy_error *err);

#endif
