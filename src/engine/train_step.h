/* One batch of training as Ultralytics' trainer does it: train forward,
 * loss (+ the distillation loss when ctx->distill), backward (gradients add up over `accumulate` batches), and on every
 * accumulate-th batch gradient-norm clipping (max_norm 10),
 * optimizer.step(), the EMA update and zeroed gradients. */
#ifndef CY_ENGINE_TRAIN_STEP_H
#define CY_ENGINE_TRAIN_STEP_H
#include "engine/optim.h"
#include "model/distill.h"
#include "model/model_loss.h"

typedef struct {
    cy_det_loss_ws *ws;     /* loss workspace (owned by the caller) */
    cy_optim *opt;          /* NULL: gradients only */
    cy_ema *ema;            /* NULL: no EMA */
    double clip;            /* max gradient norm, 10; <= 0: none */
    cy_e2e_weights e2e;     /* YOLO26 o2m/o2o weights of this epoch */
    int accumulate;         /* batches per optimizer step: max(round(nbs/batch), 1); 0 = 1 */
    int pending;            /* batches accumulated since the last step (state) */
    int stepped;            /* set by cy_train_step: this batch ran the optimizer */
    cy_distill *distill;    /* knowledge distillation (NULL: none): teacher + projectors */
    cy_optim *distill_opt;  /* the projectors' optimizer (same groups' hyperparameters) */
    double dis_loss;        /* set by cy_train_step: the batch's logged dis_loss (per sample) */
    const cy_seg_masks *masks; /* segment models: this batch's gt masks (set per batch); NULL otherwise */
} cy_train_ctx;

/* Runs one batch: images x [n, 3, h, w] with targets t; out receives the
 * loss. */
cy_status cy_train_step(cy_model *m, cy_train_ctx *ctx, const float *x, int n, int h, int w,
                        const cy_targets *t, cy_model_loss_out *out, cy_error *err);

#endif
