/* Optimizers, learning-rate schedule, gradient clipping and EMA, as the
 * Ultralytics 8.4.37 trainer configures them (torch 1.13 arithmetic).
 *
 * Parameters and gradients are the model's two flat float buffers (see
 * model.h: PARAM and FIXED entries index m->params, laid out in state_dict
 * order; m->grads is laid out the same). The optimizer keeps its own state
 * (momentum / Adam moments) in flat buffers laid out the same way.
 *
 * One training iteration, as BaseTrainer does it:
 *
 *   at every epoch start:   cy_lr_lambda(&sched, epoch, &lf);
 *                           cy_optim_schedule_epoch(opt, lf)      (LambdaLR)
 *   every batch ni:         cy_optim_warmup(opt, &wp, ni, nw, lf, &acc, &on)
 *   when ni - last >= acc:  cy_optim_clip_grad_norm(opt, grads, 10.0, &norm)
 *                           cy_optim_step(opt, params, grads)
 *                           cy_ema_update(ema, params, buffers)
 *
 * No global state; every object has one free. */
#ifndef CY_ENGINE_OPTIM_H
#define CY_ENGINE_OPTIM_H
#include <stddef.h>
#include <stdint.h>
#include "core/status.h"
#include "model/model.h"

/* ---- trainer arithmetic ------------------------------------------------- */

/* accumulate = max(round(nbs / batch), 1) (Python round: half to even). */
cy_status cy_train_accumulate(int nbs, int batch, int *accumulate, cy_error *err);
/* weight_decay * batch * accumulate / nbs: what build_optimizer receives. */
cy_status cy_train_weight_decay(double weight_decay, int batch, int accumulate, int nbs,
                                double *out, cy_error *err);
/* ceil(n_images / max(batch, nbs)) * epochs: the count optimizer=auto reads. */
cy_status cy_train_iterations(int64_t n_images, int batch, int nbs, int epochs,
                              int64_t *out, cy_error *err);

/* ---- optimizer choice --------------------------------------------------- */

typedef enum { CY_OPTIM_SGD = 0, CY_OPTIM_ADAMW, CY_OPTIM_MUSGD } cy_optim_kind;

typedef struct {
    cy_optim_kind kind;
    double lr, momentum;
    /* optimizer=auto: the trainer must also set warmup_bias_lr = 0 (the
     * momentum warmup still targets args.momentum, not this momentum). */
    int auto_chosen;
} cy_optim_choice;

/* name: "auto", "SGD", "AdamW", "MuSGD" (any case). auto: MuSGD(lr 0.01,
 * momentum 0.9) when iterations > 10000, else AdamW(lr round(0.002*5/(4+nc),
 * 6), momentum 0.9). Other torch optimizers: CY_ERR_UNSUPPORTED. */
cy_status cy_optim_resolve(const char *name, double lr0, double momentum, int nc,
                           double iterations, cy_optim_choice *out, cy_error *err);

/* ---- optimizer ---------------------------------------------------------- */

typedef enum { CY_PG_WEIGHT = 0, CY_PG_BN, CY_PG_BIAS, CY_PG_MUON } cy_param_group_kind;

typedef struct {
    cy_optim_kind kind;
    double lr, momentum;
    double weight_decay;      /* already scaled (cy_train_weight_decay) */
    int ns_fp32;              /* MuSGD: Newton-Schulz in float32, not bf16
                                 (not what Ultralytics does) */
} cy_optim_params;

typedef struct {
    cy_param_group_kind kind; /* Ultralytics' param_group tag */
    int boosted;              /* MuSGD lr*3 half of a split group */
    int use_muon, nesterov, has_momentum;  /* has_momentum: SGD, MuSGD (not AdamW) */
    double lr, initial_lr;    /* initial_lr: LambdaLR's base */
    double momentum;          /* SGD/MuSGD momentum; AdamW beta1 */
    double beta2, eps;        /* AdamW */
    double weight_decay;
    int nentries;
    const int *entries;       /* indices into the entry table given to create */
} cy_optim_group;

typedef struct cy_optim cy_optim;

/* Groups as build_optimizer makes them from named parameters (PARAM and FIXED
 * entries; FIXED ones have no gradient and are never updated):
 *   SGD / AdamW: [weight (decay), bn (BN weights, no decay), bias (no decay)];
 *   MuSGD: 2-D/4-D params form the muon group (use_muon, decay), then bias and
 *   bn as above; each of weight, bn, bias, muon is split into a first half
 *   with lr*3 (names matching (?=.*23)(?=.*cv3)|proto\.semseg) and a second
 *   with lr: 8 groups in that order, empty ones included.
 * entries/nentries describe a flat buffer of nparams floats (offsets index
 * it); the table must outlive the optimizer. */
cy_status cy_optim_create(cy_optim **out, const cy_entry *entries, int nentries,
                          size_t nparams, const cy_optim_params *p, cy_error *err);
cy_status cy_optim_create_for_model(cy_optim **out, const cy_model *m,
                                    const cy_optim_params *p, cy_error *err);
void cy_optim_free(cy_optim *o);

cy_status cy_optim_group_count(const cy_optim *o, int *n);
cy_status cy_optim_get_group(const cy_optim *o, int g, cy_optim_group *out, cy_error *err);
cy_status cy_optim_set_group_lr(cy_optim *o, int g, double lr, cy_error *err);
/* SGD/MuSGD momentum, or AdamW beta1. */
cy_status cy_optim_set_group_momentum(cy_optim *o, int g, double momentum, cy_error *err);
/* A frozen entry (requires_grad = False) is skipped by step and clipping. */
cy_status cy_optim_set_frozen(cy_optim *o, int entry, int frozen, cy_error *err);

/* One optimizer.step() on the flat buffers (params updated in place). */
cy_status cy_optim_step(cy_optim *o, float *params, const float *grads, cy_error *err);

/* torch.nn.utils.clip_grad_norm_ over the trainable entries: total = L2 of
 * the per-tensor float32 L2 norms; grads *= min(max_norm / (total + 1e-6), 1)
 * (computed as reciprocal(total + 1e-6) * max_norm in float32, as torch's
 * __rtruediv__). total_norm (may be NULL) receives the norm before clipping. */
cy_status cy_optim_clip_grad_norm(const cy_optim *o, float *grads, double max_norm,
                                  double *total_norm, cy_error *err);
/* The same over several optimizers' parameters taken as one list, in order
 * (a distilled student's, then its projectors'). */
cy_status cy_optim_clip_grad_norm_multi(const cy_optim *const *opts, float *const *grads, int n, double max_norm,
                                        double *total_norm, cy_error *err);

/* Optimizer state, laid out like the params (for checkpoints):
 *   SGD:   a = momentum_buffer
 *   MuSGD: a = momentum_buffer (the Muon lerp buffer for muon params, the SGD
 *          buffer for the others), b = momentum_buffer_SGD (muon params only)
 *   AdamW: a = exp_avg, b = exp_avg_sq, step[entry] = step count
 * has_state[entry]: torch has created the entry's state (after its first step). */
typedef struct {
    float *a, *b;             /* b NULL for SGD */
    int64_t *step;            /* per entry */
    unsigned char *has_state; /* per entry */
    size_t nparams;
    int nentries;
} cy_optim_state;
cy_status cy_optim_get_state(cy_optim *o, cy_optim_state *out);

/* muon_update(grad, momentum, beta, nesterov) for one tensor: momentum.lerp_
 * (grad, 1 - beta) in place; update = grad.lerp(momentum, beta) (nesterov) or
 * momentum; viewed as [shape[0], numel/shape[0]], orthogonalised by five
 * Newton-Schulz steps (bf16 unless fp32), scaled by sqrt(max(1, shape[-2] /
 * shape[-1])). out receives numel floats (bf16 values unless fp32). */
cy_status cy_muon_update(const float *grad, float *momentum, int ndim, const int64_t *shape,
                         double beta, int nesterov, int fp32, float *out, cy_error *err);

/* ---- learning-rate schedule and warmup ---------------------------------- */

typedef struct {
    int cos_lr;               /* 0: linear */
    double lrf;               /* final lr fraction, 0.01 */
    int epochs;
} cy_lr_schedule;

/* lf(x): linear max(1 - x/epochs, 0) * (1 - lrf) + lrf; cosine one_cycle(1,
 * lrf, epochs): max((1 - cos(x*pi/epochs)) / 2, 0) * (lrf - 1) + 1. */
cy_status cy_lr_lambda(const cy_lr_schedule *s, double x, double *lf, cy_error *err);
/* LambdaLR.step() to `epoch`: every group's lr = initial_lr * lf(epoch). */
cy_status cy_optim_schedule_epoch(cy_optim *o, double lf, cy_error *err);

/* nw = max(round(warmup_epochs * nb), 100), or -1 when warmup_epochs <= 0. */
cy_status cy_warmup_iters(double warmup_epochs, int64_t nb, int64_t *nw, cy_error *err);
/* np.interp(x, [x0, x1], [y0, y1]) for x0 < x1 (clamped outside). */
cy_status cy_np_interp(double x, double x0, double x1, double y0, double y1, double *out);

typedef struct {
    double warmup_bias_lr;    /* 0.1 (0 after optimizer=auto) */
    double warmup_momentum;   /* 0.8 */
    double momentum;          /* args.momentum (0.937): the warmup target */
    int nbs, batch;           /* 64, batch size */
} cy_warmup_params;

/* The trainer's warmup block for iteration ni (applied while ni <= nw):
 * accumulate = max(1, round(interp(ni, [0, nw], [1, nbs/batch]))); group lr =
 * interp(ni, [0, nw], [bias groups: warmup_bias_lr, others: 0; initial_lr *
 * lf]); groups with momentum (not AdamW): momentum = interp(ni, [0, nw],
 * [warmup_momentum, momentum]). *applied = 0 and nothing changes after
 * warmup (accumulate is then left as it is). */
cy_status cy_optim_warmup(cy_optim *o, const cy_warmup_params *w, int64_t ni, int64_t nw,
                          double lf, int *accumulate, int *applied, cy_error *err);

/* ---- EMA ---------------------------------------------------------------- */

typedef struct {
    double decay;             /* 0.9999 */
    double tau;               /* 2000 */
} cy_ema_params;

typedef struct cy_ema cy_ema;

/* ModelEMA: a float copy of the params (PARAM and FIXED) and float buffers
 * (BN running stats); int64 counters are not averaged (the EMA keeps the
 * value it was created with). p NULL: the defaults. */
cy_status cy_ema_create(cy_ema **out, const float *params, size_t nparams,
                        const float *buffers, size_t nbuffers, const cy_ema_params *p,
                        cy_error *err);
cy_status cy_ema_create_for_model(cy_ema **out, const cy_model *m, const cy_ema_params *p,
                                  cy_error *err);
void cy_ema_free(cy_ema *e);
/* updates += 1; d = decay * (1 - exp(-updates / tau)); ema = ema*d + (1-d)*x. */
cy_status cy_ema_update(cy_ema *e, const float *params, const float *buffers, cy_error *err);
/* The EMA decay d that the next update will use. */
cy_status cy_ema_next_decay(const cy_ema *e, double *d);
cy_status cy_ema_get(const cy_ema *e, const float **params, const float **buffers,
                     int64_t *updates);
/* Resume: ckpt["updates"] and the EMA weights. */
cy_status cy_ema_set_updates(cy_ema *e, int64_t updates, cy_error *err);
cy_status cy_ema_load(cy_ema *e, const float *params, const float *buffers, cy_error *err);

#endif
