#include "engine/train_step.h"

cy_status cy_train_step(cy_model *m, cy_train_ctx *ctx, const float *x, int n, int h, int w,
                        const cy_targets *t, cy_model_loss_out *out, cy_error *err) {
    ctx->stepped = 0;
    cy_model_set_training(m, 1);
    CY_TRY(cy_model_run(m, x, n, h, w, err));
    if (ctx->pending == 0) {
        CY_TRY(cy_model_zero_grad(m, err));
        if (ctx->distill) cy_distill_zero_grad(ctx->distill);
    }
    ctx->dis_loss = 0;
    if (ctx->distill) { /* seeds the neck's gradients before the walk back */
        cy_distill_out dout;
        CY_TRY(cy_distill_forward(ctx->distill, m, x, n, h, w, 1, &dout, err));
        ctx->dis_loss = dout.dis_loss;
    }
    CY_TRY(cy_model_loss_masks(m, ctx->ws, t, ctx->masks, ctx->e2e, 1, out, err));
    if (!ctx->opt) return CY_OK; /* gradients only: every call starts from zero */
    int acc = ctx->accumulate > 0 ? ctx->accumulate : 1;
    if (++ctx->pending < acc) return CY_OK;
    ctx->pending = 0;
    ctx->stepped = 1;
    if (ctx->distill && !ctx->distill_opt) return cy_fail(err, CY_ERR_ARG, "distillation without a projector optimizer");
    if (ctx->clip > 0) { /* one norm over the student's and the projectors' gradients */
        const cy_optim *opts[2] = {ctx->opt, ctx->distill_opt};
        float *grads[2] = {m->grads, ctx->distill ? cy_distill_grads(ctx->distill) : NULL};
        CY_TRY(cy_optim_clip_grad_norm_multi(opts, grads, ctx->distill ? 2 : 1, ctx->clip, NULL, err));
    }
    CY_TRY(cy_optim_step(ctx->opt, m->params, m->grads, err));
    if (ctx->distill)
        CY_TRY(cy_optim_step(ctx->distill_opt, cy_distill_params(ctx->distill), cy_distill_grads(ctx->distill), err));
    m->weights_version++; /* fast kernels re-read the weights */
    if (ctx->ema) CY_TRY(cy_ema_update(ctx->ema, m->params, m->buffers, err));
    return CY_OK;
}
