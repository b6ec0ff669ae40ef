#include "engine/train_step.h"

cy_status cy_train_step(cy_model *m, cy_train_ctx *ctx, const float *x, int n, int h, int w,
                        const cy_targets *t, cy_model_loss_out *out, cy_error *err) {
    ctx->stepped = 0;
    cy_model_set_training(m, 1);
    CY_TRY(cy_model_run(m, x, n, h, w, err));
    if (ctx->pending == 0) CY_TRY(cy_model_zero_grad(m, err));
    CY_TRY(cy_model_loss(m, ctx->ws, t, ctx->e2e, 1, out, err));
    if (!ctx->opt) return CY_OK; /* gradients only: every call starts from zero */
    int acc = ctx->accumulate > 0 ? ctx->accumulate : 1;
    if (++ctx->pending < acc) return CY_OK;
    ctx->pending = 0;
    ctx->stepped = 1;
    if (ctx->clip > 0) CY_TRY(cy_optim_clip_grad_norm(ctx->opt, m->grads, ctx->clip, NULL, err));
    CY_TRY(cy_optim_step(ctx->opt, m->params, m->grads, err));
    m->weights_version++; /* fast kernels re-read the weights */
    if (ctx->ema) CY_TRY(cy_ema_update(ctx->ema, m->params, m->buffers, err));
    return CY_OK;
}
